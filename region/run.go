package region

import (
	"context"
	"fmt"
	"sync"
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

// Run replicates until ctx ends: once this member leads the raft group it
// runs a shipper per namespace this region ships and an applier per
// region that ships here. Reload swaps the topology and restarts them.
// On return every worker has stopped and checkpoints are committed.
func (d *Daemon) Run(ctx context.Context) error {
	if err := d.raft.WaitLeader(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("wait for raft leadership: %w", err)
	}
	d.log.Info("raft leadership held, starting replication")

	if err := d.prepare(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	for {
		workers, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		d.start(workers, &wg)
		d.replicating.Store(true)

		select {
		case <-ctx.Done():
		case <-d.reload:
			d.log.Info("topology reloaded, restarting shippers and appliers")
		}
		d.replicating.Store(false)
		stop()
		wg.Wait()

		flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := d.raft.Flush(flush)
		cancel()
		if err != nil {
			d.log.Warn("flush checkpoints", zap.Error(err))
		}
		if ctx.Err() != nil {
			d.log.Info("replication stopped")
			return nil
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

// start launches the workers of the current topology.
func (d *Daemon) start(ctx context.Context, wg *sync.WaitGroup) {
	t := d.Topology()
	appliers := make(map[string]*applier.Applier)
	shippers := make(map[string]*shipper.Shipper)

	for _, ns := range t.Namespaces {
		if len(t.Destinations(ns.Name, d.region.Name)) == 0 {
			continue
		}
		s, err := shipper.New(d.shipperConfig(t, ns), d.store, d.conn, d.raft, d.ship, d.log)
		if err != nil {
			d.log.Error("shipper not started", zap.String("namespace", ns.Name), zap.Error(err))
			continue
		}
		shippers[ns.Name] = s
		wg.Go(func() { _ = s.Run(ctx) })
	}

	for _, src := range t.Regions {
		cfg, ok := d.applierConfig(t, src)
		if !ok {
			continue
		}
		cfg.Heartbeat = d.cfg.Tuning.Heartbeat
		a := applier.New(cfg, d.store, d.conn, d.apply, d.log)
		appliers[src.Name] = a
		wg.Go(func() { _ = a.Run(ctx) })
	}

	wg.Go(func() { d.purge.run(ctx, t) })
	wg.Go(func() { d.monitor(ctx, t) })

	d.mu.Lock()
	d.appliers, d.shippers = appliers, shippers
	d.mu.Unlock()
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
