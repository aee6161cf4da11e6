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
// committed in one raft apply per CommitInterval. Stage never waits for
// raft. Staging on a member that is not the leader keeps the cursor until
// the member becomes leader or closes.
func (n *Node) Stage(k Key, cursor uint64) {
	n.stageMu.Lock()
	if cursor > n.staged[k] {
		n.staged[k] = cursor
	}
	n.stageMu.Unlock()
}

// Flush commits everything staged so far and waits until it is applied.
// It fails on a member that is not the leader when something is staged.
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
			if !n.IsLeader() {
				continue
			}
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
// as one raft command and waits for it to be applied. A batch that fails
// for a transient reason is staged again; a fenced batch is dropped,
// because it was proposed by a leader that has since been deposed.
func (n *Node) commit() error {
	batch := n.takeStaged()
	if len(batch) == 0 {
		return nil
	}

	start := time.Now()
	data, err := encodeCommand(n.raft.CurrentTerm(), batch)
	if err != nil {
		n.restage(batch)
		return err
	}

	future := n.raft.Apply(data, applyEnqueueTimeout)
	if err := future.Error(); err != nil {
		n.restage(batch)
		return fmt.Errorf("apply checkpoints: %w", err)
	}
	if err, ok := future.Response().(error); ok && err != nil {
		if !errors.Is(err, ErrFenced) {
			n.restage(batch)
		}
		return fmt.Errorf("apply checkpoints: %w", err)
	}

	n.metrics.commit.Observe(time.Since(start).Seconds())
	n.log.Debug("committed checkpoints", zap.Int("cursors", len(batch)),
		zap.Uint64("index", future.Index()), zap.Duration("took", time.Since(start)))
	return nil
}

// takeStaged empties the staging map and returns the cursors in it that
// move a committed cursor forward.
func (n *Node) takeStaged() map[Key]uint64 {
	n.stageMu.Lock()
	staged := n.staged
	n.staged = make(map[Key]uint64)
	n.stageMu.Unlock()

	for k, c := range staged {
		if c <= n.fsm.cursor(k) {
			delete(staged, k)
		}
	}
	return staged
}

// restage merges a batch that was not committed back into the staging map.
func (n *Node) restage(batch map[Key]uint64) {
	n.stageMu.Lock()
	defer n.stageMu.Unlock()
	for k, c := range batch {
		n.staged[k] = max(n.staged[k], c)
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
			if lastErr = n.establish(); lastErr == nil {
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

// establish waits for the log of earlier terms to be applied, then
// commits an empty command carrying the current term.
func (n *Node) establish() error {
	if err := n.raft.Barrier(applyEnqueueTimeout).Error(); err != nil {
		return fmt.Errorf("apply earlier terms: %w", err)
	}

	data, err := encodeCommand(n.raft.CurrentTerm(), nil)
	if err != nil {
		return err
	}
	future := n.raft.Apply(data, applyEnqueueTimeout)
	if err := future.Error(); err != nil {
		return fmt.Errorf("raise fence: %w", err)
	}
	if err, ok := future.Response().(error); ok && err != nil {
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
			case raft.RaftState:
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
