package demo

import (
	"context"
	"fmt"
	"os"
	"slices"
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
	if err := c.write(ctx, &o, &written, &sum); err != nil {
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
	for _, r := range c.regions {
		for _, l := range append(r.links(), r.retired...) {
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
func (c *cluster) write(ctx context.Context, o *Options, written *atomic.Int64,
	sum *Summary) error {
	until := time.Now().Add(o.Duration)
	errs := make(chan error, len(c.regions))
	var wg sync.WaitGroup
	for i, r := range c.regions {
		l := &load{store: r.store, rate: o.Rate, keys: o.Keys, seed: uint64(i + 1),
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
	// A region of several members loses its leader halfway through the
	// load; the others take over its shards and its appliers.
	var failover <-chan time.Time
	if o.Members > 1 {
		failover = time.After(o.Duration / 2)
	}
	for {
		select {
		case <-failover:
			sum.TakeoverSeconds = c.regions[0].failover(ctx, o).Seconds()
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

// failover stops the region's leader gracefully and returns how long the
// region went without a leader that replicates.
func (r *demoRegion) failover(ctx context.Context, o *Options) time.Duration {
	var old *member
	for _, m := range r.members {
		if m.d.Status().Raft.Role == "leader" {
			old = m
		}
	}
	if old == nil {
		return 0
	}
	id := old.d.Status().Raft.ID
	fmt.Fprintf(o.Progress, "stopping %s's leader %s\n", r.name, id)
	r.retired = append(r.retired, old.d.Status().Links...)
	began := time.Now()
	old.stop()
	r.members = slices.DeleteFunc(r.members, func(m *member) bool { return m == old })
	for ctx.Err() == nil {
		for _, m := range r.members {
			if s := m.d.Status(); s.Raft.Role == "leader" && s.Replicating {
				took := time.Since(began)
				fmt.Fprintf(o.Progress, "%s: %s leads after %s; %d members ship the shards\n",
					r.name, s.Raft.ID, took.Round(time.Millisecond), len(r.members))
				return took
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	return time.Since(began)
}

// progress prints one line per link: how far behind it is and how much it
// applied.
func (c *cluster) progress(o *Options, elapsed time.Duration, written int64) {
	fmt.Fprintf(o.Progress, "t=%4.1fs written=%d\n", elapsed.Seconds(), written)
	for _, r := range c.regions {
		for _, l := range linksOf(r.name, r.links()) {
			fmt.Fprintf(o.Progress, "  %s\n", l)
		}
	}
}

// links are the incoming links of the region, from the members that
// apply them.
func (r *demoRegion) links() []region.Link {
	var out []region.Link
	for _, m := range r.members {
		out = append(out, m.d.Status().Links...)
	}
	return out
}

func linksOf(name string, all []region.Link) []string {
	type agg struct {
		applied, conflicts int64
		lag                float64
	}
	links := make(map[string]*agg)
	var order []string
	for _, l := range all {
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
			src, name, lag, a.applied, a.conflicts))
	}
	return out
}

// converge compares every region's records until they agree or the time
// allowed runs out, and returns the last differences seen.
func (c *cluster) converge(ctx context.Context, o *Options) (bool, []string, int, error) {
	names := make([]string, len(c.regions))
	namespaces := []string{"profiles", "sessions"}
	for i, r := range c.regions {
		names[i] = r.name
	}
	deadline := time.Now().Add(o.Converge)
	fmt.Fprintf(o.Progress, "load stopped; waiting for %d regions to converge\n", len(names))
	for {
		snaps := make([]verify.Snapshot, len(c.regions))
		for i, r := range c.regions {
			s, err := verify.Take(ctx, r.store, namespaces)
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
