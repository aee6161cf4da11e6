package bench

import (
	"context"
	"testing"

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
		})
	}
}
