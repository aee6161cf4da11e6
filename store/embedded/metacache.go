package embedded

import (
	"bytes"
	"hash/maphash"
	"math"

	"github.com/xdrd/xdrd/record"
)

// Bounds of one generation of the metadata cache, so the whole cache holds
// at most twice as many records in at most about 14 MiB: an index of
// 2×metaCacheSize slots (1 MiB), metaCacheSize entries (2 MiB) and their
// keys (4 MiB when they average 64 bytes; longer keys fill the generation
// with fewer records).
const (
	metaCacheSize     = 1 << 16
	metaCacheKeyBytes = metaCacheSize * 64
)

// metaCache remembers the metadata of records recently read or written by
// read-decide-commit, so that hot records are decided without a Pebble
// read; a read costs more than the write it guards on an LSM tree (about a
// third of BenchmarkApply's time when every read misses). It is used only
// under writeMu and filled only with committed metadata (or what a read
// under writeMu found), so it never disagrees with the database.
//
// Eviction keeps two generations: when the young one is full, the old one
// is emptied and becomes the young one. A hit in the old one copies the
// entry into the young one. That approximates least recently used with no
// list to maintain. Each generation holds no pointers (an open-addressed
// index into flat entries, the keys in one byte slice), so the collector
// does not walk the cache, and a generation is reused, not reallocated.
type metaCache struct {
	seed       maphash.Seed
	young, old *metaGen
}

func newMetaCache() *metaCache { return newMetaCacheSized(metaCacheSize, metaCacheKeyBytes) }

// newMetaCacheSized returns a cache whose generations hold up to size
// records (a power of two) and keyBytes bytes of their keys.
func newMetaCacheSized(size, keyBytes int) *metaCache {
	return &metaCache{
		seed:  maphash.MakeSeed(),
		young: newMetaGen(size, keyBytes),
		old:   newMetaGen(size, keyBytes),
	}
}

// get returns the cached metadata of record key k.
func (c *metaCache) get(k []byte) (record.Meta, bool) {
	h := maphash.Bytes(c.seed, k)
	if e := c.young.find(h, k); e != nil && !e.forgotten() {
		return e.meta(), true
	}
	if e := c.old.find(h, k); e != nil && !e.forgotten() {
		m := e.meta()
		c.insert(h, k, m)
		return m, true
	}
	return record.Meta{}, false
}

// put caches the metadata of record key k. A stale entry of k left in the
// old generation is shadowed by this one and dropped with its generation.
func (c *metaCache) put(k []byte, m record.Meta) {
	if len(k) > math.MaxUint16 {
		return // longer than any record key; an entry could not hold it
	}
	c.insert(maphash.Bytes(c.seed, k), k, m)
}

func (c *metaCache) insert(h uint64, k []byte, m record.Meta) {
	if e := c.young.find(h, k); e != nil {
		e.set(m)
		return
	}
	if !c.young.fits(k) {
		c.old.reset()
		c.old, c.young = c.young, c.old
		if !c.young.fits(k) {
			return // a key larger than a whole generation's key bytes
		}
	}
	c.young.add(h, k, m)
}

// forget drops record key k, which is being deleted.
func (c *metaCache) forget(k []byte) {
	h := maphash.Bytes(c.seed, k)
	for _, g := range []*metaGen{c.young, c.old} {
		if e := g.find(h, k); e != nil {
			e.flags |= entryForgotten
		}
	}
}

// metaGen is one generation: a linear-probing index whose slots hold the
// upper half of a key's hash and its entry's number plus one (zero is an
// empty slot). It never deletes a slot, so probe chains stay whole; a
// forgotten key keeps its entry, marked, until the generation is reset.
type metaGen struct {
	size, keyBytes int // bounds: records, and bytes of their keys
	index          []uint64
	entries        []metaEntry
	keys           []byte
}

// metaEntry is a record's metadata and where its key sits in keys, in 32
// bytes.
type metaEntry struct {
	generation record.Generation
	lut        record.LUT
	expiry     int64
	keyOff     uint32
	keyLen     uint16
	origin     record.RegionID
	flags      uint8
}

// Bits of metaEntry.flags.
const (
	entryTombstone = 1 << iota
	entryForgotten // the record was deleted: a miss until set again
)

func newMetaGen(size, keyBytes int) *metaGen {
	return &metaGen{size: size, keyBytes: keyBytes}
}

// fits reports whether k can be added without passing the bounds.
func (g *metaGen) fits(k []byte) bool {
	return len(g.entries) < g.size && len(g.keys)+len(k) <= g.keyBytes
}

// find returns the entry of key k, whose hash is h, or nil.
func (g *metaGen) find(h uint64, k []byte) *metaEntry {
	if g.index == nil {
		return nil
	}
	mask := uint64(len(g.index) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := g.index[i]
		if s == 0 {
			return nil
		}
		if s>>32 != h>>32 {
			continue
		}
		e := &g.entries[uint32(s)-1]
		if bytes.Equal(g.keys[e.keyOff:e.keyOff+uint32(e.keyLen)], k) {
			return e
		}
	}
}

// add appends the entry of key k, whose hash is h; k must not be in g, and
// g must have room for it (fits). At most half the slots are ever used, so
// a probe always ends at an empty one.
func (g *metaGen) add(h uint64, k []byte, m record.Meta) {
	if g.index == nil {
		// All at once, so a generation never grows by copying, and only
		// when first used, so an idle store's cache takes no memory.
		g.index = make([]uint64, 2*g.size)
		g.entries = make([]metaEntry, 0, g.size)
		g.keys = make([]byte, 0, g.keyBytes)
	}
	g.entries = append(g.entries, metaEntry{keyOff: uint32(len(g.keys)), keyLen: uint16(len(k))})
	g.entries[len(g.entries)-1].set(m)
	g.keys = append(g.keys, k...)
	slot := h&^(1<<32-1) | uint64(len(g.entries))
	mask := uint64(len(g.index) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if g.index[i] == 0 {
			g.index[i] = slot
			return
		}
	}
}

// reset empties the generation, keeping its memory.
func (g *metaGen) reset() {
	clear(g.index)
	g.entries = g.entries[:0]
	g.keys = g.keys[:0]
}

func (e *metaEntry) set(m record.Meta) {
	e.generation, e.lut, e.expiry, e.origin = m.Generation, m.LUT, m.Expiry, m.Origin
	e.flags = 0
	if m.Tombstone {
		e.flags = entryTombstone
	}
}

func (e *metaEntry) meta() record.Meta {
	return record.Meta{
		Generation: e.generation, LUT: e.lut, Origin: e.origin,
		Expiry: e.expiry, Tombstone: e.flags&entryTombstone != 0,
	}
}

func (e *metaEntry) forgotten() bool { return e.flags&entryForgotten != 0 }
