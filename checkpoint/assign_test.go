package checkpoint

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// localRelay carries relayed batches between members of one process, as
// raft's in-memory transport does for raft itself; transport's NATS relay
// is tested against a real server.
type localRelay struct {
	mu       sync.Mutex
	handlers map[string]func([]byte) []byte
}

func newLocalRelay() *localRelay {
	return &localRelay{handlers: make(map[string]func([]byte) []byte)}
}

func (r *localRelay) Request(_ context.Context, member string, data []byte) ([]byte, error) {
	r.mu.Lock()
	h, ok := r.handlers[member]
	r.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no member %q listens", member)
	}
	return h(data), nil
}

func (r *localRelay) Serve(member string, handle func([]byte) []byte) (func(), error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[member] = handle
	return func() {
		r.mu.Lock()
		delete(r.handlers, member)
		r.mu.Unlock()
	}, nil
}

// assigned waits until every member in want has applied an assignment of
// exactly want and returns it. A removed member is left out: it no longer
// receives the log.
func (c *testCluster) assigned(t *testing.T, want ...string) Assignment {
	t.Helper()
	slices.Sort(want)
	var a Assignment
	waitFor(t, fmt.Sprintf("every member to assign shards to %v", want), func() bool {
		for _, id := range want {
			a = c.nodes[id].Assignment()
			if !slices.Equal(a.Members, want) {
				return false
			}
		}
		return true
	})
	return a
}

// refusedStale reads the member's count of stale cursors.
func (n *Node) refusedStale(t *testing.T) float64 {
	t.Helper()
	var m dto.Metric
	if err := n.metrics.refused.WithLabelValues(reasonStale).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func (c *testCluster) ids() []string {
	return slices.Collect(maps.Keys(c.nodes))
}

func TestAssignmentDealsShardsEvenly(t *testing.T) {
	a := Assignment{Epoch: 1, Members: []string{"a", "b", "c"}}
	for _, shards := range []int{1, 2, 16, 4096} {
		counts := map[string]int{}
		for s := range shards {
			counts[a.Owner("installs", s)]++
		}
		total := 0
		for _, m := range a.Members {
			total += counts[m]
			if counts[m] < shards/3 || counts[m] > shards/3+1 {
				t.Errorf("%d shards: member %s owns %d", shards, m, counts[m])
			}
			if got := a.Count(m, "installs", shards); got != counts[m] {
				t.Errorf("%d shards: Count(%s) = %d, want %d", shards, m, got, counts[m])
			}
		}
		if total != shards {
			t.Errorf("%d shards: owners cover %d", shards, total)
		}
	}
	if got := (Assignment{}).Owner("installs", 0); got != "" {
		t.Errorf("owner with no members = %q, want none", got)
	}
}

func TestLeaderAssignsEveryMember(t *testing.T) {
	c := newTestCluster(t, 3)
	a := c.assigned(t, c.ids()...)
	if a.Epoch == 0 {
		t.Fatal("assignment epoch = 0, want the index of its command")
	}
	for id, n := range c.nodes {
		if got := a.Count(id, "installs", 16); got < 5 {
			t.Errorf("member %s owns %d of 16 shards, want at least 5", id, got)
		}
		if n.ID() != id {
			t.Errorf("ID() = %q, want %q", n.ID(), id)
		}
	}
}

func TestFollowerCursorsCommitThroughLeader(t *testing.T) {
	c := newRelayCluster(t, 3, newLocalRelay())
	a := c.assigned(t, c.ids()...)
	leaderID, _ := c.leader(t)

	var follower *Node
	for id, n := range c.nodes {
		if id != leaderID {
			follower = n
			break
		}
	}
	var owned, foreign Key
	for s := range 16 {
		k := Key{"installs", s}
		if a.Owner(k.Namespace, s) == follower.ID() {
			owned = k
		} else {
			foreign = k
		}
	}

	follower.Stage(owned, 42)
	follower.Stage(foreign, 99)
	flush(t, follower)
	c.converged(t, map[Key]uint64{owned: 42})
	refused := follower.refusedStale(t)
	if refused != 1 {
		t.Errorf("follower counted %v refused cursors, want 1 (the shard it does not own)", refused)
	}
}

func TestCursorsOfAnEarlierTermAreRefused(t *testing.T) {
	c := newRelayCluster(t, 3, newLocalRelay())
	c.assigned(t, c.ids()...)
	oldID, old := c.leader(t)
	k := Key{"installs", 0}
	c.commit(t, map[Key]uint64{k: 10})

	// The leader stages progress, then loses its place before committing.
	old.Stage(k, 50)
	if err := old.raft.LeadershipTransfer().Error(); err != nil {
		t.Fatalf("transfer leadership: %v", err)
	}
	waitFor(t, "another member to lead", func() bool {
		id, _ := c.leader(t)
		return id != oldID
	})

	err := old.Flush(testContext(t))
	if err != nil {
		t.Fatalf("flush on the deposed leader: %v", err)
	}
	c.converged(t, map[Key]uint64{k: 10})
	if got := old.refusedStale(t); got != 1 {
		t.Errorf("deposed leader counted %v stale cursors, want 1", got)
	}
}

func TestRemovedMemberLosesItsShards(t *testing.T) {
	c := newTestCluster(t, 3)
	c.assigned(t, c.ids()...)
	leaderID, leader := c.leader(t)

	var gone string
	for id := range c.nodes {
		if id != leaderID {
			gone = id
			break
		}
	}
	var rest []string
	for id := range c.nodes {
		if id != gone {
			rest = append(rest, id)
		}
	}
	if err := leader.RemoveMember(gone); err != nil {
		t.Fatal(err)
	}
	c.assigned(t, rest...)
	// The removed member is sent nothing more, so it cannot learn that
	// its shards moved: it must notice that it lost the leader.
	waitFor(t, "the removed member to lose contact", func() bool {
		return !c.nodes[gone].InContact()
	})

	if err := leader.AddMember(gone, gone); err != nil {
		t.Fatal(err)
	}
	c.assigned(t, c.ids()...)
	waitFor(t, "the member added back to be in contact", c.nodes[gone].InContact)

	members, err := leader.Members()
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 {
		t.Fatalf("members = %v, want 3", members)
	}
	for _, m := range members {
		if want := m.ID == leaderID; (m.Role == "leader") != want {
			t.Errorf("member %s has role %s", m.ID, m.Role)
		}
	}
	if err := c.nodes[gone].RemoveMember(leaderID); err == nil {
		t.Error("a follower removed a member")
	}
}

func TestStoppedMemberLosesItsShards(t *testing.T) {
	c := newTestCluster(t, 3)
	c.assigned(t, c.ids()...)
	leaderID, _ := c.leader(t)
	for id := range c.nodes {
		if id != leaderID {
			c.stop(t, id)
			break
		}
	}
	c.assigned(t, c.ids()...)
}
