package applier

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/conflictlog"
	"github.com/xdrd/xdrd/frame"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/transport"
)

// Reasons a frame is rejected, beyond the decoder's own (frame.Reason).
const (
	reasonSubject   = "subject"
	reasonSource    = "source"
	reasonNamespace = "namespace"
	reasonShard     = "shard"
)

// accepted is a decoded frame of a batch, with the records to apply.
type accepted struct {
	msg     jetstream.Msg
	frame   *frame.Frame
	records []record.Version
}

// handle applies one batch of messages: it rejects bad frames, applies the
// good ones' records per namespace in one store call each, then
// acknowledges. A store failure returns an error before any ack, so the
// batch is delivered again.
func (a *Applier) handle(ctx context.Context, batch []jetstream.Msg) error {
	good := make([]accepted, 0, len(batch))
	for _, msg := range batch {
		acc, reason, err := a.accept(msg)
		if err != nil {
			if err := a.reject(ctx, msg, reason, err); err != nil {
				return err
			}
			continue
		}
		good = append(good, acc)
	}

	for ns, vs := range gather(good) {
		if err := a.apply(ctx, ns, vs); err != nil {
			a.health.mark(&a.health.applyErr, a.now())
			// Ask for the batch again soon rather than after the ack wait:
			// the store may be back in a moment.
			for _, acc := range good {
				_ = acc.msg.NakWithDelay(a.cfg.Retry)
			}
			return err
		}
	}

	for _, acc := range good {
		if err := acc.msg.Ack(); err != nil {
			// The store already holds the records: a redelivery is only a
			// duplicate, so the failed ack is not worth stopping for.
			a.log.Debug("ack failed", zap.Error(err))
		}
		if acc.frame != nil {
			a.progress(acc.frame.Namespace).observe(acc.frame)
			if acc.frame.Count == 0 {
				// A heartbeat is sent as soon as it is made, so its send
				// time against its arrival shows the source's clock skew
				// (plus transit, which is small next to a skew worth
				// alerting on).
				a.health.skew.Store(acc.frame.SentAt - a.now().UnixNano())
			}
		}
	}
	return nil
}

// gather puts the records of a batch's frames together per namespace, each
// namespace's in one slice of the exact size: a batch holds thousands of
// records, and growing the slices by appending copied each several times.
func gather(good []accepted) map[string][]record.Version {
	sizes := make(map[string]int)
	for _, acc := range good {
		if acc.frame != nil {
			sizes[acc.frame.Namespace] += len(acc.records)
		}
	}
	work := make(map[string][]record.Version, len(sizes))
	for ns, n := range sizes {
		work[ns] = make([]record.Version, 0, n)
	}
	for _, acc := range good {
		if acc.frame != nil {
			work[acc.frame.Namespace] = append(work[acc.frame.Namespace], acc.records...)
		}
	}
	return work
}

// accept decodes and checks one message. It returns the reason and an error
// for a frame that must be rejected; a frame of a known namespace that is
// not for this region comes back with a nil frame, to be acked and skipped.
func (a *Applier) accept(msg jetstream.Msg) (accepted, string, error) {
	acc := accepted{msg: msg}
	source, ns, shard, err := transport.ParseSubject(msg.Subject())
	if err != nil {
		return acc, reasonSubject, err
	}
	if source != a.cfg.Source {
		return acc, reasonSource, fmt.Errorf("subject names source %q on the link from %q",
			source, a.cfg.Source)
	}

	// The client gives every message its own copy of the payload, which
	// nothing writes to, so the records' bins can stay in it.
	f, err := frame.DecodeShared(msg.Data(), a.cfg.MaxFrame)
	if err != nil {
		return acc, frame.Reason(err), err
	}
	switch {
	case f.Source != a.cfg.SourceID:
		return acc, reasonSource, fmt.Errorf("frame source %d does not match %s (%d)",
			f.Source, a.cfg.Source, a.cfg.SourceID)
	case f.Namespace != ns || f.Shard != shard:
		return acc, reasonSubject, fmt.Errorf("frame for %s shard %d on subject %s",
			f.Namespace, f.Shard, msg.Subject())
	}

	cfg, ok := a.cfg.Namespaces[ns]
	if !ok {
		if a.cfg.Known != nil && a.cfg.Known(ns) {
			return acc, "", nil
		}
		return acc, reasonNamespace, fmt.Errorf("unknown namespace %q", ns)
	}
	if shard >= cfg.Shards {
		return acc, reasonShard, fmt.Errorf("shard %d of namespace %s with %d shards",
			shard, ns, cfg.Shards)
	}

	acc.frame = f
	acc.records = a.filter(f)
	return acc, "", nil
}

