package frame

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/xdrd/xdrd/record"
)

// Decode decodes a frame of at most max bytes; max <= 0 means
// DefaultMaxSize. The frame shares no memory with data, which the caller
// may reuse once Decode returns.
//
// Errors wrap ErrOversized, ErrVersion or ErrMalformed (and
// record.ErrInvalid for an invalid record) and name the failing field,
// with records counted from 0.
func Decode(data []byte, max int) (*Frame, error) {
	f := new(Frame)
	if err := DecodeInto(f, data, max); err != nil {
		return nil, err
	}
	return f, nil
}

// DecodeShared is Decode except that every version's bins are a slice of
// data, not a copy: for a caller that owns data and leaves it unchanged
// while the versions are in use, it saves allocating, zeroing and copying
// a frame's worth of bins. Each bins is capped at its length, so appending
// to one copies it rather than writing into data. Sets and keys are still
// copied.
func DecodeShared(data []byte, max int) (*Frame, error) {
	f := new(Frame)
	if err := decodeInto(f, data, max, true); err != nil {
		return nil, err
	}
	return f, nil
}

// DecodeInto is Decode into f, reusing the backing array of f.Records, so
// an applier decoding frame after frame allocates records only when a
// frame holds more than any before it. Versions copied out of an earlier
// decode stay valid: strings and bins are always freshly allocated, never
// reused. On error f is reset to an empty frame.
func DecodeInto(f *Frame, data []byte, max int) error {
	if err := decodeInto(f, data, max, false); err != nil {
		clear(f.Records)
		*f = Frame{Records: f.Records[:0]}
		return err
	}
	return nil
}

// decodeInto reads the frame twice: first to validate its layout and
// measure its strings and bins, then to fill f from exactly-sized
// allocations. Parsing is cheap next to allocating, and the first pass
// refuses a broken frame before anything is allocated for its records.
// With share, bins are slices of data.
func decodeInto(f *Frame, data []byte, max int, share bool) error {
	if max <= 0 {
		max = DefaultMaxSize
	}
	if len(data) > max {
		return fmt.Errorf("frame: size %d exceeds limit %d: %w", len(data), max, ErrOversized)
	}

	r := reader{b: data, rec: -1}
	h, err := r.header()
	if err != nil {
		return err
	}
	start := r.off
	text, bins := r.measure(h.Count)
	if r.err != nil {
		return r.err
	}
	if n := r.remaining(); n > 0 {
		r.fail("trailing bytes", "%d after the records", n)
		return r.err
	}

	if cap(f.Records) >= h.Count {
		// Drop what a longer earlier frame left, so it can be collected.
		if len(f.Records) > h.Count {
			clear(f.Records[h.Count:])
		}
		f.Records = f.Records[:h.Count]
	} else {
		f.Records = make([]record.Version, h.Count)
	}
	f.Header = h
	r.off = start
	if share {
		bins = 0
	}
	return r.fill(f, text, bins)
}

// header reads and checks everything before the records, up to and
// including the records array's length.
func (r *reader) header() (Header, error) {
	var h Header
	n := r.arrayLen("header")
	if r.err == nil && n == 0 {
		r.fail("header", "empty array")
	}
	// The version comes before the layout check: a later version may
	// change the layout, and deserves ErrVersion, not ErrMalformed.
	version := r.uint("version")
	if r.err != nil {
		return h, r.err
	}
	if version != Version {
		return h, fmt.Errorf("frame: version: %d, want %d: %w", version, Version, ErrVersion)
	}
	if n != headerFields {
		r.fail("header", "%d elements, want %d", n, headerFields)
	}

	source := r.uint("source")
	if r.err == nil && (source == 0 || source > 255) {
		r.fail("source", "%d out of range 1..255", source)
	}
	h.Source = record.RegionID(source)

	ns := r.str("namespace")
	if r.err != nil {
		return h, r.err
	}
	h.Namespace = string(ns)
	if err := record.CheckNamespace(h.Namespace); err != nil {
		return h, fmt.Errorf("frame: namespace: %w: %w", err, ErrMalformed)
	}

	shard := r.uint("shard")
	if shard >= record.Partitions {
		r.fail("shard", "%d out of range 0..%d", shard, record.Partitions-1)
	}
	h.Shard = int(shard)

	h.First = r.uint("first")
	h.Last = r.uint("last")
	if h.First > h.Last {
		r.fail("last", "%d is before first %d", h.Last, h.First)
	}

	// Bound the count by the bytes left before anything trusts it: a
	// 20-byte frame may claim 2^32 records.
	count := r.uint("count")
	if fit := uint64(r.remaining() / minRecordBytes); count > fit {
		r.fail("count", "%d records cannot fit in %d remaining bytes", count, r.remaining())
	}
	h.Count = int(count)

	h.SentAt = r.int("sentAt")
	if n := r.arrayLen("records"); r.err == nil && n != count {
		r.fail("records", "array of %d but count %d", n, count)
	}
	return h, r.err
}

