package region

import (
	"context"
	"errors"
	"maps"
	"math"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/topology"
)

// backlogKey names an outgoing link in one namespace.
type backlogKey struct{ namespace, destination string }

func newBacklogGauge(reg prometheus.Registerer, source string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name:        "xdrd_backlog_records",
		Help:        "Changes written here that the destination has not applied yet.",
		ConstLabels: prometheus.Labels{"source": source},
	}, []string{"namespace", "destination"})
	reg.MustRegister(g)
	return g
}

// watchBacklog measures the backlog of this member's shippers every
// monitor interval until ctx ends. Every member runs it: each knows the
// frames it published, and forgets those every destination applied.
func (d *Daemon) watchBacklog(ctx context.Context) {
	tick := time.NewTicker(d.monitorEvery())
	defer tick.Stop()
	for {
		d.observeBacklog(ctx, d.Topology())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// observeBacklog counts, for every outgoing link, the changes the
// destination has not applied: those not shipped yet, and those in frames
// above the ack floor of the destination's consumer on this region's
// stream. The stream lives in this region, so the count goes on while the
// destination is unreachable.
func (d *Daemon) observeBacklog(ctx context.Context, t *topology.Topology) {
	d.mu.Lock()
	shippers := maps.Clone(d.shippers)
	d.mu.Unlock()

	// A member that ships none of a namespace's shards has no backlog of
	// its own in it; the region's is the sum over its members.
	for _, ns := range t.Namespaces {
		if _, ok := shippers[ns.Name]; ok {
			continue
		}
		for _, dest := range t.Destinations(ns.Name, d.region.Name) {
			d.backlog.WithLabelValues(ns.Name, dest).Set(0)
			d.mu.Lock()
			d.backlogs[backlogKey{ns.Name, dest}] = 0
			d.mu.Unlock()
		}
	}

	floors := make(map[string]uint64) // namespace → lowest ack floor of its destinations
	for ns, s := range shippers {
		unshipped, err := s.Unshipped(ctx)
		if err != nil {
			continue
		}
		floors[ns] = math.MaxUint64
		for _, dest := range t.Destinations(ns, d.region.Name) {
			floor, err := d.ackFloor(ctx, dest)
			if err != nil {
				d.log.Debug("read consumer ack floor", zap.String("destination-region", dest),
					zap.Error(err))
				continue
			}
			floors[ns] = min(floors[ns], floor)
			backlog := unshipped + s.Unapplied(floor)
			d.backlog.WithLabelValues(ns, dest).Set(float64(backlog))
			d.mu.Lock()
			d.backlogs[backlogKey{ns, dest}] = int64(backlog)
			d.mu.Unlock()
		}
	}
	for ns, floor := range floors {
		if floor != math.MaxUint64 {
			shippers[ns].Applied(floor)
		}
	}
}

// ackFloor is the stream sequence up to which dest acknowledged this
// region's stream; 0 when dest has no consumer yet.
func (d *Daemon) ackFloor(ctx context.Context, dest string) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, d.monitorEvery())
	defer cancel()
	info, err := d.conn.ConsumerInfo(ctx, d.region.Name, dest)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return info.AckFloor.Stream, nil
}
