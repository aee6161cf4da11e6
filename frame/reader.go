package frame

import (
	"encoding/binary"
	"fmt"
	"math"
)

// reader walks msgpack values in a frame. Every method checks the bytes
// that remain before it reads or slices. The first failure sticks in err,
// naming the field being read, and turns later reads into no-ops returning
// zero values, so callers check once per record instead of once per field.
// Slices it returns alias the frame.
type reader struct {
	b   []byte
	off int
	err error
	// rec is the index of the record being read, or -1 in the header; it
	// only shapes error messages.
	rec int
}

func (r *reader) remaining() int { return len(r.b) - r.off }

// fail records the first error; later ones are consequences of it.
func (r *reader) fail(field, format string, args ...any) {
	if r.err != nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if r.rec >= 0 {
		r.err = fmt.Errorf("frame: record %d: %s: %s: %w", r.rec, field, msg, ErrMalformed)
		return
	}
	r.err = fmt.Errorf("frame: %s: %s: %w", field, msg, ErrMalformed)
}

func (r *reader) next(field string) (byte, bool) {
	if r.err != nil {
		return 0, false
	}
	if r.off >= len(r.b) {
		r.fail(field, "truncated")
		return 0, false
	}
	c := r.b[r.off]
	r.off++
	return c, true
}

// fixed reads an n-byte big-endian unsigned integer, n in 1, 2, 4, 8.
func (r *reader) fixed(field string, n int) uint64 {
	if r.err != nil {
		return 0
	}
	if r.remaining() < n {
		r.fail(field, "truncated: need %d bytes, %d remain", n, r.remaining())
		return 0
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	switch n {
	case 1:
		return uint64(p[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(p))
	case 4:
		return uint64(binary.BigEndian.Uint32(p))
	}
	return binary.BigEndian.Uint64(p)
}

// integer reads any msgpack integer. A negative value comes back as its
// two's complement bits with neg set, so callers can refuse it for
// unsigned fields whatever width the sender chose.
func (r *reader) integer(field string) (v uint64, neg bool) {
	c, ok := r.next(field)
	switch {
	case !ok:
		return 0, false
	case c <= 0x7f:
		return uint64(c), false
	case c >= 0xe0:
		return uint64(int64(int8(c))), true
	}

	var s int64
	switch c {
	case mpUint8:
		return r.fixed(field, 1), false
	case mpUint16:
		return r.fixed(field, 2), false
	case mpUint32:
		return r.fixed(field, 4), false
	case mpUint64:
		return r.fixed(field, 8), false
	case mpInt8:
		s = int64(int8(r.fixed(field, 1)))
	case mpInt16:
		s = int64(int16(r.fixed(field, 2)))
	case mpInt32:
		s = int64(int32(r.fixed(field, 4)))
	case mpInt64:
		s = int64(r.fixed(field, 8))
	default:
		r.fail(field, "expected integer, got type byte 0x%02x", c)
	}
	return uint64(s), s < 0
}

func (r *reader) uint(field string) uint64 {
	v, neg := r.integer(field)
	if neg {
		r.fail(field, "negative value %d", int64(v))
		return 0
	}
	return v
}

func (r *reader) int(field string) int64 {
	v, neg := r.integer(field)
	if !neg && v > math.MaxInt64 {
		r.fail(field, "%d overflows int64", v)
		return 0
	}
	return int64(v)
}

func (r *reader) bool(field string) bool {
	c, ok := r.next(field)
	switch {
	case !ok:
		return false
	case c == mpTrue:
		return true
	case c != mpFalse:
		r.fail(field, "expected bool, got type byte 0x%02x", c)
	}
	return false
}

// arrayLen reads an array header. The length is returned unbounded; the
// caller compares it with what the layout allows.
func (r *reader) arrayLen(field string) uint64 {
	c, ok := r.next(field)
	switch {
	case !ok:
		return 0
	case c&0xf0 == mpFixArray:
		return uint64(c & 0x0f)
	case c == mpArray16:
		return r.fixed(field, 2)
	case c == mpArray32:
		return r.fixed(field, 4)
	}
	r.fail(field, "expected array, got type byte 0x%02x", c)
	return 0
}

func (r *reader) str(field string) []byte {
	c, ok := r.next(field)
	switch {
	case !ok:
		return nil
	case c&0xe0 == mpFixStr:
		return r.take(field, uint64(c&0x1f))
	case c == mpStr8:
		return r.take(field, r.fixed(field, 1))
	case c == mpStr16:
		return r.take(field, r.fixed(field, 2))
	case c == mpStr32:
		return r.take(field, r.fixed(field, 4))
	}
	r.fail(field, "expected string, got type byte 0x%02x", c)
	return nil
}

// bins reads a bin or nil. An empty bin comes back nil like nil does, so
// bins have one representation after decoding.
func (r *reader) bins(field string) []byte {
	c, ok := r.next(field)
	var p []byte
	switch {
	case !ok || c == mpNil:
		return nil
	case c == mpBin8:
		p = r.take(field, r.fixed(field, 1))
	case c == mpBin16:
		p = r.take(field, r.fixed(field, 2))
	case c == mpBin32:
		p = r.take(field, r.fixed(field, 4))
	default:
		r.fail(field, "expected bin or nil, got type byte 0x%02x", c)
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// take returns the next n bytes, refusing a length the frame cannot hold.
func (r *reader) take(field string, n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(r.remaining()) {
		r.fail(field, "length %d exceeds remaining %d", n, r.remaining())
		return nil
	}
	p := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return p
}
