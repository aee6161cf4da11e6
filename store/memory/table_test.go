package memory

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"testing"

	"github.com/xdrd/xdrd/record"
)

func tableVersion(key string, gen record.Generation, bins []byte) *record.Version {
	return &record.Version{Namespace: "ns", Set: "s", Key: key,
		Meta: record.Meta{Generation: gen, LUT: record.LUT(gen), Origin: 1}, Bins: bins}
}

// mustFind returns the version stored for key under hash h, failing when
// there is none.
func mustFind(t *testing.T, tb *table, h uint64, key string) record.Version {
	t.Helper()
	at := tb.locate(h, "s", key)
	if !at.found() {
		t.Fatalf("key %q with hash %d not found", key, h)
	}
	return tb.version(at.slot)
}

// putAt stores v under hash h wherever the table has it.
func putAt(tb *table, h uint64, v *record.Version) int32 {
	return tb.put(h, tb.locate(h, v.Set, v.Key), v, 0)
}

// TestTableSharedHash stores keys whose hashes are equal, as two keys'
// 64-bit hashes may be, and finds each through removals and rewrites.
func TestTableSharedHash(t *testing.T) {
	tb := newTable("ns", maphash.MakeSeed())
	const h = 7
	for gen, key := range []string{"a", "b", "c"} {
		putAt(tb, h, tableVersion(key, record.Generation(gen+1), []byte(key)))
	}
	if len(tb.spill) != 2 {
		t.Fatalf("%d keys spilled, want 2", len(tb.spill))
	}
	putAt(tb, h, tableVersion("b", 9, []byte("b2")))
	if v := mustFind(t, tb, h, "b"); v.Generation != 9 || string(v.Bins) != "b2" {
		t.Fatalf("b is generation %d with bins %q after its rewrite", v.Generation, v.Bins)
	}

	tb.remove(h, tb.locate(h, "s", "a").slot)
	if tb.locate(h, "s", "a").found() {
		t.Fatal("a is found after its removal")
	}
	mustFind(t, tb, h, "b")
	mustFind(t, tb, h, "c")

	tb.remove(h, tb.locate(h, "s", "c").slot)
	if tb.locate(h, "s", "c").found() {
		t.Fatal("c is found after its removal")
	}
	putAt(tb, h, tableVersion("a", 4, []byte("a2")))
	if v := mustFind(t, tb, h, "a"); string(v.Bins) != "a2" {
		t.Fatalf("a has bins %q after it came back", v.Bins)
	}
	mustFind(t, tb, h, "b")
	if n := len(tb.index) + len(tb.spill); n != 2 {
		t.Fatalf("index and spill hold %d keys, want 2", n)
	}
}

// TestTableCompacts rewrites keys until the arena is mostly garbage and
// checks that it is compacted, that every key keeps its newest bins, and
// that versions handed out before keep theirs.
func TestTableCompacts(t *testing.T) {
	tb := newTable("ns", maphash.MakeSeed())
	bins := func(key string, round int) []byte {
		return bytes.Repeat([]byte(fmt.Sprintf("%s/%d;", key, round)), 100)
	}
	keys := []string{"k1", "k2", "k3"}
	var early []record.Version
	rounds := 4 * compactAfter / len(bins("k1", 0)) / len(keys)
	for round := range rounds {
		for _, key := range keys {
			i := putAt(tb, tb.hash("s", key), tableVersion(key, record.Generation(round+1),
				bins(key, round)))
			if round == 0 {
				early = append(early, tb.version(i))
			}
		}
	}
	if tb.dead >= compactAfter {
		t.Fatalf("%d bytes of garbage kept, past the %d that compaction allows",
			tb.dead, compactAfter)
	}
	// Every key's set, key and bins: "s", "kN" and its last round's bins.
	if want := 3 * (1 + 2 + len(bins("k1", rounds-1))); tb.live != want {
		t.Fatalf("live bytes %d, want %d", tb.live, want)
	}
	for _, key := range keys {
		v := mustFind(t, tb, tb.hash("s", key), key)
		if !bytes.Equal(v.Bins, bins(key, rounds-1)) {
			t.Fatalf("%s holds bins of another round after compaction", key)
		}
	}
	for i, v := range early {
		if !bytes.Equal(v.Bins, bins(keys[i], 0)) || v.Key != keys[i] {
			t.Fatalf("a version handed out before compaction changed: %s", v.Key)
		}
	}
}

// TestLargeBins stores bins larger than the chunk an arena would take next.
func TestLargeBins(t *testing.T) {
	s := New(1, nil)
	defer s.Close()
	ctx := context.Background()
	big := bytes.Repeat([]byte{0xab}, 100*firstChunk)
	if _, err := s.Put(ctx, "ns", "s", "small", []byte{1}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "ns", "s", "big", big, 0); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Get(ctx, "ns", "s", "big")
	if err != nil || !ok || !bytes.Equal(got.Bins, big) {
		t.Fatalf("big record: found %v, %d bytes, err %v", ok, len(got.Bins), err)
	}
	changes, err := s.Tail(ctx, "ns", 0, 10, 0)
	if err != nil || len(changes) != 2 || !bytes.Equal(changes[1].Version.Bins, big) {
		t.Fatalf("change log: %d changes, err %v", len(changes), err)
	}
}

// TestPutKeepsNoCallerBytes changes the caller's bins after a write: the
// store, its change log and the version handed back keep the written ones.
func TestPutKeepsNoCallerBytes(t *testing.T) {
	s := New(1, nil)
	defer s.Close()
	ctx := context.Background()
	bins := []byte("written")
	v, err := s.Put(ctx, "ns", "s", "k", bins, 0)
	if err != nil {
		t.Fatal(err)
	}
	copy(bins, "changed")
	got, _, _ := s.Get(ctx, "ns", "s", "k")
	changes, _ := s.Tail(ctx, "ns", 0, 1, 0)
	for what, b := range map[string][]byte{"returned": v.Bins, "stored": got.Bins,
		"logged": changes[0].Version.Bins} {
		if string(b) != "written" {
			t.Fatalf("%s bins are %q after the caller changed its own", what, b)
		}
	}
}
