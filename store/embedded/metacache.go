package embedded

import "github.com/xdrd/xdrd/record"

// metaCacheSize bounds one generation of the metadata cache, so the cache
// holds at most twice as many records: about 15 MB at 64Ki.
const metaCacheSize = 1 << 16

// metaCache remembers the metadata of records recently read or written by
// read-decide-commit, so that hot records are decided without a Pebble
// read; a read costs more than the write it guards on an LSM tree. It is
// used only under writeMu and filled only with committed metadata (or what
// a read under writeMu found), so it never disagrees with the database.
//
// Eviction keeps two generations of maps: when the young one is full, the
// old one is dropped and the young one becomes old. A hit in the old one
// moves the entry back to the young one. That approximates least recently
// used at the cost of a map write, with no list to maintain.
type metaCache struct {
	young, old map[string]record.Meta
}

func newMetaCache() *metaCache {
	return &metaCache{young: make(map[string]record.Meta, metaCacheSize)}
}

// get returns the cached metadata of record key k.
func (c *metaCache) get(k []byte) (record.Meta, bool) {
	if m, ok := c.young[string(k)]; ok {
		return m, true
	}
	if m, ok := c.old[string(k)]; ok {
		c.put(k, m)
		return m, true
	}
	return record.Meta{}, false
}

// put caches the metadata of record key k. A stale entry of k left in the
// old generation is shadowed by this one and dropped with its generation.
func (c *metaCache) put(k []byte, m record.Meta) {
	if len(c.young) >= metaCacheSize {
		c.old, c.young = c.young, make(map[string]record.Meta, metaCacheSize)
	}
	c.young[string(k)] = m
}

// forget drops record key k, which is being deleted.
func (c *metaCache) forget(k []byte) {
	delete(c.young, string(k))
	delete(c.old, string(k))
}
