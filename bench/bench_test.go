package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/xdrd/xdrd/store/redis/redistest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRunMeasuresEveryFigure runs a tiny benchmark and checks that every
// figure was measured; how fast is the benchmark's business, not a test's.
func TestRunMeasuresEveryFigure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(t *testing.T) string
	}{
		{"memory", func(*testing.T) string { return "memory://" }},
		{"embedded", func(*testing.T) string { return "embedded" }},
		// One redis-server holds both regions and the raw baseline, in
		// databases 0, 1 and 2; the test skips without redis-server.
		{"redis", func(t *testing.T) string { return redistest.Start(t).URL }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(context.Background(), Options{Store: tc.store(t), Records: 3000,
				Size: 100, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if res.RecordsPerSecond <= 0 || res.Baseline.JetStream <= 0 ||
				res.Baseline.Store <= 0 || res.Ratio.Store <= 0 || res.Ratio.JetStream <= 0 {
				t.Errorf("a rate is missing: %+v", res)
			}
			if res.LatencyMS.P50 <= 0 || res.LatencyMS.P999 < res.LatencyMS.P99 ||
				res.LatencyMS.P99 < res.LatencyMS.P50 {
				t.Errorf("latency quantiles out of order: %+v", res.LatencyMS)
			}
			if res.WireBytes < 100 || res.PeakRSS <= 0 {
				t.Errorf("wire bytes %v peak rss %v", res.WireBytes, res.PeakRSS)
			}
			// 3000 records cannot cross two regions in under a
			// microsecond of CPU each, nor take a CPU-second each.
			if res.CPUMicros < 1 || res.CPUMicros > 1e6 {
				t.Errorf("cpu %v µs/record", res.CPUMicros)
			}
		})
	}
}

// TestOutageMeasuresBacklogAndCatchUp pauses the link for a short outage
// on the embedded store and checks the backlog and catch-up figures.
func TestOutageMeasuresBacklogAndCatchUp(t *testing.T) {
	const rate, outage = 500, 2 * time.Second
	var progress strings.Builder
	res, err := Run(context.Background(), Options{Store: "embedded", Rate: rate, Outage: outage,
		Records: 7, Size: 100, Dir: t.TempDir(), Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	// The source's backlog count is an upper bound: it counts from the
	// lowest shard's shipped cursor, so a few records more are fine.
	const want = rate * 2
	if res.Records != want || res.BacklogRecords < want || res.BacklogRecords > want+want/10 {
		t.Errorf("records %d, backlog %d; want %d each", res.Records, res.BacklogRecords, want)
	}
	if res.CatchUpRate <= 0 || res.CatchUpRatio <= 0 || res.OutageWriteRate <= 0 {
		t.Errorf("a rate is missing: %+v", res)
	}
	if res.OutageSeconds < outage.Seconds() {
		t.Errorf("the link was paused for %.2fs, less than the outage", res.OutageSeconds)
	}
	// The peak of the whole run includes the backlog's.
	if res.BacklogPeakRSS <= 0 || res.PeakRSS < res.BacklogPeakRSS {
		t.Errorf("backlog rss %d, peak rss %d", res.BacklogPeakRSS, res.PeakRSS)
	}
	if res.Baseline.JetStream <= 0 || res.Baseline.Store <= 0 {
		t.Errorf("a baseline is missing: %+v", res.Baseline)
	}
	if strings.Contains(progress.String(), "warning") {
		t.Errorf("warning on the embedded store:\n%s", progress.String())
	}
	if s := res.String(); !strings.Contains(s, "catch-up") || !strings.Contains(s, "backlog") {
		t.Errorf("the human form leaves out the outage:\n%s", s)
	}
}

// TestOutageNeedsRate checks that an outage without a write rate is
// refused before anything starts.
func TestOutageNeedsRate(t *testing.T) {
	_, err := Run(context.Background(), Options{Outage: time.Second, Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "rate") {
		t.Errorf("outage without a rate: err %v", err)
	}
}

// TestRunProfilesAndTracesTheTimedPhase asks for a CPU profile and an
// execution trace and checks that both were written in their formats.
func TestRunProfilesAndTracesTheTimedPhase(t *testing.T) {
	var profile, tr bytes.Buffer
	_, err := Run(context.Background(), Options{Store: "memory://", Records: 2000, Size: 100,
		Dir: t.TempDir(), CPUProfile: &profile, Trace: &tr})
	if err != nil {
		t.Fatal(err)
	}
	// A CPU profile is a gzipped protocol buffer; a trace starts with
	// its format's "go 1.N trace" header.
	if !bytes.HasPrefix(profile.Bytes(), []byte{0x1f, 0x8b}) {
		t.Errorf("cpu profile: %d bytes, not gzip", profile.Len())
	}
	if !bytes.HasPrefix(tr.Bytes(), []byte("go 1.")) {
		t.Errorf("trace: %d bytes, no trace header (%q)", tr.Len(), tr.Bytes()[:min(tr.Len(), 16)])
	}
}
