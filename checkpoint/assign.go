package checkpoint

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/internal/lograte"
)

// balanceEvery is how often the leader compares the assignment in force
// with the members it can reach.
const balanceEvery = 250 * time.Millisecond

// Assignment says which members ship which shards. The shards of each
// namespace are dealt round the members in turn, starting at a member
// chosen by the namespace's name, so every member ships about as many
// shards as the others and a namespace of one shard does not always land
// on the same member.
type Assignment struct {
	// Epoch is the raft index of the command that made the assignment; 0
	// before the first one, when no member owns anything.
	Epoch uint64 `json:"epoch"`
	// Members are the IDs of the members that own shards, sorted.
	Members []string `json:"members"`
}

// Owner returns the ID of the member that ships shard of namespace, or ""
// when no member owns shards.
func (a Assignment) Owner(namespace string, shard int) string {
	if len(a.Members) == 0 {
		return ""
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(namespace))
	return a.Members[(uint64(h.Sum32())+uint64(shard))%uint64(len(a.Members))]
}

// Count returns how many of the shards of a namespace with shards shards
// member owns.
func (a Assignment) Count(member, namespace string, shards int) int {
	n := 0
	for s := range shards {
		if a.Owner(namespace, s) == member {
			n++
		}
	}
	return n
}

// Member is one server of the group's raft configuration.
type Member struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	// Role is "leader" for the member this one knows as leader, otherwise
	// "follower"; a member cannot see the others' own view.
	Role string `json:"role"`
	// Voter is false for a member that replicates without voting.
	Voter bool `json:"voter"`
	// Reachable is false for a member the leader could not heartbeat; only
	// the leader knows, so other members report every one as reachable.
	Reachable bool `json:"reachable"`
}

// ErrNotLeader is returned by operations that only the leader can do.
var ErrNotLeader = errors.New("checkpoint: not the leader")

// ID is this member's raft server ID.
func (n *Node) ID() string { return n.cfg.ID }

// Leader returns the ID of the member this one knows as leader, or "".
func (n *Node) Leader() string {
	_, id := n.raft.LeaderWithID()
	return string(id)
}

// InContact reports whether this member may act on the assignment it
// holds: it leads, or it heard from a leader within the raft timeout. A
// member cut off from the leader, or removed from the group (a removed
// member is no longer sent the log), stops shipping instead of shipping
// shards that have moved on.
func (n *Node) InContact() bool {
	if n.IsLeader() {
		return true
	}
	return n.Leader() != "" && time.Since(n.raft.LastContact()) <= n.cfg.Timeout
}

// Assignment returns the assignment in force as this member has applied it.
func (n *Node) Assignment() Assignment { return n.fsm.currentAssignment() }

// Owns reports whether this member ships shard of namespace.
func (n *Node) Owns(namespace string, shard int) bool {
	return n.Assignment().Owner(namespace, shard) == n.cfg.ID
}

// Changes returns a channel that is closed at the next change of leader,
// of this member's raft state or of the assignment.
func (n *Node) Changes() <-chan struct{} { return n.leaderChanged() }

// Members lists the group's raft configuration.
func (n *Node) Members() ([]Member, error) {
	future := n.raft.GetConfiguration()
	if err := future.Error(); err != nil {
		return nil, fmt.Errorf("read raft configuration: %w", err)
	}
	leader := n.Leader()
	down := n.unreachable()
	var out []Member
	for _, s := range future.Configuration().Servers {
		role := "follower"
		if string(s.ID) == leader {
			role = "leader"
		}
		out = append(out, Member{
			ID: string(s.ID), Address: string(s.Address), Role: role,
			Voter: s.Suffrage == raft.Voter, Reachable: !down[s.ID],
		})
	}
	return out, nil
}

// RemoveMember takes a member out of the group; its shards move to the
// others. Only the leader can do it.
func (n *Node) RemoveMember(id string) error {
	if !n.IsLeader() {
		return fmt.Errorf("remove member %s: %w (leader %q)", id, ErrNotLeader, n.Leader())
	}
	if err := n.raft.RemoveServer(raft.ServerID(id), 0, applyEnqueueTimeout).Error(); err != nil {
		return fmt.Errorf("remove member %s: %w", id, err)
	}
	n.log.Info("member removed", zap.String("member", id))
	n.wakeBalancer()
	return nil
}

