package record_test

import (
	"bytes"
	"testing"

	"github.com/xdrd/xdrd/record"
)

// FuzzDecodeBins feeds DecodeBins arbitrary bytes, as a corrupt or hostile
// frame would. It must never panic, and whatever it accepts must re-encode
// to bytes that are a fixed point of decode and encode.
func FuzzDecodeBins(f *testing.F) {
	for _, bins := range []map[string]any{
		nil,
		{"n": 1, "s": "x", "b": []byte{0}, "t": true, "f": 0.5},
		{"l": []any{1, []any{"a", nil}}, "m": map[string]any{"k": map[string]any{}}},
	} {
		b, err := record.EncodeBins(bins)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		bins, err := record.DecodeBins(data)
		if err != nil || len(data) > record.MaxBinsLen/2 {
			// Large inputs may legitimately grow on re-encoding (float32
			// becomes float64), so only the absence of a panic is checked.
			return
		}

		enc, err := record.EncodeBins(bins)
		if err != nil {
			t.Fatalf("DecodeBins accepted % x but EncodeBins rejects %#v: %v", data, bins, err)
		}
		again, err := record.DecodeBins(enc)
		if err != nil {
			t.Fatalf("DecodeBins rejects the encoding % x of %#v: %v", enc, bins, err)
		}
		enc2, err := record.EncodeBins(again)
		if err != nil {
			t.Fatalf("EncodeBins(%#v): %v", again, err)
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n% x\n% x", enc, enc2)
		}
	})
}
