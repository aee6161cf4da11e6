// Package applier consumes one link — a source region's stream, through the
// durable consumer named after this region — and writes what it carries
// into the local store, keeping whichever version wins by the namespace's
// conflict policy. A message is acknowledged only after the store has
// durably applied it, so a crash at any point redelivers rather than loses.
package applier

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/conflictlog"
	"github.com/xdrd/xdrd/frame"
	"github.com/xdrd/xdrd/internal/lograte"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/transport"
)

// Source is where a link's frames come from. transport.Conn implements it.
type Source interface {
	EnsureConsumer(ctx context.Context, source, dest string,
		filter []string) (jetstream.Consumer, error)
	DeadLetter(ctx context.Context, msg jetstream.Msg, reason string) error
}

// Namespace is what the applier needs to know of a namespace shipped on
// this link.
type Namespace struct {
	Policy conflict.Policy
	Shards int
}

// Config describes one link, seen from its destination.
type Config struct {
	Region   string // this region, the link's destination
	RegionID record.RegionID
	Source   string
	SourceID record.RegionID
	// Namespaces lists those the source ships to this region.
	Namespaces map[string]Namespace
	// Known reports whether a namespace exists in the topology at all. A
	// frame of a known namespace that is not for this region is skipped; a
	// frame of an unknown one is rejected.
	Known func(ns string) bool
	// Forward accepts versions whose origin is not the source: the source
	// forwards them on this link.
	Forward bool
	// Conflicts receives every conflict this applier decides; nil logs
	// none (they are still counted).
	Conflicts *conflictlog.Log
	// RegionName names a region by its ID in conflict entries.
	RegionName func(record.RegionID) string

	// Heartbeat is how often an idle source shard sends a heartbeat; the
	// longest silence a healthy link shows. Default 1s.
	Heartbeat time.Duration

	MaxFrame int // bytes; default frame.DefaultMaxSize
	// MaxBatch bounds the messages per store apply; default 1024, the
	// consumer's default MaxAckPending: the server delivers no more
	// unacknowledged messages than that, so a larger bound is never
	// reached.
	MaxBatch int
	// MaxBatchBytes bounds the frame data per store apply, in bytes;
	// default 4 MiB. A message larger than that is applied alone.
	MaxBatchBytes int
	Rate          int           // records per second; 0 is unlimited
	Retry         time.Duration // wait after a failure; default 500ms
}

// defaultMaxBatchBytes is 4 MiB of frame data per store apply: about
// 12,000 records, whether the frames are full or carry two or three
// records each, which spreads a synced store batch's fixed cost thin. At
// full speed on the embedded store, 1 MiB cost 10% more CPU a record.
const defaultMaxBatchBytes = 4 << 20

// Applier applies one link.
type Applier struct {
	cfg     Config
	store   store.Store
	src     Source
	metrics *Metrics
	log     *zap.Logger
	limit   *rate.Limiter
	now     func() time.Time
	started time.Time
	health  *health
	warn    *lograte.Limiter // for the failures of a link that stays down

	mu    sync.Mutex
	links map[string]*Progress // by namespace
}

// New returns an applier; Run starts it.
func New(cfg Config, st store.Store, src Source, m *Metrics, log *zap.Logger) *Applier {
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = frame.DefaultMaxSize
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = transport.DefaultConfig().MaxAckPending
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = defaultMaxBatchBytes
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 500 * time.Millisecond
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = time.Second
	}
	a := &Applier{
		cfg: cfg, store: st, src: src, metrics: m, now: time.Now,
		started: time.Now(), health: newHealth(), warn: lograte.New(30 * time.Second),
		log:   log.With(zap.String("source-region", cfg.Source)),
		links: make(map[string]*Progress),
	}
	if cfg.Rate > 0 {
		a.limit = rate.NewLimiter(rate.Limit(cfg.Rate), max(cfg.Rate/10, frameRecordsMax))
	}
	return a
}

// frameRecordsMax is the smallest burst the rate limiter allows: a batch
// larger than the burst is charged a burst at a time (see throttle).
const frameRecordsMax = 4096

// Run applies the link until ctx ends, reconnecting after failures.
func (a *Applier) Run(ctx context.Context) error {
	a.log.Info("applier started", zap.Int("max-batch", a.cfg.MaxBatch),
		zap.Int("max-batch-bytes", a.cfg.MaxBatchBytes))
	defer a.log.Info("applier stopped")

	for {
		if paused, changed := a.health.gate(); paused {
			select {
			case <-ctx.Done():
				return nil
			case <-changed:
				continue
			}
		}
		err := a.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errPaused) {
			a.log.Info("link paused")
			continue
		}
		if ok, held := a.warn.Allow(a.now()); ok {
			a.log.Warn("applying interrupted, retrying", zap.Error(err),
				zap.Int("suppressed", held))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(a.cfg.Retry):
		}
	}
}

// errPaused stops a pass when an operator pauses the link.
var errPaused = errors.New("link paused")

// Pause stops applying the link until Resume; frames wait in the source's
// stream, and lag rises. It reports whether the link was running.
func (a *Applier) Pause() bool { return a.health.setPaused(true) }

// Resume applies the link again; it reports whether it was paused.
func (a *Applier) Resume() bool {
	resumed := a.health.setPaused(false)
	if resumed {
		a.log.Info("link resumed")
	}
	return resumed
}

// Paused reports whether an operator paused the link.
func (a *Applier) Paused() bool {
	paused, _ := a.health.gate()
	return paused
}

func (a *Applier) runOnce(ctx context.Context) error {
	cons, err := a.src.EnsureConsumer(ctx, a.cfg.Source, a.cfg.Region, nil)
	if err != nil {
		return fmt.Errorf("consumer of %s: %w", a.cfg.Source, err)
	}
	// The client buffers by bytes, not messages: frames range from a few
	// hundred bytes to a MiB. Short pull expiry and heartbeats notice a
	// restarted or returning server within seconds rather than the
	// client's default half minute.
	it, err := cons.Messages(jetstream.PullMaxBytes(a.cfg.pullBytes()),
		jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(time.Second))
	if err != nil {
		return fmt.Errorf("consume %s: %w", a.cfg.Source, err)
	}
	defer it.Stop()

	b := newBatcher(a.cfg.MaxBatch, a.cfg.MaxBatchBytes)
	failed := make(chan error, 1)
	watching, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { pump(it, b.q, failed) })
	wg.Go(func() { a.health.watch(watching, cons, a.now) })
	defer wg.Wait()
	defer stopWatch()
	defer b.release(it)

	batch := make([]jetstream.Msg, 0, a.cfg.MaxBatch)
	for {
		paused, changed := a.health.gate()
		if paused {
			return errPaused
		}
		if !b.opened() {
			select {
			case m, ok := <-b.q.msgs:
				if !ok {
					return <-failed
				}
				b.open(m)
			case <-changed:
				continue
			case <-ctx.Done():
				return nil
			}
		}
		batch = b.fill(batch)
		if err := a.handle(ctx, batch); err != nil {
			return err
		}
		clear(batch)
		batch = batch[:0]
	}
}
