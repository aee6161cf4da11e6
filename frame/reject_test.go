package frame

import (
	"errors"
	"strings"
	"testing"

	"github.com/xdrd/xdrd/record"
)

// frameOf joins a header and records described in mp's terms.
func frameOf(header []any, records ...[]any) []byte {
	vals := []any{header}
	for _, r := range records {
		vals = append(vals, r)
	}
	return mp(vals...)
}

func TestDecodeRejects(t *testing.T) {
	good := frameOf(goodHeader(), goodRecord())
	if _, err := Decode(good, 0); err != nil {
		t.Fatalf("the frame the cases break is itself broken: %v", err)
	}
	str32 := func(n uint32) raw {
		return raw{mpStr32, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}

	tests := []struct {
		name string
		data []byte
		want error
		msg  string // in the error's text
	}{
		{"empty", nil, ErrMalformed, "frame: header: truncated"},
		{"garbage", []byte("hello, world"), ErrMalformed, "header: expected array"},
		{"not an array", mp(uint64(1)), ErrMalformed, "header: expected array"},
		{"empty array", mp(arr(0)), ErrMalformed, "header: empty array"},
		{"version 2", frameOf(with(goodHeader(), 1, 2), goodRecord()), ErrVersion, "version: 2"},
		{"version 2 layout", mp(arr(2), 2, "x"), ErrVersion, "want 1"},
		{"version 0", frameOf(with(goodHeader(), 1, 0), goodRecord()), ErrVersion, "version: 0"},
		{"version string", mp(arr(9), "1"), ErrMalformed, "version: expected integer"},
		{"short header", mp(arr(8), Version, 3), ErrMalformed, "header: 8 elements, want 9"},
		{"source 0", frameOf(with(goodHeader(), 2, 0), goodRecord()), ErrMalformed,
			"source: 0 out of range"},
		{"source 256", frameOf(with(goodHeader(), 2, 256), goodRecord()), ErrMalformed,
			"source: 256 out of range"},
		{"source negative", frameOf(with(goodHeader(), 2, -1), goodRecord()), ErrMalformed,
			"source: negative value -1"},
		{"namespace empty", frameOf(with(goodHeader(), 3, ""), goodRecord()), ErrMalformed,
			"namespace: invalid record: empty namespace"},
		{"namespace zero byte", frameOf(with(goodHeader(), 3, "a\x00b"), goodRecord()),
			ErrMalformed, "namespace: invalid record: namespace contains a zero byte"},
		{"namespace long", frameOf(with(goodHeader(), 3, strings.Repeat("n", 64)), goodRecord()),
			ErrMalformed, "namespace: invalid record: namespace of 64 bytes"},
		{"namespace integer", frameOf(with(goodHeader(), 3, 5), goodRecord()), ErrMalformed,
			"namespace: expected string"},
		{"shard 4096", frameOf(with(goodHeader(), 4, 4096), goodRecord()), ErrMalformed,
			"shard: 4096 out of range 0..4095"},
		{"first after last", frameOf(with(goodHeader(), 5, 13), goodRecord()), ErrMalformed,
			"last: 12 is before first 13"},
		{"count above records", frameOf(with(goodHeader(), 7, 2), goodRecord()), ErrMalformed,
			"records: array of 1 but count 2"},
		{"count below records", frameOf(with(goodHeader(), 7, 0), goodRecord()), ErrMalformed,
			"records: array of 1 but count 0"},
		{"count huge", frameOf(with(goodHeader(), 7, uint64(1)<<32)), ErrMalformed,
			"count: 4294967296 records cannot fit"},
		{"sentAt overflow", frameOf(with(goodHeader(), 8, uint64(1)<<63), goodRecord()),
			ErrMalformed, "sentAt: 9223372036854775808 overflows int64"},
		{"records not array", frameOf(with(goodHeader(), 9, "r"), goodRecord()), ErrMalformed,
			"records: expected array"},
		{"record short", frameOf(goodHeader(), with(goodRecord(), 0, arr(7))[:8]),
			ErrMalformed, "record 0: array: 7 elements, want 8"},
		{"set integer", frameOf(goodHeader(), with(goodRecord(), 1, 1)), ErrMalformed,
			"record 0: set: expected string"},
		{"key beyond frame", frameOf(goodHeader(), with(goodRecord(), 2, str32(70000))),
			ErrMalformed, "record 0: key: length 70000 exceeds remaining 10"},
		{"key empty", frameOf(goodHeader(), with(goodRecord(), 2, "")), record.ErrInvalid,
			"record 0: invalid record: empty key"},
		{"key zero byte", frameOf(goodHeader(), with(goodRecord(), 2, "k\x00")),
			record.ErrInvalid, "record 0: invalid record: key contains a zero byte"},
		{"generation negative", frameOf(goodHeader(), with(goodRecord(), 3, -1)), ErrMalformed,
			"record 0: generation: negative value -1"},
		{"lut overflow", frameOf(goodHeader(), with(goodRecord(), 4, uint64(1)<<63)),
			ErrMalformed, "record 0: lut: 9223372036854775808 overflows int64"},
		{"lut zero", frameOf(goodHeader(), with(goodRecord(), 4, 0)), record.ErrInvalid,
			"record 0: invalid record: last-update time 0"},
		{"origin 0", frameOf(goodHeader(), with(goodRecord(), 5, 0)), ErrMalformed,
			"record 0: origin: 0 out of range 1..255"},
		{"origin 300", frameOf(goodHeader(), with(goodRecord(), 5, 300)), ErrMalformed,
			"record 0: origin: 300 out of range"},
		{"expiry bool", frameOf(goodHeader(), with(goodRecord(), 6, true)), ErrMalformed,
			"record 0: expiry: expected integer"},
		{"tombstone nil", frameOf(goodHeader(), with(goodRecord(), 7, nil)), ErrMalformed,
			"record 0: tombstone: expected bool"},
		{"bins string", frameOf(goodHeader(), with(goodRecord(), 8, "b")), ErrMalformed,
			"record 0: bins: expected bin or nil"},
		{"tombstone with bins", frameOf(goodHeader(), with(goodRecord(), 7, true)),
			record.ErrInvalid, "record 0: invalid record: tombstone with bins"},
		{"bins too large", frameOf(goodHeader(),
			with(goodRecord(), 8, make([]byte, record.MaxBinsLen+1))),
			record.ErrInvalid, "record 0: invalid record: bins of 524289 bytes"},
		{"trailing bytes", append(frameOf(goodHeader(), goodRecord()), 0, 0, 0), ErrMalformed,
			"trailing bytes: 3 after the records"},
		{"second frame appended", append(good, good...), ErrMalformed, "trailing bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode(tt.data, 0)
			checkRejected(t, err, tt.want, tt.msg)
			if f != nil {
				t.Errorf("returned a frame with the error: %+v", f.Header)
			}
		})
	}
}