// filter drops records that must not be applied here: this region's own
// versions coming back, and other regions' versions on a link that does not
// forward.
func (a *Applier) filter(f *frame.Frame) []record.Version {
	// Most frames keep every record: they are returned as they are.
	keep := 0
	for i := range f.Records {
		if a.skip(&f.Records[i]) == "" {
			keep++
		}
	}
	if keep == len(f.Records) {
		return f.Records
	}
	out := make([]record.Version, 0, keep)
	for i := range f.Records {
		if why := a.skip(&f.Records[i]); why != "" {
			a.metrics.skipped.WithLabelValues(f.Namespace, a.cfg.Source, why).Inc()
			continue
		}
		out = append(out, f.Records[i])
	}
	return out
}

// skip names why a record is not applied here, or returns "" to apply it.
func (a *Applier) skip(v *record.Version) string {
	switch {
	case v.Origin == a.cfg.RegionID:
		return "own-origin"
	case v.Origin != a.cfg.SourceID && !a.cfg.Forward:
		return "not-forwarded"
	}
	return ""
}

// reject copies a bad frame to the dead-letter stream and terminates it,
// so it is never delivered again.
func (a *Applier) reject(ctx context.Context, msg jetstream.Msg, reason string, cause error) error {
	a.log.Warn("frame rejected", zap.String("reason", reason),
		zap.String("subject", msg.Subject()), zap.Error(cause))
	if err := a.src.DeadLetter(ctx, msg, reason); err != nil {
		return fmt.Errorf("dead-letter frame: %w", err)
	}
	a.health.mark(&a.health.rejected, a.now())
	a.metrics.rejected.WithLabelValues(a.cfg.Source, reason).Inc()
	return nil
}

// throttle waits until the link's rate limit lets n records through,
// charging a burst at a time: a batch may hold more records than the
// burst, and every one of them counts.
func (a *Applier) throttle(ctx context.Context, n int) error {
	if a.limit == nil {
		return nil
	}
	for n > 0 {
		take := min(n, a.limit.Burst())
		if !a.limit.AllowN(a.now(), take) {
			a.health.mark(&a.health.throttle, a.now())
			if err := a.limit.WaitN(ctx, take); err != nil {
				return err
			}
		}
		n -= take
	}
	return nil
}

// apply writes one namespace's records and counts what happened to them.
func (a *Applier) apply(ctx context.Context, ns string, vs []record.Version) error {
	if len(vs) == 0 {
		return nil
	}
	if err := a.throttle(ctx, len(vs)); err != nil {
		return err
	}
	policy := a.cfg.Namespaces[ns].Policy
	results, err := a.store.Apply(ctx, policy, vs)
	if err != nil {
		return fmt.Errorf("apply %d records of %s: %w", len(vs), ns, err)
	}

	now := a.now().UnixNano()
	p := a.progress(ns)
	latency := a.metrics.latency.WithLabelValues(ns, a.cfg.Source)
	counts := [conflict.NumOutcomes]int{}
	for i, res := range results {
		counts[res.Outcome]++
		v := &vs[i]
		if res.Outcome == conflict.Applied {
			latency.Observe(float64(now-int64(v.LUT)) / 1e9)
		}
		if res.HadPrevious && res.Outcome != conflict.Duplicate &&
			conflict.Concurrent(res.Previous, v.Meta) {
			p.conflicts.Add(1)
			a.metrics.conflict.WithLabelValues(ns, a.cfg.Source).Inc()
			a.logConflict(ns, policy, v, res)
		}
	}
	for o, n := range counts {
		if n > 0 {
			a.metrics.outcome(ns, a.cfg.Source, conflict.Outcome(o)).Add(float64(n))
			p.outcomes[o].Add(int64(n))
		}
	}
	return nil
}

// logConflict writes a decided conflict to the conflict log, with both
// versions' metadata, the policy and the winner.
func (a *Applier) logConflict(ns string, policy conflict.Policy, v *record.Version,
	res store.Result) {
	if a.cfg.Conflicts == nil {
		return
	}
	winner := conflictlog.WinnerStored
	if res.Outcome == conflict.Applied {
		winner = conflictlog.WinnerIncoming
	}
	a.cfg.Conflicts.Record(conflictlog.Entry{
		Namespace: ns, Set: v.Set, Key: v.Key, Policy: policy.String(), Winner: winner,
		Incoming: conflictlog.SideOf(v.Meta, a.regionName(v.Origin)),
		Stored:   conflictlog.SideOf(res.Previous, a.regionName(res.Previous.Origin)),
	})
}

// regionName names a region for the conflict log, falling back to its ID
// when the topology does not know it.
func (a *Applier) regionName(id record.RegionID) string {
	if a.cfg.RegionName != nil {
		if name := a.cfg.RegionName(id); name != "" {
			return name
		}
	}
	return fmt.Sprintf("id-%d", id)
}
