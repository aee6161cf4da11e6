package checkpoint

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/internal/testwait"
)

// testTimeout bounds every wait on raft in these tests.
const testTimeout = 15 * time.Second

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitFor polls cond until it holds, failing the test at the deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, testTimeout, what, cond)
}

// testContext returns a context bounded by testTimeout.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// openSingle opens a one-member group on dir and waits until it leads.
func openSingle(t *testing.T, dir string, interval time.Duration) *Node {
	t.Helper()
	n, err := Open(Config{
		DataDir:        dir,
		Bind:           "127.0.0.1:0",
		CommitInterval: interval,
		Logger:         zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })

	if err := n.WaitLeader(testContext(t)); err != nil {
		t.Fatalf("wait leader: %v", err)
	}
	return n
}

func flush(t *testing.T, n *Node) {
	t.Helper()
	if err := n.Flush(testContext(t)); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

func TestReopenRestoresCursors(t *testing.T) {
	dir := t.TempDir()
	want := map[Key]uint64{{"installs", 0}: 42, {"installs", 7}: 9000, {"events", 3}: 1}

	n := openSingle(t, dir, 0)
	for k, c := range want {
		n.Stage(k, c)
	}
	flush(t, n)
	term := n.Term()
	if err := n.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	n = openSingle(t, dir, 0)
	for k, c := range want {
		if got := n.Cursor(k); got != c {
			t.Errorf("cursor %v after reopen = %d, want %d", k, got, c)
		}
	}
	if n.Term() <= term {
		t.Errorf("term after reopen = %d, want above %d", n.Term(), term)
	}
}

func TestReopenFromSnapshot(t *testing.T) {
	dir := t.TempDir()
	k := Key{"installs", 1}

	n := openSingle(t, dir, 0)
	n.Stage(k, 77)
	flush(t, n)
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	n.Stage(k, 78)
	flush(t, n)
	if err := n.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	n = openSingle(t, dir, 0)
	if got := n.Cursor(k); got != 78 {
		t.Errorf("cursor after reopen = %d, want 78", got)
	}
}

func TestStateAndHealth(t *testing.T) {
	n := openSingle(t, t.TempDir(), 0)

	if !n.IsLeader() || n.State() != "leader" {
		t.Errorf("state = %q, leader %v; want leader", n.State(), n.IsLeader())
	}
	if err := n.Healthy(); err != nil {
		t.Errorf("healthy: %v", err)
	}
	if n.Term() == 0 {
		t.Error("term = 0 after an election")
	}

	if err := n.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if n.State() != "shutdown" {
		t.Errorf("state after close = %q", n.State())
	}
	if err := n.Healthy(); !errors.Is(err, ErrClosed) {
		t.Errorf("healthy after close = %v, want ErrClosed", err)
	}
	if err := n.Flush(testContext(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("flush after close = %v, want ErrClosed", err)
	}
	if err := n.WaitLeader(testContext(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("wait leader after close = %v, want ErrClosed", err)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	_, err := Open(Config{Bind: "127.0.0.1:0", Peers: []string{"10.0.0.2:7000", "=x"}})
	if err == nil {
		t.Fatal("open succeeded")
	}
	for _, field := range []string{"data-dir", "bind", "peers"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
}

func TestServersAreSortedAndUnique(t *testing.T) {
	cfg := Config{ID: "b", Peers: []string{"c=10.0.0.3:7000", "10.0.0.1:7000"}}
	servers, err := cfg.servers("10.0.0.2:7000")
	if err != nil {
		t.Fatalf("servers: %v", err)
	}
	var ids []string
	for _, s := range servers {
		ids = append(ids, string(s.ID)+"@"+string(s.Address))
	}
	want := "10.0.0.1:7000@10.0.0.1:7000 b@10.0.0.2:7000 c@10.0.0.3:7000"
	if got := strings.Join(ids, " "); got != want {
		t.Errorf("servers = %s, want %s", got, want)
	}

	cfg.Peers = append(cfg.Peers, "b=10.0.0.9:7000")
	if _, err := cfg.servers("10.0.0.2:7000"); err == nil {
		t.Error("duplicate id accepted")
	}
}
