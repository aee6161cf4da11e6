// Package shipper tails one namespace of the local change log, batches the
// changes per shard and publishes them as frames to the region's JetStream
// stream. A shard's checkpoint advances only when JetStream has
// acknowledged the frame that covers it, so nothing is skipped on restart.
package shipper

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/checkpoint"
	"github.com/xdrd/xdrd/internal/lograte"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// Publisher sends a frame to JetStream and returns a future for its ack.
// transport.Conn implements it.
type Publisher interface {
	PublishAsync(subject, msgID string, data []byte) (jetstream.PubAckFuture, error)
}

// Checkpoints keeps each shard's shipped cursor. checkpoint.Node
// implements it; Stage must not block.
type Checkpoints interface {
	Cursor(k checkpoint.Key) uint64
	Stage(k checkpoint.Key, cursor uint64)
}

// Config says what one shipper ships and how it batches.
type Config struct {
	Source    string // name of this region
	SourceID  record.RegionID
	Namespace string
	Shards    int
	// Forward ships versions whose origin is another region too; set when a
	// link from this region forwards. Otherwise only local writes leave, so
	// applied versions never loop back.
	Forward bool
	// Ships filters by set; nil ships every set.
	Ships func(set string) bool
	// Owns says which shards this shipper ships: in a region of several
	// daemons each ships the shards the leader assigned it. Nil ships
	// every shard.
	Owns func(shard int) bool

	MaxRecords  int           // records per frame; default 512
	MaxBytes    int           // encoded bytes per frame; default 512 KiB
	Linger      time.Duration // how long a linger round lasts; default 1ms
	Heartbeat   time.Duration // an idle shard sends a heartbeat this often; default 1s
	MaxInFlight int           // frames published but not yet acknowledged; default 256
	TailBatch   int           // changes read per Tail call; default 4096
	Retry       time.Duration // wait before rewinding after a failure; default 500ms
	TrimEvery   time.Duration // how often shipped changes are trimmed; default 5s
}

func (c *Config) fill() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxRecords, 512)
	def(&c.MaxBytes, 512<<10)
	def(&c.MaxInFlight, 256)
	def(&c.TailBatch, 4096)
	// A linger adds its length to every record of a partial batch. At
	// 20K records/s, 1 ms instead of 2 took replication p99 from about
	// 5.1 to 4.4 ms for a third more CPU a record; full batches never
	// wait for it (docs/performance.md).
	defDur(&c.Linger, time.Millisecond)
	defDur(&c.Heartbeat, time.Second)
	defDur(&c.Retry, 500*time.Millisecond)
	defDur(&c.TrimEvery, 5*time.Second)
}

// Shipper ships one namespace of one region.
type Shipper struct {
	cfg     Config
	store   store.Store
	pub     Publisher
	cps     Checkpoints
	metrics *Metrics
	log     *zap.Logger
	now     func() time.Time

	owned   []bool           // per shard: whether this shipper ships it
	warn    *lograte.Limiter // for the failures of a link that stays down
	acked   []atomic.Uint64  // per shard: the cursor JetStream holds everything up to
	frames  ledger           // acknowledged frames, for counting backlog
	shipped atomic.Int64     // records JetStream acknowledged since start
}

// New returns a shipper; Run starts it.
func New(cfg Config, st store.Store, pub Publisher, cps Checkpoints, m *Metrics,
	log *zap.Logger) (*Shipper, error) {
	if cfg.Shards < 1 || cfg.Shards > record.Partitions {
		return nil, fmt.Errorf("shipper %s: shards %d outside 1-%d",
			cfg.Namespace, cfg.Shards, record.Partitions)
	}
	cfg.fill()
	owned := make([]bool, cfg.Shards)
	for shard := range owned {
		owned[shard] = cfg.Owns == nil || cfg.Owns(shard)
	}
	return &Shipper{
		cfg: cfg, store: st, pub: pub, cps: cps, metrics: m, now: time.Now,
		log:   log.With(zap.String("namespace", cfg.Namespace)),
		owned: owned,
		acked: make([]atomic.Uint64, cfg.Shards),
		warn:  lograte.New(30 * time.Second),
	}, nil
}

// Owned counts the shards this shipper ships.
func (s *Shipper) Owned() int {
	n := 0
	for _, o := range s.owned {
		if o {
			n++
		}
	}
	return n
}

// floor is the lowest of cursors over the owned shards; 0 when none is
// owned.
func (s *Shipper) floor(cursor func(shard int) uint64) uint64 {
	floor, found := uint64(0), false
	for shard, o := range s.owned {
		if c := cursor(shard); o && (!found || c < floor) {
			floor, found = c, true
		}
	}
	return floor
}

// Run ships until ctx ends. After any failure it waits, rewinds to the
// committed checkpoints and ships again from there: the destination applies
// idempotently, so a re-shipped batch is only counted as duplicates.
func (s *Shipper) Run(ctx context.Context) error {
	s.log.Info("shipper started", zap.Int("shards", s.cfg.Shards), zap.Int("owned", s.Owned()))
	defer s.log.Info("shipper stopped")

	for {
		err := s.runOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.metrics.failures.WithLabelValues(s.cfg.Namespace).Inc()
		if ok, held := s.warn.Allow(s.now()); ok {
			s.log.Warn("shipping interrupted, rewinding to checkpoint", zap.Error(err),
				zap.Int("suppressed", held))
		}

		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.cfg.Retry):
		}
	}
}

// checkpoints reads every shard's committed cursor.
func (s *Shipper) checkpoints() []store.Cursor {
	cursors := make([]store.Cursor, s.cfg.Shards)
	for shard := range cursors {
		cursors[shard] = store.Cursor(s.cps.Cursor(s.key(shard)))
	}
	return cursors
}

func (s *Shipper) key(shard int) checkpoint.Key {
	return checkpoint.Key{Namespace: s.cfg.Namespace, Shard: shard}
}

// ships reports whether a change leaves this region at all.
func (s *Shipper) ships(v *record.Version) bool {
	if v.Origin != s.cfg.SourceID && !s.cfg.Forward {
		return false
	}
	return s.cfg.Ships == nil || s.cfg.Ships(v.Set)
}

var errAckLost = errors.New("publish not acknowledged")

// Unshipped counts the changes of the namespace's change log that
// JetStream does not hold yet. It counts every change past the lowest
// owned shard's cursor, those that will be skipped (other origins, filtered
// sets) included, so it is an upper bound.
func (s *Shipper) Unshipped(ctx context.Context) (uint64, error) {
	last, err := s.store.Last(ctx, s.cfg.Namespace)
	if err != nil {
		return 0, err
	}
	floor := s.floor(func(shard int) uint64 { return s.acked[shard].Load() })
	if uint64(last) <= floor {
		return 0, nil
	}
	return uint64(last) - floor, nil
}

// Shipped counts the records JetStream acknowledged since the shipper
// started, for /v1/status.
func (s *Shipper) Shipped() int64 { return s.shipped.Load() }

// Unapplied counts the records in frames this shipper published whose
// stream sequence is above floor: the frames a destination whose consumer
// has that ack floor has not applied yet. Frames published before this
// daemon started are not counted.
func (s *Shipper) Unapplied(floor uint64) uint64 { return s.frames.after(floor) }

// Applied tells the shipper that every destination has applied the stream
// up to floor, so it may forget those frames.
func (s *Shipper) Applied(floor uint64) { s.frames.trim(floor) }
