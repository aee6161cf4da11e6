package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// chunkSize is how many changes one chunk of a change log holds. The log
// grows and shrinks a chunk at a time, so appending never copies what is
// already held: one slice that grew by doubling would copy the whole
// backlog, under the lock, every time it outgrew its array.
const chunkSize = 4096

// changeLog is one namespace's change log: the changes still held, in
// order, in chunks, and the sequence number of the first of them.
type changeLog struct {
	ns string
	mu sync.Mutex
	// first is the Seq of the first change held, or of the next change when
	// none is held; everything below it was trimmed. It starts at 1.
	first store.Cursor
	// chunks hold the changes; the first held is chunks[0].changes[head].
	chunks []*logChunk
	head   int
	count  int
	// changed is closed, and dropped, by the next append; Tails wait on
	// it. It exists only while a Tail waits, so writes with nobody
	// waiting allocate nothing for it.
	changed chan struct{}
}

// logChunk holds up to chunkSize changes: their metadata in a pointer-free
// slice and their bytes in an arena of their own, which goes with the
// chunk when the log is trimmed past it.
type logChunk struct {
	changes []change
	data    arena
}

type change struct {
	meta record.Meta
	ref  ref
}

func newChangeLog(ns string) *changeLog { return &changeLog{ns: ns, first: 1} }

// log returns the change log of ns, creating it on first use.
func (s *Store) log(ns string) *changeLog {
	s.logsMu.RLock()
	l := s.logs[ns]
	s.logsMu.RUnlock()
	if l != nil {
		return l
	}

	s.logsMu.Lock()
	defer s.logsMu.Unlock()
	if l = s.logs[ns]; l == nil {
		l = newChangeLog(ns)
		s.logs[ns] = l
	}
	return l
}

// append copies v to the end of the log.
func (l *changeLog) append(v *record.Version) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.chunks); n == 0 || len(l.chunks[n-1].changes) == chunkSize {
		l.chunks = append(l.chunks, &logChunk{changes: make([]change, 0, chunkSize)})
	}
	c := l.chunks[len(l.chunks)-1]
	c.changes = append(c.changes, change{meta: v.Meta, ref: c.data.add(v.Set, v.Key, v.Bins)})
	l.count++
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// last is the newest Seq ever appended. The caller holds l.mu.
func (l *changeLog) last() store.Cursor {
	return l.first + store.Cursor(l.count) - 1
}

// read returns up to limit changes from from on, or, when there are none
// yet, a channel that is closed when one is appended. The changes share
// the log's bytes, which never change.
func (l *changeLog) read(from store.Cursor, limit int) ([]store.Change, <-chan struct{}, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Sequence numbers start at 1, so a cursor of 0 asks for the first.
	from = max(from, 1)
	if from < l.first {
		return nil, nil, fmt.Errorf("tail from %d, oldest held is %d: %w",
			from, l.first, store.ErrTrimmed)
	}
	if from > l.last() {
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		return nil, l.changed, nil
	}
	at := l.head + int(from-l.first)
	n := min(limit, l.count-int(from-l.first))
	out := make([]store.Change, n)
	for i := range out {
		c := l.chunks[at/chunkSize]
		ch := &c.changes[at%chunkSize]
		set, key, bins := c.data.get(ch.ref)
		out[i] = store.Change{Seq: from + store.Cursor(i), Version: record.Version{
			Namespace: l.ns, Set: set, Key: key, Meta: ch.meta, Bins: bins}}
		at++
	}
	return out, nil, nil
}

// Tail returns changes of ns from from on, waiting up to wait for one; see
// store.Store.
func (s *Store) Tail(ctx context.Context, ns string, from store.Cursor, limit int,
	wait time.Duration) ([]store.Change, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("tail %s: max %d is not positive", ns, limit)
	}
	l := s.log(ns)
	return store.WaitTail(ctx, ns, wait, s.done, func() ([]store.Change, <-chan struct{}, error) {
		if err := s.check(ctx); err != nil {
			return nil, nil, err
		}
		return l.read(from, limit)
	})
}

// Last returns the newest cursor of ns; see store.Store.
func (s *Store) Last(ctx context.Context, ns string) (store.Cursor, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	s.logsMu.RLock()
	l := s.logs[ns]
	s.logsMu.RUnlock()
	if l == nil {
		return 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last(), nil
}

// Trim drops the changes of ns up to upTo; see store.Store. A cursor past
// the newest change trims only what exists, so the sequence goes on from
// where it was.
func (s *Store) Trim(ctx context.Context, ns string, upTo store.Cursor) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	l := s.log(ns)
	l.mu.Lock()
	defer l.mu.Unlock()
	upTo = min(upTo, l.last())
	if upTo < l.first {
		return nil
	}
	n := int(upTo - l.first + 1)
	l.first = upTo + 1
	l.count -= n
	l.head += n
	// Chunks wholly behind the head go, with their bytes; the first one
	// left keeps its trimmed changes' bytes until the log moves past it.
	for len(l.chunks) > 0 && l.head >= len(l.chunks[0].changes) {
		l.head -= len(l.chunks[0].changes)
		l.chunks[0] = nil
		l.chunks = l.chunks[1:]
	}
	return nil
}
