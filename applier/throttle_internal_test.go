package applier

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// TestThrottleChargesWholeBatch hands a full rate limit a batch of two and
// a half bursts: all of it is charged, so the link waits and says it was
// throttled, where charging one burst would have let it through at once.
func TestThrottleChargesWholeBatch(t *testing.T) {
	a := New(Config{Source: "eu-west", Region: "us-east", Rate: 1_000_000}, nil, nil,
		NewMetrics(prometheus.NewRegistry(), "us-east"), zap.NewNop())
	burst := a.limit.Burst()
	if err := a.throttle(context.Background(), burst*5/2); err != nil {
		t.Fatal(err)
	}
	if a.throttledAt().IsZero() {
		t.Fatalf("a batch of %d records against a burst of %d was never throttled",
			burst*5/2, burst)
	}
	if left := a.limit.TokensAt(a.now()); left > float64(burst)/10 {
		t.Fatalf("%.0f of %d tokens left after the batch was charged", left, burst)
	}
}

func (a *Applier) throttledAt() time.Time {
	a.health.mu.Lock()
	defer a.health.mu.Unlock()
	return a.health.throttle
}
