package shipper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/frame"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/transport"
)

// drainTimeout bounds how long a stopping shipper waits for the acks of
// frames already published, so that their checkpoints are kept.
const drainTimeout = 5 * time.Second

// pending is a published frame waiting for its ack.
type pending struct {
	future jetstream.PubAckFuture
	data   []byte // the encoded frame, reused once JetStream acks it
	shard  int
	last   store.Cursor
	count  int
}

// run is the state of one pass from the checkpoints forward; a failure
// throws it away and a new pass starts from the committed checkpoints.
type run struct {
	*Shipper
	cursors  []store.Cursor // per shard: every change <= it is in a published frame
	batches  []*batch
	lastSent []time.Time
	pos      store.Cursor // the highest change read from the log
	scan     int          // frames sent by a recovery scan, for their message IDs
	inflight chan pending
	spare    chan []byte // buffers of acked frames, for the next encodes

	// round is when the open linger round ends. The first change batched
	// while every batch is empty opens one; at its end every batch that
	// holds records ships, so no record waits longer than the linger.
	// Zero while no batch holds records.
	round    time.Time
	filling  int         // batches holding records
	caughtUp bool        // the last read of the log returned less than it asked for
	nap      *time.Timer // for pause; made on first use
}

// pollEvery bounds how long the shipper leaves the log unread while a
// linger round is open, so that a burst still fills frames and ships them
// without waiting for a long linger to end.
const pollEvery = time.Millisecond

// spareBuffers bounds the encode buffers kept for reuse. A full frame is
// a few hundred KiB, and allocating and zeroing one per frame was a tenth
// of the shipper's CPU at full speed.
const spareBuffers = 16

func (s *Shipper) runOnce(ctx context.Context) error {
	acks, cancelAcks := context.WithCancelCause(context.Background())
	defer cancelAcks(nil)

	r := &run{
		Shipper:  s,
		cursors:  s.checkpoints(),
		batches:  make([]*batch, s.cfg.Shards),
		lastSent: make([]time.Time, s.cfg.Shards),
		inflight: make(chan pending, s.cfg.MaxInFlight),
		spare:    make(chan []byte, spareBuffers),
	}
	r.pos = store.Cursor(s.floor(func(shard int) uint64 { return uint64(r.cursors[shard]) }))
	for shard, c := range r.cursors {
		s.acked[shard].Store(uint64(c))
	}
	for i := range r.batches {
		r.batches[i] = newBatch()
	}

	collected := make(chan struct{})
	go func() {
		defer close(collected)
		r.collect(acks, cancelAcks)
	}()

	err := r.loop(ctx, acks)

	// Stop publishing, then keep the acks of what is already out there, so
	// a graceful stop re-ships nothing.
	close(r.inflight)
	select {
	case <-collected:
	case <-time.After(drainTimeout):
		cancelAcks(errors.New("drain timed out"))
		<-collected
	}
	if cause := context.Cause(acks); err == nil && cause != nil {
		err = cause
	}
	return err
}

// loop reads the change log and publishes until ctx ends or an ack fails.
func (r *run) loop(ctx, acks context.Context) error {
	nextTrim := r.now().Add(r.cfg.TrimEvery)
	for {
		if ctx.Err() != nil {
			return nil
		}
		if acks.Err() != nil {
			return context.Cause(acks)
		}

		wait := r.wait()
		if r.caughtUp && r.filling > 0 {
			// What comes before the round ends ships at its end anyway, so
			// waking for each change, as a blocking read does, would cost
			// a wake-up, a read and a pass over the shards per record.
			r.pause(ctx, acks, min(wait, pollEvery))
			wait = 0
		}
		changes, err := r.store.Tail(ctx, r.cfg.Namespace, r.pos+1, r.cfg.TailBatch, wait)
		switch {
		case errors.Is(err, store.ErrTrimmed):
			r.caughtUp = false
			err = r.recover(ctx)
		case err == nil:
			r.caughtUp = len(changes) < r.cfg.TailBatch
			err = r.take(ctx, changes)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}

		now := r.now()
		if err := r.flushDue(ctx, now); err != nil {
			return err
		}
		if now.After(nextTrim) {
			r.trim(ctx)
			nextTrim = now.Add(r.cfg.TrimEvery)
		}
	}
}

// take batches the changes that ship and flushes the batches that fill up.
func (r *run) take(ctx context.Context, changes []store.Change) error {
	now := r.now()
	for i := range changes {
		c := &changes[i]
		r.pos = c.Seq
		shard := record.Shard(record.Partition(c.Set, c.Key), r.cfg.Shards)
		if !r.owned[shard] || c.Seq <= r.cursors[shard] || !r.ships(&c.Version) {
			// Another member's shard, shipped before a rewind, or not for
			// shipping: the shard's next frame or heartbeat carries its
			// cursor past it.
			continue
		}
		if err := r.add(ctx, shard, c, now); err != nil {
			return err
		}
	}
	return nil
}

// add puts one change in its shard's batch, flushing around it so that no
// frame exceeds the count and byte limits.
func (r *run) add(ctx context.Context, shard int, c *store.Change, now time.Time) error {
	b := r.batches[shard]
	if !b.fits(&c.Version, r.cfg.MaxBytes) {
		if err := r.flush(ctx, shard, now); err != nil {
			return err
		}
	}
	if r.batch(shard, c, now) {
		r.metrics.coalesced.WithLabelValues(r.cfg.Namespace).Inc()
	}
	if len(b.records) >= r.cfg.MaxRecords {
		return r.flush(ctx, shard, now)
	}
	return nil
}

