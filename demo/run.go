package demo

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/xdrd/xdrd/region"
	"github.com/xdrd/xdrd/verify"
)

// Run starts the regions, writes the load while printing a progress line
// per link every second, then waits for the regions to converge and
// compares every record. With Serve it then keeps running until ctx ends.
func Run(ctx context.Context, o Options) (Summary, error) {
	o.fill()
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "xdrd-demo-")
		if err != nil {
			return Summary{}, fmt.Errorf("create demo dir: %w", err)
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}

	c, err := start(ctx, &o)
	if err != nil {
		return Summary{}, err
	}
	defer c.stop()

	sum := Summary{Regions: o.Regions}
	var written atomic.Int64
	began := time.Now()
	if err := c.write(ctx, &o, &written); err != nil {
		return sum, err
	}
	sum.Written = written.Load()
	loadTime := time.Since(began)

	stopped := time.Now()
	converged, diffs, records, err := c.converge(ctx, &o)
	if err != nil {
		return sum, err
	}
	sum.Converged = converged
	sum.ConvergenceSeconds = time.Since(stopped).Seconds()
	sum.RecordsCompared = records
	sum.Differences = diffs
	for _, d := range c.daemons {
		for _, l := range d.Status().Links {
			sum.Applied += l.Applied
			sum.Conflicts += l.Conflicts
		}
	}
	sum.RecordsPerSecond = float64(sum.Applied) / (loadTime + time.Since(stopped)).Seconds()

	if o.Serve {
		fmt.Fprintf(o.Progress, "serving admin apis on 127.0.0.1:%d-%d; interrupt to stop\n",
			o.AdminPort, o.AdminPort+o.Regions-1)
		<-ctx.Done()
	}
	return sum, nil
}

// write runs the load in every region for the demo's duration, printing
// progress every second.
func (c *cluster) write(ctx context.Context, o *Options, written *atomic.Int64) error {
	until := time.Now().Add(o.Duration)
	errs := make(chan error, len(c.daemons))
	var wg sync.WaitGroup
	for i, d := range c.daemons {
		l := &load{store: d.Store(), rate: o.Rate, keys: o.Keys, seed: uint64(i + 1),
			written: written}
		wg.Go(func() { errs <- l.run(ctx, until) })
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()

	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			close(errs)
			for err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		case now := <-t.C:
			c.progress(o, now.Sub(until.Add(-o.Duration)), written.Load())
		}
	}
}

// progress prints one line per link: how far behind it is and how much it
// applied.
func (c *cluster) progress(o *Options, elapsed time.Duration, written int64) {
	fmt.Fprintf(o.Progress, "t=%4.1fs written=%d\n", elapsed.Seconds(), written)
	for _, d := range c.daemons {
		for _, l := range linksOf(d) {
			fmt.Fprintf(o.Progress, "  %s\n", l)
		}
	}
}

func linksOf(d *region.Daemon) []string {
	type agg struct {
		applied, conflicts int64
		lag                float64
	}
	links := make(map[string]*agg)
	var order []string
	for _, l := range d.Status().Links {
		a, ok := links[l.Source]
		if !ok {
			a = &agg{}
			links[l.Source] = a
			order = append(order, l.Source)
		}
		a.applied += l.Applied
		a.conflicts += l.Conflicts
		a.lag = max(a.lag, l.LagSeconds)
	}
	out := make([]string, 0, len(order))
	for _, src := range order {
		a := links[src]
		lag := fmt.Sprintf("lag %5.2fs", a.lag)
		out = append(out, fmt.Sprintf("%-9s -> %-9s %s  applied %8d  conflicts %6d",
			src, d.Name(), lag, a.applied, a.conflicts))
	}
	return out
}

// converge compares every region's records until they agree or the time
// allowed runs out, and returns the last differences seen.
func (c *cluster) converge(ctx context.Context, o *Options) (bool, []string, int, error) {
	names := make([]string, len(c.daemons))
	namespaces := []string{"profiles", "sessions"}
	for i, d := range c.daemons {
		names[i] = d.Name()
	}
	deadline := time.Now().Add(o.Converge)
	fmt.Fprintf(o.Progress, "load stopped; waiting for %d regions to converge\n", len(names))
	for {
		snaps := make([]verify.Snapshot, len(c.daemons))
		for i, d := range c.daemons {
			s, err := verify.Take(ctx, d.Store(), namespaces)
			if err != nil {
				return false, nil, 0, err
			}
			snaps[i] = s
		}
		diffs, records := verify.Diff(names, snaps, 10)
		if len(diffs) == 0 {
			fmt.Fprintf(o.Progress, "converged: %d records identical in %s\n",
				records, strings.Join(names, ", "))
			return true, nil, records, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			o.Logger.Warn("regions did not converge", zap.Int("differences", len(diffs)))
			return false, diffs, records, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}
