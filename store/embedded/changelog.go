package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/xdrd/xdrd/store"
)

// logState is what the store keeps in memory about one namespace's change
// log. It is recovered from disk on first use after open.
type logState struct {
	// next is the Seq the next staged change gets. Guarded by writeMu.
	next store.Cursor
	// durable is the newest Seq whose batch is known synced; Tail and Last
	// never look past it, so nothing is shipped that a crash could undo
	// and whose Seq a later change would then reuse. Guarded by mu.
	durable store.Cursor
	// trimmed is the highest Seq that Trim dropped. Guarded by mu.
	trimmed store.Cursor
	// changed is closed, and dropped, when durable next moves; waiting
	// Tails wait on it. Guarded by mu.
	changed chan struct{}
}

// state returns the log state of ns, recovering it on first use: the
// newest Seq is the larger of the last change-log key and the trim mark.
func (s *Store) state(ns string) (*logState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.logs[ns]; st != nil {
		return st, nil
	}

	lo, hi := logBounds(ns)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, fmt.Errorf("recover change log of %s: %w", ns, err)
	}
	var newest store.Cursor
	if it.Last() {
		newest, err = logSeq(it.Key())
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("recover change log of %s: %w", ns, err)
	}
	trimmed, err := s.readTrimMark(ns)
	if err != nil {
		return nil, fmt.Errorf("recover change log of %s: %w", ns, err)
	}
	newest = max(newest, trimmed)
	st := &logState{next: newest + 1, durable: newest, trimmed: trimmed}
	s.logs[ns] = st
	return st, nil
}

func (s *Store) readTrimMark(ns string) (store.Cursor, error) {
	val, closer, err := s.db.Get(trimKey(ns))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(val) != 8 {
		return 0, fmt.Errorf("trim mark of %d bytes, want 8", len(val))
	}
	return store.Cursor(binary.BigEndian.Uint64(val)), nil
}

// published records that the changes of st up to seq are durable and
// wakes the Tails waiting for them. Pebble syncs its WAL in commit order,
// and batches commit in Seq order under writeMu, so a synced seq means
// every smaller one is synced too, whichever SyncWait returns first.
func (s *Store) published(st *logState, seq store.Cursor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq <= st.durable {
		return
	}
	st.durable = seq
	if st.changed != nil {
		close(st.changed)
		st.changed = nil
	}
}

// Tail returns changes of ns from from on, waiting up to wait for one; see
// store.Store.
func (s *Store) Tail(ctx context.Context, ns string, from store.Cursor, limit int,
	wait time.Duration) ([]store.Change, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("tail %s: max %d is not positive", ns, limit)
	}
	// Sequence numbers start at 1, so a cursor of 0 asks for the first.
	from = max(from, 1)
	return store.WaitTail(ctx, ns, wait, s.life.done, func() ([]store.Change, <-chan struct{}, error) {
		return s.tailOnce(ctx, ns, from, limit)
	})
}

// tailOnce reads the durable changes from from on, or, when there are
// none yet, returns a channel that is closed when there may be.
func (s *Store) tailOnce(ctx context.Context, ns string, from store.Cursor,
	limit int) ([]store.Change, <-chan struct{}, error) {
	if err := s.life.enter(ctx); err != nil {
		return nil, nil, err
	}
	defer s.life.leave()
	st, err := s.state(ns)
	if err != nil {
		return nil, nil, err
	}

	s.mu.Lock()
	trimmed, durable := st.trimmed, st.durable
	if from <= trimmed {
		s.mu.Unlock()
		return nil, nil, trimmedErr(ns, from, trimmed)
	}
	if from > durable {
		if st.changed == nil {
			st.changed = make(chan struct{})
		}
		changed := st.changed
		s.mu.Unlock()
		return nil, changed, nil
	}
	s.mu.Unlock()

	upTo := min(durable, from+store.Cursor(limit)-1)
	changes, err := s.readLog(ns, from, upTo)
	if errors.Is(err, store.ErrTrimmed) {
		// A Trim ran between the check above and the read.
		return nil, nil, trimmedErr(ns, from, upTo)
	}
	return changes, nil, err
}

// readLog reads the changes from from to upTo, which must all be held.
// A gap means a concurrent Trim removed them and is reported as
// store.ErrTrimmed, so Tail never skips a change silently.
func (s *Store) readLog(ns string, from, upTo store.Cursor) ([]store.Change, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: logKey(nil, ns, from),
		UpperBound: logKey(nil, ns, upTo+1),
	})
	if err != nil {
		return nil, fmt.Errorf("tail %s: %w", ns, err)
	}
	defer it.Close()

	changes := make([]store.Change, 0, upTo-from+1)
	want := from
	for valid := it.First(); valid; valid = it.Next() {
		seq, err := logSeq(it.Key())
		if err != nil {
			return nil, fmt.Errorf("tail %s: %w", ns, err)
		}
		if seq != want {
			return nil, store.ErrTrimmed
		}
		v, err := decodeValue(it.Value())
		if err != nil {
			return nil, fmt.Errorf("tail %s at %d: %w", ns, seq, err)
		}
		v.Namespace = ns
		changes = append(changes, store.Change{Seq: seq, Version: v})
		want++
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("tail %s: %w", ns, err)
	}
	if want != upTo+1 {
		return nil, store.ErrTrimmed
	}
	return changes, nil
}

func trimmedErr(ns string, from, trimmed store.Cursor) error {
	return fmt.Errorf("tail %s from %d, trimmed up to %d: %w", ns, from, trimmed, store.ErrTrimmed)
}

// Last returns the newest durable cursor of ns; see store.Store.
func (s *Store) Last(ctx context.Context, ns string) (store.Cursor, error) {
	if err := s.life.enter(ctx); err != nil {
		return 0, err
	}
	defer s.life.leave()
	st, err := s.state(ns)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return st.durable, nil
}

// Trim drops the changes of ns up to upTo with one range delete and moves
// the trim mark in the same batch; see store.Store. A cursor past the
// newest change trims only what exists. The batch is not synced: a trim
// lost in a crash only means changes come back that were already shipped.
func (s *Store) Trim(ctx context.Context, ns string, upTo store.Cursor) error {
	if err := s.life.enter(ctx); err != nil {
		return err
	}
	defer s.life.leave()
	st, err := s.state(ns)
	if err != nil {
		return err
	}

	s.trimMu.Lock()
	defer s.trimMu.Unlock()
	s.mu.Lock()
	upTo = min(upTo, st.durable)
	from := st.trimmed + 1
	s.mu.Unlock()
	if upTo < from {
		return nil
	}

	b := s.db.NewBatch()
	defer b.Close()
	_ = b.DeleteRange(logKey(nil, ns, from), logKey(nil, ns, upTo+1), nil)
	_ = b.Set(trimKey(ns), binary.BigEndian.AppendUint64(nil, uint64(upTo)), nil)
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("trim %s to %d: %w", ns, upTo, err)
	}
	s.mu.Lock()
	st.trimmed = upTo
	s.mu.Unlock()
	return nil
}
