package checkpoint

import (
	"context"
	"crypto/tls"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// testCluster is a group of members in one process, talking over real
// TCP on loopback, each with its own bolt store on disk.
type testCluster struct {
	nodes map[string]*Node
}

func newTestCluster(t *testing.T, size int) *testCluster {
	t.Helper()
	return newRelayCluster(t, size, nil)
}

// newRelayCluster starts a group whose members relay cursors through
// relay; nil gives them none.
func newRelayCluster(t *testing.T, size int, relay Relay) *testCluster {
	t.Helper()
	return newClusterWith(t, size, relay, nil)
}

// newClusterWith starts a group with a relay and, when tlsCfg is set,
// raft over TLS.
func newClusterWith(t *testing.T, size int, relay Relay, tlsCfg *tls.Config) *testCluster {
	t.Helper()

	// Listen first, so that every member knows the others' ports.
	var addrs []string
	var transports []*raft.NetworkTransport
	for range size {
		tr, err := listen("127.0.0.1:0", tlsCfg, zap.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		transports = append(transports, tr)
		addrs = append(addrs, string(tr.LocalAddr()))
	}

	c := &testCluster{nodes: make(map[string]*Node)}
	for i, tr := range transports {
		var peers []string
		for j, a := range addrs {
			if j != i {
				peers = append(peers, a)
			}
		}
		cfg, err := Config{
			DataDir:        t.TempDir(),
			Bind:           addrs[i],
			Peers:          peers,
			CommitInterval: 10 * time.Millisecond,
			Relay:          relay,
			Logger:         zap.NewNop(),
		}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		n, err := open(cfg, tr)
		if err != nil {
			t.Fatalf("open %s: %v", addrs[i], err)
		}
		t.Cleanup(func() { _ = n.Close() })
		c.nodes[addrs[i]] = n
	}
	return c
}

// leader waits until a running member has been established as leader by
// WaitLeader and returns its address and Node. A member that loses
// leadership while being checked is passed over.
func (c *testCluster) leader(t *testing.T) (string, *Node) {
	t.Helper()
	var addr string
	waitFor(t, "an established leader", func() bool {
		for a, n := range c.nodes {
			if !n.IsLeader() {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := n.WaitLeader(ctx)
			cancel()
			if err == nil {
				addr = a
				return true
			}
		}
		return false
	})
	return addr, c.nodes[addr]
}

// commit stages cursors on the leader and flushes them, starting over on
// the next leader if leadership moves meanwhile.
func (c *testCluster) commit(t *testing.T, cursors map[Key]uint64) {
	t.Helper()
	waitFor(t, "cursors to be committed", func() bool {
		_, n := c.leader(t)
		for k, v := range cursors {
			n.Stage(k, v)
		}
		return n.Flush(testContext(t)) == nil
	})
}

// stop closes a member.
func (c *testCluster) stop(t *testing.T, addr string) {
	t.Helper()
	if err := c.nodes[addr].Close(); err != nil {
		t.Fatalf("close %s: %v", addr, err)
	}
	delete(c.nodes, addr)
}

// converged waits until every running member has applied want.
func (c *testCluster) converged(t *testing.T, want map[Key]uint64) {
	t.Helper()
	waitFor(t, "members to apply the committed cursors", func() bool {
		for _, n := range c.nodes {
			if !maps.Equal(n.Cursors(), want) {
				return false
			}
		}
		return true
	})
}

func TestClusterFailoverKeepsCursors(t *testing.T) {
	c := newTestCluster(t, 3)

	want := map[Key]uint64{{"installs", 0}: 100, {"installs", 1}: 200, {"events", 0}: 3}
	c.commit(t, want)
	c.converged(t, want)
	waitFor(t, "every member to know the leader", func() bool {
		for _, n := range c.nodes {
			if n.Healthy() != nil {
				return false
			}
		}
		return true
	})

	oldAddr, old := c.leader(t)
	oldTerm := old.Term()
	c.stop(t, oldAddr)

	_, leader := c.leader(t)
	if got := leader.Cursors(); !maps.Equal(got, want) {
		t.Fatalf("new leader cursors = %v, want %v", got, want)
	}
	if leader.Term() <= oldTerm {
		t.Errorf("new leader term = %d, want above %d", leader.Term(), oldTerm)
	}
	if got := leader.fsm.appliedTerm(); got <= oldTerm {
		t.Errorf("fence after takeover = term %d, want above %d", got, oldTerm)
	}

	want[Key{"installs", 0}] = 150
	c.commit(t, map[Key]uint64{{"installs", 0}: 150})
	c.converged(t, want)

	// A command proposed in the deposed leader's term is fenced everywhere.
	data, err := encodeCommand(oldTerm, map[Key]uint64{{"installs", 1}: 999})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stale command to be committed", func() bool {
		_, n := c.leader(t)
		future := n.raft.Apply(data, time.Second)
		if future.Error() != nil {
			return false
		}
		if err, _ := future.Response().(error); !errors.Is(err, ErrFenced) {
			t.Fatalf("stale command response = %v, want ErrFenced", future.Response())
		}
		return true
	})
	waitFor(t, "every member to refuse the stale command", func() bool {
		for _, n := range c.nodes {
			if n.Refused() == 0 {
				return false
			}
		}
		return true
	})
	c.converged(t, want)
}

func TestFlushOnFollowerFails(t *testing.T) {
	c := newTestCluster(t, 3)
	leaderAddr, _ := c.leader(t)

	for a, n := range c.nodes {
		if a == leaderAddr {
			continue
		}
		flush(t, n) // nothing staged: nothing to do
		n.Stage(Key{"installs", 0}, 1)
		if err := n.Flush(testContext(t)); !errors.Is(err, ErrNotLeader) {
			t.Errorf("flush on follower %s = %v, want ErrNotLeader", a, err)
		}
		if err := n.Close(); !errors.Is(err, ErrNotLeader) {
			t.Errorf("close of follower %s with staged cursors = %v", a, err)
		}
		return
	}
}
