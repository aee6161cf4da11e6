package embedded

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// Put writes bins locally; see store.Store. It returns once the record and
// its change are durable.
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
	if err := s.life.enter(ctx); err != nil {
		return record.Version{}, err
	}
	defer s.life.leave()

	b := s.db.NewBatch()
	s.writeMu.Lock()
	st, k, err := s.stageWrite(b, &v)
	seq := st.next
	if err == nil {
		err = s.commitLocked(b)
	}
	if err == nil {
		st.next++
		s.metas.put(k, v.Meta)
	}
	s.writeMu.Unlock()
	if err != nil {
		_ = b.Close()
		return record.Version{}, fmt.Errorf("%s %s/%s: %w", op, set, key, err)
	}

	if err := s.syncWait(b); err != nil {
		return record.Version{}, fmt.Errorf("%s %s/%s: %w", op, set, key, err)
	}
	s.published(st, seq)
	return v, nil
}

// stageWrite stamps a local write on top of the stored version and stages
// it, with its change at the namespace's next Seq, in b. It returns the
// record's key. The caller holds writeMu.
func (s *Store) stageWrite(b *pebble.Batch, v *record.Version) (*logState, []byte, error) {
	st, err := s.state(v.Namespace)
	if err != nil {
		return &logState{}, nil, err
	}
	k := recordKey(nil, v.Namespace, record.Partition(v.Set, v.Key), v.Set, v.Key)
	cur, found := s.metas.get(k)
	if !found {
		if cur, found, err = s.readMeta(k); err != nil {
			return st, nil, err
		}
	}
	v.Generation = 1
	if found {
		v.Generation = cur.Generation + 1
		// The stored LUT may come from before a restart, from a clock
		// this one never saw; the new write must still sort after it.
		s.clock.Observe(cur.LUT)
	}
	v.LUT = s.clock.Now()
	s.stage(b, v, st.next)
	return st, k, nil
}

// stage adds a version and its change at seq to b. Both share one encoded
// value. The caller holds writeMu, which guards the scratch buffers.
func (s *Store) stage(b *pebble.Batch, v *record.Version, seq store.Cursor) {
	s.valBuf = appendValue(s.valBuf[:0], v)
	s.keyBuf = recordKey(s.keyBuf[:0], v.Namespace, record.Partition(v.Set, v.Key), v.Set, v.Key)
	_ = b.Set(s.keyBuf, s.valBuf, nil) // a batch's Set fails only on a closed batch
	s.keyBuf = logKey(s.keyBuf[:0], v.Namespace, seq)
	_ = b.Set(s.keyBuf, s.valBuf, nil)
}

// Apply writes the versions that win over the stored ones; see
// store.Store. The whole batch is one Pebble batch and one WAL sync.
func (s *Store) Apply(ctx context.Context, p conflict.Policy,
	vs []record.Version) ([]store.Result, error) {
	for i := range vs {
		if err := vs[i].Validate(); err != nil {
			return nil, fmt.Errorf("apply version %d (%s/%s): %w", i, vs[i].Set, vs[i].Key, err)
		}
	}
	if err := s.life.enter(ctx); err != nil {
		return nil, err
	}
	defer s.life.leave()

	results := make([]store.Result, len(vs))
	b := s.db.NewBatch()
	s.writeMu.Lock()
	staged, keys, err := s.stageApply(b, p, vs, results)
	if err == nil && b.Empty() {
		// Nothing won, but what was compared against may be a batch
		// still syncing; the caller acks on our word, so wait for it.
		mustSync := s.unsynced.Load() > 0
		s.writeMu.Unlock()
		_ = b.Close()
		if mustSync {
			if err := s.db.LogData(nil, pebble.Sync); err != nil {
				return nil, fmt.Errorf("apply %d versions: sync: %w", len(vs), err)
			}
		}
		return results, nil
	}
	if err == nil {
		err = s.commitLocked(b)
	}
	if err == nil {
		for st, seq := range staged {
			st.next = seq + 1
		}
		for i, r := range results {
			if r.Outcome == conflict.Applied {
				s.metas.put(keys[i], vs[i].Meta)
			}
		}
	}
	s.writeMu.Unlock()
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("apply %d versions: %w", len(vs), err)
	}

	if err := s.syncWait(b); err != nil {
		return nil, fmt.Errorf("apply %d versions: %w", len(vs), err)
	}
	for st, seq := range staged {
		s.published(st, seq)
	}
	return results, nil
}

