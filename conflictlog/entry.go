// Package conflictlog records every conflict that an applier decides, so
// that no conflict is ever silent: both versions' metadata, the policy and
// the winner go to the deciding region's stream XDRD_CONFLICTS, where
// `xdrd conflicts` lists them.
//
// An entry is one JSON object with snake_case keys:
//
//	{"time":"2026-01-02T10:00:00.123456789Z","region":"eu-west",
//	 "namespace":"profiles","set":"users","key":"user-1","policy":"generation",
//	 "incoming":{"generation":4,"lut":1767348000123456789,"origin":"us-east",
//	             "origin_id":2,"tombstone":false},
//	 "stored":{"generation":3,"lut":1767348000000000000,"origin":"eu-west",
//	           "origin_id":1,"tombstone":false},
//	 "winner":"incoming"}
//
// Keys are user data. They are written here on purpose, for audit, and
// read by operators; they never become metric labels or Warn logs.
package conflictlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/xdrd/xdrd/record"
)

// Winners of a conflict, as Entry.Winner spells them.
const (
	WinnerIncoming = "incoming"
	WinnerStored   = "stored"
)

// MaxEntrySize is the largest encoded entry Decode accepts. A valid entry
// is far smaller: its key is at most record.MaxKeyLen bytes, and even with
// every byte escaped it stays under this bound.
const MaxEntrySize = 16 << 10

// ErrInvalid is wrapped by every error about an entry that can not be
// encoded or decoded.
var ErrInvalid = errors.New("invalid conflict entry")

// Entry is one decided conflict.
type Entry struct {
	// Time is when the applier decided.
	Time time.Time `json:"time"`
	// Region is the deciding region: where the applier ran.
	Region    string `json:"region"`
	Namespace string `json:"namespace"`
	Set       string `json:"set"`
	Key       string `json:"key"`
	// Policy is the namespace's conflict policy, as the topology names it.
	Policy string `json:"policy"`
	// Incoming is the replicated version; Stored is the one it met.
	Incoming Side `json:"incoming"`
	Stored   Side `json:"stored"`
	// Winner is WinnerIncoming or WinnerStored.
	Winner string `json:"winner"`
}

// Side is the metadata of one of the two versions of a conflict.
type Side struct {
	Generation uint64 `json:"generation"`
	// LUT is the last-update time in nanoseconds since the epoch.
	LUT int64 `json:"lut"`
	// Origin names the region where the version was written; OriginID is
	// that region's ID, 1-255.
	Origin    string `json:"origin"`
	OriginID  uint8  `json:"origin_id"`
	Tombstone bool   `json:"tombstone"`
}

// SideOf returns the side of a version with metadata m, written in the
// region called origin.
func SideOf(m record.Meta, origin string) Side {
	return Side{
		Generation: uint64(m.Generation),
		LUT:        int64(m.LUT),
		Origin:     origin,
		OriginID:   uint8(m.Origin),
		Tombstone:  m.Tombstone,
	}
}

// Validate names the first field of e that is wrong. Every entry that
// Validate accepts encodes in under MaxEntrySize bytes.
func (e Entry) Validate() error {
	if e.Time.IsZero() {
		return fmt.Errorf("%w: time is zero", ErrInvalid)
	}
	names := []struct {
		field, value string
		max          int
	}{
		{"region", e.Region, record.MaxNameLen},
		{"namespace", e.Namespace, record.MaxNameLen},
		{"set", e.Set, record.MaxNameLen},
		{"key", e.Key, record.MaxKeyLen},
		{"policy", e.Policy, record.MaxNameLen},
		{"incoming.origin", e.Incoming.Origin, record.MaxNameLen},
		{"stored.origin", e.Stored.Origin, record.MaxNameLen},
	}
	for _, n := range names {
		switch {
		case n.value == "" && n.field != "set":
			return fmt.Errorf("%w: %s is empty", ErrInvalid, n.field)
		case len(n.value) > n.max:
			return fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrInvalid, n.field,
				len(n.value), n.max)
		case !utf8.ValidString(n.value):
			return fmt.Errorf("%w: %s is not utf-8", ErrInvalid, n.field)
		}
	}
	if e.Winner != WinnerIncoming && e.Winner != WinnerStored {
		return fmt.Errorf("%w: winner %q is neither %s nor %s", ErrInvalid, e.Winner,
			WinnerIncoming, WinnerStored)
	}
	return nil
}

// Encode returns e as one JSON object, after Validate.
func (e Entry) Encode() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("encode conflict entry: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("encode conflict entry: %w", err)
	}
	data := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(data) > MaxEntrySize {
		return nil, fmt.Errorf("encode conflict entry: %w: %d bytes exceed %d",
			ErrInvalid, len(data), MaxEntrySize)
	}
	return data, nil
}

// Decode parses one entry written by Encode. It is strict: at most
// MaxEntrySize bytes of UTF-8, one JSON object without unknown fields and
// nothing after it, and a result that passes Validate.
func Decode(data []byte) (Entry, error) {
	var e Entry
	if len(data) > MaxEntrySize {
		return e, fmt.Errorf("decode conflict entry: %w: %d bytes exceed %d",
			ErrInvalid, len(data), MaxEntrySize)
	}
	if !utf8.Valid(data) {
		return e, fmt.Errorf("decode conflict entry: %w: not utf-8", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("decode conflict entry: %w: %w", ErrInvalid, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Entry{}, fmt.Errorf("decode conflict entry: %w: data after the object",
			ErrInvalid)
	}
	if err := e.Validate(); err != nil {
		return Entry{}, fmt.Errorf("decode conflict entry: %w", err)
	}
	return e, nil
}

// MsgID is the Nats-Msg-Id of e: the region, the namespace and a hash of
// the set, the key and the incoming version. It depends on nothing else,
// so an applier that decides the same incoming version again after a
// redelivery writes no second entry inside the stream's duplicate window.
func MsgID(e *Entry) string {
	h := sha256.New()
	var n [8]byte
	for _, s := range []string{e.Set, e.Key} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	binary.BigEndian.PutUint64(n[:], e.Incoming.Generation)
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.Incoming.LUT))
	h.Write(n[:])
	h.Write([]byte{e.Incoming.OriginID})
	return e.Region + "." + e.Namespace + "." + hex.EncodeToString(h.Sum(nil)[:16])
}
