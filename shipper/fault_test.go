package shipper_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/xdrd/xdrd/transport"
)

// TestServerDownHoldsCheckpoints stops the NATS server: writes made while
// it is down are never acknowledged, so no checkpoint may move past the
// changes that were in the stream before.
func TestServerDownHoldsCheckpoints(t *testing.T) {
	t.Parallel()
	const shards = 4
	e := newEnv(t)
	e.start(config(shards))
	for i := range 20 {
		e.put("s", fmt.Sprintf("before%d", i), 10)
	}
	e.waitCheckpointed(shards)
	held := e.cursors(shards)

	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	for i := range 20 {
		e.put("s", fmt.Sprintf("during%d", i), 10)
	}

	// Two failures mean a rewind happened and the pass after it failed too.
	waitFor(t, "publishes to fail twice", func() bool {
		return e.metric("xdrd_publish_failures_total") >= 2
	})
	if got := e.cursors(shards); !slices.Equal(got, held) {
		t.Errorf("checkpoints moved to %v without acks, held %v", got, held)
	}
}

// TestPublishFailureRewinds deletes the stream: every publish fails, the
// shipper rewinds to its checkpoints without moving them, and once the
// stream is back everything written meanwhile arrives.
func TestPublishFailureRewinds(t *testing.T) {
	t.Parallel()
	const shards = 4
	e := newEnv(t)
	e.start(config(shards))
	for i := range 20 {
		e.put("s", fmt.Sprintf("before%d", i), 10)
	}
	e.waitCheckpointed(shards)
	held := e.cursors(shards)
	acked := e.metric("xdrd_records_shipped_total")

	if err := e.js.DeleteStream(e.ctx, transport.StreamName(source)); err != nil {
		t.Fatalf("delete stream: %v", err)
	}
	var keys []string
	for i := range 30 {
		keys = append(keys, fmt.Sprintf("during%d", i))
		e.put("s", keys[i], 10)
	}
	waitFor(t, "publishes to fail twice", func() bool {
		return e.metric("xdrd_publish_failures_total") >= 2
	})
	if got := e.cursors(shards); !slices.Equal(got, held) {
		t.Errorf("checkpoints moved to %v without acks, held %v", got, held)
	}
	if got := e.metric("xdrd_records_shipped_total"); got != acked {
		t.Errorf("xdrd_records_shipped_total went from %v to %v without acks", acked, got)
	}

	if err := e.conn.EnsureStream(e.ctx, source); err != nil {
		t.Fatalf("recreate stream: %v", err)
	}
	// The reader starts on the new stream: it holds only what was shipped
	// again from the checkpoints, which must be every write made meanwhile.
	r := e.read()
	r.waitKeys(t, keys)
	e.waitCheckpointed(shards)
}
