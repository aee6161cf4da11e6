package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xdrd/xdrd/region"
	"github.com/xdrd/xdrd/store"
)

// outage measures a backlog: with the destination's applier paused, it
// writes o.Records at o.Rate into the source while sampling the process's
// resident set every second, then resumes the link and times the catch-up
// until the destination has applied every record.
func outage(ctx context.Context, o *Options, src, dst *region.Daemon, srcStore store.Store,
	bins []byte, rec *recorder, res *Result) error {
	if err := dst.Admin().Pause(source); err != nil {
		return fmt.Errorf("pause the link: %w", err)
	}
	paused := time.Now()
	fmt.Fprintf(o.Progress, "outage: link paused, writing %d records at %d/s for %s ...\n",
		o.Records, o.Rate, o.Outage)
	var written atomic.Int64
	sampler := sampleRSS(time.Second, 30*time.Second, o.Progress, &written)

	began := time.Now()
	err := write(ctx, srcStore, o, bins, &written)
	wrote := time.Since(began).Seconds()
	if err == nil {
		res.OutageWriteRate = float64(o.Records) / wrote
		fmt.Fprintf(o.Progress, "outage: wrote %d records in %.1fs (%.0f/s)\n",
			o.Records, wrote, res.OutageWriteRate)
		// The source counts its backlog once a second: let it count once
		// more, then wait for the count to take in every record written, or
		// report the last one. The count is an upper bound (see
		// shipper.Unshipped), so it may exceed what was written.
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(1500 * time.Millisecond):
		}
		_ = poll(ctx, 15*time.Second, "the backlog count", func() bool {
			res.BacklogRecords = backlog(src)
			return res.BacklogRecords >= int64(o.Records)
		})
	}
	res.BacklogPeakRSS = sampler.stop()
	logMemory(o, res.BacklogPeakRSS)
	if err == nil && o.MemProfile != nil {
		err = writeHeapProfile(o.MemProfile)
	}
	if err != nil {
		_ = dst.Admin().Resume(source)
		return err
	}

	if err := dst.Admin().Resume(source); err != nil {
		return fmt.Errorf("resume the link: %w", err)
	}
	timed, err := startPhase(o.CPUProfile, o.Trace)
	if err != nil {
		return err
	}
	resumed := time.Now()
	res.OutageSeconds = resumed.Sub(paused).Seconds()
	fmt.Fprintf(o.Progress, "outage: link resumed after %.1fs with a backlog of %d records, "+
		"catching up ...\n", res.OutageSeconds, res.BacklogRecords)
	stopReport := reportCatchUp(o, rec, 10*time.Second)
	err = waitApplied(ctx, rec, int64(o.Records), catchUpTimeout(o))
	stopReport()
	cpu := timed.end()
	if err != nil {
		return err
	}
	secs := time.Since(resumed).Seconds()
	res.CatchUpRate = float64(o.Records) / secs
	res.CatchUpRatio = res.CatchUpRate / float64(o.Rate)
	fmt.Fprintf(o.Progress, "catch-up: %d records in %.1fs, %.0f/s, %.1f× the write rate\n",
		o.Records, secs, res.CatchUpRate, res.CatchUpRatio)
	// The end-to-end figures are the catch-up's: the pipeline at full speed
	// from a backlog. Latency would be the backlog's age, so it is left out.
	res.Seconds = secs
	res.RecordsPerSecond = res.CatchUpRate
	res.CPUMicros = perRecord(cpu, o.Records)
	return nil
}

// reportCatchUp puts the records applied on the progress writer every
// interval until the returned function is called.
func reportCatchUp(o *Options, rec *recorder, every time.Duration) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fmt.Fprintf(o.Progress, "catch-up: %d of %d records applied\n",
					rec.applied.Load(), o.Records)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// writeHeapProfile writes the heap as it is now, after a collection: a
// profile shows the heap as of the last one.
func writeHeapProfile(w io.Writer) error {
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(w, 0); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}

// catchUpTimeout is how long the catch-up may take before the run gives
// up: far longer than a catch-up at the write rate itself would.
func catchUpTimeout(o *Options) time.Duration {
	return 10*time.Minute + 2*o.Outage
}

// backlog is the source's count of records the destination has not applied.
func backlog(src *region.Daemon) int64 {
	for _, out := range src.Status().Outgoing {
		if out.Namespace == namespace && out.Destination == destination {
			return out.BacklogRecords
		}
	}
	return 0
}

// logMemory puts the process's memory at the end of the outage on the
// progress writer: the resident set, what Go's runtime holds of it, and the
// rest, which is mostly Pebble's block cache and memtables (allocated
// outside the Go heap when built with cgo).
func logMemory(o *Options, peak int64) {
	rss, goMem := vmRSS(), goResident()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(o.Progress, "outage: rss %.0f MiB (peak %.0f MiB): go runtime %.0f MiB "+
		"(heap in use %.0f MiB), outside go %.0f MiB; %d goroutines\n",
		mib(rss), mib(peak), mib(goMem), mib(int64(ms.HeapInuse)), mib(rss-goMem),
		runtime.NumGoroutine())
}

// goResident is the memory Go's runtime holds from the system and has not
// returned to it: an upper bound of its share of the resident set.
func goResident() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys - ms.HeapReleased)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// rssSampler keeps the largest resident set seen.
type rssSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak int64
}

// sampleRSS reads the resident set now and every interval until stop, and
// puts it on progress every report, with the records written so far.
func sampleRSS(every, report time.Duration, progress io.Writer,
	written *atomic.Int64) *rssSampler {
	s := &rssSampler{done: make(chan struct{}), peak: vmRSS()}
	began := time.Now()
	s.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		reported := began
		for {
			select {
			case <-s.done:
				return
			case now := <-tick.C:
				rss := vmRSS()
				s.peak = max(s.peak, rss)
				if now.Sub(reported) >= report {
					reported = now
					fmt.Fprintf(progress, "outage: %.0fs, %d written, rss %.0f MiB "+
						"(go runtime %.0f MiB), peak %.0f MiB\n", now.Sub(began).Seconds(),
						written.Load(), mib(rss), mib(goResident()), mib(s.peak))
				}
			}
		}
	})
	return s
}

// stop ends the sampling and returns the peak, the current size included.
func (s *rssSampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	return max(s.peak, vmRSS())
}

// vmRSS is the process's resident set size now; 0 where /proc has none.
func vmRSS() int64 { return procStatus("VmRSS:") }

// procStatus reads a size in kB from /proc/self/status, in bytes; 0 where
// there is none.
func procStatus(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
