package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/region"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/store/embedded"
	"github.com/xdrd/xdrd/store/memory"
	"github.com/xdrd/xdrd/topology"
	"github.com/xdrd/xdrd/transport"
)

// The link under test: namespace bench from source to destination.
const (
	source      = "source"
	destination = "destination"
	namespace   = "bench"
)

// Run measures the link, then the baselines, and returns the figures.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.check(); err != nil {
		return Result{}, err
	}
	o.fill()
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "xdrd-bench-")
		if err != nil {
			return Result{}, fmt.Errorf("create bench dir: %w", err)
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	res := Result{Store: redactedStore(o.Store), Records: o.Records, Size: o.Size,
		Rate: o.Rate, Cores: runtime.NumCPU()}
	if isRedis(o.Store) {
		if err := flushRedis(ctx, o.Store); err != nil {
			return res, err
		}
	}

	sc, err := transport.StartRegions(filepath.Join(o.Dir, "nats"),
		[]string{source, destination}, o.Logger)
	if err != nil {
		return res, fmt.Errorf("start nats: %w", err)
	}
	defer sc.Shutdown()

	fmt.Fprintln(o.Progress, "end to end ...")
	if o.Outage > 0 && isMemory(o.Store) {
		fmt.Fprintln(o.Progress, "warning: memory:// keeps every record in RAM, so the "+
			"backlog's RSS counts them; use --store embedded to measure the daemon")
	}
	if err := endToEnd(ctx, &o, sc, &res); err != nil {
		return res, err
	}
	// The kernel does not raise its high-water mark on every page it maps,
	// so a sample of the resident set taken during the outage can exceed
	// it by a few pages (CI saw 72 KiB); the run's peak is the larger.
	res.PeakRSS = max(peakRSS(), res.BacklogPeakRSS)

	fmt.Fprintln(o.Progress, "raw jetstream ...")
	frameBytes := int(res.WireBytes * 512)
	if res.Baseline.JetStream, err = rawJetStream(ctx, sc.URL(source), source,
		o.Records, frameBytes); err != nil {
		return res, err
	}
	fmt.Fprintln(o.Progress, "raw store ...")
	if res.Baseline.Store, err = rawStore(ctx, &o); err != nil {
		return res, err
	}
	res.Ratio.JetStream = res.RecordsPerSecond / res.Baseline.JetStream
	res.Ratio.Store = res.RecordsPerSecond / res.Baseline.Store
	return res, nil
}

// openStore opens a store of the benchmarked kind for one region.
func openStore(o *Options, name string, id record.RegionID) (store.Store, error) {
	clock := record.NewClock(nil)
	switch {
	case isMemory(o.Store):
		return memory.New(id, clock), nil
	case o.Store == "embedded", o.Store == "embedded://":
		return embedded.Open(filepath.Join(o.Dir, name, "store"), id, clock)
	}
	if isRedis(o.Store) {
		return openRedis(o, name, id, clock)
	}
	return nil, fmt.Errorf("bench store %q: want memory://, embedded or redis://host:port[/db]",
		redactedStore(o.Store))
}

func isMemory(st string) bool { return st == "memory://" || st == "memory" }

func endToEnd(ctx context.Context, o *Options, sc *transport.Supercluster, res *Result) error {
	topo, err := topology.Parse("bench", fmt.Appendf(nil, `regions:
  - {name: %s, id: 1}
  - {name: %s, id: 2}
namespaces:
  - {name: %s, shards: 16, ship-to: [%s]}
`, source, destination, namespace, destination))
	if err != nil {
		return err
	}
	bins, err := record.EncodeBins(map[string]any{"v": make([]byte, o.Size)})
	if err != nil {
		return err
	}
	srcStore, err := openStore(o, source, 1)
	if err != nil {
		return err
	}
	if o.Rate == 0 {
		// At full speed the records wait in the source's change log before
		// its daemon starts, so the figure is the replication pipeline's,
		// not how fast this process can write into the store.
		if err := write(ctx, srcStore, o, bins, nil); err != nil {
			_ = srcStore.Close()
			return err
		}
	}

	rec := newRecorder(o.Windows != nil)
	dst, err := openRegion(ctx, o, sc, topo, destination, nil, rec)
	if err != nil {
		_ = srcStore.Close()
		return err
	}
	defer dst.stop()
	if err := waitReplicating(ctx, dst.d); err != nil {
		_ = srcStore.Close()
		return err
	}
	src, err := openRegion(ctx, o, sc, topo, source, srcStore, nil)
	if err != nil {
		return err
	}
	defer src.stop()
	if err := waitReplicating(ctx, src.d); err != nil {
		return err
	}
	if o.Rate > 0 {
		// Latency is the link's, not its start-up's: wait until the
		// destination hears every shard's heartbeats.
		if err := waitCurrent(ctx, dst.d); err != nil {
			return err
		}
	}

	if o.Outage > 0 {
		if err := outage(ctx, o, src.d, dst.d, srcStore, bins, rec, res); err != nil {
			return err
		}
		res.WireBytes, err = wireBytes(ctx, o, sc.URL(source))
		return err
	}

	timed, err := startPhase(o.CPUProfile, o.Trace)
	if err != nil {
		return err
	}
	began := time.Now()
	if o.Rate > 0 {
		if err := write(ctx, srcStore, o, bins, nil); err != nil {
			timed.end()
			return err
		}
	}
	err = waitApplied(ctx, rec, int64(o.Records), 10*time.Minute)
	cpu := timed.end()
	if err != nil {
		return err
	}
	res.CPUMicros = perRecord(cpu, o.Records)
	res.Seconds = time.Since(began).Seconds()
	res.RecordsPerSecond = float64(o.Records) / res.Seconds
	q := rec.quantiles(0.5, 0.99, 0.999)
	res.LatencyMS = Latencies{P50: q[0], P99: q[1], P999: q[2]}
	if o.Windows != nil {
		if err := rec.writeWindows(o.Windows, began); err != nil {
			return err
		}
	}
	if o.MemProfile != nil {
		if err := writeHeapProfile(o.MemProfile); err != nil {
			return err
		}
	}
	res.WireBytes, err = wireBytes(ctx, o, sc.URL(source))
	return err
}

