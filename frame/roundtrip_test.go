package frame

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/xdrd/xdrd/record"
)

func TestRoundTrip(t *testing.T) {
	one := batch(1, record.MaxBinsLen)
	tests := map[string]*Frame{
		"mixed":     mixed(),
		"heartbeat": heartbeat(),
		"batch":     batch(256, 300),
		"max bins":  one,
		"max size":  atMaxSize(t),
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			data := encode(t, want)

			size := headerSize(&want.Header, len(want.Records))
			for i := range want.Records {
				size += EncodedSize(&want.Records[i])
			}
			if len(data) != size {
				t.Errorf("encoded %d bytes, sizes add up to %d", len(data), size)
			}

			got, err := Decode(data, DefaultMaxSize)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if err := equalFrames(got, want); err != nil {
				t.Fatal(err)
			}
			if again := encode(t, got); !bytes.Equal(again, data) {
				t.Error("re-encoding the decoded frame changed its bytes")
			}
		})
	}
}

// atMaxSize is a frame of exactly DefaultMaxSize bytes.
func atMaxSize(t *testing.T) *Frame {
	f := batch(2, record.MaxBinsLen)
	f.Records[1].Bins = nil
	// Nil bins take 1 byte; bins this large take a 5-byte bin32 header.
	rest := DefaultMaxSize - len(encode(t, f)) + 1 - 5
	f.Records[1].Bins = make([]byte, rest)
	if n := len(encode(t, f)); n != DefaultMaxSize {
		t.Fatalf("frame of %d bytes, want %d", n, DefaultMaxSize)
	}
	return f
}

func TestDecodeLimit(t *testing.T) {
	data := encode(t, atMaxSize(t))
	if _, err := Decode(data, 0); err != nil {
		t.Fatalf("frame at the default limit: %v", err)
	}
	if _, err := Decode(data, len(data)-1); Reason(err) != "oversized" {
		t.Fatalf("one byte over the limit: %v", err)
	}
}

func TestDecodeIntoReuses(t *testing.T) {
	big, small := encode(t, batch(50, 10)), encode(t, mixed())

	var f Frame
	if err := DecodeInto(&f, big, 0); err != nil {
		t.Fatal(err)
	}
	kept := f.Records[7]
	keptKey, keptBins := strings.Clone(kept.Key), bytes.Clone(kept.Bins)
	backing := &f.Records[:1][0]

	if err := DecodeInto(&f, small, 0); err != nil {
		t.Fatal(err)
	}
	if err := equalFrames(&f, mixed()); err != nil {
		t.Fatal(err)
	}
	if &f.Records[0] != backing {
		t.Error("records were reallocated though they fit")
	}
	if kept.Key != keptKey || !bytes.Equal(kept.Bins, keptBins) {
		t.Error("a version copied out of an earlier decode changed")
	}

	if err := DecodeInto(&f, big[:len(big)-1], 0); err == nil {
		t.Fatal("decoded a truncated frame")
	}
	if f.Count != 0 || len(f.Records) != 0 || f.Namespace != "" {
		t.Errorf("failed decode left %+v", f.Header)
	}
}

func TestBinsDoNotShareCapacity(t *testing.T) {
	f, err := Decode(encode(t, batch(2, 4)), 0)
	if err != nil {
		t.Fatal(err)
	}
	next := bytes.Clone(f.Records[1].Bins)
	_ = append(f.Records[0].Bins, 0xff)
	if !bytes.Equal(f.Records[1].Bins, next) {
		t.Error("appending to one record's bins overwrote the next")
	}
}

