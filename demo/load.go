package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// load writes into one region's store at a steady rate. Every region
// writes the same shared keys, so the same key is often written in two
// regions at once: those are the conflicts the demo resolves. One write in
// ten is a delete and one in twenty expires a few seconds later.
type load struct {
	store   store.Store
	rate    int
	keys    int
	seed    uint64
	written *atomic.Int64
}

// tick is how often the load writes a slice of its rate.
const tick = 10 * time.Millisecond

// writers is how many clients write into each region at once. Every write
// is synced to disk, and concurrent writers share those syncs, as the
// clients of a real regional store would.
const writers = 16

func (l *load) run(ctx context.Context, until time.Time) error {
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() { errs <- l.client(ctx, until, l.seed*writers+uint64(w)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// client writes its share of the rate until the load ends. It keeps count
// of what it owes since it began, so a slow write is made up for on the
// next tick instead of lowering the rate; when the store cannot keep up,
// the demo's "written" says how much it took.
func (l *load) client(ctx context.Context, until time.Time, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	share := float64(l.rate) / writers
	began := time.Now()
	done := 0
	t := time.NewTicker(tick)
	defer t.Stop()

	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if now.After(until) {
				return nil
			}
			owed := int(now.Sub(began).Seconds()*share) - done
			for range owed {
				if time.Now().After(until) {
					return nil
				}
				if err := l.write(ctx, rng, now); err != nil {
					return err
				}
				done++
			}
		}
	}
}

func (l *load) write(ctx context.Context, rng *rand.Rand, now time.Time) error {
	ns := "profiles"
	if rng.IntN(4) == 0 {
		ns = "sessions"
	}
	set := "users"
	key := fmt.Sprintf("user-%d", rng.IntN(l.keys))

	var err error
	switch op := rng.IntN(20); {
	case op < 2:
		_, err = l.store.Delete(ctx, ns, set, key)
	default:
		var bins []byte
		bins, err = record.EncodeBins(map[string]any{
			"visits": rng.Int64N(1 << 30),
			"name":   key,
			"note":   randomText(rng, 200),
			"score":  rng.Float64(),
		})
		if err != nil {
			return err
		}
		expiry := int64(0)
		if op == 2 {
			expiry = now.Unix() + 3
		}
		_, err = l.store.Put(ctx, ns, set, key, bins, expiry)
	}
	if err != nil {
		return fmt.Errorf("write %s/%s/%s: %w", ns, set, key, err)
	}
	l.written.Add(1)
	return nil
}

func randomText(rng *rand.Rand, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz "
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}