// running is one region's daemon in the benchmark.
type running struct {
	d    *region.Daemon
	stop func()
}

// openRegion runs a region's daemon on st, or on a new store when st is
// nil; with rec, every version the store applies has its latency recorded.
func openRegion(ctx context.Context, o *Options, sc *transport.Supercluster,
	topo *topology.Topology, name string, st store.Store, rec *recorder) (*running, error) {
	r, _ := topo.Region(name)
	if st == nil {
		var err error
		if st, err = openStore(o, name, record.RegionID(r.ID)); err != nil {
			return nil, err
		}
	}
	if rec != nil {
		st = &timedStore{Store: st, rec: rec}
	}
	d, err := region.Open(region.Config{
		Topology: topo, Region: name, DataDir: filepath.Join(o.Dir, name),
		NATS: sc.URL(name), Store: st, Registry: prometheus.NewRegistry(), Logger: o.Logger,
	})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = d.Run(ctx) })
	return &running{d: d, stop: func() {
		cancel()
		wg.Wait()
		_ = d.Close()
	}}, nil
}

// poll waits for cond, checking every few milliseconds, until ctx ends or
// the timeout passes.
func poll(ctx context.Context, timeout time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

func waitReplicating(ctx context.Context, ds ...*region.Daemon) error {
	return poll(ctx, 30*time.Second, "regions to replicate", func() bool {
		for _, d := range ds {
			if !d.Replicating() {
				return false
			}
		}
		return true
	})
}

func waitCurrent(ctx context.Context, d *region.Daemon) error {
	return poll(ctx, 30*time.Second, "the link to be current", func() bool {
		links := d.Status().Links
		return len(links) > 0 && links[0].LagSeconds < 0.1
	})
}

func waitApplied(ctx context.Context, rec *recorder, n int64, timeout time.Duration) error {
	return poll(ctx, timeout, "every record to be applied", func() bool {
		return rec.applied.Load() >= n
	})
}

// paceAhead is how far ahead of its time a writer at a fixed rate may
// write a record. Sleeping until each record was due put a timer and a
// wake-up per record on the cores the pipeline needs; with it, each writer
// sleeps about once a millisecond and then writes what falls due by then.
const paceAhead = time.Millisecond

// writersFor is how many writers load a store. Many writers share the
// embedded store's disk syncs and Redis's round trips, as a region's
// clients would. A memory:// write waits on nothing, so two keep up with
// any rate the pipeline can take, and 32 would only add goroutines that,
// catching up after a pause, crowd the pipeline's out of the cores.
func writersFor(st string) int {
	if isMemory(st) {
		return 2
	}
	return 32
}

// write puts o.Records distinct keys into the source, at o.Rate when set,
// counting them in written when it is not nil.
func write(ctx context.Context, st store.Store, o *Options, bins []byte,
	written *atomic.Int64) error {
	writers := writersFor(o.Store)
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	began := time.Now()
	for w := range writers {
		wg.Go(func() {
			for i := w; i < o.Records; i += writers {
				if o.Rate > 0 {
					due := began.Add(time.Duration(i) * time.Second / time.Duration(o.Rate))
					if d := time.Until(due); d > paceAhead {
						time.Sleep(d) // pacing the load, not waiting for a result
					}
				}
				key := fmt.Sprintf("k%09d", i)
				if _, err := st.Put(ctx, namespace, "s", key, bins, 0); err != nil {
					errs <- err
					return
				}
				if written != nil {
					written.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}