// rawRecord is a record as it lies in the frame, its strings and bins still
// aliasing the frame's bytes.
type rawRecord struct {
	set, key, bins []byte
	meta           record.Meta
}

func (r *reader) record(raw *rawRecord) {
	if n := r.arrayLen("array"); r.err == nil && n != recordFields {
		r.fail("array", "%d elements, want %d", n, recordFields)
	}
	raw.set = r.str("set")
	raw.key = r.str("key")
	raw.meta.Generation = record.Generation(r.uint("generation"))
	raw.meta.LUT = record.LUT(r.int("lut"))
	origin := r.uint("origin")
	if r.err == nil && (origin == 0 || origin > 255) {
		r.fail("origin", "%d out of range 1..255", origin)
	}
	raw.meta.Origin = record.RegionID(origin)
	raw.meta.Expiry = r.int("expiry")
	raw.meta.Tombstone = r.bool("tombstone")
	raw.bins = r.bins("bins")
}

// measure walks count records, keeping nothing, and returns the bytes of
// strings and of bins that fill will copy. A set equal to the previous
// record's is shared rather than copied, since batches are usually of one
// set.
func (r *reader) measure(count int) (text, bins int) {
	var raw rawRecord
	var prevSet []byte
	for i := 0; i < count && r.err == nil; i++ {
		r.rec = i
		r.record(&raw)
		if i == 0 || !bytes.Equal(raw.set, prevSet) {
			text += len(raw.set)
		}
		text += len(raw.key)
		bins += len(raw.bins)
		prevSet = raw.set
	}
	r.rec = -1
	return text, bins
}

// fill reads the records measure has checked into f.Records. All keys and
// sets share one string allocation and all bins one byte allocation of
// bins bytes, or with bins 0 stay in the frame's data; either way each
// bins is capped at its length so that appending to one copies it instead
// of overwriting the next.
func (r *reader) fill(f *Frame, text, bins int) error {
	var sb strings.Builder
	sb.Grow(text)
	var arena []byte
	if bins > 0 {
		arena = make([]byte, bins)
	}

	var raw rawRecord
	for i := range f.Records {
		r.rec = i
		r.record(&raw)
		if r.err != nil {
			return r.err
		}

		v := &f.Records[i]
		v.Namespace = f.Namespace
		if i > 0 && string(raw.set) == f.Records[i-1].Set {
			v.Set = f.Records[i-1].Set
		} else {
			v.Set = intern(&sb, raw.set)
		}
		v.Key = intern(&sb, raw.key)
		v.Meta = raw.meta
		v.Bins = nil
		switch n := len(raw.bins); {
		case n == 0:
		case arena == nil:
			v.Bins = raw.bins[:n:n]
		default:
			v.Bins = arena[:n:n]
			copy(v.Bins, raw.bins)
			arena = arena[n:]
		}
		if err := v.Validate(); err != nil {
			return fmt.Errorf("frame: record %d: %w: %w", i, err, ErrMalformed)
		}
	}
	return nil
}

// intern copies p into sb, grown beforehand to hold every string of the
// frame, and returns it as a string sharing sb's one allocation.
func intern(sb *strings.Builder, p []byte) string {
	if len(p) == 0 {
		return ""
	}
	start := sb.Len()
	sb.Write(p)
	return sb.String()[start:]
}
