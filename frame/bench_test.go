package frame

import (
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// The benchmarks use the batch a busy shipper sends: 256 records with
// 300-byte bins.
const (
	benchRecords = 256
	benchBins    = 300
)

func reportRecords(b *testing.B) {
	b.ReportMetric(float64(b.N*benchRecords)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkEncode(b *testing.B) {
	f := batch(benchRecords, benchBins)
	buf, err := Append(nil, f)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = Append(buf[:0], f); err != nil {
			b.Fatal(err)
		}
	}
	reportRecords(b)
}

func BenchmarkDecode(b *testing.B) {
	data := encode(b, batch(benchRecords, benchBins))

	b.Run("new", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(data, 0); err != nil {
				b.Fatal(err)
			}
		}
		reportRecords(b)
	})
	b.Run("shared", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeShared(data, 0); err != nil {
				b.Fatal(err)
			}
		}
		reportRecords(b)
	})
	b.Run("into", func(b *testing.B) {
		var f Frame
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if err := DecodeInto(&f, data, 0); err != nil {
				b.Fatal(err)
			}
		}
		reportRecords(b)
	})
}

// plainRecord is the record as a reflection-based encoder would see it,
// the baseline the hand-written codec is measured against.
type plainRecord struct {
	Set        string
	Key        string
	Generation uint64
	LUT        int64
	Origin     uint8
	Expiry     int64
	Tombstone  bool
	Bins       []byte
}

func BenchmarkReflectMsgpack(b *testing.B) {
	f := batch(benchRecords, benchBins)
	plain := make([]plainRecord, len(f.Records))
	for i, v := range f.Records {
		plain[i] = plainRecord{v.Set, v.Key, uint64(v.Generation), int64(v.LUT),
			uint8(v.Origin), v.Expiry, v.Tombstone, v.Bins}
	}
	data, err := msgpack.Marshal(plain)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := msgpack.Marshal(plain); err != nil {
				b.Fatal(err)
			}
		}
		reportRecords(b)
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var out []plainRecord
			if err := msgpack.Unmarshal(data, &out); err != nil {
				b.Fatal(err)
			}
		}
		reportRecords(b)
	})
	b.Run("both", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			enc, err := msgpack.Marshal(plain)
			if err != nil {
				b.Fatal(err)
			}
			var out []plainRecord
			if err := msgpack.Unmarshal(enc, &out); err != nil {
				b.Fatal(err)
			}
		}
		reportRecords(b)
	})
}
