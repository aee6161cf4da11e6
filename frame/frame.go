// Package frame is xdrd's wire format: the versioned msgpack frame in which
// a shipper publishes a batch of versions of one namespace and shard, and
// from which an applier takes them back.
//
// A frame is one msgpack array
//
//	[version, source, namespace, shard, first, last, count, sentAt, records]
//
// where records is an array of count records, each an array
//
//	[set, key, generation, lut, origin, expiry, tombstone, bins]
//
// and bins is a msgpack bin holding the record's encoded bins (opaque here),
// or nil when there are none. A record carries no namespace of its own: it
// has the header's.
//
// Frames arrive from other regions and may be damaged or hostile, so Decode
// trusts nothing: it refuses a frame larger than its limit before reading
// it, checks every declared count and length against the bytes that remain
// before allocating, and never allocates more than about 12 times the
// frame's own size. That worst case is a frame packed with 10-byte
// records, each of which costs a 112-byte record.Version; a typical batch
// costs about 1.4 times its size.
package frame

import (
	"errors"

	"github.com/xdrd/xdrd/record"
)

// Version is the format version, the first element of every frame. A
// decoder refuses versions it does not know (ErrVersion) rather than guess.
const Version = 1

// DefaultMaxSize is the largest frame Decode accepts when given no limit of
// its own.
const DefaultMaxSize = 1 << 20

// MaxHeaderSize bounds the bytes a frame spends outside its records: the
// header fields and the records array's length. A shipper batching by bytes
// keeps the sum of EncodedSize of its records under its limit minus this.
const MaxHeaderSize = 1 + // array of 9
	1 + // version
	2 + // source, uint8
	2 + record.MaxNameLen + // namespace, str8
	3 + // shard, uint16
	9 + 9 + 9 + 9 + // first, last, count, sentAt
	5 // records array32

// Header says where a frame comes from and what part of the source's change
// log it covers.
type Header struct {
	// Source is the region that shipped the frame, 1–255. It must match
	// the region named in the frame's subject.
	Source record.RegionID
	// Namespace holds every record of the frame; it obeys the record
	// package's naming rules.
	Namespace string
	// Shard is the namespace's shard the frame belongs to, 0–4095.
	Shard int
	// First and Last bound the cursor range of the source's change log the
	// frame covers; First <= Last. A heartbeat has Count 0 and First =
	// Last = the shipper's cursor. The range may hold fewer records than
	// cursors, since a shipper coalesces writes and skips remote ones.
	First uint64
	Last  uint64
	// Count is the number of records, len(Frame.Records).
	Count int
	// SentAt is when the shipper sent the frame, in Unix nanoseconds.
	SentAt int64
}

// Frame is a header and the versions it carries. Every record's Namespace
// equals the header's.
type Frame struct {
	Header
	Records []record.Version
}

// Sentinel errors. Every error of Append and Decode wraps exactly one of
// them, so that a rejected frame can be counted and dead-lettered by
// reason; see Reason.
var (
	// ErrOversized marks a frame larger than the decoder's limit.
	ErrOversized = errors.New("oversized frame")
	// ErrMalformed marks a frame that is not valid msgpack, breaks the
	// layout, or carries an out-of-range header field or an invalid record.
	ErrMalformed = errors.New("malformed frame")
	// ErrVersion marks a well-formed frame of a format version this build
	// does not know.
	ErrVersion = errors.New("unsupported frame version")
)

// Reason maps an error of this package to a short label for metrics and
// dead-letter headers: "oversized", "malformed" or "version". It returns ""
// for nil and for errors that wrap none of the sentinels, leaving the
// caller to label those.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrOversized):
		return "oversized"
	case errors.Is(err, ErrVersion):
		return "version"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	}
	return ""
}

// Layout constants shared by the encoder and the decoder.
const (
	headerFields = 9
	recordFields = 8

	// minRecordBytes is the smallest encoding of a valid record: a
	// fixarray, an empty set, a one-byte key (two bytes), five one-byte
	// scalars and a nil bins. The decoder refuses a record count that
	// cannot fit in the remaining bytes at this size, before allocating.
	minRecordBytes = 1 + 1 + 2 + 5 + 1
)
