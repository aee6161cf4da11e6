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
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/admin"
	"github.com/xdrd/xdrd/region"
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
	Store    string
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
	RecordsPerSecond float64  `json:"records_per_second"`
	Differences      []string `json:"differences,omitempty"`
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
	daemons []*region.Daemon
	admins  []*admin.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
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
	topo, err := buildTopology(o.Dir, regions, stores, sc)
	if err != nil {
		c.stop()
		return nil, err
	}
	ctx, c.cancel = context.WithCancel(ctx)
	for i, name := range regions {
		d, err := region.Open(region.Config{
			Topology: topo, Region: name,
			DataDir:  filepath.Join(o.Dir, name),
			Registry: prometheus.NewRegistry(),
			Logger:   o.Logger,
			Tuning:   region.Tuning{Heartbeat: 250 * time.Millisecond},
		})
		if err != nil {
			c.stop()
			return nil, fmt.Errorf("open region %s: %w", name, err)
		}
		c.daemons = append(c.daemons, d)
		c.wg.Go(func() {
			if err := d.Run(ctx); err != nil {
				o.Logger.Error("region stopped", zap.String("region", name), zap.Error(err))
			}
		})
		if o.Serve {
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
	return c, nil
}

// buildTopology writes the demo's topology file, region i on stores[i],
// then loads it as a user's would be, so the demo runs the real validation.
func buildTopology(dir string, regions, stores []string,
	sc *transport.Supercluster) (*topology.Topology, error) {
	text := "regions:\n"
	for i, name := range regions {
		text += fmt.Sprintf("  - name: %s\n    id: %d\n    nats: %s\n    store: %s\n",
			name, i+1, sc.URL(name), stores[i])
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
	c.wg.Wait()
	for _, d := range c.daemons {
		_ = d.Close()
	}
	c.nats.Shutdown()
	for _, r := range c.redis {
		r.stop()
	}
}