// batch puts c in its shard's batch, opening a linger round if none is
// open, and reports whether it replaced an earlier write of its key.
func (r *run) batch(shard int, c *store.Change, now time.Time) (coalesced bool) {
	b := r.batches[shard]
	if b.empty() {
		r.filling++
		if r.round.IsZero() {
			r.round = now.Add(r.cfg.Linger)
		}
	}
	return b.add(c)
}

// pause waits for d, or until the run ends.
func (r *run) pause(ctx, acks context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	if r.nap == nil {
		r.nap = time.NewTimer(d)
	} else {
		r.nap.Reset(d)
	}
	select {
	case <-r.nap.C:
	case <-ctx.Done():
		r.nap.Stop()
	case <-acks.Done():
		r.nap.Stop()
	}
}

// wait is how long Tail may block: until the linger round ends or the
// earliest heartbeat falls due.
func (r *run) wait() time.Duration {
	now := r.now()
	due := now.Add(r.cfg.Heartbeat)
	if !r.round.IsZero() && r.round.Before(due) {
		due = r.round
	}
	for shard, b := range r.batches {
		if !r.owned[shard] || !b.empty() {
			continue
		}
		if next := r.lastSent[shard].Add(r.cfg.Heartbeat); next.Before(due) {
			due = next
		}
	}
	return max(due.Sub(now), 0)
}

// flushDue sends every batch holding records once the linger round is
// over, and heartbeats for shards that sent nothing for a heartbeat
// interval.
func (r *run) flushDue(ctx context.Context, now time.Time) error {
	over := !r.round.IsZero() && !now.Before(r.round)
	for shard, b := range r.batches {
		if !r.owned[shard] {
			continue
		}
		due := over && !b.empty()
		idle := b.empty() && !now.Before(r.lastSent[shard].Add(r.cfg.Heartbeat))
		if due || idle {
			if err := r.flush(ctx, shard, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush publishes the shard's batch, or a heartbeat when it is empty. The
// frame covers the log up to r.pos: no change of this shard at or below it
// is left out.
func (r *run) flush(ctx context.Context, shard int, now time.Time) error {
	b := r.batches[shard]
	f := frame.Frame{
		Header: frame.Header{
			Source: r.cfg.SourceID, Namespace: r.cfg.Namespace, Shard: shard,
			First: uint64(r.pos), Last: uint64(r.pos),
			Count: len(b.records), SentAt: now.UnixNano(),
		},
		Records: b.records,
	}
	if !b.empty() {
		f.First = uint64(b.first)
	}
	id := transport.MsgID(r.cfg.Source, r.cfg.Namespace, shard, f.First, f.Last)
	if b.empty() {
		// Heartbeats repeat the same range while the shard is idle; the
		// send time keeps JetStream from dropping them as duplicates.
		id = fmt.Sprintf("%s.hb.%d", id, f.SentAt)
	}
	return r.publish(ctx, &f, id)
}

// publish encodes and sends a frame and queues its ack for collect.
func (r *run) publish(ctx context.Context, f *frame.Frame, id string) error {
	var buf []byte
	select {
	case buf = <-r.spare:
	default:
	}
	data, err := frame.Append(buf[:0], f)
	if err != nil {
		return fmt.Errorf("encode frame of shard %d: %w", f.Shard, err)
	}
	subject := transport.Subject(r.cfg.Source, r.cfg.Namespace, f.Shard)
	future, err := r.pub.PublishAsync(subject, id, data)
	if err != nil {
		return fmt.Errorf("publish to %s: %w", subject, err)
	}

	p := pending{future: future, data: data, shard: f.Shard, last: store.Cursor(f.Last), count: f.Count}
	select {
	case r.inflight <- p:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.cursors[f.Shard] = store.Cursor(f.Last)
	if b := r.batches[f.Shard]; !b.empty() {
		b.reset()
		if r.filling--; r.filling == 0 {
			r.round = time.Time{}
		}
	}
	r.lastSent[f.Shard] = time.Unix(0, f.SentAt)
	return nil
}

// collect waits for acks in publish order and stages each shard's
// checkpoint once JetStream holds its frame. The first failed ack stops the
// run: every later frame is re-shipped from the checkpoint.
func (r *run) collect(ctx context.Context, fail context.CancelCauseFunc) {
	for p := range r.inflight {
		select {
		case ack := <-p.future.Ok():
			r.cps.Stage(r.key(p.shard), uint64(p.last))
			r.acked[p.shard].Store(uint64(p.last))
			r.frames.add(ack.Sequence, p.count)
			r.metrics.shipped.WithLabelValues(r.cfg.Namespace).Add(float64(p.count))
			r.shipped.Add(int64(p.count))
			r.metrics.frames.WithLabelValues(r.cfg.Namespace).Inc()
			// The client copied the frame into its connection's buffer and
			// keeps it only to publish again before an ack, so once acked
			// it is free. A failed publish may still hold it: not reused.
			select {
			case r.spare <- p.data:
			default:
			}
		case err := <-p.future.Err():
			fail(fmt.Errorf("%w: shard %d: %w", errAckLost, p.shard, err))
			return
		case <-ctx.Done():
			return
		}
	}
}

// trim drops changes every shard has committed, and reports how many
// JetStream does not hold yet.
func (r *run) trim(ctx context.Context) {
	floor := slices.Min(r.checkpoints())
	if err := r.store.Trim(ctx, r.cfg.Namespace, floor); err != nil {
		r.log.Warn("trim change log", zap.Error(err))
	}
	if n, err := r.Unshipped(ctx); err == nil {
		r.metrics.pending.WithLabelValues(r.cfg.Namespace).Set(float64(n))
	}
}
