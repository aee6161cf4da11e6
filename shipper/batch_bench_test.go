package shipper

import (
	"fmt"
	"testing"

	"github.com/xdrd/xdrd/frame"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// BenchmarkBatch measures the shipper's per-record work between the change
// log and the wire: adding changes to a shard's batch (with its coalescing
// index) and encoding the batch as a frame.
func BenchmarkBatch(b *testing.B) {
	const n = 512
	bins, err := record.EncodeBins(map[string]any{"v": make([]byte, 300)})
	if err != nil {
		b.Fatal(err)
	}
	changes := make([]store.Change, n)
	for i := range changes {
		changes[i] = store.Change{Seq: store.Cursor(i + 1), Version: record.Version{
			Namespace: "ns", Set: "s", Key: fmt.Sprintf("key-%06d", i), Bins: bins,
			Meta: record.Meta{Generation: 1, LUT: record.LUT(i + 1), Origin: 1},
		}}
	}
	bt := newBatch()
	buf := make([]byte, 0, 1<<20)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := range changes {
			bt.add(&changes[i])
		}
		f := frame.Frame{Header: frame.Header{Source: 1, Namespace: "ns", First: 1, Last: n,
			Count: len(bt.records), SentAt: 1}, Records: bt.records}
		if buf, err = frame.Append(buf[:0], &f); err != nil {
			b.Fatal(err)
		}
		bt.reset()
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}
