package transport

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestStandalone runs the single-machine default: one server holds every
// region's streams. It checks dedupe by msg-id, idempotent stream
// management and publish validation.
func TestStandalone(t *testing.T) {
	ctx := testCtx(t)
	srv, url, err := StartStandalone(t.TempDir(), testLog())
	if err != nil {
		t.Fatalf("start standalone: %v", err)
	}
	t.Cleanup(srv.Shutdown)
	c := connect(t, url, "standalone")
	if !c.single {
		t.Fatal("standalone server not seen as a single JetStream")
	}
	for _, r := range []string{"a", "b"} {
		for range 2 {
			if err := c.EnsureStream(ctx, r); err != nil {
				t.Fatalf("ensure stream %s: %v", r, err)
			}
			if err := c.EnsureDLQ(ctx, r); err != nil {
				t.Fatalf("ensure dlq %s: %v", r, err)
			}
		}
	}

	subject, id := Subject("a", "ns", 1), MsgID("a", "ns", 1, 5, 9)
	first, err := c.Publish(ctx, subject, id, []byte("x"))
	if err != nil || first.Duplicate {
		t.Fatalf("first publish: %+v, %v", first, err)
	}
	again, err := c.Publish(ctx, subject, id, []byte("x"))
	if err != nil || !again.Duplicate || again.Sequence != first.Sequence {
		t.Fatalf("second publish: %+v, %v; want a duplicate of %d", again, err, first.Sequence)
	}
	future, err := c.PublishAsync(subject, id, []byte("x"))
	if err != nil {
		t.Fatalf("publish async: %v", err)
	}
	select {
	case ack := <-future.Ok():
		if !ack.Duplicate {
			t.Fatalf("async publish of a known msg-id not a duplicate: %+v", ack)
		}
	case err := <-future.Err():
		t.Fatalf("async publish: %v", err)
	}
	stream, err := c.js.Stream(ctx, StreamName("a"))
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if n := stream.CachedInfo().State.Msgs; n != 1 {
		t.Fatalf("stream holds %d frames, want 1", n)
	}

	for _, bad := range []string{"xdrd.a.ns", "other.a.ns.1", "xdrd.dlq.a.x"} {
		if _, err := c.Publish(ctx, bad, "id", nil); !errors.Is(err, ErrBadName) {
			t.Errorf("publish on %q: %v, want ErrBadName", bad, err)
		}
	}
	if _, err := c.Publish(ctx, subject, "", nil); !errors.Is(err, ErrBadName) {
		t.Errorf("publish without msg-id: %v, want ErrBadName", err)
	}
	if err := c.Healthy(); err != nil {
		t.Fatalf("healthy: %v", err)
	}
}

