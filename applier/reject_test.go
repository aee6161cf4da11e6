package applier_test

import (
	"testing"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/transport"
)

// TestSkipsNamespaceNotShippedHere sends a frame of a namespace that the
// topology knows but that the source does not ship to this region, and one
// of a namespace nobody knows. The first is acked and left alone; only the
// second is a bad frame and goes to the dead-letter stream.
func TestSkipsNamespaceNotShippedHere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start(config())

	lut := record.LUT(time.Now().UnixNano())
	other := version("k", 1, lut, sourceID)
	other.Namespace = "elsewhere"
	e.publish("elsewhere", 0, other)
	ghost := version("k", 1, lut, sourceID)
	ghost.Namespace = "ghost"
	last := e.publish("ghost", 0, ghost)
	e.waitSettled(last)

	dl := e.deadLetters()
	if len(dl) != 1 {
		t.Fatalf("%d dead letters, want only the unknown namespace's", len(dl))
	}
	if got := dl[0].Header.Get(transport.HeaderDLQSubject); got != transport.Subject(
		source, "ghost", 0) {
		t.Errorf("dead letter of subject %s", got)
	}
	byNamespace := e.metric("xdrd_frames_rejected_total",
		map[string]string{"source": source, "reason": "namespace"})
	all := e.metric("xdrd_frames_rejected_total", nil)
	if byNamespace != 1 || all != 1 {
		t.Errorf("rejected: %v for namespace, %v in all, want 1 and 1", byNamespace, all)
	}
	if _, found, _ := e.store.Get(e.ctx, "elsewhere", "s", "k"); found {
		t.Error("record of a namespace not shipped here was applied")
	}
}

// TestRejectsShardOutOfRange sends a frame on a shard the namespace does
// not have: it is dead-lettered with reason "shard", and a good frame
// behind it still applies.
func TestRejectsShardOutOfRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start(config())

	lut := record.LUT(time.Now().UnixNano())
	e.publish(testNS, shards+3, version("bad", 1, lut, sourceID))
	last := e.publish(testNS, shardOf("good"), version("good", 1, lut, sourceID))
	e.waitSettled(last)

	dl := e.deadLetters()
	if len(dl) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dl))
	}
	if got := dl[0].Header.Get(transport.HeaderDLQReason); got != "shard" {
		t.Errorf("dead letter reason %q, want shard", got)
	}
	if got := dl[0].Header.Get(transport.HeaderDLQSubject); got != transport.Subject(
		source, testNS, shards+3) {
		t.Errorf("dead letter of subject %s", got)
	}
	shard := e.metric("xdrd_frames_rejected_total",
		map[string]string{"source": source, "reason": "shard"})
	if shard != 1 {
		t.Errorf("rejected for shard = %v, want 1", shard)
	}
	if got := e.outcome(conflict.Applied); got != 1 {
		t.Errorf("applied = %v, want only the good frame's record", got)
	}
	if _, found, _ := e.store.Get(e.ctx, testNS, "s", "bad"); found {
		t.Error("record of a rejected frame was applied")
	}
}
