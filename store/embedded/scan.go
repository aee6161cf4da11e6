package embedded

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// Scan calls fn for every stored version of ns in a matching partition
// (every partition when match is nil); see store.Store. Partitions are
// key ranges, so it seeks over the ones that do not match instead of
// reading them. It reads a consistent view of the store as of its start;
// fn may write to the store, but must not close it.
func (s *Store) Scan(ctx context.Context, ns string, match func(partition int) bool,
	fn func(record.Version) error) error {
	if err := s.life.enter(ctx); err != nil {
		return err
	}
	defer s.life.leave()

	var want [record.Partitions + 1]bool // want[Partitions] stays false: the end
	for p := range record.Partitions {
		want[p] = match == nil || match(p)
	}
	nextWanted := func(p int) int {
		for p < record.Partitions && !want[p] {
			p++
		}
		return p
	}

	lo, hi := recordBounds(ns)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("scan %s: %w", ns, err)
	}
	defer it.Close()

	var seek []byte
	p := nextWanted(0)
	valid := p < record.Partitions && it.SeekGE(partitionKey(seek[:0], ns, p))
	for valid {
		q, err := keyPartition(it.Key(), ns)
		if err != nil {
			return fmt.Errorf("scan %s: %w", ns, err)
		}
		if !want[q] {
			if p = nextWanted(q + 1); p == record.Partitions {
				break
			}
			seek = partitionKey(seek[:0], ns, p)
			valid = it.SeekGE(seek)
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scan %s: %w", ns, err)
		}
		v, err := decodeValue(it.Value())
		if err != nil {
			return fmt.Errorf("scan %s: %w", ns, err)
		}
		v.Namespace = ns
		if err := fn(v); err != nil {
			return err
		}
		valid = it.Next()
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("scan %s: %w", ns, err)
	}
	return nil
}

// Purge removes the tombstones and expired versions of ns that
// store.Purgeable selects for before; see store.Store. It works in chunks,
// each under writeMu so no write lands between its decision and its
// delete, and releases writeMu between chunks so writers are not stalled
// for a whole namespace.
func (s *Store) Purge(ctx context.Context, ns string, before time.Time) (int, error) {
	if err := s.life.enter(ctx); err != nil {
		return 0, err
	}
	defer s.life.leave()

	from, hi := recordBounds(ns)
	total := 0
	for from != nil {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("purge %s: %w", ns, err)
		}
		n, next, err := s.purgeChunk(from, hi, before)
		total += n
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", ns, err)
		}
		from = next
	}
	return total, nil
}

const (
	// purgeChunk is how many records one purge step looks at under writeMu.
	purgeChunk = 1024
	// rangeDeleteMin is the shortest run of adjacent purgeable records
	// deleted with one range tombstone instead of point deletes; shorter
	// runs would litter reads with tiny range tombstones.
	rangeDeleteMin = 4
)

// purgeChunk deletes the purgeable records among the first purgeChunk
// ones in [from, hi) and returns how many, and where the next chunk
// starts (nil at the end).
func (s *Store) purgeChunk(from, hi []byte, before time.Time) (int, []byte, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: hi})
	if err != nil {
		return 0, nil, err
	}
	defer it.Close()
	b := s.db.NewBatch()
	defer b.Close()

	var run [][]byte // adjacent purgeable keys, not yet staged
	flush := func() {
		if len(run) >= rangeDeleteMin {
			_ = b.DeleteRange(run[0], successor(run[len(run)-1]), nil)
		} else {
			for _, k := range run {
				_ = b.Delete(k, nil)
			}
		}
		run = run[:0]
	}

	n, seen := 0, 0
	var next []byte
	for valid := it.First(); valid; valid = it.Next() {
		if seen == purgeChunk {
			next = append([]byte(nil), it.Key()...)
			break
		}
		seen++
		m, err := decodeMeta(it.Value())
		if err != nil {
			return 0, nil, err
		}
		if !store.Purgeable(m, before) {
			flush()
			continue
		}
		k := append([]byte(nil), it.Key()...)
		// Forgetting is safe even if the commit below fails: the next
		// read-decide-commit just reads the record again.
		s.metas.forget(k)
		run = append(run, k)
		n++
	}
	flush()
	if err := it.Error(); err != nil {
		return 0, nil, err
	}
	if b.Empty() {
		return 0, next, nil
	}
	// Unsynced: a purge lost in a crash is redone by the next one, and a
	// later synced write makes it durable anyway (the WAL is in order).
	if err := b.Commit(pebble.NoSync); err != nil {
		return 0, nil, err
	}
	return n, next, nil
}
