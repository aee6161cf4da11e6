package conflictlog

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestLogWritesEveryConflict records conflicts through a real region and
// reads them back from XDRD_CONFLICTS: every one, once, even when the
// same decision is recorded twice.
func TestLogWritesEveryConflict(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, conn := startRegions(t)
	if err := conn.EnsureConflictStream(ctx, "eu-west"); err != nil {
		t.Fatalf("ensure conflict stream: %v", err)
	}

	reg := prometheus.NewRegistry()
	l := New(conn, "eu-west", reg, testLog())
	var want []Entry
	for i := range 20 {
		e := testEntry([]string{"profiles", "sessions"}[i%2], i)
		e.Region = ""
		want = append(want, e)
		l.Record(e)
	}
	redelivered := want[0]
	redelivered.Time = time.Time{}
	l.Record(redelivered)
	l.Close()

	var got []Entry
	err := conn.ReadConflicts(ctx, "eu-west", time.Time{}, func(data []byte) error {
		e, err := Decode(data)
		got = append(got, e)
		return err
	})
	if err != nil {
		t.Fatalf("read conflicts: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d entries, want %d", len(got), len(want))
	}
	for i, e := range got {
		want[i].Region = "eu-west"
		if !sameEntry(e, want[i]) {
			t.Errorf("entry %d is %+v, want %+v", i, e, want[i])
		}
	}
	if n := counter(t, reg, "xdrd_conflict_log_written_total", ""); n != 21 {
		t.Errorf("written %v, want 21 (20 and an acknowledged duplicate)", n)
	}
	if n := counter(t, reg, "xdrd_conflict_log_dropped_total", ""); n != 0 {
		t.Errorf("dropped %v, want 0", n)
	}
}

// TestLogCountsFailedPublishes records conflicts of a region that has no
// conflict stream: every entry is counted as dropped, none is silent.
func TestLogCountsFailedPublishes(t *testing.T) {
	_, conn := startRegions(t)
	reg := prometheus.NewRegistry()
	l := New(conn, "us-east", reg, testLog())
	for i := range 3 {
		e := testEntry("profiles", i)
		e.Region = ""
		l.Record(e)
	}
	l.Close()
	if n := counter(t, reg, "xdrd_conflict_log_dropped_total", reasonPublish); n != 3 {
		t.Errorf("dropped for failed publishes %v, want 3", n)
	}
	if n := counter(t, reg, "xdrd_conflict_log_written_total", ""); n != 0 {
		t.Errorf("written %v, want 0", n)
	}
}

// TestLogNeverBlocks fills a Log whose publisher stalls: Record keeps
// returning at once and counts what it drops, and Close gives up after
// its bound, counting what it leaves.
func TestLogNeverBlocks(t *testing.T) {
	const queue, inFlight = 8, 2
	pub := &stalled{calls: make(chan string, 100)}
	reg := prometheus.NewRegistry()
	l := newLog(pub, "eu-west", reg, testLog(), queue, inFlight, 50*time.Millisecond)

	// Once the fourth entry is published, the ack loop waits on the first,
	// the acks channel holds two and the publish loop holds the fourth:
	// from then on the queue only fills.
	for i := range inFlight + 2 {
		l.Record(testEntry("profiles", i))
	}
	for range inFlight + 2 {
		select {
		case <-pub.calls:
		case <-time.After(30 * time.Second):
			t.Fatal("the log did not publish")
		}
	}
	for i := range queue + 10 {
		l.Record(testEntry("profiles", 100+i))
	}
	if n := counter(t, reg, "xdrd_conflict_log_dropped_total", reasonQueueFull); n != 10 {
		t.Errorf("dropped on a full queue %v, want 10", n)
	}

	began := time.Now()
	l.Close()
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("close took %s", took)
	}
	l.Record(testEntry("profiles", 1000))
	l.Close()

	closed := float64(inFlight + 2 + queue + 1)
	if n := counter(t, reg, "xdrd_conflict_log_dropped_total", reasonClosed); n != closed {
		t.Errorf("dropped at close %v, want %v", n, closed)
	}
	if len(pub.calls) != 0 {
		t.Errorf("%d publishes after the log was full", len(pub.calls))
	}
}

// TestLogDropsInvalidEntries counts an entry that can not be encoded.
func TestLogDropsInvalidEntries(t *testing.T) {
	pub := &stalled{calls: make(chan string, 1)}
	reg := prometheus.NewRegistry()
	l := newLog(pub, "eu-west", reg, testLog(), 4, 1, time.Second)
	bad := testEntry("profiles", 1)
	bad.Winner = "nobody"
	l.Record(bad)
	l.Close()
	if n := counter(t, reg, "xdrd_conflict_log_dropped_total", reasonInvalid); n != 1 {
		t.Errorf("dropped as invalid %v, want 1", n)
	}
	if len(pub.calls) != 0 {
		t.Errorf("an invalid entry was published: %s", <-pub.calls)
	}
}