// TestEnsureStreamUpdates changes a stream's limits through EnsureStream.
func TestEnsureStreamUpdates(t *testing.T) {
	ctx := testCtx(t)
	sc := startRegions(t, "a")
	if err := connect(t, sc.URL("a"), "old").EnsureStream(ctx, "a"); err != nil {
		t.Fatalf("ensure stream: %v", err)
	}
	cfg := testConfig()
	cfg.StreamMaxAge = time.Hour
	c, err := ConnectConfig(sc.URL("a"), "new", testLog(), cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(c.Close)
	if err := c.EnsureStream(ctx, "a"); err != nil {
		t.Fatalf("ensure stream again: %v", err)
	}
	js, err := c.jetStreamFor("a")
	if err != nil {
		t.Fatalf("jetstream of a: %v", err)
	}
	stream, err := js.Stream(ctx, StreamName("a"))
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	got := stream.CachedInfo().Config
	if got.MaxAge != time.Hour || got.Discard != jetstream.DiscardNew ||
		got.Storage != jetstream.FileStorage || got.Duplicates != cfg.DuplicateWindow {
		t.Fatalf("stream config not updated: %+v", got)
	}
}

// TestDeadLetter rejects one frame: its copy lands in the destination
// region's XDRD_DLQ with headers saying where it came from and why, and
// the frame is never delivered again.
func TestDeadLetter(t *testing.T) {
	ctx := testCtx(t)
	sc := startRegions(t, "a", "b")
	shipper := connect(t, sc.URL("a"), "a-shipper")
	applier := connect(t, sc.URL("b"), "b-applier")
	if err := shipper.EnsureStream(ctx, "a"); err != nil {
		t.Fatalf("ensure stream: %v", err)
	}
	for _, r := range []string{"a", "b"} {
		if err := applier.EnsureDLQ(ctx, r); err != nil {
			t.Fatalf("ensure dlq %s: %v", r, err)
		}
	}
	cons, err := applier.EnsureConsumer(ctx, "a", "b", nil)
	if err != nil {
		t.Fatalf("ensure consumer: %v", err)
	}
	publishAll(ctx, t, shipper, "a", 0, []string{"bad frame", "good frame"})

	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	msg := <-batch.Messages()
	if msg == nil {
		t.Fatalf("no frame fetched: %v", batch.Error())
	}
	if err := applier.DeadLetter(ctx, msg, "bad/reason"); !errors.Is(err, ErrBadName) {
		t.Fatalf("dead-letter with a bad reason: %v", err)
	}
	for range 2 { // a retried dead letter stores one copy
		if err := applier.DeadLetter(ctx, msg, "malformed"); err != nil {
			t.Fatalf("dead-letter: %v", err)
		}
	}
	if got := readN(t, cons, 1); got[0] != "good frame" {
		t.Fatalf("next frame %q, want the good one", got[0])
	}

	dlq := dlqStream(ctx, t, applier, "b")
	if n := dlq.CachedInfo().State.Msgs; n != 1 {
		t.Fatalf("b's dlq holds %d copies, want 1", n)
	}
	copied, err := dlq.GetMsg(ctx, 1)
	if err != nil {
		t.Fatalf("get dead letter: %v", err)
	}
	want := map[string]string{
		HeaderDLQSubject:   Subject("a", "ns", 0),
		HeaderDLQStream:    StreamName("a"),
		HeaderDLQSequence:  "1",
		HeaderDLQConsumer:  ConsumerName("b"),
		HeaderDLQDelivered: "1",
		HeaderDLQReason:    "malformed",
		HeaderDLQMsgID:     MsgID("a", "ns", 0, 0, 0),
	}
	for k, v := range want {
		if got := copied.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if copied.Subject != "xdrd.dlq.b.malformed" || string(copied.Data) != "bad frame" {
		t.Errorf("dead letter %q holds %q", copied.Subject, copied.Data)
	}
	if n := dlqStream(ctx, t, applier, "a").CachedInfo().State.Msgs; n != 0 {
		t.Errorf("a's dlq holds %d copies of b's dead letter", n)
	}

	// Terminated means settled: nothing pending, nothing redelivered, and
	// nothing more to fetch even after several ack waits.
	eventually(t, 10*time.Second, "terminated frame settled", func() error {
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumAckPending != 0 || info.NumRedelivered != 0 || info.AckFloor.Stream != 2 {
			return errors.New("ack pending " + strconv.Itoa(info.NumAckPending) +
				", ack floor " + strconv.FormatUint(info.AckFloor.Stream, 10))
		}
		return nil
	})
	wait := 3 * testConfig().AckWait
	batch, err = cons.Fetch(1, jetstream.FetchMaxWait(wait))
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	for m := range batch.Messages() {
		t.Fatalf("frame %q delivered again", m.Data())
	}
}

// dlqStream looks up region's XDRD_DLQ.
func dlqStream(ctx context.Context, t *testing.T, c *Conn, region string) jetstream.Stream {
	t.Helper()
	js, err := c.jetStreamFor(region)
	if err != nil {
		t.Fatalf("jetstream of %s: %v", region, err)
	}
	s, err := js.Stream(ctx, DLQStream)
	if err != nil {
		t.Fatalf("dlq of %s: %v", region, err)
	}
	return s
}