// TestDecodeSharedPointsIntoData checks that DecodeShared's bins are the
// frame's own bytes, equal to what Decode copies, and capped: appending to
// one must not write into data.
func TestDecodeSharedPointsIntoData(t *testing.T) {
	data := encode(t, batch(2, 4))
	copied, err := Decode(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := DecodeShared(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := equalFrames(shared, copied); err != nil {
		t.Fatal(err)
	}
	first := shared.Records[0].Bins
	at := bytes.Index(data, first)
	if at < 0 || &data[at] != &first[0] {
		t.Fatal("shared bins are a copy, not a slice of the frame's data")
	}
	before := bytes.Clone(data)
	_ = append(first, 0xff)
	if !bytes.Equal(data, before) {
		t.Error("appending to shared bins wrote into the frame's data")
	}
}

func TestMaxHeaderSize(t *testing.T) {
	h := Header{
		Source: 255, Namespace: strings.Repeat("n", record.MaxNameLen), Shard: 4095,
		First: math.MaxUint64, Last: math.MaxUint64, Count: math.MaxInt, SentAt: math.MinInt64,
	}
	if n := headerSize(&h, math.MaxUint32); n > MaxHeaderSize {
		t.Errorf("header of %d bytes exceeds MaxHeaderSize %d", n, MaxHeaderSize)
	}
}

// TestIntegerWidths decodes frames whose integers another implementation
// wrote in every width msgpack allows for their values.
func TestIntegerWidths(t *testing.T) {
	want := mixed()
	want.Records = want.Records[:1]
	want.Count, want.First, want.Last, want.SentAt = 1, 10, 20, -3
	want.Shard, want.Source = 100, 55
	v := &want.Records[0]
	v.Generation, v.LUT, v.Expiry, v.Origin = 9, 60, -7, 5

	widths := map[string]func(e *msgpack.Encoder, n int64) error{
		"uint8":  func(e *msgpack.Encoder, n int64) error { return e.EncodeUint8(uint8(n)) },
		"uint16": func(e *msgpack.Encoder, n int64) error { return e.EncodeUint16(uint16(n)) },
		"uint32": func(e *msgpack.Encoder, n int64) error { return e.EncodeUint32(uint32(n)) },
		"uint64": func(e *msgpack.Encoder, n int64) error { return e.EncodeUint64(uint64(n)) },
		"int8":   func(e *msgpack.Encoder, n int64) error { return e.EncodeInt8(int8(n)) },
		"int16":  func(e *msgpack.Encoder, n int64) error { return e.EncodeInt16(int16(n)) },
		"int32":  func(e *msgpack.Encoder, n int64) error { return e.EncodeInt32(int32(n)) },
		"int64":  func(e *msgpack.Encoder, n int64) error { return e.EncodeInt64(n) },
	}
	for name, width := range widths {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			e := msgpack.NewEncoder(&buf)
			num := func(n int64) {
				if n < 0 && strings.HasPrefix(name, "uint") {
					must(t, e.EncodeInt64(n))
					return
				}
				must(t, width(e, n))
			}
			must(t, e.EncodeArrayLen(9))
			num(Version)
			num(int64(want.Source))
			must(t, e.EncodeString(want.Namespace))
			num(int64(want.Shard))
			num(int64(want.First))
			num(int64(want.Last))
			num(int64(want.Count))
			num(want.SentAt)
			must(t, e.EncodeArrayLen(1))
			must(t, e.EncodeArrayLen(8))
			must(t, e.EncodeString(v.Set))
			must(t, e.EncodeString(v.Key))
			num(int64(v.Generation))
			num(int64(v.LUT))
			num(int64(v.Origin))
			num(v.Expiry)
			must(t, e.EncodeBool(v.Tombstone))
			must(t, e.EncodeBytes(nil))

			got, err := Decode(buf.Bytes(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := equalFrames(got, want); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLibraryReadsFrames checks that a generic msgpack decoder reads the
// layout this package writes.
func TestLibraryReadsFrames(t *testing.T) {
	f := mixed()
	var v []any
	if err := msgpack.Unmarshal(encode(t, f), &v); err != nil {
		t.Fatal(err)
	}
	if len(v) != headerFields {
		t.Fatalf("%d header fields", len(v))
	}
	recs, ok := v[8].([]any)
	if !ok || len(recs) != len(f.Records) {
		t.Fatalf("records: %T of %d", v[8], len(recs))
	}
	for i, rec := range recs {
		fields := rec.([]any)
		if fields[1] != f.Records[i].Key {
			t.Errorf("record %d: key %v", i, fields[1])
		}
		if bins, _ := fields[7].([]byte); !bytes.Equal(bins, f.Records[i].Bins) {
			t.Errorf("record %d: bins differ", i)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
