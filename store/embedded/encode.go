package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/xdrd/xdrd/record"
)

// Value layout, shared by records and changes. The namespace is left out:
// every key holds it.
//
//	format      1 byte, valueFormat
//	flags       1 byte, bit 0 = tombstone; other bits must be 0
//	origin      1 byte
//	generation  uvarint
//	LUT         8 bytes, big-endian two's complement
//	expiry      varint (zig-zag), Unix seconds
//	set         uvarint length, then the bytes
//	key         uvarint length, then the bytes
//	bins        uvarint length, then the bytes
//
// The metadata comes first and has no length prefix, so that conditional
// apply decodes it without touching the rest. A format byte up front lets
// a later layout be told apart from this one.
const valueFormat = 1

const flagTombstone = 1 << 0

// errCorrupt marks a value that cannot be decoded.
var errCorrupt = errors.New("corrupt value")

// appendValue appends the encoding of v to dst.
func appendValue(dst []byte, v *record.Version) []byte {
	var flags byte
	if v.Tombstone {
		flags |= flagTombstone
	}
	dst = append(dst, valueFormat, flags, byte(v.Origin))
	dst = binary.AppendUvarint(dst, uint64(v.Generation))
	dst = binary.BigEndian.AppendUint64(dst, uint64(v.LUT))
	dst = binary.AppendVarint(dst, v.Expiry)
	dst = appendBytes(dst, v.Set)
	dst = appendBytes(dst, v.Key)
	return appendBytes(dst, v.Bins)
}

func appendBytes[T string | []byte](dst []byte, b T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// decodeMeta decodes the metadata at the front of a value without copying
// anything.
func decodeMeta(b []byte) (record.Meta, error) {
	d := decoder{b: b}
	m := d.meta()
	return m, d.err
}

// decodeValue decodes a whole value. The version owns its bins: b may be
// reused as soon as decodeValue returns. Its namespace is left empty.
func decodeValue(b []byte) (record.Version, error) {
	d := decoder{b: b}
	v := record.Version{Meta: d.meta()}
	v.Set = string(d.bytes("set", record.MaxNameLen))
	v.Key = string(d.bytes("key", record.MaxKeyLen))
	if bins := d.bytes("bins", record.MaxBinsLen); len(bins) > 0 {
		v.Bins = append([]byte(nil), bins...)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail(fmt.Sprintf("%d bytes after bins", len(d.b)))
	}
	if d.err != nil {
		return record.Version{}, d.err
	}
	return v, nil
}

// decoder reads a value front to back. The first error sticks, and every
// later read returns a zero value, so callers check once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("decode value: %s: %w", what, errCorrupt)
	}
	d.b = nil
}

func (d *decoder) meta() record.Meta {
	if len(d.b) < 3 {
		d.fail("truncated header")
		return record.Meta{}
	}
	format, flags, origin := d.b[0], d.b[1], d.b[2]
	d.b = d.b[3:]
	if format != valueFormat {
		d.fail(fmt.Sprintf("unknown format %d", format))
	}
	if flags&^flagTombstone != 0 {
		d.fail(fmt.Sprintf("unknown flags %#x", flags))
	}
	m := record.Meta{
		Origin:     record.RegionID(origin),
		Tombstone:  flags&flagTombstone != 0,
		Generation: record.Generation(d.uvarint("generation")),
	}
	if len(d.b) < 8 {
		d.fail("truncated LUT")
		return record.Meta{}
	}
	m.LUT = record.LUT(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]

	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad expiry")
		return record.Meta{}
	}
	d.b = d.b[n:]
	m.Expiry = x
	return m
}

func (d *decoder) uvarint(what string) uint64 {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad " + what)
		return 0
	}
	d.b = d.b[n:]
	return x
}

// bytes reads a length-prefixed field, refusing lengths above max before
// it slices, so a corrupt length cannot reach past the value.
func (d *decoder) bytes(what string, max int) []byte {
	n := d.uvarint(what + " length")
	if d.err != nil {
		return nil
	}
	if n > uint64(max) || n > uint64(len(d.b)) {
		d.fail(fmt.Sprintf("%s of %d bytes in %d left (max %d)", what, n, len(d.b), max))
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}
