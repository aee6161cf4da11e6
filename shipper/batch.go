package shipper

import (
	"github.com/xdrd/xdrd/frame"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// batch collects one shard's changes until it is full by count or bytes or
// the shipper's linger round ends. A later write of a key replaces the earlier one in
// place: both come from the same change log, so the later is the newer
// version, and shipping only it is what the destination would keep anyway.
type batch struct {
	first   store.Cursor
	records []record.Version
	index   map[address]int // position in records
	bytes   int
}

// address is a record's place within a namespace. A struct key, unlike a
// joined string, costs no allocation per change.
type address struct{ set, key string }

func newBatch() *batch {
	return &batch{index: make(map[address]int)}
}

func (b *batch) empty() bool {
	return len(b.records) == 0
}

// add puts a change in the batch and reports whether it replaced an
// earlier write of the same key.
func (b *batch) add(c *store.Change) (coalesced bool) {
	if b.empty() {
		b.first = c.Seq
	}
	id := address{c.Set, c.Key}
	size := frame.EncodedSize(&c.Version)
	if i, ok := b.index[id]; ok {
		b.bytes += size - frame.EncodedSize(&b.records[i])
		b.records[i] = c.Version
		return true
	}
	b.index[id] = len(b.records)
	b.records = append(b.records, c.Version)
	b.bytes += size
	return false
}

// fits reports whether v can join the batch without its frame, header
// included, growing past maxBytes. An empty batch takes any record, so a
// record larger than the limit still travels, alone.
func (b *batch) fits(v *record.Version, maxBytes int) bool {
	return b.empty() || frame.MaxHeaderSize+b.bytes+frame.EncodedSize(v) <= maxBytes
}

// reset empties the batch for reuse. Its frame is already encoded, so the
// records' memory can be reused.
func (b *batch) reset() {
	clear(b.records)
	b.records = b.records[:0]
	clear(b.index)
	b.bytes = 0
	b.first = 0
}
