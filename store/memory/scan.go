package memory

import (
	"context"
	"time"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// Scan calls fn for every stored version of ns in a matching partition
// (every partition when match is nil); see store.Store. It copies one
// shard's matching versions at a time and calls fn without holding a
// lock, so fn may use the store.
func (s *Store) Scan(ctx context.Context, ns string, match func(partition int) bool,
	fn func(record.Version) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	var want [record.Partitions]bool
	for p := range want {
		want[p] = match == nil || match(p)
	}

	var batch []record.Version
	for i := range s.shards {
		if err := s.check(ctx); err != nil {
			return err
		}
		batch = s.shards[i].collect(ns, &want, batch[:0])
		for _, v := range batch {
			if err := fn(v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (sh *shard) collect(ns string, want *[record.Partitions]bool,
	dst []record.Version) []record.Version {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	t := sh.tables[ns]
	if t == nil {
		return dst
	}
	for i := range t.slots {
		if s := &t.slots[i]; s.used && want[s.partition] {
			dst = append(dst, t.version(int32(i)))
		}
	}
	return dst
}

// Purge removes the tombstones and expired versions of ns that
// store.Purgeable selects for before, and returns how many it removed.
func (s *Store) Purge(ctx context.Context, ns string, before time.Time) (int, error) {
	n := 0
	for i := range s.shards {
		if err := s.check(ctx); err != nil {
			return n, err
		}
		n += s.shards[i].purge(ns, before)
	}
	return n, nil
}

func (sh *shard) purge(ns string, before time.Time) int {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := 0
	t := sh.tables[ns]
	if t == nil {
		return 0
	}
	for i := range t.slots {
		if s := &t.slots[i]; s.used && store.Purgeable(s.meta, before) {
			t.remove(t.hashOf(int32(i)), int32(i))
			n++
		}
	}
	return n
}
