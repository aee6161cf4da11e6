package redis

import (
	"fmt"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/store/storetest"
)

// opened remembers how a store of the suite was opened, so that reopen
// connects to the same server as the same region.
type opened struct {
	url    string
	region record.RegionID
	clock  *record.Clock
}

// TestConformance runs the suite every driver passes, each subtest on a
// redis-server of its own; reopen connects again to the same server.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	stores := map[store.Store]opened{}
	openOn := func(t *testing.T, o opened) store.Store {
		s, err := OpenOptions(o.url, o.region, Options{Clock: o.clock})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		mu.Lock()
		stores[s] = o
		mu.Unlock()
		return s
	}
	storetest.Run(t,
		func(t *testing.T, region record.RegionID, clock *record.Clock) store.Store {
			return openOn(t, opened{url: startServer(t).url, region: region, clock: clock})
		},
		func(t *testing.T, old store.Store) store.Store {
			mu.Lock()
			o := stores[old]
			mu.Unlock()
			if err := old.Close(); err != nil {
				t.Fatalf("close before reopen: %v", err)
			}
			return openOn(t, o)
		})
}

// BenchmarkApply measures the driver's Apply; BenchmarkRawFCall the same
// pipelined FCALL xdrd_apply calls without the driver around them, on the
// same kind of server, so the driver's cost is a ratio.
func BenchmarkApply(b *testing.B) {
	s := startServer(b).open(b, 2, Options{})
	storetest.BenchApply(b, s)
}

func BenchmarkRawFCall(b *testing.B) {
	srv := startServer(b)
	srv.open(b, 2, Options{}) // loads the library
	rdb := srv.client(b)
	ctx := b.Context()
	batch := make([]record.Version, storetest.BenchBatchSize)
	round := 0
	for b.Loop() {
		storetest.BenchBatch(round, batch)
		_, err := rdb.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
			for i := range batch {
				v := &batch[i]
				key := fmt.Sprintf("%s:%s:%s", v.Namespace, v.Set, v.Key)
				pipe.FCall(ctx, "xdrd_apply", []string{key}, applyArgs("g", v)...)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		round++
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "records/s")
}
