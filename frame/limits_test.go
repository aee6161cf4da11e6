package frame

import (
	"runtime"
	"testing"
)

// allocs reports the allocations and bytes one call of fn makes, averaged
// over runs. Bytes come from the runtime's running total, which other
// goroutines could inflate; this package's tests start none.
func allocs(runs int, fn func()) (count, bytes float64) {
	count = testing.AllocsPerRun(runs, fn)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		fn()
	}
	runtime.ReadMemStats(&after)
	return count, float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}

// TestHugeDeclaredSizes feeds frames whose counts and lengths claim far more
// than they hold. Each must fail having allocated little more than its
// error message.
func TestHugeDeclaredSizes(t *testing.T) {
	max32 := raw("\xff\xff\xff\xff")
	header := func(count any) []any {
		return []any{arr(9), Version, 3, "u", 7, 10, 12, count, 1}
	}
	tests := map[string][]byte{
		// 20 bytes claiming 2^32 records.
		"record count":  mp(header(uint64(1)<<32), arr(0)),
		"records array": mp(header(0), raw{mpArray32}, max32),
		"header array":  mp(raw{mpArray32}, max32, Version),
		"key length": mp(header(1), arr(1), arr(8), "set",
			raw{mpStr32}, max32, "padding to pass the count bound"),
		"bins length": mp(header(1), arr(1), arr(8), "set", "key", 1, 1, 1, 0, false,
			raw{mpBin32}, max32),
		"count of garbage": mp(header(3), arr(3), make([]byte, 40)),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(data, 0)
			if Reason(err) != "malformed" {
				t.Fatalf("decode of %d bytes: %v", len(data), err)
			}
			t.Logf("%d bytes: %v", len(data), err)
			count, bytes := allocs(100, func() { _, _ = Decode(data, 0) })
			// The bound on count leaves room for the race detector's own.
			if count > 16 || bytes > 1024 {
				t.Errorf("failing on %d bytes allocated %.0f times, %.0f bytes",
					len(data), count, bytes)
			}
		})
	}
}

// TestDecodeAllocations bounds what valid frames cost: a few allocations
// whatever the record count, and bytes within a small multiple of the
// frame's size.
func TestDecodeAllocations(t *testing.T) {
	dense := denseFrame(DefaultMaxSize)
	tests := map[string]struct {
		data     []byte
		maxBytes float64 // as a multiple of len(data)
	}{
		"batch":     {encode(t, batch(256, 300)), 1.5},
		"max bins":  {encode(t, atMaxSize(t)), 1.1},
		"heartbeat": {encode(t, heartbeat()), 20},
		// The worst case: 10-byte records, each costing a record.Version.
		"dense": {dense, 12},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(tt.data, 0); err != nil {
				t.Fatal(err)
			}
			count, bytes := allocs(5, func() { _, _ = Decode(tt.data, 0) })
			ratio := bytes / float64(len(tt.data))
			t.Logf("%d bytes: %.0f allocations, %.0f bytes (%.2fx)",
				len(tt.data), count, bytes, ratio)
			if count > 6 || ratio > tt.maxBytes {
				t.Errorf("%.0f allocations and %.2fx the frame's size, want <= 6 and %.2fx",
					count, ratio, tt.maxBytes)
			}
		})
	}

	t.Run("shared", func(t *testing.T) {
		data := encode(t, atMaxSize(t))
		_, bytes := allocs(5, func() { _, _ = DecodeShared(data, 0) })
		// The bins stay in data: what is left is the records and keys.
		if ratio := bytes / float64(len(data)); ratio > 0.1 {
			t.Errorf("DecodeShared allocated %.2fx the frame's size, want <= 0.1x", ratio)
		}
	})

	t.Run("reused", func(t *testing.T) {
		var f Frame
		data := encode(t, batch(256, 300))
		count := testing.AllocsPerRun(20, func() { _ = DecodeInto(&f, data, 0) })
		if count > 3 {
			t.Errorf("%.0f allocations decoding into a used frame, want <= 3", count)
		}
	})
}

// denseFrame is a valid frame of up to size bytes packed with the smallest
// records the format allows.
func denseFrame(size int) []byte {
	rec := []any{arr(8), "", "k", 0, 1, 1, 0, false, nil}
	n := (size - MaxHeaderSize) / len(mp(rec...))
	vals := []any{arr(9), Version, 3, "u", 7, 10, 12, n, 1, arr(n)}
	for range n {
		vals = append(vals, rec)
	}
	return mp(vals...)
}
