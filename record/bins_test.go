package record_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xdrd/xdrd/record"
)

// nest wraps v in depth single-element lists.
func nest(v any, depth int) any {
	for range depth {
		v = []any{v}
	}
	return v
}

func mustEncode(t *testing.T, bins map[string]any) []byte {
	t.Helper()
	b, err := record.EncodeBins(bins)
	if err != nil {
		t.Fatalf("EncodeBins(%v): %v", bins, err)
	}
	return b
}

// TestEncodeBinsWireFormat pins the bytes of a small record: keys sorted,
// integers in their shortest form.
func TestEncodeBinsWireFormat(t *testing.T) {
	got := mustEncode(t, map[string]any{"b": int64(1), "a": uint16(2)})
	want := []byte{0x82, 0xa1, 'a', 0x02, 0xa1, 'b', 0x01}
	if !bytes.Equal(got, want) {
		t.Fatalf("EncodeBins = % x, want % x", got, want)
	}
}

func TestEncodeBinsCanonical(t *testing.T) {
	type pair struct {
		name  string
		value any
	}
	var pairs []pair
	for i := range 40 {
		name := string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		inner := map[string]any{"z": i, "m": "mid", "a": []any{true, nil}}
		pairs = append(pairs, pair{name, []any{i, float64(i) / 3, inner}})
	}

	build := func(order []pair) map[string]any {
		m := make(map[string]any)
		for _, p := range order {
			m[p.name] = p.value
		}
		return m
	}
	want := mustEncode(t, build(pairs))

	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 20 {
		order := append([]pair(nil), pairs...)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		if got := mustEncode(t, build(order)); !bytes.Equal(got, want) {
			t.Fatalf("trial %d: insertion order changed the encoding", trial)
		}
	}
}

// TestEncodeBinsIntegerWidths checks that an integer encodes the same way
// whatever Go type holds it, so a decoded record re-encodes to its bytes.
func TestEncodeBinsIntegerWidths(t *testing.T) {
	for _, n := range []int64{0, 5, 127, 128, 255, 300, -1, -32, -33, -200, math.MaxInt32} {
		want := mustEncode(t, map[string]any{"n": n})
		same := []any{int(n), int32(n)}
		if n >= 0 {
			same = append(same, uint64(n), uint(n), uint32(n))
		}
		for _, v := range same {
			if got := mustEncode(t, map[string]any{"n": v}); !bytes.Equal(got, want) {
				t.Errorf("%T(%d) encodes as % x, int64 as % x", v, n, got, want)
			}
		}
	}
}

func TestBinsRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want any // what DecodeBins returns
	}{
		{"small int", 5, int64(5)},
		{"negative int", -200, int64(-200)},
		{"int8", int8(-3), int64(-3)},
		{"min int64", int64(math.MinInt64), int64(math.MinInt64)},
		{"large positive int", 300, uint64(300)},
		{"max uint64", uint64(math.MaxUint64), uint64(math.MaxUint64)},
		{"float", 1.5, 1.5},
		{"negative float", -1e300, -1e300},
		{"infinity", math.Inf(1), math.Inf(1)},
		{"string", "héllo", "héllo"},
		{"empty string", "", ""},
		{"long string", strings.Repeat("s", 70_000), strings.Repeat("s", 70_000)},
		{"bytes", []byte{0, 1, 0xff}, []byte{0, 1, 0xff}},
		{"long bytes", bytes.Repeat([]byte{7}, 300), bytes.Repeat([]byte{7}, 300)},
		{"true", true, true},
		{"false", false, false},
		{"nil", nil, nil},
		{"list", []any{1, "a", []byte("b"), false, nil},
			[]any{int64(1), "a", []byte("b"), false, nil}},
		{"empty list", []any{}, []any{}},
		{"map", map[string]any{"x": 1.25, "y": []any{"z"}},
			map[string]any{"x": 1.25, "y": []any{"z"}}},
		{"nested map", map[string]any{"a": map[string]any{"b": map[string]any{"c": []byte("d")}}},
			map[string]any{"a": map[string]any{"b": map[string]any{"c": []byte("d")}}}},
		{"empty map", map[string]any{}, map[string]any{}},
		{"deepest allowed", nest(1, record.MaxBinDepth), nest(int64(1), record.MaxBinDepth)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := mustEncode(t, map[string]any{"bin": tt.in, "other": "x"})
			got, err := record.DecodeBins(enc)
			if err != nil {
				t.Fatalf("DecodeBins: %v", err)
			}
			want := map[string]any{"bin": tt.want, "other": "x"}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("DecodeBins = %#v, want %#v", got, want)
			}
			if again := mustEncode(t, got); !bytes.Equal(again, enc) {
				t.Fatalf("re-encoding the decoded bins changed them:\n% x\n% x", again, enc)
			}
		})
	}
}

// TestBinsFloat32 pins a known limit: a float32 bin decodes as float64 and
// so re-encodes in nine bytes instead of five. The data path never
// re-encodes bins, so replicated bytes still match.
func TestBinsFloat32(t *testing.T) {
	enc := mustEncode(t, map[string]any{"f": float32(0.25)})
	got, err := record.DecodeBins(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, map[string]any{"f": 0.25}) {
		t.Fatalf("DecodeBins = %#v, want float64 0.25", got)
	}
}

func TestBinsRoundTripNaN(t *testing.T) {
	got, err := record.DecodeBins(mustEncode(t, map[string]any{"f": math.NaN()}))
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := got["f"].(float64); !ok || !math.IsNaN(f) {
		t.Fatalf("DecodeBins = %#v, want NaN", got)
	}
}

