package applier

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/frame"
)

// Progress is how far one namespace of a link has been applied: counts of
// outcomes and, per shard, the send time of the newest applied frame. Frames
// of a shard are applied in order and every idle shard sends heartbeats, so
// the oldest of those send times says how current the link is.
type Progress struct {
	outcomes  [conflict.NumOutcomes]atomic.Int64
	conflicts atomic.Int64

	mu     sync.Mutex
	sentAt map[int]int64 // shard → unix nanoseconds
}

func (p *Progress) observe(f *frame.Frame) {
	p.mu.Lock()
	if f.SentAt > p.sentAt[f.Shard] {
		p.sentAt[f.Shard] = f.SentAt
	}
	p.mu.Unlock()
}

// Snapshot is a link's state in one namespace.
type Snapshot struct {
	Namespace                                    string
	Applied, RejectedOlder, Duplicate, Conflicts int64
	// Lag is the age of the oldest change not applied here, as well as the
	// destination can tell: how long ago the shard heard from last sent its
	// newest applied frame, less one heartbeat interval when JetStream says
	// nothing more waits. About 0 on a current link, rising one second per
	// second on a stalled one, written or not.
	Lag time.Duration
	// Cause names why the link lags, or is empty.
	Cause string
}

// lag computes the namespace's lag at now. A shard not heard from yet
// counts from when the applier started, so a link that never delivers
// shows lag too.
func (p *Progress) lag(shards int, now, started time.Time, slack time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	worst := time.Duration(0)
	for shard := range shards {
		ref := started
		if t, ok := p.sentAt[shard]; ok {
			ref = time.Unix(0, t)
		}
		worst = max(worst, now.Sub(ref)-slack)
	}
	return worst
}

// progress returns the namespace's progress, creating it on first use.
func (a *Applier) progress(ns string) *Progress {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.links[ns]
	if !ok {
		p = &Progress{sentAt: make(map[int]int64)}
		a.links[ns] = p
	}
	return p
}

// Progress returns the link's state in namespace ns now.
func (a *Applier) Progress(ns string) Snapshot {
	now := a.now()
	p := a.progress(ns)
	s := Snapshot{
		Namespace:     ns,
		Applied:       p.outcomes[conflict.Applied].Load(),
		RejectedOlder: p.outcomes[conflict.RejectedOlder].Load(),
		Duplicate:     p.outcomes[conflict.Duplicate].Load(),
		Conflicts:     p.conflicts.Load(),
	}
	slack := time.Duration(0)
	if a.health.caughtUp(now) && !a.Paused() {
		slack = a.cfg.Heartbeat
	}
	s.Lag = p.lag(a.cfg.Namespaces[ns].Shards, now, a.started, slack)
	s.Cause = a.health.cause(now)
	if s.Lag < time.Second && s.Cause == CauseCatchingUp {
		s.Cause = ""
	}
	return s
}

// Report computes every namespace's state, sets the link's gauges and
// returns the states; the daemon calls it about once a second.
func (a *Applier) Report() []Snapshot {
	snaps := make([]Snapshot, 0, len(a.cfg.Namespaces))
	for _, ns := range a.Namespaces() {
		s := a.Progress(ns)
		a.metrics.lag.WithLabelValues(ns, a.cfg.Source).Set(s.Lag.Seconds())
		snaps = append(snaps, s)
	}
	a.metrics.skew.WithLabelValues(a.cfg.Source).Set(float64(a.health.skew.Load()) / 1e9)
	paused := 0.0
	if a.Paused() {
		paused = 1
	}
	a.metrics.paused.WithLabelValues(a.cfg.Source).Set(paused)
	return snaps
}

// Forget removes the link's gauges, for an applier that stops because
// another member of the region applies the link now: that member reports
// them from then on.
func (a *Applier) Forget() {
	for _, ns := range a.Namespaces() {
		a.metrics.lag.DeleteLabelValues(ns, a.cfg.Source)
	}
	a.metrics.skew.DeleteLabelValues(a.cfg.Source)
	a.metrics.paused.DeleteLabelValues(a.cfg.Source)
}

// Namespaces lists the namespaces this link carries, sorted.
func (a *Applier) Namespaces() []string {
	names := make([]string, 0, len(a.cfg.Namespaces))
	for ns := range a.cfg.Namespaces {
		names = append(names, ns)
	}
	slices.Sort(names)
	return names
}
