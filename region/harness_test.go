package region_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/xdrd/xdrd/internal/testwait"
	"github.com/xdrd/xdrd/region"
	"github.com/xdrd/xdrd/topology"
	"github.com/xdrd/xdrd/transport"
	"github.com/xdrd/xdrd/verify"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// cluster runs real regions in this process: one embedded NATS server per
// region joined as a supercluster, an embedded store and a daemon each.
type cluster struct {
	t       *testing.T
	dir     string
	names   []string
	nats    *transport.Supercluster
	topo    *topology.Topology
	log     *zap.Logger
	tuning  region.Tuning
	mu      sync.Mutex
	daemons map[string]*running
}

type running struct {
	d      *region.Daemon
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{}
}

// namespacesYAML is the namespaces block most tests use: one namespace of
// each conflict policy.
const namespacesYAML = `namespaces:
  - name: profiles
    conflict: generation
    shards: 4
  - name: sessions
    conflict: timestamp
    shards: 2
`

func newCluster(t *testing.T, names []string, extra string) *cluster {
	t.Helper()
	return newClusterWith(t, names, extra, region.Tuning{})
}

// newClusterTuned is newCluster with appliers that accept frames of at
// most maxFrame bytes.
func newClusterTuned(t *testing.T, names []string, maxFrame int) *cluster {
	t.Helper()
	return newClusterWith(t, names, "", region.Tuning{MaxFrame: maxFrame})
}

func newClusterWith(t *testing.T, names []string, extra string, tuning region.Tuning) *cluster {
	t.Helper()
	return newClusterOn(t, names, extra, tuning, nil)
}

// newClusterOn is newClusterWith with the store URL of each region named in
// stores; the others get an embedded store.
func newClusterOn(t *testing.T, names []string, extra string, tuning region.Tuning,
	stores map[string]string) *cluster {
	t.Helper()
	dir := t.TempDir()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	sc, err := transport.StartRegions(filepath.Join(dir, "nats"), names, log)
	if err != nil {
		t.Fatalf("start nats: %v", err)
	}
	tuning.Heartbeat = 100 * time.Millisecond
	tuning.TrimEvery = 100 * time.Millisecond
	c := &cluster{t: t, dir: dir, names: names, nats: sc, log: log, tuning: tuning,
		daemons: make(map[string]*running)}
	t.Cleanup(c.shutdown)

	text := "regions:\n"
	for i, n := range names {
		url, ok := stores[n]
		if !ok {
			url = "embedded://" + filepath.Join(dir, n, "store")
		}
		text += fmt.Sprintf("  - name: %s\n    id: %d\n    nats: %s\n    store: %s\n",
			n, i+1, sc.URL(n), url)
	}
	text += namespacesYAML + extra
	path := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if c.topo, err = topology.Load(path); err != nil {
		t.Fatalf("load topology: %v", err)
	}
	for _, n := range names {
		c.open(n)
	}
	return c
}

// open opens a region's daemon on its data dir without running it, so a
// test can write into its store first.
func (c *cluster) open(name string) *region.Daemon {
	c.t.Helper()
	reg := prometheus.NewRegistry()
	d, err := region.Open(region.Config{
		Topology: c.topo, Region: name, DataDir: filepath.Join(c.dir, name),
		Registry: reg, Logger: c.log,
		Tuning: c.tuning,
	})
	if err != nil {
		c.t.Fatalf("open %s: %v", name, err)
	}
	c.mu.Lock()
	c.daemons[name] = &running{d: d, reg: reg}
	c.mu.Unlock()
	return d
}

// run starts replication in every opened region that is not running and
// waits until they all replicate.
func (c *cluster) run() {
	c.t.Helper()
	c.mu.Lock()
	started := make([]*region.Daemon, 0, len(c.daemons))
	for name, r := range c.daemons {
		started = append(started, r.d)
		if r.done != nil {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		r.cancel, r.done = cancel, make(chan struct{})
		go func() {
			defer close(r.done)
			if err := r.d.Run(ctx); err != nil {
				c.t.Errorf("run %s: %v", name, err)
			}
		}()
	}
	c.mu.Unlock()
	eventually(c.t, 20*time.Second, "regions to replicate", func() string {
		for _, d := range started {
			if !d.Replicating() {
				return d.Name() + " is not replicating yet"
			}
		}
		return ""
	})
}

// start opens a region's daemon and runs it.
func (c *cluster) start(name string) *region.Daemon {
	c.t.Helper()
	d := c.open(name)
	c.run()
	return d
}

// stop stops a region's daemon gracefully and closes it.
func (c *cluster) stop(name string) {
	c.mu.Lock()
	r := c.daemons[name]
	delete(c.daemons, name)
	c.mu.Unlock()
	if r == nil {
		return
	}
	if r.done != nil {
		r.cancel()
		<-r.done
	}
	if err := r.d.Close(); err != nil {
		c.t.Errorf("close %s: %v", name, err)
	}
}

func (c *cluster) shutdown() {
	for _, n := range c.names {
		c.stop(n)
	}
	c.nats.Shutdown()
}

func (c *cluster) daemon(name string) *region.Daemon {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.daemons[name].d
}

// counter sums a counter family's series whose labels include match.
func (c *cluster) counter(name, family string, match map[string]string) float64 {
	c.t.Helper()
	c.mu.Lock()
	reg := c.daemons[name].reg
	c.mu.Unlock()
	mfs, err := reg.Gather()
	if err != nil {
		c.t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelsMatch(m, match) {
				total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return total
}

func labelsMatch(m *dto.Metric, match map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := match[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(match)
}

// converge waits until every region stores the same records and returns
// one region's snapshot. It fails the test with the differences if they do
// not agree within the timeout.
func (c *cluster) converge(timeout time.Duration) verify.Snapshot {
	c.t.Helper()
	namespaces := []string{"profiles", "sessions"}
	var diffs []string
	var first verify.Snapshot
	eventually(c.t, timeout, "regions to converge", func() string {
		snaps := make([]verify.Snapshot, len(c.names))
		for i, n := range c.names {
			s, err := verify.Take(context.Background(), c.daemon(n).Store(), namespaces)
			if err != nil {
				c.t.Fatalf("snapshot %s: %v", n, err)
			}
			snaps[i] = s
		}
		first = snaps[0]
		if diffs, _ = verify.Diff(c.names, snaps, 5); len(diffs) > 0 {
			return strings.Join(diffs, "\n")
		}
		return ""
	})
	return first
}

// eventually polls cond until it reports nothing missing, or fails the
// test with what was still missing when the timeout passed. Convergence and
// counters have no event to wait on, so this is the tests' one wait.
func eventually(t *testing.T, timeout time.Duration, what string, missing func() string) {
	t.Helper()
	testwait.Until(t, timeout, what, missing)
}
