package redis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// TestLocalPutRacesApply races applications writing with FCALL xdrd_put
// and xdrd_del against the driver applying remote versions of the same
// keys. Every key must end with the policy's maximum of all versions
// written locally (read back from the change log) or offered to Apply.
func TestLocalPutRacesApply(t *testing.T) {
	for _, p := range []conflict.Policy{conflict.Generation, conflict.Timestamp} {
		t.Run(p.String(), func(t *testing.T) { testLocalPutRacesApply(t, p) })
	}
}

func testLocalPutRacesApply(t *testing.T, p conflict.Policy) {
	srv := startServer(t)
	rdb := srv.client(t)
	s := srv.open(t, 1, Options{})
	ctx := context.Background()
	const (
		ns    = "race"
		ops   = 200
		tasks = 3
	)
	keys := []string{"a", "b", "c"}
	base := record.LUT(time.Now().UnixNano())

	var (
		mu      sync.Mutex
		offered []record.Version
		wg      sync.WaitGroup
	)
	for w := range tasks {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(1, uint64(w)))
			for i := range ops {
				addr := ns + ":s:" + keys[rng.IntN(len(keys))]
				fn, args := "xdrd_put", []any{"w", fmt.Sprint(w, "/", i)}
				if rng.IntN(5) == 0 {
					fn, args = "xdrd_del", nil
				}
				if err := rdb.FCall(ctx, fn, []string{addr}, args...).Err(); err != nil {
					t.Errorf("%s %s: %v", fn, addr, err)
					return
				}
			}
		})
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(2, uint64(w)))
			for range ops / 4 {
				batch := make([]record.Version, 1+rng.IntN(4))
				for j := range batch {
					batch[j] = record.Version{
						Namespace: ns, Set: "s", Key: keys[rng.IntN(len(keys))],
						Meta: record.Meta{
							Generation: record.Generation(1 + rng.IntN(ops/2)),
							// Spread around the local writes' LUTs, so that
							// remote versions both win and lose.
							LUT:    base + record.LUT(rng.IntN(int(200*time.Millisecond))),
							Origin: record.RegionID(2 + w),
						},
						Bins: fmt.Appendf(nil, "remote %d", j),
					}
				}
				if _, err := s.Apply(ctx, p, batch); err != nil {
					t.Errorf("apply: %v", err)
					return
				}
				mu.Lock()
				offered = append(offered, batch...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	changes, err := s.Tail(ctx, ns, 1, 100_000, 0)
	if err != nil {
		t.Fatalf("tail: %v", err)
	}
	best := map[string]record.Version{}
	consider := func(v record.Version) {
		if cur, ok := best[v.Key]; !ok || conflict.Compare(p, v.Meta, cur.Meta) > 0 {
			best[v.Key] = v
		}
	}
	for _, c := range changes {
		consider(c.Version)
	}
	for _, v := range offered {
		consider(v)
	}
	for _, key := range keys {
		got, found, err := s.Get(ctx, ns, "s", key)
		if err != nil || !found {
			t.Fatalf("get %s: found %v, err %v", key, found, err)
		}
		if got.Meta != best[key].Meta || string(got.Bins) != string(best[key].Bins) {
			t.Errorf("key %s ends with %+v, want the maximum %+v", key, got.Meta, best[key].Meta)
		}
	}
	checkSeqs(t, changes)
}

// checkSeqs checks that a change log read from 1 has no gaps.
func checkSeqs(t *testing.T, changes []store.Change) {
	t.Helper()
	for i, c := range changes {
		if c.Seq != store.Cursor(i+1) {
			t.Fatalf("change %d has seq %d", i+1, c.Seq)
		}
	}
}
