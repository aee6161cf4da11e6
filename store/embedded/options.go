package embedded

import (
	"fmt"
	"net/url"

	"github.com/xdrd/xdrd/internal/bytesize"
	"github.com/xdrd/xdrd/record"
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

// Default sizes of Pebble's block cache and memtables. Pebble charges
// memtables to the block cache, so the cache must be well above two
// memtables or it caches nothing and every read of read-decide-commit
// goes to disk. These keep a daemon within its 256 MiB budget (DESIGN.md
// §9); a 128 MiB cache with 16 MiB memtables made no difference to `xdrd
// bench --store embedded` and took half the budget. The store URL's
// cache-size and memtable-size change them (ParseOptions).
const (
	cacheSize    = 48 << 20
	memTableSize = 8 << 20
	// minMemTable and maxMemTable bound a memtable: below 1 MiB Pebble
	// flushes constantly, and it refuses 4 GiB or more.
	minMemTable = 1 << 20
	maxMemTable = 1 << 30
	// memTablesPerCache is how many memtables the cache must hold at least.
	memTablesPerCache = 4
)

// fill puts the defaults in zero fields and checks the sizes.
func (o *Options) fill() error {
	if o.CacheSize == 0 {
		o.CacheSize = cacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = memTableSize
	}
	if o.MemTableSize < minMemTable || o.MemTableSize > maxMemTable {
		return fmt.Errorf("memtable-size %s outside %s to %s", bytesize.Format(o.MemTableSize),
			bytesize.Format(minMemTable), bytesize.Format(maxMemTable))
	}
	if o.CacheSize < memTablesPerCache*o.MemTableSize {
		return fmt.Errorf("cache-size %s is less than %d memtables of %s: Pebble charges "+
			"memtables to the cache, which would then hold no blocks",
			bytesize.Format(o.CacheSize), memTablesPerCache, bytesize.Format(o.MemTableSize))
	}
	return nil
}

// ParseOptions reads the options of an embedded:// URL's query:
// cache-size and memtable-size, each a size such as 64MiB. It checks the
// sizes the way OpenOptions does, so a bad URL is refused before anything
// opens.
func ParseOptions(query string) (Options, error) {
	var o Options
	values, err := url.ParseQuery(query)
	if err != nil {
		return o, fmt.Errorf("store options %q: %w", query, err)
	}
	for key, vals := range values {
		var to *int64
		switch key {
		case "cache-size":
			to = &o.CacheSize
		case "memtable-size":
			to = &o.MemTableSize
		default:
			return o, fmt.Errorf("unknown store option %q (valid: cache-size, memtable-size)", key)
		}
		if len(vals) != 1 {
			return o, fmt.Errorf("store option %s given %d times", key, len(vals))
		}
		if *to, err = bytesize.Parse(vals[0]); err != nil {
			return o, fmt.Errorf("store option %s: %w", key, err)
		}
		if *to == 0 {
			return o, fmt.Errorf("store option %s: must be more than 0", key)
		}
	}
	check := o
	if err := check.fill(); err != nil {
		return o, err
	}
	return o, nil
}
