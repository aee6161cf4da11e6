package embedded

import (
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/store/storetest"
)

func openBench(b *testing.B) *Store {
	s, err := Open(b.TempDir(), 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func BenchmarkPut(b *testing.B) { storetest.BenchPut(b, openBench(b)) }

func BenchmarkPutParallel(b *testing.B) { storetest.BenchPutParallel(b, openBench(b)) }

func BenchmarkApply(b *testing.B) { storetest.BenchApply(b, openBench(b)) }

// BenchmarkRawPebble writes what BenchmarkApply writes — each version's
// record and change-log entry, same keys, same encoding, batches of
// storetest.BenchBatchSize, one synced commit each — with plain Pebble
// batches and no reads, no conflict resolution, no bookkeeping. The
// driver's records/s over this one is its efficiency.
func BenchmarkRawPebble(b *testing.B) {
	var o Options
	if err := o.fill(); err != nil {
		b.Fatal(err)
	}
	db, fsCloser, err := openPebble(b.TempDir(), o.CacheSize, o.MemTableSize)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = db.Close()
		_ = fsCloser.Close()
	}()

	batch := make([]record.Version, storetest.BenchBatchSize)
	var key, val []byte
	seq := store.Cursor(1)
	round := 0
	b.ReportAllocs()
	for b.Loop() {
		storetest.BenchBatch(round, batch)
		pb := db.NewBatch()
		for i := range batch {
			v := &batch[i]
			val = appendValue(val[:0], v)
			key = recordKey(key[:0], v.Namespace, record.Partition(v.Set, v.Key), v.Set, v.Key)
			_ = pb.Set(key, val, nil)
			key = logKey(key[:0], v.Namespace, seq)
			_ = pb.Set(key, val, nil)
			seq++
		}
		if err := pb.Commit(pebble.Sync); err != nil {
			b.Fatal(err)
		}
		_ = pb.Close()
		round++
	}
	b.ReportMetric(float64(round*len(batch))/b.Elapsed().Seconds(), "records/s")
}
