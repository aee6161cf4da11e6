package shipper

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/xdrd/xdrd/frame"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/transport"
)

// recover re-ships the namespace by scanning it when the change log no
// longer holds the changes after a checkpoint. Every stored version goes
// out again; the destination keeps what wins, so versions it already has
// count as duplicates. It re-ships every owned shard, not only the ones whose
// checkpoint fell behind: the log does not say where it now starts, and an
// extra shard costs only bandwidth.
func (r *run) recover(ctx context.Context) error {
	head, err := r.store.Last(ctx, r.cfg.Namespace)
	if err != nil {
		return fmt.Errorf("read change log head: %w", err)
	}
	r.log.Warn("change log trimmed past checkpoint, re-shipping by partition scan",
		zap.Uint64("cursor", uint64(r.pos)), zap.Uint64("head", uint64(head)))
	r.metrics.recovery.WithLabelValues(r.cfg.Namespace).Inc()

	// Frames sent during the scan keep the shard's old cursor, so a crash
	// halfway scans again instead of skipping what was not sent yet.
	now := r.now()
	err = r.store.Scan(ctx, r.cfg.Namespace, nil, func(v record.Version) error {
		if !r.ships(&v) {
			return nil
		}
		shard := record.Shard(record.Partition(v.Set, v.Key), r.cfg.Shards)
		if !r.owned[shard] {
			return nil
		}
		b := r.batches[shard]
		c := store.Change{Seq: r.cursors[shard], Version: v}
		if len(b.records) >= r.cfg.MaxRecords || !b.fits(&v, r.cfg.MaxBytes) {
			if err := r.flushScan(ctx, shard, now, r.cursors[shard]); err != nil {
				return err
			}
		}
		r.batch(shard, &c, now)
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan partitions: %w", err)
	}

	// The last frame of every shard moves its cursor to the head.
	r.pos = head
	for shard := range r.batches {
		if !r.owned[shard] {
			continue
		}
		if err := r.flushScan(ctx, shard, now, head); err != nil {
			return err
		}
	}
	r.log.Info("re-ship by partition scan done", zap.Uint64("head", uint64(head)))
	return nil
}

// flushScan publishes a frame of scanned versions of the shard whose ack
// moves the shard's checkpoint to last.
func (r *run) flushScan(ctx context.Context, shard int, now time.Time, last store.Cursor) error {
	b := r.batches[shard]
	r.scan++
	f := frame.Frame{
		Header: frame.Header{
			Source: r.cfg.SourceID, Namespace: r.cfg.Namespace, Shard: shard,
			First: uint64(min(r.cursors[shard], last)), Last: uint64(last),
			Count: len(b.records), SentAt: now.UnixNano(),
		},
		Records: b.records,
	}
	id := transport.MsgID(r.cfg.Source, r.cfg.Namespace, shard, f.First, f.Last)
	return r.publish(ctx, &f, fmt.Sprintf("%s.scan.%d", id, r.scan))
}
