package embedded

import (
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store/embedded/sizes"
)

// Options tune a store; zero fields keep the defaults.
type Options struct {
	// Clock gives local writes their LUT; a clock on the wall time when
	// nil.
	Clock *record.Clock
	// CacheSize is Pebble's block cache, which the memtables are charged
	// to: at least four memtables. Default 48 MiB.
	CacheSize int64
	// MemTableSize is each of Pebble's memtables: from 1 MiB to 1 GiB.
	// Default 8 MiB.
	MemTableSize int64
}

// fill puts the defaults in zero fields and checks the sizes (package
// sizes holds the defaults and the rules).
func (o *Options) fill() error {
	s := sizes.Sizes{Cache: o.CacheSize, MemTable: o.MemTableSize}
	if err := s.Fill(); err != nil {
		return err
	}
	o.CacheSize, o.MemTableSize = s.Cache, s.MemTable
	return nil
}

// ParseOptions reads the options of an embedded:// URL's query:
// cache-size and memtable-size, each a size such as 64MiB. It checks the
// sizes the way OpenOptions does, so a bad URL is refused before anything
// opens.
func ParseOptions(query string) (Options, error) {
	s, err := sizes.Parse(query)
	return Options{CacheSize: s.Cache, MemTableSize: s.MemTable}, err
}