func TestBinsEmpty(t *testing.T) {
	for _, bins := range []map[string]any{nil, {}} {
		got, err := record.DecodeBins(mustEncode(t, bins))
		if err != nil || len(got) != 0 {
			t.Errorf("round trip of %#v = %#v, %v", bins, got, err)
		}
	}
	if got, err := record.DecodeBins(nil); got != nil || err != nil {
		t.Errorf("DecodeBins(nil) = %#v, %v; want nil, nil", got, err)
	}
}

func TestEncodeBinsRejects(t *testing.T) {
	type point struct{ X int }
	// One byte more than fits: the map header, "b" and a bin32 header take 8.
	tooBig := make([]byte, record.MaxBinsLen-7)
	tests := []struct {
		name string
		bins map[string]any
		want string
	}{
		{"struct", map[string]any{"p": point{1}},
			`bin "p": invalid record: unsupported value type`},
		{"pointer", map[string]any{"p": new(int)}, "unsupported value type *int"},
		{"typed map", map[string]any{"m": map[string]int{"a": 1}}, "unsupported value type"},
		{"typed slice", map[string]any{"s": []string{"a"}}, "unsupported value type []string"},
		{"time", map[string]any{"t": time.Unix(0, 0)}, "unsupported value type time.Time"},
		{"in a list", map[string]any{"l": []any{1, point{}}}, `bin "l"`},
		{"in a map", map[string]any{"m": map[string]any{"k": struct{}{}}}, `bin "m"`},
		{"empty bin name", map[string]any{"": 1}, "empty bin name"},
		{"too deep", map[string]any{"d": nest(1, record.MaxBinDepth+1)},
			"nests deeper than 16"},
		{"too deep in maps", map[string]any{"d": nestMaps(record.MaxBinDepth + 1)},
			"nests deeper than 16"},
		{"oversized", map[string]any{"b": tooBig}, "bins of 524289 bytes exceed 524288"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := record.EncodeBins(tt.bins)
			if !errors.Is(err, record.ErrInvalid) {
				t.Fatalf("EncodeBins = % x, %v; want ErrInvalid", b, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("EncodeBins error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestEncodeBinsLargestAccepted(t *testing.T) {
	b := mustEncode(t, map[string]any{"b": make([]byte, record.MaxBinsLen-8)})
	if len(b) != record.MaxBinsLen {
		t.Fatalf("encoded %d bytes, want exactly %d", len(b), record.MaxBinsLen)
	}
	if _, err := record.DecodeBins(b); err != nil {
		t.Fatalf("DecodeBins of the largest bins: %v", err)
	}
}

// nestMaps returns a value of depth maps, each holding the next under "k".
func nestMaps(depth int) any {
	var v any = 1
	for range depth {
		v = map[string]any{"k": v}
	}
	return v
}

// TestDecodeBinsRejects feeds DecodeBins input that no EncodeBins call
// produces, as a hostile or corrupt frame would.
func TestDecodeBinsRejects(t *testing.T) {
	deep := append([]byte{0x81, 0xa1, 'd'}, bytes.Repeat([]byte{0x91}, record.MaxBinDepth+1)...)
	deep = append(deep, 0x01)
	tests := []struct {
		name    string
		data    []byte
		invalid bool // the error wraps ErrInvalid, not only a msgpack error
	}{
		{"not a map", []byte{0x01}, false},
		{"truncated map", []byte{0x82, 0xa1, 'a', 0x01}, false},
		{"truncated string", []byte{0x81, 0xa1, 'a', 0xa5, 'x'}, false},
		{"integer key", []byte{0x81, 0x01, 0x01}, false},
		{"integer key in a nested map", []byte{0x81, 0xa1, 'a', 0x81, 0x01, 0x01}, true},
		{"list as key", []byte{0x81, 0xa1, 'a', 0x81, 0x90, 0xc0}, true},
		{"map as key", []byte{0x81, 0xa1, 'a', 0x81, 0x80, 0xc0}, true},
		{"nil key", []byte{0x81, 0xa1, 'a', 0x81, 0xc0, 0xc0}, true},
		{"extension", []byte{0x81, 0xa1, 'a', 0xd6, 0xff, 0, 0, 0, 0}, true},
		{"huge map", []byte{0x81, 0xa1, 'a', 0xdf, 0xff, 0xff, 0xff, 0xff}, true},
		{"huge top map", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, true},
		{"huge list", []byte{0x81, 0xa1, 'a', 0xdd, 0xff, 0xff, 0xff, 0xff}, true},
		{"huge bytes", []byte{0x81, 0xa1, 'a', 0xc6, 0xe3, 0xcc, 0xf9, 0x0c, 0x00}, true},
		{"huge string", []byte{0x81, 0xa1, 'a', 0xdb, 0xff, 0xff, 0xff, 0xff}, false},
		{"too deep", deep, true},
		{"oversized", append([]byte{0x80}, make([]byte, record.MaxBinsLen)...), true},
		{"trailing bytes", []byte{0x81, 0xa1, 'a', 0x01, 0x01}, true},
		{"duplicate key", []byte{0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02}, true},
		{"empty bin name", []byte{0x81, 0xa0, 0x01}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := record.DecodeBins(tt.data)
			if err == nil {
				t.Fatalf("DecodeBins(% x) = %#v, want an error", tt.data, got)
			}
			if tt.invalid && !errors.Is(err, record.ErrInvalid) {
				t.Fatalf("DecodeBins(% x) = %v, want ErrInvalid", tt.data, err)
			}
		})
	}
}
