package region

import (
	"context"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/xdrd/xdrd/applier"
	"github.com/xdrd/xdrd/checkpoint"
	"github.com/xdrd/xdrd/shipper"
	"github.com/xdrd/xdrd/topology"
)

// workers are what Run has started: the leader's duties, a shipper per
// namespace for the shards this member owns, and an applier per link this
// member applies.
type workers struct {
	leading  *task
	shipping map[string]shipping // by namespace
	applying map[string]*task    // by source region
}

// shipping is one namespace's running shipper and the shards it owns.
type shipping struct {
	task  *task
	owned string // one byte per shard, '1' when owned
}

// arrange starts and stops workers to match this member's place in the
// group: its leadership, and the shards and links assigned to it.
func (d *Daemon) arrange(ctx context.Context, w *workers) {
	t := d.Topology()
	lead := d.raft.Established()
	switch {
	case lead && w.leading == nil:
		d.log.Info("leading the region")
		w.leading = startTask(ctx, func(ctx context.Context) { d.purge.run(ctx, t) })
	case !lead && w.leading != nil:
		d.log.Info("no longer leading the region")
		w.leading.stop()
		w.leading = nil
	}

	a := d.raft.Assignment()
	if !d.raft.InContact() {
		// What this member last heard may have moved on: ship nothing
		// until it hears from a leader again.
		a = checkpoint.Assignment{}
	}
	for _, ns := range t.Namespaces {
		if len(t.Destinations(ns.Name, d.region.Name)) == 0 {
			continue
		}
		owned := ownedShards(a, d.raft.ID(), ns)
		if cur, ok := w.shipping[ns.Name]; ok && cur.owned == owned {
			continue
		}
		d.restartShipper(ctx, w, t, ns, owned)
	}
	d.arrangeAppliers(ctx, w, t, a)
	d.replicating.Store(a.Epoch > 0 && (lead || !d.raft.IsLeader()))
}

// arrangeAppliers runs an applier for each link the assignment gives this
// member and stops the others. Links are dealt round the members in the
// order of their source regions' names: a link is one durable consumer,
// which moves between members whole, with its acknowledgements.
func (d *Daemon) arrangeAppliers(ctx context.Context, w *workers, t *topology.Topology,
	a checkpoint.Assignment) {
	mine := make(map[string]applier.Config)
	for name, member := range linkAppliers(t, d.region.Name, a) {
		src, _ := t.Region(name)
		if cfg, ok := d.applierConfig(t, src); ok && member == d.raft.ID() {
			mine[name] = cfg
		}
	}

	for src, tk := range w.applying {
		if _, ok := mine[src]; ok {
			continue
		}
		tk.stop()
		delete(w.applying, src)
		d.mu.Lock()
		if ap := d.appliers[src]; ap != nil {
			ap.Forget()
		}
		delete(d.appliers, src)
		d.mu.Unlock()
	}
	for src, cfg := range mine {
		if _, ok := w.applying[src]; ok {
			continue
		}
		cfg.Heartbeat = d.cfg.Tuning.Heartbeat
		ap := applier.New(cfg, d.store, d.conn, d.apply, d.log)
		d.mu.Lock()
		d.appliers[src] = ap
		d.mu.Unlock()
		w.applying[src] = startTask(ctx, func(ctx context.Context) { _ = ap.Run(ctx) })
	}
}

// linkAppliers says which member applies the link from each region that
// ships to this one: the links, in the order of their sources' names, are
// dealt round the assigned members.
func linkAppliers(t *topology.Topology, self string, a checkpoint.Assignment) map[string]string {
	out := make(map[string]string)
	if len(a.Members) == 0 {
		return out
	}
	for i, src := range incoming(t, self) {
		out[src.Name] = a.Members[i%len(a.Members)]
	}
	return out
}

// incoming lists the regions that ship to this one, by name.
func incoming(t *topology.Topology, self string) []topology.Region {
	var out []topology.Region
	for _, src := range t.Regions {
		if src.Name == self {
			continue
		}
		for _, ns := range t.Namespaces {
			if contains(t.Destinations(ns.Name, src.Name), self) {
				out = append(out, src)
				break
			}
		}
	}
	slices.SortFunc(out, func(x, y topology.Region) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// ownedShards encodes which shards of ns the member owns.
func ownedShards(a checkpoint.Assignment, member string, ns topology.Namespace) string {
	b := make([]byte, ns.Shards)
	for shard := range b {
		b[shard] = '0'
		if a.Owner(ns.Name, shard) == member {
			b[shard] = '1'
		}
	}
	return string(b)
}

// restartShipper stops the namespace's shipper, if any, and starts one for
// the owned shards, if any.
func (d *Daemon) restartShipper(ctx context.Context, w *workers, t *topology.Topology,
	ns topology.Namespace, owned string) {
	if cur, ok := w.shipping[ns.Name]; ok {
		cur.task.stop()
		delete(w.shipping, ns.Name)
		d.mu.Lock()
		delete(d.shippers, ns.Name)
		d.mu.Unlock()
	}
	if !strings.Contains(owned, "1") {
		w.shipping[ns.Name] = shipping{task: doneTask(), owned: owned}
		return
	}

	cfg := d.shipperConfig(t, ns)
	cfg.Owns = func(shard int) bool { return owned[shard] == '1' }
	s, err := shipper.New(cfg, d.store, d.conn, d.raft, d.ship, d.log)
	if err != nil {
		// Recorded as running, so that the same share is not tried again
		// every recheck: only a new share or topology can change the outcome.
		d.log.Error("shipper not started", zap.String("namespace", ns.Name), zap.Error(err))
		w.shipping[ns.Name] = shipping{task: doneTask(), owned: owned}
		return
	}
	d.mu.Lock()
	d.shippers[ns.Name] = s
	d.mu.Unlock()
	w.shipping[ns.Name] = shipping{owned: owned,
		task: startTask(ctx, func(ctx context.Context) { _ = s.Run(ctx) })}
}

// stopAll stops every worker and commits what they shipped.
func (d *Daemon) stopAll(w *workers) {
	d.replicating.Store(false)
	if w.leading != nil {
		w.leading.stop()
		w.leading = nil
	}
	for ns, s := range w.shipping {
		s.task.stop()
		delete(w.shipping, ns)
	}
	for src, tk := range w.applying {
		tk.stop()
		delete(w.applying, src)
	}
	d.mu.Lock()
	d.shippers = make(map[string]*shipper.Shipper)
	d.appliers = make(map[string]*applier.Applier)
	d.mu.Unlock()

	flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.raft.Flush(flush); err != nil {
		d.log.Warn("flush checkpoints", zap.Error(err))
	}
}

// task is a goroutine that can be stopped and waited for.
type task struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startTask(ctx context.Context, run func(context.Context)) *task {
	ctx, cancel := context.WithCancel(ctx)
	t := &task{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		run(ctx)
	}()
	return t
}

// doneTask is a task with nothing to run.
func doneTask() *task {
	t := &task{cancel: func() {}, done: make(chan struct{})}
	close(t.done)
	return t
}

func (t *task) stop() {
	t.cancel()
	<-t.done
}
