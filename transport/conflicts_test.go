package transport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// publishConflicts publishes one entry per payload for region and waits
// for every ack; msg-ids are the payloads.
func publishConflicts(t *testing.T, c *Conn, region string, payloads []string) {
	t.Helper()
	futures := make([]jetstream.PubAckFuture, 0, len(payloads))
	for _, p := range payloads {
		f, err := c.PublishConflictAsync(region, "ns", p, []byte(p))
		if err != nil {
			t.Fatalf("publish conflict %s: %v", p, err)
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			t.Fatalf("ack of conflict %s: %v", payloads[i], err)
		case <-time.After(30 * time.Second):
			t.Fatalf("no ack for conflict %s", payloads[i])
		}
	}
}

// readConflicts returns what ReadConflicts hands over, in order.
func readConflicts(ctx context.Context, t *testing.T, c *Conn, region string,
	since time.Time) []string {
	t.Helper()
	var got []string
	err := c.ReadConflicts(ctx, region, since, func(data []byte) error {
		got = append(got, string(data))
		return nil
	})
	if err != nil {
		t.Fatalf("read conflicts of %s since %v: %v", region, since, err)
	}
	return got
}

// TestConflictsStreamPerRegion writes conflict entries in two regions and
// reads them back, whole and from a start time, from either region.
func TestConflictsStreamPerRegion(t *testing.T) {
	ctx := testCtx(t)
	sc := startRegions(t, "a", "b")
	ca := connect(t, sc.URL("a"), "a-daemon")
	cb := connect(t, sc.URL("b"), "b-daemon")
	for _, ensure := range []struct {
		c      *Conn
		region string
	}{{ca, "a"}, {ca, "a"}, {cb, "b"}} {
		if err := ensure.c.EnsureConflictStream(ctx, ensure.region); err != nil {
			t.Fatalf("ensure conflict stream %s: %v", ensure.region, err)
		}
	}

	early, late := payloads("early", 0, 3), payloads("late", 0, 2)
	publishConflicts(t, ca, "a", early)
	since := time.Now()
	publishConflicts(t, ca, "a", late)
	publishConflicts(t, ca, "a", early[:1]) // a redelivery: stored once
	publishConflicts(t, cb, "b", []string{"b-only"})

	all := append(slices.Clone(early), late...)
	if got := readConflicts(ctx, t, ca, "a", time.Time{}); !slices.Equal(got, all) {
		t.Errorf("a's log holds %q, want %q", got, all)
	}
	if got := readConflicts(ctx, t, cb, "a", time.Time{}); !slices.Equal(got, all) {
		t.Errorf("a's log read from b holds %q, want %q", got, all)
	}
	if got := readConflicts(ctx, t, ca, "a", since); !slices.Equal(got, late) {
		t.Errorf("a's log since %v holds %q, want %q", since, got, late)
	}
	if got := readConflicts(ctx, t, ca, "a", time.Now().Add(time.Hour)); len(got) != 0 {
		t.Errorf("a's log from the future holds %q", got)
	}
	if got := readConflicts(ctx, t, ca, "b", time.Time{}); !slices.Equal(got, []string{"b-only"}) {
		t.Errorf("b's log holds %q", got)
	}

	stop := errors.New("stop")
	calls := 0
	err := ca.ReadConflicts(ctx, "a", time.Time{}, func([]byte) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("read stopped by fn: %v after %d calls", err, calls)
	}

	js, err := ca.jetStreamFor("a")
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, ConflictStream)
	if err != nil {
		t.Fatalf("conflict stream info: %v", err)
	}
	cfg := stream.CachedInfo().Config
	if !slices.Equal(cfg.Subjects, []string{"xdrd.conflicts.a.>"}) ||
		cfg.Discard != jetstream.DiscardOld || cfg.Storage != jetstream.FileStorage ||
		cfg.Duplicates != ca.cfg.DuplicateWindow || cfg.MaxAge != ca.cfg.DLQMaxAge {
		t.Errorf("conflict stream config %+v", cfg)
	}
	if n := stream.CachedInfo().State.Consumers; n != 0 {
		t.Errorf("reads left %d consumers behind", n)
	}
}

// TestConflictsStandalone shares one XDRD_CONFLICTS between regions; each
// region still reads only its own entries.
func TestConflictsStandalone(t *testing.T) {
	ctx := testCtx(t)
	srv, url, err := StartStandalone(t.TempDir(), testLog())
	if err != nil {
		t.Fatalf("start standalone: %v", err)
	}
	t.Cleanup(srv.Shutdown)
	c := connect(t, url, "standalone")
	for _, r := range []string{"a", "b"} {
		if err := c.EnsureConflictStream(ctx, r); err != nil {
			t.Fatalf("ensure conflict stream %s: %v", r, err)
		}
		publishConflicts(t, c, r, payloads(r, 0, 2))
	}
	for _, r := range []string{"a", "b"} {
		got, want := readConflicts(ctx, t, c, r, time.Time{}), payloads(r, 0, 2)
		if !slices.Equal(got, want) {
			t.Errorf("%s's log holds %q, want %q", r, got, want)
		}
	}
}

// TestConflictsNames checks the subject and the names the log refuses.
func TestConflictsNames(t *testing.T) {
	if got := ConflictSubject("eu-west", "profiles"); got != "xdrd.conflicts.eu-west.profiles" {
		t.Errorf("conflict subject %q", got)
	}
	c := &Conn{cfg: testConfig()}
	ctx := context.Background()
	for _, region := range []string{"conflicts", "Conflicts", "dlq", "a.b", ""} {
		if err := c.EnsureConflictStream(ctx, region); !errors.Is(err, ErrBadName) {
			t.Errorf("ensure conflict stream %q: %v, want ErrBadName", region, err)
		}
		err := c.ReadConflicts(ctx, region, time.Time{}, nil)
		if !errors.Is(err, ErrBadName) {
			t.Errorf("read conflicts %q: %v, want ErrBadName", region, err)
		}
	}
	for _, bad := range []struct{ region, namespace, id string }{
		{"conflicts", "ns", "id"}, {"a", "n.s", "id"}, {"a", "", "id"}, {"a", "ns", ""},
	} {
		_, err := c.PublishConflictAsync(bad.region, bad.namespace, bad.id, nil)
		if !errors.Is(err, ErrBadName) {
			t.Errorf("publish conflict %s: %v, want ErrBadName", fmt.Sprint(bad), err)
		}
	}
}
