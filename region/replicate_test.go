package region_test

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
	"github.com/xdrd/xdrd/verify"
)

// history keeps every version written anywhere, by namespace/set/key, so a
// test can name the version the policy must make win.
type history struct {
	mu       sync.Mutex
	versions map[string][]record.Version
}

func newHistory() *history {
	return &history{versions: make(map[string][]record.Version)}
}

func (h *history) add(v record.Version) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := v.Namespace + "/" + v.Set + "/" + v.Key
	h.versions[id] = append(h.versions[id], v)
}

// policies are the conflict policies of the namespaces in namespacesYAML.
var policies = map[string]conflict.Policy{
	"profiles": conflict.Generation,
	"sessions": conflict.Timestamp,
}

// checkWinners asserts that every key written holds, in the converged
// snapshot, the maximum of its versions by its namespace's policy.
func (h *history) checkWinners(t *testing.T, snap verify.Snapshot) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, vs := range h.versions {
		p := policies[vs[0].Namespace]
		best := vs[0]
		for _, v := range vs[1:] {
			if conflict.Compare(p, v.Meta, best.Meta) > 0 {
				best = v
			}
		}
		got, ok := snap[id]
		if !ok {
			t.Errorf("%s: missing everywhere; policy %s names generation %d origin %d",
				id, p, best.Generation, best.Origin)
			continue
		}
		if !verify.Same(got, best) {
			t.Errorf("%s: holds generation %d lut %d origin %d; policy %s names "+
				"generation %d lut %d origin %d", id, got.Generation, got.LUT, got.Origin,
				p, best.Generation, best.LUT, best.Origin)
		}
	}
}

// writer writes random puts, deletes and expiring puts to shared keys.
type writer struct {
	store store.Store
	hist  *history
	rng   *rand.Rand
	keys  int
}

func (w *writer) one(ctx context.Context) error {
	ns := "profiles"
	if w.rng.IntN(3) == 0 {
		ns = "sessions"
	}
	key := fmt.Sprintf("k%d", w.rng.IntN(w.keys))
	var (
		v   record.Version
		err error
	)
	switch op := w.rng.IntN(10); {
	case op == 0:
		v, err = w.store.Delete(ctx, ns, "s", key)
	default:
		bins, berr := record.EncodeBins(map[string]any{"n": w.rng.Int64(), "op": op})
		if berr != nil {
			return berr
		}
		expiry := int64(0)
		if op == 1 {
			expiry = time.Now().Unix() + 1
		}
		v, err = w.store.Put(ctx, ns, "s", key, bins, expiry)
	}
	if err != nil {
		return fmt.Errorf("write %s/%s: %w", ns, key, err)
	}
	w.hist.add(v)
	return nil
}

func TestActiveActive(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprintf("%d-regions", n), func(t *testing.T) {
			names := []string{"eu-west", "us-east", "ap-south"}[:n]
			c := newCluster(t, names, "")
			hist := newHistory()
			ctx := context.Background()

			// Before replication runs, every region writes the same keys:
			// generation 1 from each origin, concurrent by construction.
			for _, name := range names {
				for k := range 10 {
					bins, _ := record.EncodeBins(map[string]any{"by": name})
					v, err := c.daemon(name).Store().Put(ctx, "profiles", "s",
						fmt.Sprintf("seed%d", k), bins, 0)
					if err != nil {
						t.Fatal(err)
					}
					hist.add(v)
				}
			}
			c.run()

			var wg sync.WaitGroup
			for i, name := range names {
				w := &writer{store: c.daemon(name).Store(), hist: hist, keys: 40,
					rng: rand.New(rand.NewPCG(uint64(i), 7))}
				wg.Go(func() {
					for range 400 {
						if err := w.one(ctx); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()

			snap := c.converge(30 * time.Second)
			hist.checkWinners(t, snap)
			for _, name := range names {
				// Stores agree as soon as the winners have arrived; the
				// losers may still be on their way to the appliers.
				eventually(t, 10*time.Second, name+" to decide the seeded conflicts", func() string {
					if n := c.counter(name, "xdrd_conflicts_total", nil); n < 10 {
						return fmt.Sprintf("%v conflicts; the seeded keys alone make 10", n)
					}
					return ""
				})
			}
		})
	}
}
