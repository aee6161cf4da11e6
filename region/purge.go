package region

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/topology"
)

// purgeEvery bounds how often tombstones are purged; a horizon shorter
// than ten times this is purged every tenth of it.
const purgeEvery = time.Hour

// purger removes tombstones and expired versions once they are older than
// their namespace's horizon. Until then they stop a late, older write from
// resurrecting the record; after it, such a write would win again, which
// is the price of not keeping deletes forever.
type purger struct {
	d      *Daemon
	purged *prometheus.CounterVec
}

func newPurger(d *Daemon) *purger {
	p := &purger{d: d, purged: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xdrd_versions_purged_total",
		Help: "Tombstones and expired versions removed after their namespace's horizon.",
	}, []string{"namespace"})}
	d.reg.MustRegister(p.purged)
	return p
}

// run purges every namespace of t until ctx ends.
func (p *purger) run(ctx context.Context, t *topology.Topology) {
	every := purgeEvery
	for _, ns := range t.Namespaces {
		every = min(every, ns.TombstoneHorizon.Std()/10)
	}
	every = max(every, time.Second)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		p.once(ctx, t)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (p *purger) once(ctx context.Context, t *topology.Topology) {
	for _, ns := range t.Namespaces {
		before := p.d.clock.Wall().Add(-ns.TombstoneHorizon.Std())
		n, err := p.d.store.Purge(ctx, ns.Name, before)
		if err != nil {
			if ctx.Err() == nil {
				p.d.log.Warn("purge tombstones", zap.String("namespace", ns.Name), zap.Error(err))
			}
			continue
		}
		if n > 0 {
			p.purged.WithLabelValues(ns.Name).Add(float64(n))
			p.d.log.Debug("tombstones purged", zap.String("namespace", ns.Name),
				zap.Int("count", n))
		}
	}
}
