package region

import (
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/store/embedded"
	"github.com/xdrd/xdrd/store/memory"
	"github.com/xdrd/xdrd/store/redis"
)

// OpenStore opens the store a region's URL names, for a process that runs
// several members of one region on one store (see store.Share). An empty
// URL means the embedded store under dataDir, the single-machine default.
func OpenStore(raw, dataDir string, id record.RegionID) (store.Store, error) {
	return openStore(raw, dataDir, id, record.NewClock(nil))
}

// openStore opens the store a region's URL names on clock.
func openStore(raw, dataDir string, id record.RegionID, clock *record.Clock) (store.Store, error) {
	if raw == "" {
		raw = "embedded://" + filepath.Join(dataDir, "store")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("store url %q: %w", raw, err)
	}
	switch u.Scheme {
	case "memory":
		return memory.New(id, clock), nil
	case "embedded":
		opts, err := embedded.ParseOptions(u.RawQuery)
		if err != nil {
			return nil, fmt.Errorf("store url %q: %w", raw, err)
		}
		opts.Clock = clock
		return embedded.OpenOptions(u.Path, id, opts)
	case "redis", "rediss":
		return redis.OpenOptions(raw, id, redis.Options{Clock: clock})
	}
	return nil, fmt.Errorf("store url %q: unknown scheme %q", raw, u.Scheme)
}
