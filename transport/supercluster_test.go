package transport

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestTwoRegionsShipWhileOtherDown is the layout's reason to be: with two
// regions, region a keeps taking frames into XDRD_A while b is down,
// across a restart of a's daemon and of a's own servers, and b reads them
// all when it returns.
func TestTwoRegionsShipWhileOtherDown(t *testing.T) {
	ctx := testCtx(t)
	sc := startRegions(t, "a", "b")

	shipper := connect(t, sc.URL("a"), "a-shipper")
	if err := shipper.EnsureStream(ctx, "a"); err != nil {
		t.Fatalf("ensure stream: %v", err)
	}
	applier := connect(t, sc.URL("b"), "b-applier")
	cons, err := applier.EnsureConsumer(ctx, "a", "b", nil)
	if err != nil {
		t.Fatalf("ensure consumer: %v", err)
	}
	want := payloads("frame", 0, 30)
	publishAll(ctx, t, shipper, "a", 0, want[:10])

	sc.Stop("b")

	// Frames still go in and are acknowledged.
	publishAll(ctx, t, shipper, "a", 10, want[10:15])

	// A's daemon restarts: stream management is local to a, so it works.
	shipper.Close()
	shipper = connect(t, sc.URL("a"), "a-shipper-2")
	if err := shipper.EnsureStream(ctx, "a"); err != nil {
		t.Fatalf("ensure stream with b down: %v", err)
	}
	if err := shipper.EnsureDLQ(ctx, "a"); err != nil {
		t.Fatalf("ensure dlq with b down: %v", err)
	}
	publishAll(ctx, t, shipper, "a", 15, want[15:20])

	// A's servers restart too; the client reconnects on its own and the
	// stream is served again without b.
	sc.Stop("a")
	if err := sc.Start("a"); err != nil {
		t.Fatalf("restart a: %v", err)
	}
	eventually(t, 20*time.Second, "publish after restart", func() error {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		id := MsgID("a", "ns", 0, 20, 20)
		_, err := shipper.Publish(pctx, Subject("a", "ns", 0), id, []byte(want[20]))
		return err
	})
	publishAll(ctx, t, shipper, "a", 21, want[21:25])
	if err := shipper.Healthy(); err != nil {
		t.Fatalf("healthy after restart: %v", err)
	}

	// And a daemon that starts now, with the region freshly restarted and
	// b still down, gets its stream and ships.
	fresh := connect(t, sc.URL("a"), "a-shipper-3")
	if err := fresh.EnsureStream(ctx, "a"); err != nil {
		t.Fatalf("ensure stream after restart with b down: %v", err)
	}
	publishAll(ctx, t, fresh, "a", 25, want[25:])

	// B returns and reads everything, in order, once.
	if err := sc.Start("b"); err != nil {
		t.Fatalf("restart b: %v", err)
	}
	got := readN(t, cons, len(want))
	if !slices.Equal(got, want) {
		t.Fatalf("b read %q, want %q", got, want)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatalf("consumer info: %v", err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Fatalf("consumer left pending %d, ack pending %d, redelivered %d",
			info.NumPending, info.NumAckPending, info.NumRedelivered)
	}
}

// TestThreeRegionsEachReadsTheOthers publishes in every region, pipelined,
// and has every other region read all of it through its own server.
func TestThreeRegionsEachReadsTheOthers(t *testing.T) {
	ctx := testCtx(t)
	regions := []string{"a", "b", "c"}
	sc := startRegions(t, regions...)

	conns := make(map[string]*Conn)
	for _, r := range regions {
		conns[r] = connect(t, sc.URL(r), r+"-daemon")
		if err := conns[r].EnsureStream(ctx, r); err != nil {
			t.Fatalf("ensure stream %s: %v", r, err)
		}
	}

	const n = 200
	for _, r := range regions {
		want := payloads(r, 0, n)
		for i, p := range want {
			shard := i % 4
			id := MsgID(r, "ns", shard, uint64(i), uint64(i))
			_, err := conns[r].PublishAsync(Subject(r, "ns", shard), id, []byte(p))
			if err != nil {
				t.Fatalf("publish async in %s: %v", r, err)
			}
		}
	}
	for _, r := range regions {
		select {
		case <-conns[r].PublishAsyncComplete():
		case <-ctx.Done():
			t.Fatalf("acks in %s: %v", r, ctx.Err())
		}
	}

	for _, dest := range regions {
		for _, source := range regions {
			if source == dest {
				continue
			}
			cons, err := conns[dest].EnsureConsumer(ctx, source, dest, nil)
			if err != nil {
				t.Fatalf("ensure consumer %s->%s: %v", source, dest, err)
			}
			got := readN(t, cons, n)
			if want := payloads(source, 0, n); !slices.Equal(got, want) {
				t.Fatalf("%s read from %s %d frames, not the %d published in order",
					dest, source, len(got), n)
			}
		}
	}
}

// TestFilterSubjects checks that a consumer limited to some namespaces
// gets only their frames and that filters outside the source are refused.
func TestFilterSubjects(t *testing.T) {
	ctx := testCtx(t)
	sc := startRegions(t, "a", "b")
	a := connect(t, sc.URL("a"), "a-daemon")
	b := connect(t, sc.URL("b"), "b-daemon")
	if err := a.EnsureStream(ctx, "a"); err != nil {
		t.Fatalf("ensure stream: %v", err)
	}
	for i, ns := range []string{"installs", "clicks", "users"} {
		id := MsgID("a", ns, 0, 1, 1)
		if _, err := a.Publish(ctx, Subject("a", ns, i), id, []byte(ns)); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	filters := []string{"xdrd.a.installs.>", "xdrd.a.users.>"}
	cons, err := b.EnsureConsumer(ctx, "a", "b", filters)
	if err != nil {
		t.Fatalf("ensure consumer: %v", err)
	}
	if got := readN(t, cons, 2); !slices.Equal(got, []string{"installs", "users"}) {
		t.Fatalf("filtered read %q", got)
	}
	for _, bad := range []string{"xdrd.b.installs.>", "xdrd.a.", "other.>"} {
		if _, err := b.EnsureConsumer(ctx, "a", "b", []string{bad}); err == nil {
			t.Errorf("filter %q accepted", bad)
		}
	}
}

// TestRestartMidStream restarts the source region while frames are in
// flight: every frame arrives once, frames whose ack was lost are shipped
// again harmlessly, and frames acknowledged by the applier before the
// restart are not delivered again.
func TestRestartMidStream(t *testing.T) {
	ctx := testCtx(t)
	sc := startRegions(t, "a", "b")
	cfg := testConfig()
	cfg.PublishTimeout = 2 * time.Second
	shipper, err := ConnectConfig(sc.URL("a"), "a-shipper", testLog(), cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(shipper.Close)
	applier := connect(t, sc.URL("b"), "b-applier")
	if err := shipper.EnsureStream(ctx, "a"); err != nil {
		t.Fatalf("ensure stream: %v", err)
	}
	cons, err := applier.EnsureConsumer(ctx, "a", "b", nil)
	if err != nil {
		t.Fatalf("ensure consumer: %v", err)
	}

	want := payloads("frame", 0, 40)
	publishAll(ctx, t, shipper, "a", 0, want[:20])
	first := readN(t, cons, 10)

	// Frames 20..39 are in flight when a's servers go down.
	futures := make(map[int]jetstream.PubAckFuture)
	for i := 20; i < len(want); i++ {
		id := MsgID("a", "ns", 0, uint64(i), uint64(i))
		f, err := shipper.PublishAsync(Subject("a", "ns", 0), id, []byte(want[i]))
		if err == nil {
			futures[i] = f
		}
	}
	sc.Stop("a")
	var retry []int
	for i := 20; i < len(want); i++ {
		f, ok := futures[i]
		if !ok {
			retry = append(retry, i)
			continue
		}
		select {
		case <-f.Ok():
		case <-f.Err():
			retry = append(retry, i)
		case <-ctx.Done():
			t.Fatalf("future of frame %d never resolved", i)
		}
	}
	if err := sc.Start("a"); err != nil {
		t.Fatalf("restart a: %v", err)
	}
	t.Logf("%d of 20 in-flight frames shipped again", len(retry))

	// The shipper ships again every frame without an ack; the msg-id
	// makes a retry whose first attempt was stored harmless.
	for _, i := range retry {
		id := MsgID("a", "ns", 0, uint64(i), uint64(i))
		eventually(t, 20*time.Second, "publish "+id, func() error {
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			_, err := shipper.Publish(pctx, Subject("a", "ns", 0), id, []byte(want[i]))
			return err
		})
	}

	rest := readN(t, cons, 30)
	slices.Sort(rest)
	if got := append(first, rest...); !slices.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatalf("consumer info: %v", err)
	}
	if info.NumRedelivered != 0 || info.NumPending != 0 {
		t.Fatalf("after restart: %d redelivered, %d pending", info.NumRedelivered, info.NumPending)
	}
	js, err := applier.jetStreamFor("a")
	if err != nil {
		t.Fatalf("jetstream of a: %v", err)
	}
	stream, err := js.Stream(ctx, StreamName("a"))
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if n := stream.CachedInfo().State.Msgs; n != uint64(len(want)) {
		t.Fatalf("stream holds %d frames, want %d", n, len(want))
	}
}
