package embedded

import (
	"context"
	"os"
	"path/filepath"
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

// TestOpenTunesPebble reads back the options file Pebble writes on open:
// the sizes the store was given and the compaction shape openPebble sets
// are what the database runs with.
func TestOpenTunesPebble(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenOptions(dir, 1, Options{CacheSize: 16 << 20, MemTableSize: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "OPTIONS-*"))
	if err != nil || len(files) != 1 {
		t.Fatalf("options files %v, %v", files, err)
	}
	text, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	_, levels, _ := strings.Cut(string(text), `[Level "0"]`)
	l0, l1, _ := strings.Cut(levels, `[Level "1"]`)
	for _, c := range []struct{ where, in, want string }{
		{"options", string(text), "mem_table_size=2097152\n"},
		{"options", string(text), "l0_compaction_threshold=8\n"},
		{"level 0", l0, "target_file_size=524288\n"},
		{"level 1", l1, "target_file_size=1048576\n"},
	} {
		if !strings.Contains(c.in, c.want) {
			t.Errorf("%s: no %q in\n%s", c.where, strings.TrimSpace(c.want), c.in)
		}
	}
}