// AddMember adds a voting member, or changes the address of one already
// in the group. Only the leader can do it.
func (n *Node) AddMember(id, address string) error {
	if !n.IsLeader() {
		return fmt.Errorf("add member %s: %w (leader %q)", id, ErrNotLeader, n.Leader())
	}
	err := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(address), 0,
		applyEnqueueTimeout).Error()
	if err != nil {
		return fmt.Errorf("add member %s at %s: %w", id, address, err)
	}
	n.log.Info("member added", zap.String("member", id), zap.String("address", address))
	n.wakeBalancer()
	return nil
}

// runBalancer does the leader's duties: once per term it establishes the
// leader (see establish), and while it leads it keeps the assignment equal
// to the voters it can reach. It is the only goroutine that proposes
// assignments.
func (n *Node) runBalancer() {
	defer close(n.balancerDone)

	ticker := time.NewTicker(balanceEvery)
	defer ticker.Stop()
	warn := lograte.New(warnEvery)
	for {
		select {
		case <-n.stopBalancer:
			return
		case <-ticker.C:
		case <-n.balance:
		}
		if !n.IsLeader() {
			continue
		}
		err := n.rebalance()
		if err == nil || !n.IsLeader() || errors.Is(err, raft.ErrLeadershipTransferInProgress) {
			continue
		}
		if ok, held := warn.Allow(time.Now()); ok {
			n.log.Warn("assign shards", zap.Error(err), zap.Int("suppressed", held))
		}
	}
}

// rebalance proposes a new assignment when the voters this leader can
// reach differ from the members of the one in force.
func (n *Node) rebalance() error {
	if err := n.ensureEstablished(); err != nil {
		return err
	}
	future := n.raft.GetConfiguration()
	if err := future.Error(); err != nil {
		return fmt.Errorf("read raft configuration: %w", err)
	}
	down := n.unreachable()
	var want []string
	for _, s := range future.Configuration().Servers {
		if s.Suffrage == raft.Voter && (!down[s.ID] || string(s.ID) == n.cfg.ID) {
			want = append(want, string(s.ID))
		}
	}
	slices.Sort(want)
	have := n.Assignment()
	if slices.Equal(want, have.Members) {
		return nil
	}

	index, err := n.propose(command{Term: n.raft.CurrentTerm(), Assign: true, Members: want})
	if err != nil {
		return fmt.Errorf("propose assignment: %w", err)
	}
	n.log.Info("shards assigned", zap.Strings("members", want),
		zap.Strings("previous-members", have.Members), zap.Uint64("epoch", index))
	return nil
}

// wakeBalancer asks the balancer to look again now.
func (n *Node) wakeBalancer() {
	select {
	case n.balance <- struct{}{}:
	default:
	}
}

// markReachable records what the leader learned about a member's
// heartbeats; the balancer moves the shards of unreachable members.
func (n *Node) markReachable(id raft.ServerID, reachable bool) {
	n.downMu.Lock()
	changed := n.down[id] == reachable
	if reachable {
		delete(n.down, id)
	} else {
		n.down[id] = true
	}
	n.downMu.Unlock()
	if changed {
		n.log.Info("member reachability changed", zap.String("member", string(id)),
			zap.Bool("reachable", reachable))
		n.wakeBalancer()
	}
}

// forgetReachability clears what an earlier term learned: a new leader
// learns it again from its own heartbeats.
func (n *Node) forgetReachability() {
	n.downMu.Lock()
	clear(n.down)
	n.downMu.Unlock()
}

func (n *Node) unreachable() map[raft.ServerID]bool {
	n.downMu.Lock()
	defer n.downMu.Unlock()
	out := make(map[raft.ServerID]bool, len(n.down))
	for id := range n.down {
		out[id] = true
	}
	return out
}
