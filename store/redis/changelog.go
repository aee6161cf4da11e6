package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// The change log of a namespace is the stream logPrefix + namespace. The
// library numbers changes with the counter seqPrefix + namespace and adds
// change n with the stream ID "n-0", so a cursor is the first part of an
// ID and every range read is an XRANGE or XREAD on IDs. Sequence numbers
// have no gaps, so a first held entry above the cursor asked for means the
// cursor was trimmed.

// maxBlock bounds one XREAD BLOCK, so a waiting Tail notices its context
// and Close within this long even if the connection gives no sign.
const maxBlock = 100 * time.Millisecond

// Tail returns changes of ns from from on, waiting up to wait for one; see
// store.Store.
func (s *Store) Tail(ctx context.Context, ns string, from store.Cursor, limit int,
	wait time.Duration) ([]store.Change, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("tail %s: max %d is not positive", ns, limit)
	}
	from = max(from, 1)
	deadline := time.Now().Add(wait)
	for {
		if err := s.check(ctx); err != nil {
			return nil, err
		}
		changes, err := s.read(ctx, ns, from, limit)
		if err != nil || len(changes) > 0 {
			return changes, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		// Wake on any entry from the cursor on, then read again: the
		// read decides about trimming atomically.
		block := max(min(left, maxBlock), time.Millisecond)
		err = s.rdb.XRead(ctx, &goredis.XReadArgs{
			Streams: []string{logPrefix + ns, streamID(from - 1)},
			Count:   1,
			Block:   block,
		}).Err()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, s.fail("tail "+ns, err)
		}
	}
}

// read returns up to limit held changes from from on, or ErrTrimmed. It
// reads the range and the counter in one transaction, so a change that
// lands in between cannot look like a trimmed one.
func (s *Store) read(ctx context.Context, ns string, from store.Cursor,
	limit int) ([]store.Change, error) {
	var rng *goredis.XMessageSliceCmd
	var last *goredis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(pipe goredis.Pipeliner) error {
		rng = pipe.XRangeN(ctx, logPrefix+ns, streamID(from), "+", int64(limit))
		last = pipe.Get(ctx, seqPrefix+ns)
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, s.fail("tail "+ns, err)
	}
	msgs := rng.Val()
	if len(msgs) == 0 {
		n, _ := strconv.ParseUint(last.Val(), 10, 64)
		if uint64(from) <= n {
			return nil, fmt.Errorf("tail %s from %d, log emptied up to %d: %w",
				ns, from, n, store.ErrTrimmed)
		}
		return nil, nil
	}

	changes := make([]store.Change, len(msgs))
	for i, m := range msgs {
		c, err := change(ns, m)
		if err != nil {
			return nil, fmt.Errorf("tail %s: %w", ns, err)
		}
		if i == 0 && c.Seq != from {
			return nil, fmt.Errorf("tail %s from %d, oldest held is %d: %w",
				ns, from, c.Seq, store.ErrTrimmed)
		}
		changes[i] = c
	}
	return changes, nil
}

// change converts one stream entry.
func change(ns string, m goredis.XMessage) (store.Change, error) {
	seqText, _, _ := strings.Cut(m.ID, "-")
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if err != nil {
		return store.Change{}, fmt.Errorf("parse change id %q: %w", m.ID, err)
	}
	f := fromValues(m.Values)
	v, err := f.version()
	if err != nil {
		return store.Change{}, fmt.Errorf("parse change %d: %w", seq, err)
	}
	v.Namespace, v.Set, v.Key = ns, f["set"], f["key"]
	return store.Change{Seq: store.Cursor(seq), Version: v}, nil
}

func streamID(c store.Cursor) string {
	return strconv.FormatUint(uint64(c), 10) + "-0"
}

// Last returns the newest cursor of ns; see store.Store.
func (s *Store) Last(ctx context.Context, ns string) (store.Cursor, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	n, err := s.rdb.Get(ctx, seqPrefix+ns).Uint64()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, s.fail("last "+ns, err)
	}
	return store.Cursor(n), nil
}

// Trim drops the changes of ns up to upTo; see store.Store. It trims
// exactly, unlike the approximate trimming by length of every write.
func (s *Store) Trim(ctx context.Context, ns string, upTo store.Cursor) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if err := record.CheckNamespace(ns); err != nil {
		return fmt.Errorf("trim %s: %w", ns, err)
	}
	err := s.rdb.XTrimMinID(ctx, logPrefix+ns, streamID(upTo+1)).Err()
	if err != nil {
		return s.fail(fmt.Sprintf("trim %s to %d", ns, upTo), err)
	}
	return nil
}
