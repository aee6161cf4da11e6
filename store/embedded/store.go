// Package embedded is the embedded:// store driver, xdrd's default: a
// Pebble database on local disk holding the records and every namespace's
// change log (key layout in keys.go, value layout in encode.go). Each write
// commits its record and its change in one synced Pebble batch, so a crash
// keeps both or neither.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// Store is a store.Store on a Pebble database.
type Store struct {
	db       *pebble.DB
	fsCloser io.Closer // stops the disk-health checker; after db is closed
	dir      string
	region   record.RegionID
	clock    *record.Clock

	// writeMu makes read-decide-commit one step: a local write or a
	// conditional apply reads the stored metadata, builds its batch and
	// commits it to the memtable with no other writer in between. The
	// fsync wait happens after writeMu is released, so concurrent writers
	// share WAL syncs instead of queueing one fsync each.
	writeMu sync.Mutex
	keyBuf  []byte     // scratch, under writeMu
	valBuf  []byte     // scratch, under writeMu
	metas   *metaCache // under writeMu
	// unsynced counts batches committed but not yet known durable. An
	// Apply that writes nothing reads state that such a batch may have
	// written, so it syncs the WAL before it reports success.
	unsynced atomic.Int64

	mu   sync.Mutex // guards logs and every logState's fields but next
	logs map[string]*logState
	// trimMu runs one Trim at a time, so the trim mark only moves up.
	trimMu sync.Mutex

	life lifecycle
}

var _ store.Store = (*Store)(nil)

// Open opens, or creates, the store in dir for region. Local writes take
// their LUT from clock (a clock on the wall time when clock is nil).
func Open(dir string, region record.RegionID, clock *record.Clock) (*Store, error) {
	return OpenOptions(dir, region, Options{Clock: clock})
}

// OpenOptions is Open with options.
func OpenOptions(dir string, region record.RegionID, opts Options) (*Store, error) {
	if region == 0 {
		return nil, fmt.Errorf("open store at %s: region ID is 0", dir)
	}
	if err := opts.fill(); err != nil {
		return nil, fmt.Errorf("open store at %s: %w", dir, err)
	}
	clock := opts.Clock
	if clock == nil {
		clock = record.NewClock(nil)
	}
	db, fsCloser, err := openPebble(dir, opts.CacheSize, opts.MemTableSize)
	if err != nil {
		return nil, err
	}
	s := &Store{
		db:       db,
		fsCloser: fsCloser,
		dir:      dir,
		region:   region,
		clock:    clock,
		logs:     map[string]*logState{},
		metas:    newMetaCache(),
	}
	s.life.init()
	return s, nil
}

// openPebble opens the store's database; the raw baseline benchmark opens
// its database with it too, so the two measure the same engine. It wraps
// the file system with Pebble's disk-health checks itself, because Pebble
// leaks the checker's goroutine when it wraps it and then fails to open;
// the caller closes fsCloser after the database.
func openPebble(dir string, cache, memTable int64) (db *pebble.DB, fsCloser io.Closer, err error) {
	fs, fsCloser := vfs.WithDiskHealthChecks(vfs.Default, diskSlowThreshold, nil,
		func(info vfs.DiskSlowInfo) { quietLogger{}.Errorf("%s", info) })
	opts := &pebble.Options{
		FS:                 fs,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             quietLogger{},
		CacheSize:          cache,
		MemTableSize:       uint64(memTable),
	}
	// Conditional apply reads every record before it writes it, many of
	// them new keys: bloom filters spare those reads most sstables.
	opts.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	// Records are keyed by a hashed partition, so every flush spans the
	// whole key space and an L0 compaction rewrites all of Lbase that
	// overlaps it: a burst that takes a core for up to a few hundred
	// milliseconds. Smaller L0 files split each flush into narrower key
	// ranges that compact a few at a time, and waiting for eight sublevels
	// instead of four compacts half as often. docs/performance.md has what
	// this did to latency and throughput.
	opts.TargetFileSizes[0] = l0FileSize
	opts.L0CompactionThreshold = l0CompactionThreshold
	db, err = pebble.Open(dir, opts)
	if err != nil {
		_ = fsCloser.Close()
		return nil, nil, fmt.Errorf("open pebble at %s: %w", dir, err)
	}
	return db, fsCloser, nil
}

