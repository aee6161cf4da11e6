// Package bench measures one replication link end to end — a source and a
// destination region in one process, on embedded NATS — and, in the same
// run, the raw rates of what it is built on: JetStream publishing and
// consuming the same bytes, and the store writing the same records.
package bench

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// Options are the flags of `xdrd bench`.
type Options struct {
	Store   string // memory:// (default) or embedded
	Records int    // default 200000
	Size    int    // bytes of bins per record; default 300
	Rate    int    // records per second; 0 writes as fast as the store takes them
	Dir     string // working directory; default a new temporary one
	Logger  *zap.Logger
	// Progress receives a line per phase; nil discards.
	Progress io.Writer
}

func (o *Options) fill() {
	if o.Store == "" {
		o.Store = "memory://"
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
	Baseline         Baseline  `json:"baseline"`
	Ratio            Ratios    `json:"ratio"`
	Cores            int       `json:"cores"`
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

// peakRSS reads the process's peak resident set size from /proc; 0 where
// there is none.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// String is the human form of a result.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store %s, %d records of %d bytes", r.Store, r.Records, r.Size)
	if r.Rate > 0 {
		fmt.Fprintf(&b, " at %d/s", r.Rate)
	}
	fmt.Fprintf(&b, ", %d cores\n", r.Cores)
	fmt.Fprintf(&b, "end to end      %10.0f records/s  (%.2fs)\n", r.RecordsPerSecond, r.Seconds)
	fmt.Fprintf(&b, "latency         p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms\n",
		r.LatencyMS.P50, r.LatencyMS.P99, r.LatencyMS.P999)
	fmt.Fprintf(&b, "wire            %10.1f bytes/record\n", r.WireBytes)
	fmt.Fprintf(&b, "peak rss        %10.1f MiB\n", float64(r.PeakRSS)/(1<<20))
	fmt.Fprintf(&b, "raw jetstream   %10.0f records/s  (end to end is %.0f%%)\n",
		r.Baseline.JetStream, 100*r.Ratio.JetStream)
	fmt.Fprintf(&b, "raw store       %10.0f records/s  (end to end is %.0f%%)\n",
		r.Baseline.Store, 100*r.Ratio.Store)
	return b.String()
}
