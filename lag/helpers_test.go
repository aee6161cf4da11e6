package lag

import (
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/xdrd/xdrd/internal/testwait"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(start time.Time) *fakeClock {
	return &fakeClock{now: start}
}

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rig is an Evaluator with its clock, registry and captured log.
type rig struct {
	*Evaluator
	clock *fakeClock
	reg   *prometheus.Registry
	logs  *observer.ObservedLogs
}

// newRig returns an Evaluator on a fake clock that records its log at
// debug and above. push may be nil.
func newRig(push *Alertmanager, start time.Time) *rig {
	core, logs := observer.New(zapcore.DebugLevel)
	r := &rig{clock: newFakeClock(start), reg: prometheus.NewRegistry(), logs: logs}
	r.Evaluator = NewEvaluator(Config{
		Now:        r.clock.Now,
		Logger:     zap.New(core),
		Registerer: r.reg,
		Region:     "west",
		Push:       push,
	})
	return r
}

// waitFor polls cond until it holds, failing the test with cond's last
// explanation after timeout. It is for conditions that depend on another
// process, which the test cannot observe as an event.
func waitFor(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	testwait.Until(t, timeout, "the condition", func() string {
		if ok, why := cond(); !ok {
			return why
		}
		return ""
	})
}

// The prometheus/testutil helpers would need a go.mod entry this package
// may not add, so the tests read the registry through Gather.

// family returns the metric family name from reg, or nil.
func family(t *testing.T, reg *prometheus.Registry, name string) *dto.MetricFamily {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}

// seriesCount returns how many series of name reg holds.
func seriesCount(t *testing.T, reg *prometheus.Registry, name string) int {
	t.Helper()
	return len(family(t, reg, name).GetMetric())
}

// metricValue returns the value of the gauge or counter name with exactly
// labels, failing the test if reg has no such series.
func metricValue(t *testing.T, reg *prometheus.Registry, name string,
	labels map[string]string) float64 {
	t.Helper()
	for _, m := range family(t, reg, name).GetMetric() {
		got := make(map[string]string)
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if maps.Equal(got, labels) {
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}
