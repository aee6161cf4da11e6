package memory

import (
	"hash/maphash"
	"strings"

	"github.com/xdrd/xdrd/record"
)

// compactAfter is the garbage a table keeps before it compacts: past it,
// once its arena holds more overwritten bytes than live ones, the live
// versions are copied into a new arena and the old one is let go.
const compactAfter = 1 << 20

// table is one namespace's records in one shard. Its index and slots hold
// no pointers, and the versions' bytes sit in an arena, so the collector
// does not walk the records one by one.
type table struct {
	ns    string
	seed  maphash.Seed
	index map[uint64]int32 // hash of set and key → slot
	// spill holds the keys whose hash another key held when they were
	// written; with 64-bit hashes it is almost always empty.
	spill map[address]int32
	slots []slot
	free  []int32 // slots of purged records, to reuse
	data  arena
	live  int // bytes of data that stored versions use
	dead  int // bytes of data that overwritten or purged versions left
}

type address struct{ set, key string }

// slot is one stored version, less its bytes.
type slot struct {
	meta      record.Meta
	ref       ref
	partition uint16 // kept so that Scan need not hash every key again
	used      bool
}

func newTable(ns string, seed maphash.Seed) *table {
	return &table{ns: ns, seed: seed, index: map[uint64]int32{}}
}

// hash is the index's key for set and key. Names hold no zero byte, so the
// separator keeps ("ab", "c") apart from ("a", "bc").
func (t *table) hash(set, key string) uint64 {
	var h maphash.Hash
	h.SetSeed(t.seed)
	h.WriteString(set)
	h.WriteByte(0)
	h.WriteString(key)
	return h.Sum64()
}

// spot is where a key stands in a table: its slot, or, for a key not
// stored, whether another key holds its hash in the index. A write looks
// the key up once and passes its spot on: in a large table each lookup is
// a cache miss, and looking up again to write cost as much as the first.
type spot struct {
	slot  int32 // -1 for a key not stored
	taken bool
}

func (sp spot) found() bool { return sp.slot >= 0 }

// locate finds set and key, whose hash is h.
func (t *table) locate(h uint64, set, key string) spot {
	i, taken := t.index[h]
	if taken && t.data.is(t.slots[i].ref, set, key) {
		return spot{slot: i}
	}
	if len(t.spill) > 0 {
		if i, ok := t.spill[address{set, key}]; ok {
			return spot{slot: i}
		}
	}
	return spot{slot: -1, taken: taken}
}

// put stores v, whose set and key hash to h and stand at sp, over any
// version stored, and returns its slot. Nothing may change the table
// between locating the key and putting it.
func (t *table) put(h uint64, sp spot, v *record.Version, partition int) int32 {
	r := t.data.add(v.Set, v.Key, v.Bins)
	t.live += r.size()
	if sp.found() {
		s := &t.slots[sp.slot]
		t.live -= s.ref.size()
		t.dead += s.ref.size()
		s.meta, s.ref = v.Meta, r
		t.compact()
		return sp.slot
	}
	i := t.alloc()
	t.slots[i] = slot{meta: v.Meta, ref: r, partition: uint16(partition), used: true}
	if !sp.taken {
		t.index[h] = i
		return i
	}
	if t.spill == nil {
		t.spill = map[address]int32{}
	}
	t.spill[address{strings.Clone(v.Set), strings.Clone(v.Key)}] = i
	return i
}

// alloc returns an unused slot.
func (t *table) alloc() int32 {
	if n := len(t.free); n > 0 {
		i := t.free[n-1]
		t.free = t.free[:n-1]
		return i
	}
	t.slots = append(t.slots, slot{})
	return int32(len(t.slots) - 1)
}

// remove drops the version in slot i, whose set and key hash to h.
func (t *table) remove(h uint64, i int32) {
	s := &t.slots[i]
	if indexed(t.index, h, i) {
		delete(t.index, h)
	} else {
		set, key, _ := t.data.get(s.ref)
		delete(t.spill, address{set, key})
	}
	t.live -= s.ref.size()
	t.dead += s.ref.size()
	*s = slot{}
	t.free = append(t.free, i)
	t.compact()
}

func indexed(index map[uint64]int32, h uint64, i int32) bool {
	j, ok := index[h]
	return ok && j == i
}

// hashOf is the index's key for the version in slot i.
func (t *table) hashOf(i int32) uint64 {
	set, key, _ := t.data.get(t.slots[i].ref)
	return t.hash(set, key)
}

// version returns the version in slot i, sharing the arena's bytes.
func (t *table) version(i int32) record.Version {
	s := &t.slots[i]
	set, key, bins := t.data.get(s.ref)
	return record.Version{Namespace: t.ns, Set: set, Key: key, Meta: s.meta, Bins: bins}
}

// compact copies the stored versions into a new arena once the old one
// holds more garbage than versions. Versions handed out keep pointing into
// the old chunks, which live on until nothing does.
func (t *table) compact() {
	if t.dead < compactAfter || t.dead < t.live {
		return
	}
	var fresh arena
	for i := range t.slots {
		s := &t.slots[i]
		if !s.used {
			continue
		}
		set, key, bins := t.data.get(s.ref)
		s.ref = fresh.add(set, key, bins)
	}
	t.data, t.dead = fresh, 0
}