// checkRejected asserts err wraps want, maps to want's reason and names
// what was wrong.
func checkRejected(t *testing.T, err, want error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, want) {
		t.Errorf("error %q does not wrap %q", err, want)
	}
	reason := map[error]string{
		ErrMalformed: "malformed", record.ErrInvalid: "malformed",
		ErrVersion: "version", ErrOversized: "oversized",
	}[want]
	if got := Reason(err); got != reason {
		t.Errorf("Reason(%q) = %q, want %q", err, got, reason)
	}
	if !strings.HasPrefix(err.Error(), "frame: ") || !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}
}

func TestDecodeRejectsOversized(t *testing.T) {
	data := encode(t, batch(10, 100))
	_, err := Decode(data, len(data)-1)
	checkRejected(t, err, ErrOversized, "exceeds limit")

	// The limit comes before anything else: an oversized frame of garbage
	// is oversized, not malformed.
	_, err = Decode(make([]byte, DefaultMaxSize+1), 0)
	checkRejected(t, err, ErrOversized, "size 1048577 exceeds limit 1048576")
}

func TestDecodeRejectsTruncated(t *testing.T) {
	for name, f := range map[string]*Frame{"mixed": mixed(), "heartbeat": heartbeat()} {
		data := encode(t, f)
		for n := range len(data) {
			_, err := Decode(data[:n], 0)
			if !errors.Is(err, ErrMalformed) || Reason(err) != "malformed" {
				t.Fatalf("%s cut to %d of %d bytes: %v", name, n, len(data), err)
			}
		}
	}
}

func TestAppendRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(f *Frame)
		want   error
		msg    string
	}{
		{"record namespace", func(f *Frame) { f.Records[1].Namespace = "orders" }, ErrMalformed,
			`frame: record 1: namespace: "orders" differs from the header's "users"`},
		{"invalid record", func(f *Frame) { f.Records[2].Origin = 0 }, record.ErrInvalid,
			"frame: record 2: invalid record: origin is 0"},
		{"count", func(f *Frame) { f.Count = 2 }, ErrMalformed, "frame: count: 2 but 3 records"},
		{"source", func(f *Frame) { f.Source = 0 }, ErrMalformed, "frame: source:"},
		{"shard", func(f *Frame) { f.Shard = 4096 }, ErrMalformed, "frame: shard: 4096"},
		{"range", func(f *Frame) { f.First = f.Last + 1 }, ErrMalformed, "frame: last:"},
		{"namespace", func(f *Frame) { f.Namespace = "" }, ErrMalformed, "frame: namespace:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := batch(3, 10)
			tt.change(f)
			dst := []byte("kept")
			out, err := Append(dst, f)
			checkRejected(t, err, tt.want, tt.msg)
			if string(out) != "kept" {
				t.Errorf("Append changed dst to %q", out)
			}
		})
	}
}

func TestReason(t *testing.T) {
	if r := Reason(nil); r != "" {
		t.Errorf("Reason(nil) = %q", r)
	}
	if r := Reason(errors.New("other")); r != "" {
		t.Errorf("Reason of a foreign error = %q", r)
	}
}
