package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// warnEvery rate-limits the committer's warnings while commits keep failing.
const warnEvery = 10 * time.Second

// Stage records that the stream k has progressed to cursor. Staged
// cursors are merged in memory, keeping the highest per key, and
// committed in one raft apply per CommitInterval: by the leader itself,
// or, on any other member, by sending them to the leader through the
// Relay. Stage never waits for raft.
//
// A cursor is committed only in the raft term it was staged in: one
// staged by a leader that has since been deposed is dropped and counted as
// refused, so a member that wakes up after losing its place cannot move
// checkpoints with what it did before.
func (n *Node) Stage(k Key, cursor uint64) {
	term := n.raft.CurrentTerm()
	n.stageMu.Lock()
	defer n.stageMu.Unlock()
	switch s, ok := n.staged[k]; {
	case !ok || term > s.term:
		if ok {
			n.metrics.refused.WithLabelValues(reasonStale).Inc()
		}
		n.staged[k] = staged{cursor: cursor, term: term}
	case term == s.term && cursor > s.cursor:
		n.staged[k] = staged{cursor: cursor, term: term}
	}
}

// staged is a cursor waiting to be committed, with the term it was
// staged in.
type staged struct {
	cursor uint64
	term   uint64
}

// Flush commits everything staged so far: the leader waits until it is
// applied, any other member until the leader has taken it.
func (n *Node) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case n.flushCh <- reply:
	case <-n.committerDone:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("flush checkpoints: %w", ctx.Err())
	}

	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("flush checkpoints: %w", ctx.Err())
	}
}

// runCommitter is the only goroutine that proposes checkpoints.
func (n *Node) runCommitter() {
	defer close(n.committerDone)

	ticker := time.NewTicker(n.cfg.CommitInterval)
	defer ticker.Stop()

	var lastWarn time.Time
	var suppressed int
	for {
		select {
		case <-n.stopCommitter:
			return
		case reply := <-n.flushCh:
			reply <- n.commit()
		case <-ticker.C:
			err := n.commit()
			if err == nil {
				continue
			}
			if time.Since(lastWarn) < warnEvery {
				suppressed++
				continue
			}
			n.log.Warn("commit checkpoints", zap.Error(err), zap.Int("suppressed", suppressed))
			lastWarn, suppressed = time.Now(), 0
		}
	}
}

// commit proposes the staged cursors that are ahead of the committed ones
// as one raft command and waits for it to be applied; a member that does
// not lead relays them to the leader instead. A batch that fails for a
// transient reason is staged again; a fenced batch is dropped, because it
// was proposed by a leader that has since been deposed.
func (n *Node) commit() error {
	term := n.raft.CurrentTerm()
	batch := n.takeStaged(term)
	if len(batch) == 0 {
		return nil
	}
	if !n.IsLeader() {
		return n.relay(term, batch)
	}

	start := time.Now()
	index, err := n.propose(command{Term: term, Cursors: sortedEntries(batch)})
	if err != nil {
		if errors.Is(err, ErrFenced) {
			n.metrics.refused.WithLabelValues(reasonFenced).Add(float64(len(batch)))
		} else {
			n.restage(term, batch)
		}
		return fmt.Errorf("apply checkpoints: %w", err)
	}

	n.metrics.commit.Observe(time.Since(start).Seconds())
	n.log.Debug("committed checkpoints", zap.Int("cursors", len(batch)),
		zap.Uint64("index", index), zap.Duration("took", time.Since(start)))
	return nil
}

// propose commits one command through raft and returns its log index, or
// the error that raft or the state machine gave.
func (n *Node) propose(c command) (uint64, error) {
	data, err := encode(c)
	if err != nil {
		return 0, err
	}
	future := n.raft.Apply(data, applyEnqueueTimeout)
	if err := future.Error(); err != nil {
		return 0, err
	}
	if err, ok := future.Response().(error); ok && err != nil {
		return future.Index(), err
	}
	return future.Index(), nil
}

// takeStaged empties the staging map and returns the cursors in it that
// were staged in term and move a committed cursor forward. Cursors of an
// earlier term are counted as refused.
func (n *Node) takeStaged(term uint64) map[Key]uint64 {
	n.stageMu.Lock()
	all := n.staged
	n.staged = make(map[Key]staged)
	n.stageMu.Unlock()

	batch := make(map[Key]uint64, len(all))
	stale := 0
	for k, s := range all {
		switch {
		case s.term != term:
			stale++
		case s.cursor > n.fsm.cursor(k):
			batch[k] = s.cursor
		}
	}
	if stale > 0 {
		n.metrics.refused.WithLabelValues(reasonStale).Add(float64(stale))
		n.log.Info("dropped cursors staged in an earlier term", zap.Int("cursors", stale),
			zap.Uint64("term", term))
	}
	return batch
}

