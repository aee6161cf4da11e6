package region_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/xdrd/xdrd/region"
	"github.com/xdrd/xdrd/store/redis/redistest"
)

// TestRedisRegions replicates between two regions whose stores are
// redis-servers, written concurrently on shared keys: both end with the
// same records, and the winners the policies name.
func TestRedisRegions(t *testing.T) {
	names := []string{"eu-west", "us-east"}
	stores := map[string]string{}
	for _, n := range names {
		stores[n] = redistest.Start(t).URL
	}
	c := newClusterOn(t, names, "", region.Tuning{}, stores)
	c.run()

	hist := newHistory()
	var wg sync.WaitGroup
	for i, name := range names {
		w := &writer{store: c.daemon(name).Store(), hist: hist, keys: 30,
			rng: rand.New(rand.NewPCG(uint64(i), 5))}
		wg.Go(func() {
			for range 300 {
				if err := w.one(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	hist.checkWinners(t, c.converge(30*time.Second))
}
