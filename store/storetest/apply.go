package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// testApply checks the outcomes of conditional apply under policy p, what
// applied versions keep, and that only applied versions reach the log.
func testApply(t *testing.T, h *harness, p conflict.Policy) {
	var logged []record.Version
	first := remote(remoteA, testNS, "k", 5, lut(1000))

	res := h.apply(p, first)
	checkResult(t, "first apply", res[0], conflict.Applied, nil)
	got, _ := h.get(testNS, "k")
	h.same("applied version", got, first)
	logged = append(logged, first)

	res = h.apply(p, first)
	checkResult(t, "apply again", res[0], conflict.Duplicate, &first.Meta)

	// One rival is ahead only by generation, the other only by LUT: the
	// policy decides which of them wins over first.
	byGen := remote(remoteB, testNS, "k", 6, lut(500))
	byLUT := remote(remoteB, testNS, "k", 4, lut(2000))
	loser, winner := byLUT, byGen
	if p == conflict.Timestamp {
		loser, winner = byGen, byLUT
	}
	res = h.apply(p, loser)
	checkResult(t, "apply the policy's loser", res[0], conflict.RejectedOlder, &first.Meta)
	res = h.apply(p, winner)
	checkResult(t, "apply the policy's winner", res[0], conflict.Applied, &first.Meta)
	logged = append(logged, winner)

	// Equal generation and LUT: the higher origin wins.
	lower := winner
	lower.Origin = remoteA
	lower.Bins = binsFor(lower.Meta)
	higher := winner
	higher.Origin = remoteC
	higher.Bins = binsFor(higher.Meta)
	res = h.apply(p, lower, higher)
	checkResult(t, "apply a lower origin", res[0], conflict.RejectedOlder, &winner.Meta)
	checkResult(t, "apply a higher origin", res[1], conflict.Applied, &winner.Meta)
	logged = append(logged, higher)
	got, _ = h.get(testNS, "k")
	h.same("after origin tie-break", got, higher)

	// A remote delete applies like any version.
	tomb := remoteTombstone(remoteA, testNS, "k", higher.Generation+1, higher.LUT+1)
	res = h.apply(p, tomb)
	checkResult(t, "apply a tombstone", res[0], conflict.Applied, &higher.Meta)
	logged = append(logged, tomb)
	got, found := h.get(testNS, "k")
	if !found || !got.Tombstone {
		t.Errorf("get after a remote delete: found %v tombstone %v", found, got.Tombstone)
	}

	// A local write goes on from the applied version, in this region.
	mine := h.put(testNS, "k", bins(t, 1))
	if mine.Generation != tomb.Generation+1 || mine.Origin != local || mine.LUT <= tomb.LUT {
		t.Errorf("put after apply: %+v, want generation %d, origin %d, LUT after %d",
			mine.Meta, tomb.Generation+1, local, tomb.LUT)
	}
	logged = append(logged, mine)

	// The clock observes applied LUTs, even ones far ahead of the wall.
	future := remote(remoteB, testNS, "future", 1, lut(time.Hour))
	h.apply(p, future)
	logged = append(logged, future)
	after := h.put(testNS, "elsewhere", bins(t, 2))
	if after.LUT <= future.LUT {
		t.Errorf("put after applying LUT %d got LUT %d: the clock did not observe it",
			future.LUT, after.LUT)
	}
	logged = append(logged, after)

	h.checkLog(testNS, 1, logged)
}