// restage merges a batch of term that was not committed back into the
// staging map.
func (n *Node) restage(term uint64, batch map[Key]uint64) {
	n.stageMu.Lock()
	defer n.stageMu.Unlock()
	for k, c := range batch {
		if s := n.staged[k]; s.term <= term {
			n.staged[k] = staged{cursor: max(s.cursor, c), term: term}
		}
	}
}

// WaitLeader returns once this member is the leader and every entry
// committed before its term has been applied to the checkpoints, so that
// Cursor reflects all progress made by earlier leaders. It also commits
// an empty command in the new term, which raises the fence against
// commands still in flight from a deposed leader.
func (n *Node) WaitLeader(ctx context.Context) error {
	recheck := time.NewTicker(leaderRecheck)
	defer recheck.Stop()

	var lastErr error
	for {
		changed := n.leaderChanged()
		switch n.raft.State() {
		case raft.Shutdown:
			return fmt.Errorf("wait for leadership: %w", ErrClosed)
		case raft.Leader:
			// An error usually means leadership was lost meanwhile;
			// wait for the next change.
			if lastErr = n.ensureEstablished(); lastErr == nil {
				return nil
			}
		}

		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("wait for leadership: %w (last attempt: %w)", ctx.Err(), lastErr)
			}
			return fmt.Errorf("wait for leadership: %w", ctx.Err())
		case <-changed:
		case <-recheck.C:
		}
	}
}

// Established reports whether this member leads and has established its
// term (see WaitLeader).
func (n *Node) Established() bool {
	return n.IsLeader() && n.establishedTerm.Load() == n.raft.CurrentTerm()
}

// ensureEstablished establishes the current term once.
func (n *Node) ensureEstablished() error {
	term := n.raft.CurrentTerm()
	if n.establishedTerm.Load() == term {
		return nil
	}
	n.establishMu.Lock()
	defer n.establishMu.Unlock()
	if n.establishedTerm.Load() == term {
		return nil
	}
	if err := n.establish(term); err != nil {
		return err
	}
	n.establishedTerm.Store(term)
	n.signalChange()
	return nil
}

// establish waits for the log of earlier terms to be applied, then
// commits an empty command carrying the current term.
func (n *Node) establish(term uint64) error {
	if err := n.raft.Barrier(applyEnqueueTimeout).Error(); err != nil {
		return fmt.Errorf("apply earlier terms: %w", err)
	}

	if _, err := n.propose(command{Term: term}); err != nil {
		return fmt.Errorf("raise fence: %w", err)
	}
	return nil
}

// leaderChanged returns a channel closed at the next leadership change.
func (n *Node) leaderChanged() <-chan struct{} {
	n.changeMu.Lock()
	defer n.changeMu.Unlock()
	return n.changed
}

// signalChange wakes everyone waiting in WaitLeader.
func (n *Node) signalChange() {
	n.changeMu.Lock()
	close(n.changed)
	n.changed = make(chan struct{})
	n.changeMu.Unlock()
}

// watch logs leadership changes and wakes WaitLeader on each of them.
func (n *Node) watch(obs <-chan raft.Observation) {
	defer close(n.watchDone)
	for {
		select {
		case <-n.stopWatch:
			return
		case o := <-obs:
			switch d := o.Data.(type) {
			case raft.FailedHeartbeatObservation:
				n.markReachable(d.PeerID, false)
				continue
			case raft.ResumedHeartbeatObservation:
				n.markReachable(d.PeerID, true)
				continue
			case raft.PeerObservation:
				n.markReachable(d.Peer.ID, true)
				n.wakeBalancer()
				continue
			case raft.RaftState:
				if d == raft.Leader {
					n.forgetReachability()
				}
				role := strings.ToLower(d.String())
				n.metrics.setRole(role)
				n.log.Info("raft state changed", zap.String("state", role),
					zap.Uint64("term", n.Term()))
			case raft.LeaderObservation:
				if d.LeaderID != "" {
					n.metrics.leaderChanges.Inc()
				}
				n.log.Info("raft leader changed", zap.String("leader-id", string(d.LeaderID)),
					zap.String("leader-address", string(d.LeaderAddr)))
			}
			n.signalChange()
		}
	}
}

// IsLeader reports whether this member currently leads the group.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// State returns this member's raft role: "leader", "follower",
// "candidate" or "shutdown".
func (n *Node) State() string { return strings.ToLower(n.raft.State().String()) }

// Term returns this member's current raft term.
func (n *Node) Term() uint64 { return n.raft.CurrentTerm() }

// Healthy returns nil when this member is running and knows a leader, and
// otherwise an error that says why not.
func (n *Node) Healthy() error {
	if n.closed.Load() {
		return ErrClosed
	}
	if n.raft.State() == raft.Shutdown {
		return errors.New("checkpoint: raft is shut down")
	}
	if addr, id := n.raft.LeaderWithID(); addr == "" && id == "" {
		return fmt.Errorf("%w: state %s, term %d", ErrNoLeader, n.State(), n.Term())
	}
	return nil
}
