// Package redis is the redis:// store driver. It keeps a region's records
// in a Redis 7+ server (standalone, or the primary of a replicated set) and
// does every write through a Redis Functions library, xdrd.lua, that the
// driver loads on Open. The library stamps each write with its generation,
// last-update time and origin and appends it to its namespace's change log
// (a Redis stream) in the same atomic call, so applications that write
// through FCALL xdrd_put are replicated like the driver's own writes. The
// layout and the user contract are described in docs/redis.md.
package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

//go:embed xdrd.lua
var library string

// Redis keys the library and the driver share. A record lives at
// recordPrefix + "<namespace>:<set>:<key>".
const (
	recordPrefix = "xdrd:r:"
	logPrefix    = "xdrd:log:"
	seqPrefix    = "xdrd:seq:"
	configKey    = "xdrd:config"
)

// DefaultLogMaxLen is the change-log length per namespace that Open
// configures when Options leaves it 0: XADD trims each stream to about
// this many entries, so a link that is down long enough re-ships by
// scanning instead of filling the server's memory.
const DefaultLogMaxLen = 1_000_000

// Options tune Open. The zero value is the production setting.
type Options struct {
	// Clock, when set, is the daemon's clock: local writes pass its time to
	// the library as a floor for the LUT, and the driver observes every LUT
	// it writes or applies. Tests pass a fake clock; without one, LUTs come
	// from the server's TIME alone.
	Clock *record.Clock
	// LogMaxLen is the approximate number of changes kept per namespace
	// (DefaultLogMaxLen when 0, no trimming by length when negative).
	LogMaxLen int64
}

// Store is a store.Store over one Redis server. It is safe for concurrent
// use.
type Store struct {
	rdb    *goredis.Client
	region record.RegionID
	clock  *record.Clock

	closed    atomic.Bool
	done      chan struct{} // closed by Close, to end waiting Tails
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to the server at url (redis://[user:password@]host:port[/db]
// or rediss:// for TLS), loads the Functions library, replacing an older
// copy, and records region as the origin of local writes on that server.
func Open(url string, region record.RegionID) (*Store, error) {
	return OpenOptions(url, region, Options{})
}

// OpenOptions is Open with options.
func OpenOptions(url string, region record.RegionID, opts Options) (*Store, error) {
	if region == 0 {
		return nil, fmt.Errorf("open redis store: region ID 0 is not valid")
	}
	url, fromURL, err := logMaxLen(url)
	if err != nil {
		return nil, fmt.Errorf("open redis store: %w", err)
	}
	if opts.LogMaxLen == 0 {
		opts.LogMaxLen = fromURL
	}
	cfg, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("open redis store: parse url: %w", err)
	}
	maxLen := opts.LogMaxLen
	switch {
	case maxLen == 0:
		maxLen = DefaultLogMaxLen
	case maxLen < 0:
		maxLen = 0 // the library reads 0 as "no trimming by length"
	}

	s := &Store{
		rdb:    goredis.NewClient(cfg),
		region: region,
		clock:  opts.Clock,
		done:   make(chan struct{}),
	}
	ctx := context.Background()
	if err := s.rdb.FunctionLoadReplace(ctx, library).Err(); err != nil {
		err = s.fail(fmt.Sprintf("open redis store %s: load functions", cfg.Addr), err)
		_ = s.rdb.Close()
		return nil, err
	}
	err = s.rdb.HSet(ctx, configKey, "region", int(region), "maxlen", maxLen).Err()
	if err != nil {
		err = s.fail(fmt.Sprintf("open redis store %s: write config", cfg.Addr), err)
		_ = s.rdb.Close()
		return nil, err
	}
	return s, nil
}

// Close ends waiting Tails, makes every later call fail with
// store.ErrClosed and closes the connections. Closing twice returns
// store.ErrClosed.
func (s *Store) Close() error {
	err := store.ErrClosed
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		err = s.rdb.Close()
		if err != nil {
			err = fmt.Errorf("close redis store: %w", err)
		}
	})
	return err
}

// check refuses calls on a closed store or with an ended context.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis store: %w", err)
	}
	return nil
}

// fail wraps an error of a Redis call: store.ErrClosed once the store is
// closed, context errors as they are, and store.ErrUnavailable for
// network failures, so callers know to retry.
func (s *Store) fail(what string, err error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var rerr goredis.Error
	if errors.As(err, &rerr) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, store.ErrUnavailable, err)
}

// address is the key the library takes: "<namespace>:<set>:<key>". The
// namespace and the set may not hold a colon, since the first two colons
// separate the parts.
func address(ns, set, key string) (string, error) {
	if strings.Contains(ns, ":") {
		return "", fmt.Errorf("%w: namespace %q contains ':'", record.ErrInvalid, ns)
	}
	if strings.Contains(set, ":") {
		return "", fmt.Errorf("%w: set %q contains ':'", record.ErrInvalid, set)
	}
	return ns + ":" + set + ":" + key, nil
}

// splitAddress undoes address.
func splitAddress(addr string) (ns, set, key string, ok bool) {
	ns, rest, ok1 := strings.Cut(addr, ":")
	set, key, ok2 := strings.Cut(rest, ":")
	return ns, set, key, ok1 && ok2
}

// observe moves the daemon's clock, when there is one, past l.
func (s *Store) observe(l record.LUT) {
	if s.clock != nil {
		s.clock.Observe(l)
	}
}

// logMaxLen takes xdrd's own option log-max-len out of a store URL, so that
// a topology can set the change log's length; go-redis refuses options it
// does not know.
func logMaxLen(raw string) (string, int64, error) {
	u, err := neturl.Parse(raw)
	if err != nil {
		return "", 0, fmt.Errorf("parse url: %w", err)
	}
	q := u.Query()
	v := q.Get("log-max-len")
	if v == "" {
		return raw, 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("log-max-len %q is not a whole number", v)
	}
	q.Del("log-max-len")
	u.RawQuery = q.Encode()
	return u.String(), n, nil
}
