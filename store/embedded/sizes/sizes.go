// Package sizes reads and checks the Pebble sizes an embedded:// store URL
// may set. It imports nothing of Pebble, so that checking a topology
// applies the driver's own rules without linking the database into every
// tool that reads one.
package sizes

import (
	"fmt"
	"net/url"

	"github.com/xdrd/xdrd/internal/bytesize"
)

// Sizes are Pebble's block cache and memtables; zero keeps the default.
type Sizes struct {
	// Cache is the block cache, which the memtables are charged to: at
	// least four memtables. Default 48 MiB.
	Cache int64
	// MemTable is each memtable: from 1 MiB to 1 GiB. Default 8 MiB.
	MemTable int64
}

// Default sizes. Pebble charges memtables to the block cache, so the cache
// must be well above two memtables or it caches nothing and every read of
// read-decide-commit goes to disk. These keep a daemon within its 256 MiB
// budget (DESIGN.md §9); a 128 MiB cache with 16 MiB memtables made no
// difference to `xdrd bench --store embedded` and took half the budget.
const (
	defaultCache    = 48 << 20
	defaultMemTable = 8 << 20
	// minMemTable and maxMemTable bound a memtable: below 1 MiB Pebble
	// flushes constantly, and it refuses 4 GiB or more.
	minMemTable = 1 << 20
	maxMemTable = 1 << 30
	// memTablesPerCache is how many memtables the cache must hold at least.
	memTablesPerCache = 4
)

// Fill puts the defaults in zero fields and checks the sizes.
func (s *Sizes) Fill() error {
	if s.Cache == 0 {
		s.Cache = defaultCache
	}
	if s.MemTable == 0 {
		s.MemTable = defaultMemTable
	}
	if s.MemTable < minMemTable || s.MemTable > maxMemTable {
		return fmt.Errorf("memtable-size %s outside %s to %s", bytesize.Format(s.MemTable),
			bytesize.Format(minMemTable), bytesize.Format(maxMemTable))
	}
	if s.Cache < memTablesPerCache*s.MemTable {
		return fmt.Errorf("cache-size %s is less than %d memtables of %s: Pebble charges "+
			"memtables to the cache, which would then hold no blocks",
			bytesize.Format(s.Cache), memTablesPerCache, bytesize.Format(s.MemTable))
	}
	return nil
}

// Parse reads an embedded:// URL's query: cache-size and memtable-size,
// each a size such as 64MiB. It checks them as Fill does, so a bad URL is
// refused before anything opens, and returns them unfilled.
func Parse(query string) (Sizes, error) {
	var s Sizes
	values, err := url.ParseQuery(query)
	if err != nil {
		return s, fmt.Errorf("store options %q: %w", query, err)
	}
	for key, vals := range values {
		var to *int64
		switch key {
		case "cache-size":
			to = &s.Cache
		case "memtable-size":
			to = &s.MemTable
		default:
			return s, fmt.Errorf("unknown store option %q (valid: cache-size, memtable-size)", key)
		}
		if len(vals) != 1 {
			return s, fmt.Errorf("store option %s given %d times", key, len(vals))
		}
		if *to, err = bytesize.Parse(vals[0]); err != nil {
			return s, fmt.Errorf("store option %s: %w", key, err)
		}
		if *to == 0 {
			return s, fmt.Errorf("store option %s: must be more than 0", key)
		}
	}
	check := s
	if err := check.Fill(); err != nil {
		return s, err
	}
	return s, nil
}
