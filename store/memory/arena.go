package memory

import "unsafe"

// Chunk sizes of an arena: the first is small, so that a store with a few
// records in many namespaces stays small, and each next one doubles up to
// the largest.
const (
	firstChunk = 4 << 10
	lastChunk  = 1 << 20
)

// arena holds the sets, keys and bins of versions in large byte chunks.
// Versions are kept as bytes rather than as strings and slices so that
// the collector has a few pointer-free chunks to mark instead of three
// objects per record: with a million records held, marking them took
// tens of milliseconds of every collection, and stalled the data path.
//
// An arena only appends. Bytes once written never change, so a version
// handed out may point into a chunk: the chunk lives as long as anything
// points into it, even after the arena has let it go.
type arena struct {
	chunks [][]byte
}

// ref locates one version's set, key and bins, in that order, in an arena.
type ref struct {
	chunk uint32
	off   uint32
	set   uint32
	key   uint32
	bins  uint32
}

// size is how many bytes of its arena the version takes.
func (r ref) size() int { return int(r.set) + int(r.key) + int(r.bins) }

// add copies a version's set, key and bins into the arena.
func (a *arena) add(set, key string, bins []byte) ref {
	n := len(set) + len(key) + len(bins)
	last := len(a.chunks) - 1
	if last < 0 || cap(a.chunks[last])-len(a.chunks[last]) < n {
		size := firstChunk
		if last >= 0 {
			size = min(2*cap(a.chunks[last]), lastChunk)
		}
		a.chunks = append(a.chunks, make([]byte, 0, max(size, n)))
		last++
	}
	c := a.chunks[last]
	r := ref{chunk: uint32(last), off: uint32(len(c)),
		set: uint32(len(set)), key: uint32(len(key)), bins: uint32(len(bins))}
	c = append(c, set...)
	c = append(c, key...)
	a.chunks[last] = append(c, bins...)
	return r
}

// get returns the set, key and bins that r locates. They share the
// arena's memory and must not be modified; bins is nil when empty.
func (a *arena) get(r ref) (set, key string, bins []byte) {
	c := a.chunks[r.chunk]
	at := int(r.off)
	set = view(c[at : at+int(r.set)])
	at += int(r.set)
	key = view(c[at : at+int(r.key)])
	at += int(r.key)
	if r.bins > 0 {
		end := at + int(r.bins)
		bins = c[at:end:end]
	}
	return set, key, bins
}

// is reports whether r locates set and key.
func (a *arena) is(r ref, set, key string) bool {
	if int(r.set) != len(set) || int(r.key) != len(key) {
		return false
	}
	c := a.chunks[r.chunk]
	at := int(r.off)
	return string(c[at:at+len(set)]) == set &&
		string(c[at+len(set):at+len(set)+len(key)]) == key
}

// view is b as a string without a copy. Only arena bytes, which never
// change once written, may be viewed.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
