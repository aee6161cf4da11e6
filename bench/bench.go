// Package bench measures one replication link end to end — a source and a
// destination region in one process, on embedded NATS — and, in the same
// run, the raw rates of what it is built on: JetStream publishing and
// consuming the same bytes, and the store writing the same records.
package bench

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Options are the flags of `xdrd bench`.
type Options struct {
	Store   string // memory:// (default) or embedded
	Records int    // default 200000; with Outage, Rate × Outage
	Size    int    // bytes of bins per record; default 300
	Rate    int    // records per second; 0 writes as fast as the store takes them
	// Outage, when positive, measures a backlog: the link is paused while
	// Rate records a second are written for Outage, which sets Records,
	// then resumed, and the catch-up is timed. It needs a Rate.
	Outage time.Duration
	Dir    string // working directory; default a new temporary one
	Logger *zap.Logger
	// Progress receives a line per phase; nil discards.
	Progress io.Writer
	// MemProfile, when set, receives a heap profile at the end of the
	// outage, or without one once every record is applied.
	MemProfile io.Writer
	// CPUProfile, when set, receives a CPU profile of the timed phase
	// only: the replication window, or with an outage the catch-up, so
	// that writing the records and the baselines do not blur it.
	CPUProfile io.Writer
	// Trace, when set, receives an execution trace (runtime/trace) of the
	// timed phase, for what a profile cannot show: where the latency
	// tail's records waited, and on what.
	Trace io.Writer
	// Windows, when set, receives the latency of every 100 ms of the timed
	// phase as CSV, which shows whether a tail is steady or comes in
	// bursts. An outage measures a backlog, not latency, and refuses it.
	Windows io.Writer
}

// check rejects options that cannot be run.
func (o *Options) check() error {
	switch {
	case o.Outage < 0:
		return fmt.Errorf("bench: outage %s is negative", o.Outage)
	case o.Outage > 0 && o.Rate <= 0:
		return errors.New("bench: an outage needs a write rate: --rate R > 0 records a second " +
			"are written while the link is paused")
	case o.Outage > 0 && o.Windows != nil:
		return errors.New("bench: latency windows are for runs without an outage: " +
			"the outage measures a backlog and its catch-up")
	case o.Outage > 0 && outageRecords(o) < 1:
		return fmt.Errorf("bench: an outage of %s at %d/s writes no record", o.Outage, o.Rate)
	}
	return nil
}

// outageRecords is what an outage writes: Rate a second for Outage.
func outageRecords(o *Options) int {
	return int(float64(o.Rate) * o.Outage.Seconds())
}

func (o *Options) fill() {
	if o.Store == "" {
		o.Store = "memory://"
	}
	if o.Outage > 0 {
		o.Records = outageRecords(o)
	}
	if o.Records <= 0 {
		o.Records = 200_000
	}
	if o.Size <= 0 {
		o.Size = 300
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	// An outage reports from more than one goroutine.
	o.Progress = &lockedWriter{w: o.Progress}
}

// lockedWriter lets goroutines share a writer a line at a time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Result is what one run measured; its JSON form is `xdrd bench --json`.
type Result struct {
	Store            string    `json:"store"`
	Records          int       `json:"records"`
	Size             int       `json:"size_bytes"`
	Rate             int       `json:"rate,omitempty"`
	Seconds          float64   `json:"seconds"`
	RecordsPerSecond float64   `json:"records_per_second"`
	LatencyMS        Latencies `json:"latency_ms"`
	WireBytes        float64   `json:"wire_bytes_per_record"`
	PeakRSS          int64     `json:"peak_rss_bytes"`
	// CPUMicros is the process's CPU time in the timed phase, on every
	// core, over the records: both regions, their servers and, with a
	// rate, the writers. It varies far less from run to run than the rate.
	CPUMicros float64  `json:"cpu_us_per_record"`
	Baseline  Baseline `json:"baseline"`
	Ratio     Ratios   `json:"ratio"`
	Cores     int      `json:"cores"`

	// With an outage: how long the link was paused, the backlog the source
	// counted at its end, the largest resident set sampled while it waited,
	// the rate the writers kept up during it, and the catch-up after it, in
	// records a second and as a multiple of Rate. Seconds and
	// RecordsPerSecond are then the catch-up's too, and LatencyMS, which
	// would be the backlog's age, stays zero.
	OutageSeconds   float64 `json:"outage_seconds,omitempty"`
	BacklogRecords  int64   `json:"backlog_records,omitempty"`
	BacklogPeakRSS  int64   `json:"backlog_peak_rss_bytes,omitempty"`
	OutageWriteRate float64 `json:"outage_write_records_per_second,omitempty"`
	CatchUpRate     float64 `json:"catchup_records_per_second,omitempty"`
	CatchUpRatio    float64 `json:"catchup_ratio,omitempty"`
}

// Latencies are replication latency quantiles in milliseconds.
type Latencies struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
}

// Baseline are the raw rates measured in the same run.
type Baseline struct {
	JetStream float64 `json:"jetstream_records_per_second"`
	Store     float64 `json:"store_records_per_second"`
}

// Ratios compare the end-to-end rate with each baseline.
type Ratios struct {
	JetStream float64 `json:"of_jetstream"`
	Store     float64 `json:"of_store"`
}

// perRecord spreads d over n records, in microseconds.
func perRecord(d time.Duration, n int) float64 {
	return float64(d.Microseconds()) / float64(max(n, 1))
}

// peakRSS reads the process's peak resident set size from /proc; 0 where
// there is none.
func peakRSS() int64 { return procStatus("VmHWM:") }

// String is the human form of a result.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store %s, %d records of %d bytes", r.Store, r.Records, r.Size)
	if r.Rate > 0 {
		fmt.Fprintf(&b, " at %d/s", r.Rate)
	}
	fmt.Fprintf(&b, ", %d cores\n", r.Cores)
	if r.OutageSeconds > 0 {
		fmt.Fprintf(&b, "outage          %10.1f s, written at %.0f records/s\n",
			r.OutageSeconds, r.OutageWriteRate)
		fmt.Fprintf(&b, "backlog         %10d records\n", r.BacklogRecords)
		fmt.Fprintf(&b, "backlog rss     %10.1f MiB peak while the backlog waited\n",
			mib(r.BacklogPeakRSS))
		fmt.Fprintf(&b, "catch-up        %10.0f records/s  (%.2fs, %.1f× the write rate)\n",
			r.CatchUpRate, r.Seconds, r.CatchUpRatio)
	} else {
		fmt.Fprintf(&b, "end to end      %10.0f records/s  (%.2fs)\n", r.RecordsPerSecond, r.Seconds)
		fmt.Fprintf(&b, "latency         p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms\n",
			r.LatencyMS.P50, r.LatencyMS.P99, r.LatencyMS.P999)
	}
	fmt.Fprintf(&b, "cpu             %10.2f µs/record, every core\n", r.CPUMicros)
	fmt.Fprintf(&b, "wire            %10.1f bytes/record\n", r.WireBytes)
	fmt.Fprintf(&b, "peak rss        %10.1f MiB\n", mib(r.PeakRSS))
	measured := "end to end"
	if r.OutageSeconds > 0 {
		measured = "catch-up"
	}
	fmt.Fprintf(&b, "raw jetstream   %10.0f records/s  (%s is %.0f%%)\n",
		r.Baseline.JetStream, measured, 100*r.Ratio.JetStream)
	fmt.Fprintf(&b, "raw store       %10.0f records/s  (%s is %.0f%%)\n",
		r.Baseline.Store, measured, 100*r.Ratio.Store)
	return b.String()
}
