package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// Put writes bins locally through the library; see store.Store.
func (s *Store) Put(ctx context.Context, ns, set, key string, bins []byte,
	expiry int64) (record.Version, error) {
	return s.write(ctx, "put", ns, set, key, bins, expiry, false)
}

// Delete writes a tombstone locally through the library; see store.Store.
func (s *Store) Delete(ctx context.Context, ns, set, key string) (record.Version, error) {
	return s.write(ctx, "delete", ns, set, key, nil, 0, true)
}

func (s *Store) write(ctx context.Context, op, ns, set, key string, bins []byte,
	expiry int64, tombstone bool) (record.Version, error) {
	if err := s.check(ctx); err != nil {
		return record.Version{}, err
	}
	v := record.Version{
		Namespace: ns, Set: set, Key: key,
		// The library stamps generation and LUT; a placeholder LUT lets
		// Validate check everything else first.
		Meta: record.Meta{LUT: 1, Origin: s.region, Expiry: expiry, Tombstone: tombstone},
	}
	if !tombstone && len(bins) > 0 {
		v.Bins = append([]byte(nil), bins...)
	}
	if err := v.Validate(); err != nil {
		return record.Version{}, fmt.Errorf("%s %s/%s: %w", op, set, key, err)
	}
	addr, err := address(ns, set, key)
	if err != nil {
		return record.Version{}, fmt.Errorf("%s %s/%s: %w", op, set, key, err)
	}

	hint := "0"
	if s.clock != nil {
		hint = strconv.FormatInt(int64(s.clock.Now()), 10)
	}
	del := "0"
	if tombstone {
		del = "1"
	}
	args := appendBins([]any{hint, expiry, del}, v.Bins)
	res, err := s.rdb.FCall(ctx, "xdrd_write", []string{addr}, args...).StringSlice()
	if err != nil {
		return record.Version{}, s.fail(fmt.Sprintf("%s %s/%s", op, set, key), err)
	}
	if len(res) != 2 {
		return record.Version{}, fmt.Errorf("%s %s/%s: library returned %d values",
			op, set, key, len(res))
	}
	gen, err1 := strconv.ParseUint(res[0], 10, 64)
	lut, err2 := strconv.ParseInt(res[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return record.Version{}, fmt.Errorf("%s %s/%s: parse reply: %w", op, set, key, err)
	}
	v.Generation, v.LUT = record.Generation(gen), record.LUT(lut)
	s.observe(v.LUT)
	return v, nil
}

// Get returns the stored version; see store.Store.
func (s *Store) Get(ctx context.Context, ns, set, key string) (record.Version, bool, error) {
	if err := s.check(ctx); err != nil {
		return record.Version{}, false, err
	}
	addr, err := address(ns, set, key)
	if err != nil {
		return record.Version{}, false, fmt.Errorf("get %s/%s: %w", set, key, err)
	}
	h, err := s.rdb.HGetAll(ctx, recordPrefix+addr).Result()
	if err != nil {
		return record.Version{}, false, s.fail(fmt.Sprintf("get %s/%s", set, key), err)
	}
	if len(h) == 0 {
		return record.Version{}, false, nil
	}
	v, err := fields(h).version()
	if err != nil {
		return record.Version{}, false, fmt.Errorf("get %s/%s: %w", set, key, err)
	}
	v.Namespace, v.Set, v.Key = ns, set, key
	return v, true, nil
}

// Apply resolves and writes each version on the server with xdrd_apply,
// one call per version, all of the batch in one pipeline; see
// store.Store. The function runs atomically, so no local write can slip
// between the decision and the write, and the pipeline runs in order on
// one connection, so versions of one key in a batch are resolved in turn.
//
// The batch is as durable as the server makes it when Apply returns: with
// appendonly yes and appendfsync always it is on disk, with the default
// everysec it may lose the last second in a crash (see docs/redis.md).
func (s *Store) Apply(ctx context.Context, p conflict.Policy,
	vs []record.Version) ([]store.Result, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	policy := "g"
	if p == conflict.Timestamp {
		policy = "t"
	}
	addrs := make([]string, len(vs))
	for i := range vs {
		err := vs[i].Validate()
		if err == nil {
			addrs[i], err = address(vs[i].Namespace, vs[i].Set, vs[i].Key)
		}
		if err != nil {
			return nil, fmt.Errorf("apply version %d (%s/%s): %w", i, vs[i].Set, vs[i].Key, err)
		}
	}
	if len(vs) == 0 {
		return []store.Result{}, nil
	}

	cmds := make([]*goredis.Cmd, len(vs))
	_, err := s.rdb.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i := range vs {
			cmds[i] = pipe.FCall(ctx, "xdrd_apply", []string{addrs[i]}, applyArgs(policy, &vs[i])...)
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(fmt.Sprintf("apply %d versions", len(vs)), err)
	}

	results := make([]store.Result, len(vs))
	for i, cmd := range cmds {
		if results[i], err = applyResult(cmd); err != nil {
			return nil, fmt.Errorf("apply version %d (%s/%s): %w", i, vs[i].Set, vs[i].Key, err)
		}
		s.observe(vs[i].LUT)
	}
	return results, nil
}

func applyArgs(policy string, v *record.Version) []any {
	del := "0"
	if v.Tombstone {
		del = "1"
	}
	args := make([]any, 0, 10)
	args = append(args, policy, uint64(v.Generation), int64(v.LUT), int(v.Origin), v.Expiry, del)
	return appendBins(args, v.Bins)
}

// applyResult reads xdrd_apply's reply: {outcome, had-previous, previous
// metadata...}.
func applyResult(cmd *goredis.Cmd) (store.Result, error) {
	res, err := cmd.Slice()
	if err != nil {
		return store.Result{}, fmt.Errorf("call xdrd_apply: %w", err)
	}
	if len(res) != 7 {
		return store.Result{}, fmt.Errorf("xdrd_apply returned %d values, want 7", len(res))
	}
	var r store.Result
	switch res[0] {
	case int64(0):
		r.Outcome = conflict.Applied
	case int64(1):
		r.Outcome = conflict.RejectedOlder
	case int64(2):
		r.Outcome = conflict.Duplicate
	default:
		return r, fmt.Errorf("xdrd_apply returned outcome %v", res[0])
	}
	if res[1] == int64(1) {
		r.HadPrevious = true
		if r.Previous, err = parseMeta(res, 2); err != nil {
			return r, fmt.Errorf("parse previous metadata: %w", err)
		}
	}
	return r, nil
}
