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

	MaxFrame int           // bytes; default frame.DefaultMaxSize
	MaxBatch int           // messages per store apply; default 64
	Rate     int           // records per second; 0 is unlimited
	Retry    time.Duration // wait after a failure; default 500ms
}

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
		cfg.MaxBatch = 64
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

// frameRecordsMax is the burst the rate limiter must allow: one whole batch
// of records has to pass at once.
const frameRecordsMax = 4096

// Run applies the link until ctx ends, reconnecting after failures.
func (a *Applier) Run(ctx context.Context) error {
	a.log.Info("applier started")
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
	// Short pull expiry and heartbeats notice a restarted or returning
	// server within seconds rather than the client's default half minute.
	it, err := cons.Messages(jetstream.PullMaxMessages(4*a.cfg.MaxBatch),
		jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(time.Second))
	if err != nil {
		return fmt.Errorf("consume %s: %w", a.cfg.Source, err)
	}
	defer it.Stop()

	msgs := make(chan jetstream.Msg, a.cfg.MaxBatch)
	failed := make(chan error, 1)
	watching, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { pump(it, msgs, failed) })
	wg.Go(func() { a.health.watch(watching, cons, a.now) })
	defer wg.Wait()
	defer stopWatch()
	defer release(it, msgs)

	batch := make([]jetstream.Msg, 0, a.cfg.MaxBatch)
	for {
		paused, changed := a.health.gate()
		if paused {
			return errPaused
		}
		select {
		case m, ok := <-msgs:
			if !ok {
				return <-failed
			}
			batch = append(batch, m)
		case <-changed:
			continue
		case <-ctx.Done():
			return nil
		}
	more:
		for len(batch) < a.cfg.MaxBatch {
			select {
			case m, ok := <-msgs:
				if !ok {
					break more
				}
				batch = append(batch, m)
			default:
				break more
			}
		}
		if err := a.handle(ctx, batch); err != nil {
			return err
		}
		clear(batch)
		batch = batch[:0]
	}
}

// pump moves messages from the iterator to a channel so that the applier
// can take whatever has arrived as one batch. It closes msgs when the
// iterator ends, after putting the reason in failed.
func pump(it jetstream.MessagesContext, msgs chan<- jetstream.Msg, failed chan<- error) {
	defer close(msgs)
	for {
		m, err := it.Next()
		if err != nil {
			failed <- err
			return
		}
		msgs <- m
	}
}

// release hands back the messages fetched but not applied when a pass
// ends, so that whoever applies the link next — this applier after a
// pause or a failure, or a new leader — gets them at once instead of
// after the consumer's ack wait. The iterator stops pulling and gives up
// what it buffered.
func release(it jetstream.MessagesContext, msgs <-chan jetstream.Msg) {
	it.Drain()
	for m := range msgs {
		_ = m.Nak()
	}
}
