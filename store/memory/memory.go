// Package memory is the memory:// store driver: records in maps under
// sharded locks and one change log per namespace in a slice. It keeps
// nothing across restarts. Tests and demos use it, and benchmarks use it to
// measure the data path without a storage engine in the way.
package memory

import (
	"context"
	"fmt"
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
	shards [shardCount]shard

	logsMu sync.RWMutex
	logs   map[string]*changeLog

	closed    atomic.Bool
	done      chan struct{} // closed by Close, to wake waiting Tails
	closeOnce sync.Once
}

type shard struct {
	mu sync.RWMutex
	// records maps namespace → (set, key) → the stored version.
	records map[string]map[address]entry
}

type address struct{ set, key string }

type entry struct {
	v         record.Version
	partition uint16 // kept so that Scan need not hash every key again
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
		logs:   map[string]*changeLog{},
		done:   make(chan struct{}),
	}
	for i := range s.shards {
		s.shards[i].records = map[string]map[address]entry{}
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
		v.Bins = clone(bins)
	}
	if err := v.Validate(); err != nil {
		return record.Version{}, fmt.Errorf("%s %s/%s: %w", op, set, key, err)
	}

	part := record.Partition(set, key)
	log := s.log(ns)
	sh := &s.shards[part%shardCount]
	sh.mu.Lock()
	defer sh.mu.Unlock()

	recs := sh.namespace(ns)
	addr := address{set, key}
	v.Generation = 1
	if cur, ok := recs[addr]; ok {
		v.Generation = cur.v.Generation + 1
		// The stored LUT may come from a clock this one never saw (a
		// version kept from before a restart), and the new write must
		// still sort after it.
		s.clock.Observe(cur.v.LUT)
	}
	v.LUT = s.clock.Now()
	recs[addr] = entry{v: v, partition: uint16(part)}
	log.append(v)
	return v, nil
}

// Get returns the stored version; see store.Store.
func (s *Store) Get(ctx context.Context, ns, set, key string) (record.Version, bool, error) {
	if err := s.check(ctx); err != nil {
		return record.Version{}, false, err
	}
	sh := &s.shards[record.Partition(set, key)%shardCount]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, ok := sh.records[ns][address{set, key}]
	return e.v, ok, nil
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
	recs := sh.namespace(in.Namespace)
	addr := address{in.Set, in.Key}
	var res store.Result
	var stored *record.Meta
	if cur, ok := recs[addr]; ok {
		res.Previous, res.HadPrevious = cur.v.Meta, true
		stored = &res.Previous
	}
	res.Outcome = conflict.Resolve(p, stored, in.Meta)
	if res.Outcome == conflict.Applied {
		v := *in
		v.Bins = clone(in.Bins)
		recs[addr] = entry{v: v, partition: uint16(part)}
		log.append(v)
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

// namespace returns the shard's records of ns, creating the map on first
// write. The caller holds the shard's write lock.
func (sh *shard) namespace(ns string) map[address]entry {
	recs := sh.records[ns]
	if recs == nil {
		recs = map[address]entry{}
		sh.records[ns] = recs
	}
	return recs
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
