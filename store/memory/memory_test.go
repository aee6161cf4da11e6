package memory

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestConformance(t *testing.T) {
	open := func(t *testing.T, region record.RegionID, clock *record.Clock) store.Store {
		return New(region, clock)
	}
	storetest.Run(t, open, nil)
}

func newBenchStore(b *testing.B) *Store {
	s := New(1, record.NewClock(nil))
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func BenchmarkPut(b *testing.B) { storetest.BenchPut(b, newBenchStore(b)) }

func BenchmarkPutParallel(b *testing.B) { storetest.BenchPutParallel(b, newBenchStore(b)) }

func BenchmarkApply(b *testing.B) { storetest.BenchApply(b, newBenchStore(b)) }
