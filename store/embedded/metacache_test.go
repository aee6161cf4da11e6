package embedded

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/xdrd/xdrd/record"
)

// TestMetaCacheNeverDisagrees drives a small cache through puts, gets and
// forgets of a few keys against a map of what was last committed: a hit
// must return exactly the last metadata put, and a forgotten key misses
// until it is put again.
func TestMetaCacheNeverDisagrees(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		size := 1 << rapid.IntRange(0, 4).Draw(t, "log2 size")
		c := newMetaCacheSized(size, rapid.IntRange(1, 64).Draw(t, "key bytes"))
		want := map[string]record.Meta{}
		keys := rapid.SampledFrom([]string{"a", "b", "ccc", "dddddddd", "e", "ffffffffffffffff"})
		for i := range rapid.IntRange(1, 200).Draw(t, "steps") {
			k := keys.Draw(t, "key")
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				m := record.Meta{
					Generation: record.Generation(i), LUT: record.LUT(i * 7),
					Origin: record.RegionID(i % 5), Expiry: int64(i % 3),
					Tombstone: i%2 == 0,
				}
				c.put([]byte(k), m)
				want[k] = m
			case 1:
				c.forget([]byte(k))
				delete(want, k)
			case 2:
				got, ok := c.get([]byte(k))
				w, known := want[k]
				if ok && (!known || got != w) {
					t.Fatalf("get(%q) = %+v, hit; last committed %+v (known %v)", k, got, w, known)
				}
			}
		}
	})
}

// TestMetaCacheKeepsTheRecentKeys puts more keys than two generations
// hold: the last generation's worth all hit, the oldest ones miss, and
// reading a key of the old generation keeps it through the next turn.
func TestMetaCacheKeepsTheRecentKeys(t *testing.T) {
	const size = 64
	c := newMetaCacheSized(size, size*16)
	key := func(i int) []byte { return fmt.Appendf(nil, "key-%04d", i) }
	const n = 3*size + 5
	for i := range n {
		c.put(key(i), record.Meta{Generation: record.Generation(i + 1)})
	}
	for i := n - size; i < n; i++ {
		m, ok := c.get(key(i))
		if !ok || m.Generation != record.Generation(i+1) {
			t.Fatalf("recent key %d: got %+v, hit %v", i, m, ok)
		}
	}
	if _, ok := c.get(key(0)); ok {
		t.Errorf("key 0, put %d puts ago, still hits with generations of %d", n, size)
	}
	old := 2*size + 1 // in the old generation now
	if _, ok := c.get(key(old)); !ok {
		t.Fatalf("key %d of the old generation misses", old)
	}
	for i := range size {
		c.put(key(1000+i), record.Meta{Generation: 1})
	}
	if m, ok := c.get(key(old)); !ok || m.Generation != record.Generation(old+1) {
		t.Errorf("key %d, read back before the turn: got %+v, hit %v", old, m, ok)
	}
}

// TestMetaCacheTurnsOnKeyBytes fills a generation's key bytes before its
// entries, and checks that a key larger than a generation is not cached.
func TestMetaCacheTurnsOnKeyBytes(t *testing.T) {
	c := newMetaCacheSized(1024, 100)
	for i := range 20 {
		c.put(fmt.Appendf(nil, "key-%06d", i), record.Meta{Generation: 1}) // 10 bytes
	}
	if len(c.young.keys) > 100 || len(c.old.keys) > 100 {
		t.Fatalf("generations hold %d and %d key bytes, bound 100", len(c.young.keys), len(c.old.keys))
	}
	if _, ok := c.get([]byte("key-000019")); !ok {
		t.Errorf("newest key misses")
	}
	big := make([]byte, 101)
	c.put(big, record.Meta{Generation: 1})
	if _, ok := c.get(big); ok {
		t.Errorf("a key larger than a generation's key bytes was cached")
	}
}

// TestMetaCacheReusesItsMemory: once both generations exist, turning them
// over allocates nothing.
func TestMetaCacheReusesItsMemory(t *testing.T) {
	const size = 256
	c := newMetaCacheSized(size, size*16)
	keys := make([][]byte, 4*size)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%06d", i)
	}
	allocs := testing.AllocsPerRun(10, func() {
		for _, k := range keys {
			c.put(k, record.Meta{Generation: 1})
		}
	})
	if allocs != 0 {
		t.Errorf("putting %d keys allocated %.0f times", len(keys), allocs)
	}
}
