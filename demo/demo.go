// Package demo runs several regions on one machine — an embedded NATS
// server each, joined as a supercluster, a store each (embedded, or a
// redis-server the demo starts) and a daemon each — writes conflicting
// load into all of them, then proves that every region ends with the same
// records.
package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/admin"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/region"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/topology"
	"github.com/xdrd/xdrd/transport"
)

// Options are the demo's flags.
type Options struct {
	Regions  int           // default 3
	Duration time.Duration // how long load is written; default 10s
	Rate     int           // writes per second into each region; default 2000
	Keys     int           // shared keys every region writes; default 2000
	Serve    bool          // keep running with admin APIs after the load
	// AdminPort is the first admin port with Serve; region i gets +i.
	AdminPort int
	// Converge bounds the wait for convergence after the load; default 60s.
	Converge time.Duration
	// Store is each region's store: "embedded" (default) or "redis", a
	// redis-server per region that the demo starts and stops itself.
	Store string
	// Members runs each region as this many daemons, a raft group sharing
	// the region's store; default 1. `xdrd demo --ha` sets 3.
	Members  int
	Dir      string // working directory; default a new temporary one
	Progress io.Writer
	Logger   *zap.Logger
}

func (o *Options) fill() {
	if o.Regions <= 0 {
		o.Regions = 3
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Rate <= 0 {
		o.Rate = 2000
	}
	if o.Keys <= 0 {
		o.Keys = 2000
	}
	if o.AdminPort == 0 {
		o.AdminPort = 7070
	}
	if o.Converge <= 0 {
		o.Converge = 60 * time.Second
	}
	if o.Store == "" {
		o.Store = "embedded"
	}
	if o.Members <= 0 {
		o.Members = 1
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
}

// Summary is the demo's result; its JSON form is the last line of
// `xdrd demo --json`.
type Summary struct {
	Regions            int     `json:"regions"`
	Written            int64   `json:"written"`
	Applied            int64   `json:"applied"`
	Conflicts          int64   `json:"conflicts"`
	Converged          bool    `json:"converged"`
	ConvergenceSeconds float64 `json:"convergence_seconds"`
	RecordsCompared    int     `json:"records_compared"`
	// RecordsPerSecond is what the appliers applied per second of load.
	RecordsPerSecond float64 `json:"records_per_second"`
	// TakeoverSeconds, with several members per region, is how long the
	// first region went without a replicating leader after its leader was
	// stopped halfway through the load.
	TakeoverSeconds float64  `json:"takeover_seconds,omitempty"`
	Differences     []string `json:"differences,omitempty"`
}

// names are the demo's regions; more than five get numbered names.
var names = []string{"eu-west", "us-east", "ap-south", "sa-east", "af-south"}

func regionName(i int) string {
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("region-%d", i+1)
}

// cluster is the demo's running regions.
type cluster struct {
	nats    *transport.Supercluster
	redis   []*redisServer // one per region with Store "redis"
	regions []*demoRegion
	admins  []*admin.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// demoRegion is one region: its store and the daemons that share it.
type demoRegion struct {
	name    string
	store   store.Store
	members []*member
	// retired are the counts of the links of members stopped on the way.
	retired []region.Link
}

// member is one daemon of a region and what stops it.
type member struct {
	d      *region.Daemon
	cancel context.CancelFunc
	done   chan struct{}
}

// stop stops the daemon gracefully: it commits its checkpoints and, if it
// leads, hands leadership over first.
func (m *member) stop() {
	m.cancel()
	<-m.done
	_ = m.d.Close()
}

// leader is the member that leads the region and runs its appliers, or
// the first member while none does.
func (r *demoRegion) leader() *region.Daemon {
	for _, m := range r.members {
		if m.d.Status().Raft.Role == "leader" {
			return m.d
		}
	}
	return r.members[0].d
}

// start brings up NATS, stores and daemons for every region.
func start(ctx context.Context, o *Options) (*cluster, error) {
	if o.Store != "embedded" && o.Store != "redis" {
		return nil, fmt.Errorf("demo store %q: want embedded or redis", o.Store)
	}
	regions := make([]string, o.Regions)
	for i := range regions {
		regions[i] = regionName(i)
	}
	sc, err := transport.StartRegions(filepath.Join(o.Dir, "nats"), regions, o.Logger)
	if err != nil {
		return nil, fmt.Errorf("start nats supercluster: %w", err)
	}
	c := &cluster{nats: sc}

	stores := make([]string, len(regions))
	for i, name := range regions {
		stores[i] = "embedded://" + filepath.Join(o.Dir, name, "store")
		if o.Store == "redis" {
			srv, err := startRedis(filepath.Join(o.Dir, name, "redis"))
			if err != nil {
				c.stop()
				return nil, fmt.Errorf("region %s: %w", name, err)
			}
			c.redis = append(c.redis, srv)
			stores[i] = srv.url
		}
	}
	peers, err := raftPeers(o.Members, len(regions))
	if err != nil {
		c.stop()
		return nil, err
	}
	topo, err := buildTopology(o.Dir, regions, stores, peers, sc)
	if err != nil {
		c.stop()
		return nil, err
	}
	ctx, c.cancel = context.WithCancel(ctx)
	for i, name := range regions {
		r, err := c.startRegion(ctx, o, topo, i, name, stores[i], peers[i])
		if err != nil {
			c.stop()
			return nil, err
		}
		c.regions = append(c.regions, r)
		if o.Serve {
			d := r.members[0].d
			addr := fmt.Sprintf("127.0.0.1:%d", o.AdminPort+i)
			h := admin.Handler(d.Admin(), d.Registry(), o.Logger)
			srv, err := admin.Serve(addr, h, o.Logger)
			if err != nil {
				c.stop()
				return nil, fmt.Errorf("serve admin api of %s: %w", name, err)
			}
			c.admins = append(c.admins, srv)
		}
	}
	if err := c.waitLeaders(ctx); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// waitLeaders waits until every region has a leader that replicates, so
// that the load measures replication, not elections.
func (c *cluster) waitLeaders(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, r := range c.regions {
		for !r.leader().Replicating() {
			if time.Now().After(deadline) {
				return fmt.Errorf("region %s elected no leader within 30s", r.name)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return nil
}

// startRegion opens the region's store and runs its members on it.
func (c *cluster) startRegion(ctx context.Context, o *Options, topo *topology.Topology,
	i int, name, storeURL string, peers []string) (*demoRegion, error) {
	st, err := region.OpenStore(storeURL, filepath.Join(o.Dir, name), record.RegionID(i+1))
	if err != nil {
		return nil, fmt.Errorf("open store of %s: %w", name, err)
	}
	r := &demoRegion{name: name, store: st}
	handles := store.Share(st, max(1, len(peers)))
	binds := peers
	if len(binds) == 0 {
		binds = []string{""}
	}
	for j, bind := range binds {
		dir := filepath.Join(o.Dir, name)
		if len(peers) > 0 {
			dir = filepath.Join(dir, fmt.Sprintf("member-%d", j+1))
		}
		d, err := region.Open(region.Config{
			Topology: topo, Region: name, DataDir: dir, RaftBind: bind, Store: handles[j],
			Registry: prometheus.NewRegistry(),
			Logger:   o.Logger,
			// Every member of every region shares this machine with the
			// load: a LAN's raft timeout would depose leaders that are
			// only starved of CPU.
			Tuning: region.Tuning{Heartbeat: 250 * time.Millisecond, RaftTimeout: time.Second},
		})
		if err != nil {
			for _, h := range handles[j:] {
				_ = h.Close()
			}
			r.stop()
			return nil, fmt.Errorf("open region %s: %w", name, err)
		}
		mctx, cancel := context.WithCancel(ctx)
		m := &member{d: d, cancel: cancel, done: make(chan struct{})}
		r.members = append(r.members, m)
		c.wg.Go(func() {
			defer close(m.done)
			if err := d.Run(mctx); err != nil {
				o.Logger.Error("region stopped", zap.String("region", name), zap.Error(err))
			}
		})
	}
	return r, nil
}

// stop stops every member of the region, which closes its store.
func (r *demoRegion) stop() {
	for _, m := range r.members {
		m.stop()
	}
	r.members = nil
}

// raftPeers reserves a loopback raft address for each member of each
// region; a region of one member needs none.
func raftPeers(members, regions int) ([][]string, error) {
	out := make([][]string, regions)
	if members < 2 {
		return out, nil
	}
	for i := range out {
		for range members {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return nil, fmt.Errorf("reserve a raft port: %w", err)
			}
			out[i] = append(out[i], ln.Addr().String())
			_ = ln.Close()
		}
	}
	return out, nil
}

// buildTopology writes the demo's topology file, region i on stores[i],
// then loads it as a user's would be, so the demo runs the real validation.
func buildTopology(dir string, regions, stores []string, peers [][]string,
	sc *transport.Supercluster) (*topology.Topology, error) {
	text := "regions:\n"
	for i, name := range regions {
		text += fmt.Sprintf("  - name: %s\n    id: %d\n    nats: %s\n    store: %s\n",
			name, i+1, sc.URL(name), stores[i])
		if len(peers[i]) > 0 {
			text += fmt.Sprintf("    peers: [%s]\n", strings.Join(peers[i], ", "))
		}
	}
	text += `namespaces:
  - name: profiles
    conflict: generation
    shards: 16
    lag-alert: {warning: 5s, critical: 15s, for: 5s}
  - name: sessions
    conflict: timestamp
    shards: 8
    lag-alert: {warning: 5s, critical: 15s, for: 5s}
`
	path := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return nil, fmt.Errorf("write demo topology: %w", err)
	}
	return topology.Load(path)
}

// stop shuts every daemon down gracefully, then NATS and the
// redis-servers.
func (c *cluster) stop() {
	for _, a := range c.admins {
		_ = a.Close()
	}
	if c.cancel != nil {
		c.cancel()
	}
	for _, r := range c.regions {
		r.stop()
	}
	c.wg.Wait()
	c.nats.Shutdown()
	for _, r := range c.redis {
		r.stop()
	}
}
