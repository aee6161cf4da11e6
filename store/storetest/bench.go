package storetest

import (
	"fmt"
	"testing"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// Shape of the benchmark load, the record size of DESIGN.md §9.
const (
	// BenchBatchSize is how many versions one benchmarked Apply carries.
	BenchBatchSize = 256
	// BenchNamespace is the namespace the benchmarks write.
	BenchNamespace = "bench"
	// benchKeys bounds the key space, so stores stay small however long a
	// benchmark runs and every key is overwritten many times.
	benchKeys = 1 << 16
	// benchTrimEvery trims the change log as a shipper would, so memory
	// drivers do not grow without bound under long runs.
	benchTrimEvery = 1 << 16
)

var (
	benchKeyNames = func() []string {
		keys := make([]string, benchKeys)
		for i := range keys {
			keys[i] = fmt.Sprintf("device-%08d", i)
		}
		return keys
	}()
	benchBins = func() []byte {
		payload := make([]byte, 270)
		for i := range payload {
			payload[i] = byte('a' + i%26)
		}
		b, err := record.EncodeBins(map[string]any{"payload": payload, "count": 1})
		if err != nil {
			panic(err)
		}
		return b
	}()
)

// BenchBins returns the bins every benchmark writes: about 300 bytes.
func BenchBins() []byte { return benchBins }

// BenchBatch fills batch with the remote versions of round: one version per
// key, origin 2, generations and LUTs that grow with the round, so every
// version of every round wins and is written.
func BenchBatch(round int, batch []record.Version) {
	for j := range batch {
		i := round*len(batch) + j
		batch[j] = record.Version{
			Namespace: BenchNamespace,
			Set:       "devices",
			Key:       benchKeyNames[i%benchKeys],
			Meta: record.Meta{
				Generation: record.Generation(1 + i/benchKeys),
				LUT:        record.LUT(1_900_000_000_000_000_000 + int64(i)),
				Origin:     2,
			},
			Bins: benchBins,
		}
	}
}

// BenchPut measures local writes of BenchBins, one record per op, and
// reports records/s.
func BenchPut(b *testing.B, s store.Store) {
	ctx := b.Context()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		key := benchKeyNames[n%benchKeys]
		if _, err := s.Put(ctx, BenchNamespace, "devices", key, benchBins, 0); err != nil {
			b.Fatalf("put: %v", err)
		}
		n++
		if n%benchTrimEvery == 0 {
			benchTrim(b, s)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchPutParallel measures local writes from many goroutines at once,
// where a durable driver can share one sync among concurrent writers.
func BenchPutParallel(b *testing.B, s store.Store) {
	ctx := b.Context()
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			key := benchKeyNames[n%benchKeys]
			if _, err := s.Put(ctx, BenchNamespace, "devices", key, benchBins, 0); err != nil {
				b.Errorf("put: %v", err)
				return
			}
			n++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchApply measures Apply of batches of BenchBatchSize remote versions,
// one batch per op, and reports records/s.
func BenchApply(b *testing.B, s store.Store) {
	ctx := b.Context()
	batch := make([]record.Version, BenchBatchSize)
	b.ReportAllocs()
	round := 0
	for b.Loop() {
		BenchBatch(round, batch)
		res, err := s.Apply(ctx, conflict.Generation, batch)
		if err != nil {
			b.Fatalf("apply: %v", err)
		}
		for i, r := range res {
			if r.Outcome != conflict.Applied {
				b.Fatalf("version %d of round %d: %v, want applied", i, round, r.Outcome)
			}
		}
		round++
		if round*BenchBatchSize%benchTrimEvery == 0 {
			benchTrim(b, s)
		}
	}
	b.ReportMetric(float64(round*BenchBatchSize)/b.Elapsed().Seconds(), "records/s")
}

func benchTrim(b *testing.B, s store.Store) {
	last, err := s.Last(b.Context(), BenchNamespace)
	if err == nil {
		err = s.Trim(b.Context(), BenchNamespace, last)
	}
	if err != nil {
		b.Fatalf("trim: %v", err)
	}
}
