package applier

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// infoEvery is how often the applier asks JetStream how much of the link
// is still waiting, to tell a caught-up link from one that is behind.
const infoEvery = time.Second

// health is what an applier knows about why its link may lag: whether an
// operator paused it, whether the source's JetStream answers, and when the
// store or a frame last failed.
type health struct {
	mu       sync.Mutex
	paused   bool
	changed  chan struct{} // closed and replaced when paused flips
	infoErr  error         // the last consumer info error, nil once it answers
	infoAt   time.Time
	pending  uint64 // frames not yet delivered or not yet acked
	applyErr time.Time
	rejected time.Time
	throttle time.Time

	skew atomic.Int64 // nanoseconds: last heartbeat's send time minus its arrival
}

func newHealth() *health {
	return &health{changed: make(chan struct{})}
}

// setPaused pauses or resumes applying; it reports whether anything changed.
func (h *health) setPaused(p bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.paused == p {
		return false
	}
	h.paused = p
	close(h.changed)
	h.changed = make(chan struct{})
	return true
}

// gate returns whether the link is paused and a channel closed at the next
// change.
func (h *health) gate() (bool, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.paused, h.changed
}

func (h *health) mark(at *time.Time, now time.Time) {
	h.mu.Lock()
	*at = now
	h.mu.Unlock()
}

// watch asks the consumer for its pending count every second until ctx
// ends.
func (h *health) watch(ctx context.Context, cons jetstream.Consumer, now func() time.Time) {
	t := time.NewTicker(infoEvery)
	defer t.Stop()
	for {
		info, err := func() (*jetstream.ConsumerInfo, error) {
			ctx, cancel := context.WithTimeout(ctx, infoEvery)
			defer cancel()
			return cons.Info(ctx)
		}()
		h.mu.Lock()
		h.infoErr, h.infoAt = err, now()
		if err == nil {
			h.pending = info.NumPending + uint64(info.NumAckPending)
		}
		h.mu.Unlock()

		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// caughtUp reports whether JetStream said, within the last few seconds,
// that nothing of the link waits.
func (h *health) caughtUp(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.infoErr == nil && !h.infoAt.IsZero() &&
		now.Sub(h.infoAt) < 3*infoEvery && h.pending == 0
}

// Causes of lag, as /v1/status and the alert logs name them.
const (
	CausePaused      = "link paused"
	CauseSource      = "source nats unreachable"
	CauseStore       = "destination store failing"
	CauseRejected    = "frames rejected"
	CauseThrottled   = "throttled"
	CauseCatchingUp  = "catching up"
	causeRecentStore = 5 * time.Second
	causeRecentFrame = time.Minute
)

// cause names the likeliest reason the link lags, or "" when nothing is
// wrong that the applier can see.
func (h *health) cause(now time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.paused:
		return CausePaused
	case h.infoErr != nil:
		return CauseSource
	case now.Sub(h.applyErr) < causeRecentStore:
		return CauseStore
	case now.Sub(h.throttle) < causeRecentStore:
		return CauseThrottled
	case now.Sub(h.rejected) < causeRecentFrame:
		return CauseRejected
	case h.pending > 0:
		return CauseCatchingUp
	}
	return ""
}
