package transport

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/internal/testwait"
)

// TestMain checks that no goroutine outlives the tests. Nothing needs to
// be ignored: Shutdown followed by WaitForShutdown joins every goroutine
// of nats-server, and Close does the same for nats.go.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testLog returns a silent logger, or a development logger when
// XDRD_TEST_LOG is set. It is not tied to t: nats callbacks may still log
// from their own goroutines after a test has returned.
func testLog() *zap.Logger {
	if os.Getenv("XDRD_TEST_LOG") != "" {
		log, err := zap.NewDevelopment()
		if err == nil {
			return log
		}
	}
	return zap.NewNop()
}

// testConfig is DefaultConfig scaled down for tests: small reservations,
// quick redelivery.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.StreamMaxBytes = 64 << 20
	cfg.DLQMaxBytes = 16 << 20
	cfg.AckWait = 500 * time.Millisecond
	cfg.Backoff = []time.Duration{time.Second}
	cfg.ReconnectWait = 20 * time.Millisecond
	return cfg
}

// eventually calls try until it returns nil or timeout passes, then fails
// the test with try's last error.
func eventually(t *testing.T, timeout time.Duration, what string, try func() error) {
	t.Helper()
	testwait.Until(t, timeout, what, func() string {
		if err := try(); err != nil {
			return err.Error()
		}
		return ""
	})
}

// testCtx returns a context that ends with the test or after a minute.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startRegions starts a Supercluster that the test shuts down.
func startRegions(t *testing.T, regions ...string) *Supercluster {
	t.Helper()
	sc, err := StartRegions(t.TempDir(), regions, testLog())
	if err != nil {
		t.Fatalf("start regions: %v", err)
	}
	t.Cleanup(sc.Shutdown)
	return sc
}

// connect opens a Conn with testConfig that the test closes.
func connect(t *testing.T, url, name string) *Conn {
	t.Helper()
	c, err := ConnectConfig(url, name, testLog(), testConfig())
	if err != nil {
		t.Fatalf("connect %s: %v", name, err)
	}
	t.Cleanup(c.Close)
	return c
}

// publishAll publishes payloads[i] as frame from+i of namespace ns,
// shard 0, waiting for each ack.
func publishAll(ctx context.Context, t *testing.T, c *Conn, source string, from int,
	payloads []string) {
	t.Helper()
	for i, p := range payloads {
		n := uint64(from + i)
		id := MsgID(source, "ns", 0, n, n)
		if _, err := c.Publish(ctx, Subject(source, "ns", 0), id, []byte(p)); err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
	}
}

// readN fetches messages from cons until it has n of them, acking each
// with a confirmed ack, and returns their payloads in delivery order.
func readN(t *testing.T, cons jetstream.Consumer, n int) []string {
	t.Helper()
	var got []string
	// A message whose ack timed out comes back; it counts once.
	seen := make(map[uint64]bool)
	eventually(t, 30*time.Second, fmt.Sprintf("read %d messages", n), func() error {
		if len(got) >= n {
			// Every message was read and only an ack failed: asking for
			// none would be refused, and the message the failed ack left
			// pending counts once should it come back.
			return nil
		}
		batch, err := cons.Fetch(n-len(got), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return err
		}
		for msg := range batch.Messages() {
			meta, err := msg.Metadata()
			if err != nil {
				return fmt.Errorf("metadata: %w", err)
			}
			if !seen[meta.Sequence.Stream] {
				seen[meta.Sequence.Stream] = true
				got = append(got, string(msg.Data()))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = msg.DoubleAck(ctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ack: %w", err)
			}
		}
		if len(got) < n {
			return fmt.Errorf("have %d of %d (batch error %v)", len(got), n, batch.Error())
		}
		return nil
	})
	return got
}

// payloads returns n distinct payloads starting with prefix.
func payloads(prefix string, from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, from+i)
	}
	return out
}