// testApplyBatch checks that versions of one key inside one batch are
// resolved in order, each against the outcome of the one before.
func testApplyBatch(t *testing.T, h *harness) {
	g1 := remote(remoteA, testNS, "k", 1, lut(1))
	g3 := remote(remoteB, testNS, "k", 3, lut(3))
	g2 := remote(remoteA, testNS, "k", 2, lut(2))
	other := remote(remoteA, testNS, "other", 1, lut(1))

	res := h.apply(conflict.Generation, g1, g3, other, g2, g3)
	checkResult(t, "g1", res[0], conflict.Applied, nil)
	checkResult(t, "g3", res[1], conflict.Applied, &g1.Meta)
	checkResult(t, "other", res[2], conflict.Applied, nil)
	checkResult(t, "g2", res[3], conflict.RejectedOlder, &g3.Meta)
	checkResult(t, "g3 again", res[4], conflict.Duplicate, &g3.Meta)

	got, _ := h.get(testNS, "k")
	h.same("after batch", got, g3)
	h.checkLog(testNS, 1, []record.Version{g1, g3, other})

	if res, err := h.s.Apply(h.ctx, conflict.Generation, nil); err != nil || len(res) != 0 {
		t.Errorf("apply of an empty batch: %d results, err %v", len(res), err)
	}
}

func checkResult(t *testing.T, what string, r store.Result, want conflict.Outcome,
	prev *record.Meta) {
	t.Helper()
	if r.Outcome != want {
		t.Errorf("%s: outcome %v, want %v", what, r.Outcome, want)
	}
	switch {
	case prev == nil && r.HadPrevious:
		t.Errorf("%s: previous %+v, want none", what, r.Previous)
	case prev != nil && !r.HadPrevious:
		t.Errorf("%s: no previous, want %+v", what, *prev)
	case prev != nil && r.Previous != *prev:
		t.Errorf("%s: previous %+v, want %+v", what, r.Previous, *prev)
	}
}

// testConcurrent races local writers and appliers of remote versions on a
// few keys. Each key must end with the greatest version ever written to it
// or applied to it, and the change log must order each key's changes as
// the record saw them: its last change for a key is the stored version.
func testConcurrent(t *testing.T, h *harness, p conflict.Policy) {
	const (
		writers = 3
		ops     = 60
	)
	keys := []string{"a", "b", "c", "d"}
	base := h.clock.Now()

	var (
		mu      sync.Mutex
		written = map[string][]record.Version{}
		logged  int
		wg      sync.WaitGroup
	)
	track := func(vs []record.Version, n int) {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range vs {
			written[v.Key] = append(written[v.Key], v)
		}
		logged += n
	}

	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(1, uint64(w)))
			for range ops {
				key := keys[rng.IntN(len(keys))]
				v, err := h.s.Put(h.ctx, testNS, testSet, key, fmt.Appendf(nil, "w%d", w), 0)
				if err != nil {
					t.Errorf("put: %v", err)
					return
				}
				track([]record.Version{v}, 1)
			}
		})
		origin := remoteA + record.RegionID(w)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(2, uint64(w)))
			for range ops / 2 {
				batch := make([]record.Version, 1+rng.IntN(3))
				for i := range batch {
					gen := record.Generation(1 + rng.IntN(ops/2))
					l := base + record.LUT(rng.IntN(4*ops))
					batch[i] = remote(origin, testNS, keys[rng.IntN(len(keys))], gen, l)
				}
				res, err := h.s.Apply(h.ctx, p, batch)
				if err != nil {
					t.Errorf("apply: %v", err)
					return
				}
				applied := 0
				for _, r := range res {
					if r.Outcome == conflict.Applied {
						applied++
					}
				}
				track(batch, applied)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	changes := h.tail(testNS, 1, logged+10)
	if len(changes) != logged {
		t.Fatalf("change log holds %d changes, want %d (puts and applied versions)",
			len(changes), logged)
	}
	lastChange := map[string]record.Version{}
	for i, c := range changes {
		if c.Seq != store.Cursor(i+1) {
			t.Fatalf("change %d has seq %d", i+1, c.Seq)
		}
		lastChange[c.Key] = c.Version
	}
	for _, key := range keys {
		vs := written[key]
		if len(vs) == 0 {
			continue
		}
		best := vs[0]
		for _, v := range vs[1:] {
			if conflict.Compare(p, v.Meta, best.Meta) > 0 {
				best = v
			}
		}
		got, _ := h.get(testNS, key)
		h.same("key "+key, got, best)
		h.same("last change of key "+key, lastChange[key], best)
	}
}
