// Package record holds xdrd's model of a replicated record: where it lives
// (namespace, set, key), its metadata (generation, last-update time, origin,
// expiry, tombstone) and its bins. It imports nothing of the project, so
// every other layer can share it.
package record

import (
	"errors"
	"fmt"
	"math"
)

// RegionID names the region where a version was written. Valid IDs are
// 1–255; 0 means "unknown" and never appears on a stored version.
type RegionID uint8

// Generation counts local writes of one record. Every local write sets it
// to the stored generation plus one; an applied remote version keeps the
// generation it came with.
type Generation uint64

// LUT is a last-update time: nanoseconds since the Unix epoch, taken from
// the writing region's hybrid logical clock (see Clock).
type LUT int64

// Meta is the metadata that decides which version of a record wins.
type Meta struct {
	Generation Generation
	LUT        LUT
	Origin     RegionID
	// Expiry is in Unix seconds; 0 means the record never expires.
	Expiry int64
	// Tombstone marks a delete. It is kept for the namespace's tombstone
	// horizon so that an older write arriving late cannot resurrect the key.
	Tombstone bool
}

// Expired reports whether a live version has passed its expiry at now
// (Unix seconds). A tombstone is never "expired": it is already gone.
func (m Meta) Expired(now int64) bool {
	return !m.Tombstone && m.Expiry != 0 && m.Expiry <= now
}

// Version is one version of one record: its address, metadata and bins.
type Version struct {
	Namespace string
	Set       string
	Key       string
	Meta
	// Bins is the msgpack encoding of a map from bin name to value, with
	// keys sorted (see EncodeBins). It is nil for a tombstone. Keeping bins
	// encoded lets the data path move them without decoding.
	Bins []byte
}

// Limits on names. They bound what a frame may carry and keep store keys
// unambiguous: the zero byte separates names inside store keys.
const (
	MaxNameLen = 63
	MaxKeyLen  = 1024
	MaxBinsLen = 512 << 10
	// MaxLUT is the latest last-update time a version may carry, in the
	// year 2116. The hybrid clock adopts every LUT it sees, so one far
	// beyond it would leave no room for later writes to sort after it.
	MaxLUT LUT = math.MaxInt64 / 2
)

// Sentinel errors of record validation, matched with errors.Is.
var (
	// ErrInvalid marks a version that no store may hold.
	ErrInvalid = errors.New("invalid record")
)

// Validate checks the parts of a version that every store and frame relies
// on, naming the first field that is wrong.
func (v *Version) Validate() error {
	if err := checkName("namespace", v.Namespace, MaxNameLen, false); err != nil {
		return err
	}
	if err := checkName("set", v.Set, MaxNameLen, true); err != nil {
		return err
	}
	if err := checkName("key", v.Key, MaxKeyLen, false); err != nil {
		return err
	}
	if v.LUT <= 0 || v.LUT > MaxLUT {
		return fmt.Errorf("%w: last-update time %d outside 1-%d", ErrInvalid, v.LUT, MaxLUT)
	}
	if v.Origin == 0 {
		return fmt.Errorf("%w: origin is 0", ErrInvalid)
	}
	if v.Tombstone && len(v.Bins) != 0 {
		return fmt.Errorf("%w: tombstone with bins", ErrInvalid)
	}
	if len(v.Bins) > MaxBinsLen {
		return fmt.Errorf("%w: bins of %d bytes exceed %d", ErrInvalid, len(v.Bins), MaxBinsLen)
	}
	return nil
}

// CheckNamespace checks a namespace name alone, by the rules Validate
// applies to a version's namespace.
func CheckNamespace(ns string) error {
	return checkName("namespace", ns, MaxNameLen, false)
}

func checkName(what, s string, max int, emptyOK bool) error {
	if s == "" && !emptyOK {
		return fmt.Errorf("%w: empty %s", ErrInvalid, what)
	}
	if len(s) > max {
		return fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrInvalid, what, len(s), max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return fmt.Errorf("%w: %s contains a zero byte", ErrInvalid, what)
		}
	}
	return nil
}
