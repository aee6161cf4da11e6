package checkpoint

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/vmihailenco/msgpack/v5"
	"go.uber.org/zap"
)

// Key names one replication stream whose progress is checkpointed: a
// namespace and one of its shards.
type Key struct {
	Namespace string
	Shard     int
}

// entry is one cursor as it is encoded in commands and snapshots.
type entry struct {
	Namespace string `msgpack:"namespace"`
	Shard     int    `msgpack:"shard"`
	Cursor    uint64 `msgpack:"cursor"`
}

// command is the payload of every raft log entry this package writes, and
// also the layout of a snapshot.
type command struct {
	// Term is the raft term of the proposer when it proposed the command.
	// In a snapshot it is the highest term among the applied commands.
	Term uint64 `msgpack:"term"`

	// Cursors holds at most one entry per key, sorted by key.
	Cursors []entry `msgpack:"cursors"`

	// Assign, when true, replaces the members that own shards with
	// Members. In a snapshot, Members and Epoch are the assignment in force.
	Assign  bool     `msgpack:"assign,omitempty"`
	Members []string `msgpack:"members,omitempty"`
	Epoch   uint64   `msgpack:"epoch,omitempty"`
}

// encode turns a command into the bytes of a log entry.
func encode(c command) ([]byte, error) {
	data, err := msgpack.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("encode checkpoint command: %w", err)
	}
	return data, nil
}

// sortedEntries lists a cursor map in key order so that equal maps encode
// to equal bytes.
func sortedEntries(cursors map[Key]uint64) []entry {
	out := make([]entry, 0, len(cursors))
	for k, c := range cursors {
		out = append(out, entry{Namespace: k.Namespace, Shard: k.Shard, Cursor: c})
	}
	slices.SortFunc(out, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Shard, b.Shard))
	})
	return out
}

// fsm is the replicated state of a region's checkpoints. Every member
// applies the same commands in the same order, so every member ends with
// the same map.
type fsm struct {
	log *zap.Logger

	mu sync.RWMutex
	// cursors only grows: a key's cursor never decreases.
	cursors map[Key]uint64
	// term is the highest term of any applied command. A command proposed
	// in an earlier term comes from a deposed leader and is refused.
	term uint64

	// assignment says which members own shards; see assign.go.
	assignment Assignment

	// refused counts fenced commands since the process started; replaying
	// the log after a restart counts them again.
	refused atomic.Uint64

	// onAssign, when set, is called after an assignment is applied or
	// restored, outside the lock.
	onAssign func()
}

var _ raft.FSM = (*fsm)(nil)

func newFSM(log *zap.Logger) *fsm {
	return &fsm{log: log, cursors: make(map[Key]uint64)}
}

// Apply implements raft.FSM. The returned value is nil or an error that
// the proposer reads from ApplyFuture.Response.
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}

	c, err := decodeCommand(l.Data)
	if err != nil {
		// Every replica fails on the same bytes, so skipping the entry
		// keeps them identical.
		f.log.Warn("skip undecodable checkpoint command",
			zap.Uint64("index", l.Index), zap.Error(err))
		return fmt.Errorf("decode checkpoint command at index %d: %w", l.Index, err)
	}

	if err := f.apply(c, l.Index); err != nil {
		f.log.Warn("refuse checkpoint command", zap.Uint64("index", l.Index),
			zap.Uint64("command-term", c.Term), zap.Error(err))
		return err
	}
	if c.Assign && f.onAssign != nil {
		f.onAssign()
	}
	return nil
}

// apply merges c, the command at index, into the state unless c is fenced.
// An assignment takes the index as its epoch, which every replica agrees on.
func (f *fsm) apply(c command, index uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	if c.Term < f.term {
		f.refused.Add(1)
		return fmt.Errorf("%w: command term %d, applied term %d", ErrFenced, c.Term, f.term)
	}

	f.term = c.Term
	for _, e := range c.Cursors {
		k := Key{Namespace: e.Namespace, Shard: e.Shard}
		if e.Cursor > f.cursors[k] {
			f.cursors[k] = e.Cursor
		}
	}
	if c.Assign {
		f.assignment = Assignment{Epoch: index, Members: slices.Clone(c.Members)}
	}
	return nil
}

// cursor returns the committed cursor of k, 0 if none.
func (f *fsm) cursor(k Key) uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.cursors[k]
}

// currentAssignment returns a copy of the assignment in force.
func (f *fsm) currentAssignment() Assignment {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return Assignment{Epoch: f.assignment.Epoch, Members: slices.Clone(f.assignment.Members)}
}

// snapshotCursors returns a copy of the committed cursors.
func (f *fsm) snapshotCursors() map[Key]uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return maps.Clone(f.cursors)
}

// appliedTerm returns the fencing term.
func (f *fsm) appliedTerm() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.term
}

// Snapshot implements raft.FSM. It copies the state under the lock; the
// copy is encoded later, while raft keeps applying.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return &snapshot{state: command{
		Term: f.term, Cursors: sortedEntries(f.cursors),
		Members: slices.Clone(f.assignment.Members), Epoch: f.assignment.Epoch,
	}}, nil
}

// Restore implements raft.FSM. The snapshot replaces the whole state:
// nothing applied before survives.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()

	data, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("read checkpoint snapshot: %w", err)
	}
	st, err := decodeCommand(data)
	if err != nil {
		return fmt.Errorf("read checkpoint snapshot: %w", err)
	}

	cursors := make(map[Key]uint64, len(st.Cursors))
	for _, e := range st.Cursors {
		k := Key{Namespace: e.Namespace, Shard: e.Shard}
		cursors[k] = max(cursors[k], e.Cursor)
	}

	f.mu.Lock()
	f.cursors = cursors
	f.term = st.Term
	f.assignment = Assignment{Epoch: st.Epoch, Members: st.Members}
	f.mu.Unlock()
	if f.onAssign != nil {
		f.onAssign()
	}

	f.log.Debug("restored checkpoint snapshot",
		zap.Int("cursors", len(cursors)), zap.Uint64("term", st.Term))
	return nil
}

// snapshot is a point-in-time copy of the fsm state.
type snapshot struct {
	state command
}

// Persist implements raft.FSMSnapshot.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	data, err := msgpack.Marshal(&s.state)
	if err == nil {
		_, err = sink.Write(data)
	}
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("write checkpoint snapshot: %w", err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("close checkpoint snapshot: %w", err)
	}
	return nil
}

// Release implements raft.FSMSnapshot; the copy holds no resources.
func (s *snapshot) Release() {}

// Cursor returns the committed cursor of k, 0 if none. On a follower it
// may trail the leader by the replication delay.
func (n *Node) Cursor(k Key) uint64 { return n.fsm.cursor(k) }

// Cursors returns a copy of every committed cursor.
func (n *Node) Cursors() map[Key]uint64 { return n.fsm.snapshotCursors() }

// Refused returns how many commands the state machine has fenced since
// the process started.
func (n *Node) Refused() uint64 { return n.fsm.refused.Load() }
