package embedded

import (
	"context"
	"strings"
	"testing"
)

// TestParseOptions reads the sizes a URL gives and leaves the others to
// the defaults.
func TestParseOptions(t *testing.T) {
	o, err := ParseOptions("cache-size=96MiB&memtable-size=16MiB")
	if err != nil || o.CacheSize != 96<<20 || o.MemTableSize != 16<<20 {
		t.Fatalf("got %+v, %v", o, err)
	}
	o, err = ParseOptions("")
	if err != nil || o != (Options{}) {
		t.Fatalf("no options: got %+v, %v", o, err)
	}
}

// TestParseOptionsRejects names what is wrong with each bad query.
func TestParseOptionsRejects(t *testing.T) {
	for query, want := range map[string]string{
		"cache=1GiB":                            `unknown store option "cache"`,
		"cache-size=64MB":                       `store option cache-size: size "64MB"`,
		"memtable-size=0":                       "memtable-size: must be more than 0",
		"memtable-size=1MiB&memtable-size=2MiB": "memtable-size given 2 times",
		"memtable-size=512KiB":                  "memtable-size 512KiB outside 1MiB to 1GiB",
		"cache-size=16MiB":                      "cache-size 16MiB is less than 4 memtables of 8MiB",
		"cache-size=64MiB&memtable-size=32MiB":  "cache-size 64MiB is less than 4 memtables of 32MiB",
		"cache-size=%zz":                        `store options "cache-size=%zz"`,
	} {
		if _, err := ParseOptions(query); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseOptions(%q): err %v, want one containing %q", query, err, want)
		}
	}
}

// TestOpenOptionsSizesPebble opens a store with its own sizes, writes and
// reads a record through it, and refuses sizes that do not fit together.
func TestOpenOptionsSizesPebble(t *testing.T) {
	s, err := OpenOptions(t.TempDir(), 1, Options{CacheSize: 16 << 20, MemTableSize: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	ctx := context.Background()
	if _, err := s.Put(ctx, "ns", "s", "k", []byte{0x80}, 0); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Get(ctx, "ns", "s", "k"); err != nil || !ok || v.Generation != 1 {
		t.Fatalf("get: %+v %v %v", v, ok, err)
	}

	_, err = OpenOptions(t.TempDir(), 1, Options{CacheSize: 4 << 20, MemTableSize: 2 << 20})
	if err == nil || !strings.Contains(err.Error(), "cache-size 4MiB is less than 4 memtables") {
		t.Errorf("a cache of two memtables: err %v", err)
	}
}
