package bench

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// maxSamples bounds the latencies kept: 10M samples of 4 bytes.
const maxSamples = 10_000_000

// recorder keeps the replication latency of every applied record, in
// microseconds, and counts them. Keeping every sample makes the quantiles
// exact instead of bucketed.
type recorder struct {
	applied atomic.Int64
	mu      sync.Mutex
	samples []uint32
	// at, when kept, holds when each sample's record was applied, in
	// milliseconds from origin: what writeWindows splits a run by.
	at     []uint32
	keepAt bool
	origin time.Time
}

// newRecorder returns a recorder that keeps when each record was applied
// too if keepAt is set, for another 4 bytes a sample.
func newRecorder(keepAt bool) *recorder {
	return &recorder{keepAt: keepAt, origin: time.Now()}
}

func (r *recorder) add(now int64, vs []record.Version, res []store.Result) {
	n := 0
	r.mu.Lock()
	for i := range res {
		if res[i].Outcome != conflict.Applied {
			continue
		}
		n++
		if len(r.samples) < maxSamples {
			us := max(0, (now-int64(vs[i].LUT))/1e3)
			r.samples = append(r.samples, uint32(min(us, 1<<32-1)))
			if r.keepAt {
				ms := max(0, (now-r.origin.UnixNano())/1e6)
				r.at = append(r.at, uint32(min(ms, 1<<32-1)))
			}
		}
	}
	r.mu.Unlock()
	r.applied.Add(int64(n))
}

// quantiles returns the latency at each q (0..1), in milliseconds.
func (r *recorder) quantiles(qs ...float64) []float64 {
	r.mu.Lock()
	s := slices.Clone(r.samples)
	r.mu.Unlock()
	slices.Sort(s)
	out := make([]float64, len(qs))
	if len(s) == 0 {
		return out
	}
	for i, q := range qs {
		out[i] = quantileMS(s, q)
	}
	return out
}

// quantileMS returns the sample at q (0..1) of sorted, a non-empty slice
// of microseconds, in milliseconds.
func quantileMS(sorted []uint32, q float64) float64 {
	return float64(sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]) / 1e3
}

// timedStore is the destination's store, recording the latency of every
// version it applies: from the version's last-update time at the source to
// the moment the store made it durable here. Both regions run in this
// process, so they share one clock.
type timedStore struct {
	store.Store
	rec *recorder
}

func (s *timedStore) Apply(ctx context.Context, p conflict.Policy,
	vs []record.Version) ([]store.Result, error) {
	res, err := s.Store.Apply(ctx, p, vs)
	if err == nil {
		s.rec.add(time.Now().UnixNano(), vs, res)
	}
	return res, err
}
