// Package memory is the memory:// store driver: records in tables under
// sharded locks and one change log per namespace, both keeping versions'
// bytes in arenas (see arena). It keeps nothing across restarts. Tests and
// demos use it, and benchmarks use it to measure the data path without a
// storage engine in the way.
package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// shardCount is how many locks guard the records. A record's shard is its
// partition modulo shardCount, so writers of different keys rarely meet.
const shardCount = 64

// Store is an in-memory store.Store. Bins handed in are copied; bins handed
// out by Get, Tail and Scan are shared with the store and must not be
// modified.
type Store struct {
	region record.RegionID
	clock  *record.Clock
	seed   maphash.Seed
	shards [shardCount]shard

	logsMu sync.RWMutex
	logs   map[string]*changeLog

	closed    atomic.Bool
	done      chan struct{} // closed by Close, to wake waiting Tails
	closeOnce sync.Once
}

type shard struct {
	mu sync.RWMutex
	// tables maps namespace → its records in this shard.
	tables map[string]*table
}

var _ store.Store = (*Store)(nil)

// New returns an empty store for region whose local writes take their LUT
// from clock (a clock on the wall time when clock is nil).
func New(region record.RegionID, clock *record.Clock) *Store {
	if clock == nil {
		clock = record.NewClock(nil)
	}
	s := &Store{
		region: region,
		clock:  clock,
		seed:   maphash.MakeSeed(),
		logs:   map[string]*changeLog{},
		done:   make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i].tables = map[string]*table{}
	}
	return s
}

// Put writes bins locally; see store.Store.
func (s *Store) Put(ctx context.Context, ns, set, key string, bins []byte,
	expiry int64) (record.Version, error) {
	return s.write(ctx, "put", ns, set, key, bins, expiry, false)
}

// Delete writes a tombstone locally; see store.Store.
func (s *Store) Delete(ctx context.Context, ns, set, key string) (record.Version, error) {
	return s.write(ctx, "delete", ns, set, key, nil, 0, true)
}

func (s *Store) write(ctx context.Context, op, ns, set, key string, bins []byte,
	expiry int64, tombstone bool) (record.Version, error) {
	if err := s.check(ctx); err != nil {
		return record.Version{}, err
	}
	v := record.Version{
		Namespace: ns, Set: set, Key: key,
		// The LUT is stamped under the lock; until then a placeholder lets
		// Validate check everything else up front.
		Meta: record.Meta{LUT: 1, Origin: s.region, Expiry: expiry, Tombstone: tombstone},
	}
	if !tombstone {
		v.Bins = bins
	}
	if err := v.Validate(); err != nil {
		return record.Version{}, fmt.Errorf("%s %s/%s: %w", op, set, key, err)
	}

	part := record.Partition(set, key)
	log := s.log(ns)
	sh := &s.shards[part%shardCount]
	sh.mu.Lock()
	defer sh.mu.Unlock()

	t := sh.table(ns, s.seed)
	h := t.hash(set, key)
	v.Generation = 1
	at := t.locate(h, set, key)
	if at.found() {
		cur := t.slots[at.slot].meta
		v.Generation = cur.Generation + 1
		// The stored LUT may come from a clock this one never saw (a
		// version kept from before a restart), and the new write must
		// still sort after it.
		s.clock.Observe(cur.LUT)
	}
	v.LUT = s.clock.Now()
	i := t.put(h, at, &v, part)
	log.append(&v)
	// Hand back the stored bytes, not the caller's, which may change.
	return t.version(i), nil
}

// Get returns the stored version; see store.Store.
func (s *Store) Get(ctx context.Context, ns, set, key string) (record.Version, bool, error) {
	if err := s.check(ctx); err != nil {
		return record.Version{}, false, err
	}
	sh := &s.shards[record.Partition(set, key)%shardCount]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	t := sh.tables[ns]
	if t == nil {
		return record.Version{}, false, nil
	}
	at := t.locate(t.hash(set, key), set, key)
	if !at.found() {
		return record.Version{}, false, nil
	}
	return t.version(at.slot), true, nil
}

// Apply writes the versions that win over the stored ones; see
// store.Store. A version is resolved and written under its shard's lock,
// so no local write can slip between the decision and the write.
func (s *Store) Apply(ctx context.Context, p conflict.Policy,
	vs []record.Version) ([]store.Result, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	for i := range vs {
		if err := vs[i].Validate(); err != nil {
			return nil, fmt.Errorf("apply version %d (%s/%s): %w", i, vs[i].Set, vs[i].Key, err)
		}
	}
	results := make([]store.Result, len(vs))
	for i := range vs {
		results[i] = s.applyOne(p, &vs[i])
	}
	return results, nil
}

func (s *Store) applyOne(p conflict.Policy, in *record.Version) store.Result {
	part := record.Partition(in.Set, in.Key)
	log := s.log(in.Namespace)
	sh := &s.shards[part%shardCount]
	sh.mu.Lock()
	defer sh.mu.Unlock()

	s.clock.Observe(in.LUT)
	t := sh.table(in.Namespace, s.seed)
	h := t.hash(in.Set, in.Key)
	var res store.Result
	var stored *record.Meta
	at := t.locate(h, in.Set, in.Key)
	if at.found() {
		res.Previous, res.HadPrevious = t.slots[at.slot].meta, true
		stored = &res.Previous
	}
	res.Outcome = conflict.Resolve(p, stored, in.Meta)
	if res.Outcome == conflict.Applied {
		t.put(h, at, in, part)
		log.append(in)
	}
	return res
}

// Close makes every later call fail with store.ErrClosed and wakes waiting
// Tails. Closing twice returns store.ErrClosed.
func (s *Store) Close() error {
	err := store.ErrClosed
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		err = nil
	})
	return err
}

// check refuses calls on a closed store or with an ended context.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory store: %w", err)
	}
	return nil
}

// table returns the shard's records of ns, creating the table on first
// write. The caller holds the shard's write lock.
func (sh *shard) table(ns string, seed maphash.Seed) *table {
	t := sh.tables[ns]
	if t == nil {
		t = newTable(ns, seed)
		sh.tables[ns] = t
	}
	return t
}
