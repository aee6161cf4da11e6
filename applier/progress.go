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

// Snapshot is a copy of a link's progress in one namespace.
type Snapshot struct {
	Applied, RejectedOlder, Duplicate, Conflicts int64
	// Current is the send time of the oldest shard's newest applied frame:
	// every change the source had shipped by then is applied here. Zero
	// until every shard has been heard from.
	Current time.Time
}

// Snapshot copies the progress; shards is the namespace's shard count.
func (p *Progress) Snapshot(shards int) Snapshot {
	s := Snapshot{
		Applied:       p.outcomes[conflict.Applied].Load(),
		RejectedOlder: p.outcomes[conflict.RejectedOlder].Load(),
		Duplicate:     p.outcomes[conflict.Duplicate].Load(),
		Conflicts:     p.conflicts.Load(),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sentAt) < shards {
		return s
	}
	oldest := int64(0)
	for _, t := range p.sentAt {
		if oldest == 0 || t < oldest {
			oldest = t
		}
	}
	s.Current = time.Unix(0, oldest)
	return s
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

// Progress returns a snapshot of the link's progress in namespace ns.
func (a *Applier) Progress(ns string) Snapshot {
	shards := a.cfg.Namespaces[ns].Shards
	return a.progress(ns).Snapshot(shards)
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
