package bench

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store/redis"
)

// With a redis:// store both regions share one server, each in its own
// database: the URL's database holds the source, the next one the
// destination and the one after the raw baseline's records. Databases keep
// separate keys, the driver's config, clock, counters and change logs
// included; only the Functions library is server-wide, and every region
// loads the same one.
var redisDBOffset = map[string]int{source: 0, destination: 1, rawRegion: 2}

// rawRegion names the store of the raw baseline.
const rawRegion = "raw"

func isRedis(st string) bool {
	return strings.HasPrefix(st, "redis://") || strings.HasPrefix(st, "rediss://")
}

// redisURL is base with its database number raised by offset.
func redisURL(base string, offset int) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("bench store: %w", err)
	}
	db := 0
	if p := strings.Trim(u.Path, "/"); p != "" {
		if db, err = strconv.Atoi(p); err != nil || db < 0 {
			return "", fmt.Errorf("bench store %s: database %q is not a number", u.Redacted(), p)
		}
	}
	u.Path = "/" + strconv.Itoa(db+offset)
	return u.String(), nil
}

// openRedis opens the driver for one of the benchmark's regions.
func openRedis(o *Options, name string, id record.RegionID,
	clock *record.Clock) (*redis.Store, error) {
	u, err := redisURL(o.Store, redisDBOffset[name])
	if err != nil {
		return nil, err
	}
	return redis.OpenOptions(u, id, redis.Options{Clock: clock})
}

// flushRedis empties the benchmark's three databases with FLUSHDB.
func flushRedis(ctx context.Context, base string) error {
	for _, off := range []int{0, 1, 2} {
		u, err := redisURL(base, off)
		if err != nil {
			return err
		}
		cfg, err := goredis.ParseURL(u)
		if err != nil {
			return fmt.Errorf("bench store: %w", err)
		}
		rdb := goredis.NewClient(cfg)
		err = rdb.FlushDB(ctx).Err()
		_ = rdb.Close()
		if err != nil {
			return fmt.Errorf("flush database %d of %s: %w", cfg.DB, cfg.Addr, err)
		}
	}
	return nil
}

// rawRedis returns the raw baseline's applier: pipelined FCALL xdrd_apply
// into the raw database, where the driver has just loaded the library and
// the region's config.
func rawRedis(o *Options) (*redis.RawApplier, error) {
	u, err := redisURL(o.Store, redisDBOffset[rawRegion])
	if err != nil {
		return nil, err
	}
	return redis.NewRawApplier(u)
}

// redactedStore is the store as the result shows it, without a password.
func redactedStore(st string) string {
	if !isRedis(st) {
		return st
	}
	u, err := url.Parse(st)
	if err != nil {
		return st
	}
	return u.Redacted()
}
