package region

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/xdrd/xdrd/applier"
	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/shipper"
	"github.com/xdrd/xdrd/topology"
)

// retry is how long the daemon waits before trying NATS again at start.
const retry = 500 * time.Millisecond

// recheck bounds how long Run trusts the raft group's change signals
// alone before it looks at its state again; it is also how long a member
// cut off from the leader may go on shipping.
const recheck = 250 * time.Millisecond

// Run replicates until ctx ends. Every member of the region's raft group
// ships the shards and applies the links the leader's assignment gives
// it, and measures the lag of those links; the leader also purges.
// Changes of leadership or of the assignment start and stop only the
// workers they concern; a reload of the topology restarts them all. On
// return every worker has stopped and checkpoints are committed.
func (d *Daemon) Run(ctx context.Context) error {
	if err := d.prepare(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	d.log.Info("replication running", zap.String("member", d.raft.ID()))

	w := &workers{shipping: make(map[string]shipping), applying: make(map[string]*task)}
	defer d.stopAll(w)
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	backlog := startTask(ctx, func(ctx context.Context) { d.watchBacklog(ctx) })
	defer backlog.stop()
	monitor := startTask(ctx, func(ctx context.Context) { d.monitor(ctx) })
	defer monitor.stop()
	for {
		changes := d.raft.Changes()
		d.arrange(ctx, w)

		select {
		case <-ctx.Done():
			d.log.Info("replication stopping")
			return nil
		case <-d.reload:
			d.log.Info("topology reloaded, restarting shippers and appliers")
			d.stopAll(w)
		case <-changes:
		case <-tick.C:
		}
	}
}

// prepare makes sure this region's stream, dead letters and conflict log exist,
// retrying while NATS is not reachable yet.
func (d *Daemon) prepare(ctx context.Context) error {
	for {
		err := d.conn.EnsureStream(ctx, d.region.Name)
		if err == nil {
			err = d.conn.EnsureDLQ(ctx, d.region.Name)
		}
		if err == nil {
			err = d.conn.EnsureConflictStream(ctx, d.region.Name)
		}
		if err == nil {
			return nil
		}
		d.log.Warn("prepare streams, retrying", zap.Error(err))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(retry):
		}
	}
}

// Reload swaps in a new topology. It must name this region; the caller
// validated it. Shippers and appliers restart on the new one.
func (d *Daemon) Reload(t *topology.Topology) error {
	if _, ok := t.Region(d.region.Name); !ok {
		return fmt.Errorf("reload: region %q is not in the new topology", d.region.Name)
	}
	d.mu.Lock()
	d.topo = t
	d.mu.Unlock()
	select {
	case d.reload <- struct{}{}:
	default:
	}
	return nil
}

func (d *Daemon) shipperConfig(t *topology.Topology, ns topology.Namespace) shipper.Config {
	forward := false
	for _, dest := range t.Destinations(ns.Name, d.region.Name) {
		forward = forward || t.Link(d.region.Name, dest).Forward
	}
	return shipper.Config{
		Source: d.region.Name, SourceID: d.id, Namespace: ns.Name, Shards: ns.Shards,
		Forward: forward, Ships: ns.Ships,
		Linger: d.cfg.Tuning.Linger, Heartbeat: d.cfg.Tuning.Heartbeat,
		TrimEvery: d.cfg.Tuning.TrimEvery,
	}
}

// applierConfig describes the link from src to this region, or reports
// false when src ships nothing here.
func (d *Daemon) applierConfig(t *topology.Topology, src topology.Region) (applier.Config, bool) {
	if src.Name == d.region.Name {
		return applier.Config{}, false
	}
	namespaces := make(map[string]applier.Namespace)
	for _, ns := range t.Namespaces {
		if !contains(t.Destinations(ns.Name, src.Name), d.region.Name) {
			continue
		}
		policy, err := conflict.ParsePolicy(ns.Conflict)
		if err != nil {
			continue // validated already; unreachable
		}
		namespaces[ns.Name] = applier.Namespace{Policy: policy, Shards: ns.Shards}
	}
	if len(namespaces) == 0 {
		return applier.Config{}, false
	}
	link := t.Link(src.Name, d.region.Name)
	return applier.Config{
		Region: d.region.Name, RegionID: d.id,
		Source: src.Name, SourceID: record.RegionID(src.ID),
		Namespaces: namespaces,
		Known: func(ns string) bool {
			_, ok := t.Namespace(ns)
			return ok
		},
		Forward:   link.Forward,
		Conflicts: d.conflicts,
		RegionName: func(id record.RegionID) string {
			r, _ := t.RegionByID(int(id))
			return r.Name
		},
		Rate:     link.MaxRecordsPerSecond,
		MaxFrame: d.cfg.Tuning.MaxFrame,
	}, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// setPaused pauses or resumes applying the link from source. A pause lasts
// until resumed or until the daemon restarts or reloads its topology.
func (d *Daemon) setPaused(source string, paused bool) error {
	d.mu.Lock()
	a, ok := d.appliers[source]
	d.mu.Unlock()
	if !ok {
		return fmt.Errorf("no link from %q to %s", source, d.region.Name)
	}
	if paused {
		a.Pause()
	} else {
		a.Resume()
	}
	d.log.Info("link state set by operator", zap.String("source-region", source),
		zap.Bool("paused", paused))
	return nil
}