// stageApply resolves every version against the stored one, or against an
// earlier version of the same record in this batch, and stages the winners
// in b. It fills results and returns the newest Seq staged per namespace
// and every version's record key. The caller holds writeMu.
func (s *Store) stageApply(b *pebble.Batch, p conflict.Policy, vs []record.Version,
	results []store.Result) (map[*logState]store.Cursor, [][]byte, error) {
	keys := make([][]byte, len(vs))
	for i := range vs {
		v := &vs[i]
		keys[i] = recordKey(nil, v.Namespace, record.Partition(v.Set, v.Key), v.Set, v.Key)
	}
	stored, err := s.readMetas(vs, keys)
	if err != nil {
		return nil, nil, err
	}

	staged := map[*logState]store.Cursor{}
	for i := range vs {
		in := &vs[i]
		s.clock.Observe(in.LUT)
		st, err := s.state(in.Namespace)
		if err != nil {
			return nil, nil, err
		}
		res := &results[i]
		var prev *record.Meta
		if stored[i].found {
			res.Previous, res.HadPrevious = stored[i].m, true
			prev = &res.Previous
		}
		res.Outcome = conflict.Resolve(p, prev, in.Meta)
		if res.Outcome != conflict.Applied {
			continue
		}
		// Later versions of the same record in this batch meet this one.
		for j := stored[i].next; j > 0; j = stored[j].next {
			stored[j].m, stored[j].found = in.Meta, true
		}
		seq, ok := staged[st]
		if !ok {
			seq = st.next - 1
		}
		seq++
		staged[st] = seq
		s.stage(b, in, seq)
	}
	return staged, keys, nil
}

// storedMeta is what readMetas found for one version of a batch.
type storedMeta struct {
	m     record.Meta
	found bool
	// next is the index of the batch's next version of the same record,
	// or 0 when there is none (index 0 is never a next).
	next int
}

// readMetas finds the stored metadata of every version's record: in the
// cache, or else with one iterator that seeks the missing keys in order,
// which costs less than a Get per key. The caller holds writeMu.
func (s *Store) readMetas(vs []record.Version, keys [][]byte) ([]storedMeta, error) {
	order := make([]int, len(vs))
	for i := range order {
		order[i] = i
	}
	// Stable, so the versions of one record stay in batch order.
	slices.SortStableFunc(order, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })

	out := make([]storedMeta, len(vs))
	var it *pebble.Iterator
	defer func() {
		if it != nil {
			_ = it.Close()
		}
	}()
	for n, i := range order {
		if n > 0 && bytes.Equal(keys[order[n-1]], keys[i]) {
			prev := order[n-1]
			out[i] = storedMeta{m: out[prev].m, found: out[prev].found}
			out[prev].next = i
			continue
		}
		if m, ok := s.metas.get(keys[i]); ok {
			out[i].m, out[i].found = m, true
			continue
		}
		if it == nil {
			var err error
			it, err = s.db.NewIter(&pebble.IterOptions{
				LowerBound: []byte{recordPrefix}, UpperBound: []byte{recordPrefix + 1},
			})
			if err != nil {
				return nil, err
			}
		}
		// A prefix seek is a point lookup that bloom filters can skip.
		if it.SeekPrefixGE(keys[i]) && bytes.Equal(it.Key(), keys[i]) {
			m, err := decodeMeta(it.Value())
			if err != nil {
				return nil, fmt.Errorf("read %s/%s: %w", vs[i].Set, vs[i].Key, err)
			}
			out[i].m, out[i].found = m, true
			s.metas.put(keys[i], m)
		}
	}
	if it != nil {
		if err := it.Error(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// commitLocked applies b to the memtable, making it visible to the next
// writer, and queues its WAL sync without waiting for it. The caller holds
// writeMu and must call syncWait after releasing it.
//
// Pebble marks ApplyNoSyncWait experimental (CockroachDB commits its raft
// log with it). Should it go, the fallback is db.Apply(b, pebble.Sync)
// under writeMu: correct, but one fsync per writer instead of shared ones.
func (s *Store) commitLocked(b *pebble.Batch) error {
	if err := s.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.unsynced.Add(1)
	return nil
}

// syncWait waits until a batch from commitLocked is durable and frees it.
func (s *Store) syncWait(b *pebble.Batch) error {
	err := b.SyncWait()
	s.unsynced.Add(-1)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}
