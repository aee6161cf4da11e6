package embedded

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/xdrd/xdrd/record"
)

func TestValueRoundTrip(t *testing.T) {
	versions := []record.Version{
		{Set: "devices", Key: "k", Bins: []byte{0x81, 0xa1, 'n', 0x01},
			Meta: record.Meta{
				Generation: 7, LUT: 1_900_000_000_000_000_000, Origin: 3, Expiry: 1_900_000_000,
			}},
		{Key: "tomb", Meta: record.Meta{Generation: 1, LUT: 1, Origin: 1, Tombstone: true}},
		{Set: "s", Key: string(make([]byte, record.MaxKeyLen)),
			Meta: record.Meta{Generation: math.MaxUint64, LUT: record.MaxLUT, Origin: 255, Expiry: -1}},
	}
	for _, v := range versions {
		b := appendValue(nil, &v)
		got, err := decodeValue(b)
		if err != nil {
			t.Fatalf("decode %+v: %v", v.Meta, err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("round trip: got %+v, want %+v", got, v)
		}
		m, err := decodeMeta(b)
		if err != nil || m != v.Meta {
			t.Errorf("decode meta: %+v, %v; want %+v", m, err, v.Meta)
		}
	}
}

func TestDecodeValueRejects(t *testing.T) {
	good := appendValue(nil, &record.Version{
		Set: "s", Key: "k", Bins: []byte("bins"),
		Meta: record.Meta{Generation: 300, LUT: 5, Origin: 2},
	})
	cases := map[string][]byte{
		"empty":          nil,
		"unknown format": append([]byte{9}, good[1:]...),
		"unknown flags":  append([]byte{good[0], 0x80}, good[2:]...),
		"trailing bytes": append(append([]byte(nil), good...), 0),
		// good's metadata and set take 16 bytes; a key length follows.
		"huge key": append(append([]byte(nil), good[:16]...), 0xff, 0xff, 0xff, 0xff, 0x0f),
	}
	for i := 1; i < len(good); i++ {
		cases[fmt.Sprintf("cut at %d", i)] = good[:i]
	}
	for name, b := range cases {
		if _, err := decodeValue(b); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: err %v, want errCorrupt", name, err)
		}
	}
}

// FuzzDecodeValue checks that decoding any bytes returns an error or a
// version that encodes back to a value decoding to the same version, and
// that the metadata-only decoder agrees with the full one.
func FuzzDecodeValue(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeValue(b)
		m, merr := decodeMeta(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v does not wrap errCorrupt", err)
			}
			return
		}
		if merr != nil || m != v.Meta {
			t.Fatalf("decodeMeta: %+v, %v; decodeValue: %+v", m, merr, v.Meta)
		}
		again, err := decodeValue(appendValue(nil, &v))
		if err != nil {
			t.Fatalf("decode of re-encoded %+v: %v", v, err)
		}
		if !reflect.DeepEqual(again, v) {
			t.Fatalf("re-encoded %+v decodes to %+v", v, again)
		}
	})
}
