package frame

import (
	"fmt"
	"slices"

	"github.com/xdrd/xdrd/record"
)

// Append encodes f and appends it to dst, growing dst at most once, so a
// shipper can reuse one buffer for every frame it sends. It checks the
// frame first and leaves dst untouched when f is invalid: a header field
// out of range, Count different from len(Records), a record whose
// Namespace differs from the header's, or a record that fails
// record.Validate. Errors wrap ErrMalformed, and record.ErrInvalid for an
// invalid record.
//
// Append does not enforce a size limit; the shipper bounds its batches with
// EncodedSize and MaxHeaderSize.
func Append(dst []byte, f *Frame) ([]byte, error) {
	size, err := check(f)
	if err != nil {
		return dst, err
	}
	dst = slices.Grow(dst, size)

	h := &f.Header
	dst = appendArrayLen(dst, headerFields)
	dst = appendUint(dst, Version)
	dst = appendUint(dst, uint64(h.Source))
	dst = appendStr(dst, h.Namespace)
	dst = appendUint(dst, uint64(h.Shard))
	dst = appendUint(dst, h.First)
	dst = appendUint(dst, h.Last)
	dst = appendUint(dst, uint64(h.Count))
	dst = appendInt(dst, h.SentAt)
	dst = appendArrayLen(dst, len(f.Records))
	for i := range f.Records {
		dst = appendRecord(dst, &f.Records[i])
	}
	return dst, nil
}

// EncodedSize is the exact number of bytes v adds to a frame. It does not
// depend on v's namespace, which travels once in the header.
func EncodedSize(v *record.Version) int {
	return 1 + // array of 8
		strSize(len(v.Set)) +
		strSize(len(v.Key)) +
		uintSize(uint64(v.Generation)) +
		intSize(int64(v.LUT)) +
		uintSize(uint64(v.Origin)) +
		intSize(v.Expiry) +
		1 + // tombstone
		binsSize(len(v.Bins))
}

func appendRecord(b []byte, v *record.Version) []byte {
	b = appendArrayLen(b, recordFields)
	b = appendStr(b, v.Set)
	b = appendStr(b, v.Key)
	b = appendUint(b, uint64(v.Generation))
	b = appendInt(b, int64(v.LUT))
	b = appendUint(b, uint64(v.Origin))
	b = appendInt(b, v.Expiry)
	if v.Tombstone {
		b = append(b, mpTrue)
	} else {
		b = append(b, mpFalse)
	}
	return appendBins(b, v.Bins)
}

// check validates f as Decode would and returns its encoded size. Refusing
// here keeps a shipper from publishing what every applier would reject.
func check(f *Frame) (int, error) {
	h := &f.Header
	switch {
	case h.Source == 0:
		return 0, malformed("source", "0 is not a region")
	case h.Shard < 0 || h.Shard >= record.Partitions:
		return 0, malformed("shard", "%d out of range 0..%d", h.Shard, record.Partitions-1)
	case h.First > h.Last:
		return 0, malformed("last", "%d is before first %d", h.Last, h.First)
	case h.Count != len(f.Records):
		return 0, malformed("count", "%d but %d records", h.Count, len(f.Records))
	}
	if err := record.CheckNamespace(h.Namespace); err != nil {
		return 0, fmt.Errorf("frame: namespace: %w: %w", err, ErrMalformed)
	}

	size := headerSize(h, len(f.Records))
	for i := range f.Records {
		v := &f.Records[i]
		if v.Namespace != h.Namespace {
			return 0, fmt.Errorf(
				"frame: record %d: namespace: %q differs from the header's %q: %w",
				i, v.Namespace, h.Namespace, ErrMalformed)
		}
		if err := v.Validate(); err != nil {
			return 0, fmt.Errorf("frame: record %d: %w: %w", i, err, ErrMalformed)
		}
		size += EncodedSize(v)
	}
	return size, nil
}

// headerSize is the exact size of everything in a frame but its records.
func headerSize(h *Header, records int) int {
	return arrayLenSize(headerFields) +
		uintSize(Version) +
		uintSize(uint64(h.Source)) +
		strSize(len(h.Namespace)) +
		uintSize(uint64(h.Shard)) +
		uintSize(h.First) +
		uintSize(h.Last) +
		uintSize(uint64(h.Count)) +
		intSize(h.SentAt) +
		arrayLenSize(records)
}

// malformed builds an error about a header field.
func malformed(field, format string, args ...any) error {
	return fmt.Errorf("frame: %s: %s: %w", field, fmt.Sprintf(format, args...), ErrMalformed)
}
