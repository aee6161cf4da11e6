package conflictlog

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/transport"
)

// TestMain checks that no goroutine outlives the tests: a closed Log, its
// connection and its embedded servers leave none behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testLog returns a silent logger, or a development logger when
// XDRD_TEST_LOG is set.
func testLog() *zap.Logger {
	if os.Getenv("XDRD_TEST_LOG") != "" {
		if log, err := zap.NewDevelopment(); err == nil {
			return log
		}
	}
	return zap.NewNop()
}

// testEntry returns a valid entry whose key and incoming generation
// are n.
func testEntry(namespace string, n int) Entry {
	return Entry{
		Time:      time.Date(2026, 1, 2, 10, 0, 0, n, time.UTC),
		Region:    "eu-west",
		Namespace: namespace,
		Set:       "users",
		Key:       fmt.Sprintf("user-%d", n),
		Policy:    "generation",
		Incoming: Side{Generation: uint64(n), LUT: 1767348000123456789 + int64(n),
			Origin: "us-east", OriginID: 2},
		Stored: Side{Generation: 3, LUT: 1767348000000000000, Origin: "eu-west",
			OriginID: 1, Tombstone: n%2 == 0},
		Winner: WinnerIncoming,
	}
}

// startRegions starts an eu-west and a us-east region and connects to
// eu-west's core with small stream reservations; the test stops both.
func startRegions(t *testing.T) (*transport.Supercluster, *transport.Conn) {
	t.Helper()
	regions := []string{"eu-west", "us-east"}
	sc, err := transport.StartRegions(filepath.Join(t.TempDir(), "nats"), regions, testLog())
	if err != nil {
		t.Fatalf("start regions: %v", err)
	}
	t.Cleanup(sc.Shutdown)
	cfg := transport.DefaultConfig()
	cfg.StreamMaxBytes, cfg.DLQMaxBytes = 16<<20, 16<<20
	conn, err := transport.ConnectConfig(sc.URL("eu-west"), "eu-west-applier", testLog(), cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(conn.Close)
	return sc, conn
}

// counter sums the values of family's series whose reason label, when
// reason is not empty, is reason.
func counter(t *testing.T, reg *prometheus.Registry, family, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "reason" && reason != "" && lp.GetValue() != reason {
					continue series
				}
			}
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

// stalled is a Publisher whose publishes are taken and never
// acknowledged, like a NATS that went away after accepting them. It
// signals every call on calls.
type stalled struct {
	calls chan string
}

func (s *stalled) PublishConflictAsync(region, namespace, msgID string,
	data []byte) (jetstream.PubAckFuture, error) {
	s.calls <- msgID
	return never{msg: &nats.Msg{Subject: region + "." + namespace, Data: data}}, nil
}

// never is a publish future that never completes.
type never struct{ msg *nats.Msg }

func (never) Ok() <-chan *jetstream.PubAck { return nil }
func (never) Err() <-chan error            { return nil }
func (n never) Msg() *nats.Msg             { return n.msg }
