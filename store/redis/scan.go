package redis

import (
	"context"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// scanCount is the COUNT hint of each SCAN step, and so about how many
// records one pipelined HGETALL round trip reads.
const scanCount = 512

// Scan calls fn for every stored version of ns in a matching partition
// (every partition when match is nil); see store.Store. It walks the
// keyspace with SCAN over the namespace's key pattern, computes each key's
// partition from its name and reads only matching records.
//
// SCAN may return a key twice while the server resizes its tables, so
// Scan remembers the keys it visited: memory in proportion to the
// namespace's records while a scan runs. A cursor over partitions kept in
// the records themselves would remove that cost; not needed yet.
func (s *Store) Scan(ctx context.Context, ns string, match func(partition int) bool,
	fn func(record.Version) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := record.CheckNamespace(ns); err != nil {
		return fmt.Errorf("scan %s: %w", ns, err)
	}
	pattern := recordPrefix + escapeGlob(ns) + ":*"
	seen := map[string]struct{}{}
	var cursor uint64
	for {
		if err := s.check(ctx); err != nil {
			return err
		}
		keys, next, err := s.rdb.ScanType(ctx, cursor, pattern, scanCount, "hash").Result()
		if err != nil {
			return s.fail("scan "+ns, err)
		}
		var want []string
		for _, k := range keys {
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			_, set, key, ok := splitAddress(strings.TrimPrefix(k, recordPrefix))
			if ok && (match == nil || match(record.Partition(set, key))) {
				want = append(want, k)
			}
		}
		if err := s.visit(ctx, ns, want, fn); err != nil {
			return err
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// visit reads the records at keys in one pipeline and calls fn for each
// that still exists.
func (s *Store) visit(ctx context.Context, ns string, keys []string,
	fn func(record.Version) error) error {
	if len(keys) == 0 {
		return nil
	}
	cmds := make([]*goredis.MapStringStringCmd, len(keys))
	_, err := s.rdb.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = pipe.HGetAll(ctx, k)
		}
		return nil
	})
	if err != nil {
		return s.fail("scan "+ns, err)
	}
	for i, cmd := range cmds {
		h := cmd.Val()
		if len(h) == 0 {
			continue // removed since SCAN saw it
		}
		v, err := fields(h).version()
		if err != nil {
			return fmt.Errorf("scan %s: record %q: %w", ns, keys[i], err)
		}
		_, v.Set, v.Key, _ = splitAddress(strings.TrimPrefix(keys[i], recordPrefix))
		v.Namespace = ns
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// escapeGlob escapes the characters SCAN's MATCH treats as patterns.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Purge removes the tombstones and expired versions of ns that
// store.Purgeable selects for before; see store.Store. Each removal is
// conditional on the server (xdrd_forget): a record written again since
// the scan read it is kept.
func (s *Store) Purge(ctx context.Context, ns string, before time.Time) (int, error) {
	var doomed []record.Version
	err := s.Scan(ctx, ns, nil, func(v record.Version) error {
		if store.Purgeable(v.Meta, before) {
			doomed = append(doomed, v)
		}
		return nil
	})
	if err != nil || len(doomed) == 0 {
		return 0, err
	}

	cmds := make([]*goredis.Cmd, len(doomed))
	_, err = s.rdb.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, v := range doomed {
			addr, _ := address(v.Namespace, v.Set, v.Key)
			cmds[i] = pipe.FCall(ctx, "xdrd_forget", []string{addr},
				uint64(v.Generation), int64(v.LUT), int(v.Origin))
		}
		return nil
	})
	if err != nil {
		return 0, s.fail("purge "+ns, err)
	}
	n := 0
	for _, cmd := range cmds {
		if removed, _ := cmd.Int(); removed > 0 {
			n++
		}
	}
	return n, nil
}