// l0FileSize is the target size of an L0 sstable, a quarter of Pebble's
// default; each level below targets twice the one above.
// l0CompactionThreshold is the read amplification in L0 at which Pebble
// compacts it: twice its default, and below the twelve at which it stops
// writes.
const (
	l0FileSize            = 512 << 10
	l0CompactionThreshold = 8
)

// diskSlowThreshold is how long a write may take before Pebble's checker
// reports the disk as slow; it is Pebble's own default.
const diskSlowThreshold = 5 * time.Second

// quietLogger drops Pebble's informational lines (it reports every WAL it
// replays on open, for one) and hands errors on to Pebble's own logger.
type quietLogger struct{}

// Infof drops the line.
func (quietLogger) Infof(string, ...any) {}

// Errorf logs the line with Pebble's default logger.
func (quietLogger) Errorf(format string, args ...any) {
	pebble.DefaultLogger.Errorf(format, args...)
}

// Fatalf logs the line with Pebble's default logger and exits.
func (quietLogger) Fatalf(format string, args ...any) {
	pebble.DefaultLogger.Fatalf(format, args...)
}

// Get returns the stored version; see store.Store. It may show a version
// whose batch is committed but still being synced.
func (s *Store) Get(ctx context.Context, ns, set, key string) (record.Version, bool, error) {
	if err := s.life.enter(ctx); err != nil {
		return record.Version{}, false, err
	}
	defer s.life.leave()

	k := recordKey(nil, ns, record.Partition(set, key), set, key)
	val, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return record.Version{}, false, nil
	}
	if err != nil {
		return record.Version{}, false, fmt.Errorf("get %s/%s: %w", set, key, err)
	}
	defer closer.Close()
	v, err := decodeValue(val)
	if err != nil {
		return record.Version{}, false, fmt.Errorf("get %s/%s: %w", set, key, err)
	}
	v.Namespace = ns
	return v, true, nil
}

// readMeta reads the stored metadata at record key k. The caller holds
// writeMu, so nothing changes it before the caller commits.
func (s *Store) readMeta(k []byte) (record.Meta, bool, error) {
	val, closer, err := s.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return record.Meta{}, false, nil
	}
	if err != nil {
		return record.Meta{}, false, err
	}
	defer closer.Close()
	m, err := decodeMeta(val)
	return m, err == nil, err
}

// Close waits for calls in flight, wakes waiting Tails and closes the
// database. Every later call fails with store.ErrClosed.
func (s *Store) Close() error {
	if !s.life.close() {
		return store.ErrClosed
	}
	err := s.db.Close()
	if cerr := s.fsCloser.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close pebble at %s: %w", s.dir, err)
	}
	return nil
}

// lifecycle lets Close wait for the calls that use the database. A plain
// RWMutex would do it too, but a call that re-enters the store while Close
// waits (fn of Scan, say) would deadlock on it; here it gets ErrClosed.
type lifecycle struct {
	mu      sync.Mutex
	active  int
	closing bool
	drained chan struct{} // closed when closing and no call is active
	done    chan struct{} // closed when Close begins; wakes waiting Tails
}

func (l *lifecycle) init() {
	l.drained = make(chan struct{})
	l.done = make(chan struct{})
}

// enter admits a call, or refuses it once the store is closing or ctx has
// ended. Every successful enter is paired with one leave.
func (l *lifecycle) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded store: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return store.ErrClosed
	}
	l.active++
	return nil
}

func (l *lifecycle) leave() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.active--
	if l.closing && l.active == 0 {
		close(l.drained)
	}
}

// close starts closing and waits until no call is active. It reports
// false when the store was already closing.
func (l *lifecycle) close() bool {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return false
	}
	l.closing = true
	close(l.done)
	if l.active == 0 {
		close(l.drained)
	}
	l.mu.Unlock()
	<-l.drained
	return true
}
