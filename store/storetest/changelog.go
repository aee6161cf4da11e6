package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

type tailResult struct {
	changes []store.Change
	err     error
}

// startTail runs a waiting Tail in a goroutine and hands back its result.
// It returns once the Tail watches its context, which a Tail does when it
// starts to wait, so that what the caller does next happens during the
// wait rather than before it. A driver that watches its context only later
// costs a bounded pause here, never a false failure.
func startTail(ctx context.Context, s store.Store, ns string,
	from store.Cursor) <-chan tailResult {
	wc := &watchedContext{Context: ctx, watched: make(chan struct{})}
	done := make(chan tailResult, 1)
	go func() {
		cs, err := s.Tail(wc, ns, from, 10, longWait)
		done <- tailResult{cs, err}
	}()
	select {
	case <-wc.watched:
	case <-time.After(time.Second):
	}
	return done
}

// watchedContext closes watched the first time its Done channel is asked
// for.
type watchedContext struct {
	context.Context
	once    sync.Once
	watched chan struct{}
}

// Done reports the call and returns the parent's Done channel.
func (c *watchedContext) Done() <-chan struct{} {
	c.once.Do(func() { close(c.watched) })
	return c.Context.Done()
}

// await receives a Tail's result, failing the test if Tail waited out its
// whole wait although the event it waits for already happened.
func await(t *testing.T, done <-chan tailResult, start time.Time, what string) tailResult {
	t.Helper()
	select {
	case r := <-done:
		if took := time.Since(start); took >= longWait {
			t.Errorf("%s: tail returned after %v, not early", what, took)
		}
		return r
	case <-time.After(2 * longWait):
		t.Fatalf("%s: tail did not return within %v", what, 2*longWait)
		return tailResult{}
	}
}

// testTailWaits checks that a waiting Tail returns as soon as a change
// lands, both on an empty log and past its end.
func testTailWaits(t *testing.T, h *harness) {
	for i, from := range []store.Cursor{1, 2} {
		start := time.Now()
		done := startTail(h.ctx, h.s, testNS, from)
		v := h.put(testNS, "k", bins(t, i))

		r := await(t, done, start, "tail of a growing log")
		if r.err != nil {
			t.Fatalf("tail from %d: %v", from, r.err)
		}
		if len(r.changes) != 1 || r.changes[0].Seq != from {
			t.Fatalf("tail from %d: got %d changes, want the one at %d", from, len(r.changes), from)
		}
		h.same("waited-for change", r.changes[0].Version, v)
	}

	// Changes already there come back at once.
	start := time.Now()
	cs, err := h.s.Tail(h.ctx, testNS, 1, 10, longWait)
	if err != nil || len(cs) != 2 || time.Since(start) >= longWait {
		t.Errorf("tail of a held range: %d changes, err %v, after %v", len(cs), err, time.Since(start))
	}
}

// testTailTimesOut checks that Tail returns nothing, and no error, once
// its wait passes without a change.
func testTailTimesOut(t *testing.T, h *harness) {
	const wait = 40 * time.Millisecond
	check := func(what string, from store.Cursor) {
		t.Helper()
		start := time.Now()
		cs, err := h.s.Tail(h.ctx, testNS, from, 10, wait)
		took := time.Since(start)
		if err != nil || len(cs) != 0 {
			t.Errorf("%s: %d changes, err %v; want none", what, len(cs), err)
		}
		// Some drivers wait in coarser units, so half the wait is the bound.
		if took < wait/2 {
			t.Errorf("%s: returned after %v, before its wait of %v", what, took, wait)
		}
	}
	check("tail of an empty log", 0)
	h.put(testNS, "k", bins(t, 1))
	check("tail past the end", 2)

	if cs, err := h.s.Tail(h.ctx, testNS, 2, 10, 0); err != nil || len(cs) != 0 {
		t.Errorf("tail without waiting: %d changes, err %v", len(cs), err)
	}
}

// testTailCanceled checks that a waiting Tail ends with its context.
func testTailCanceled(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(h.ctx)
	start := time.Now()
	done := startTail(ctx, h.s, testNS, 1)
	cancel()
	if r := await(t, done, start, "canceled tail"); !errors.Is(r.err, context.Canceled) {
		t.Errorf("canceled tail: err %v, want context.Canceled", r.err)
	}
}

// testTrim checks what Tail and Last say once the log is trimmed, and that
// sequence numbers go on after the whole log is trimmed.
func testTrim(t *testing.T, h *harness) {
	var puts []record.Version
	for i := range 10 {
		puts = append(puts, h.put(testNS, string(rune('a'+i)), bins(t, i)))
	}
	trim := func(upTo store.Cursor) {
		t.Helper()
		if err := h.s.Trim(h.ctx, testNS, upTo); err != nil {
			t.Fatalf("trim to %d: %v", upTo, err)
		}
	}
	trimmed := func(from store.Cursor) {
		t.Helper()
		if _, err := h.s.Tail(h.ctx, testNS, from, 10, longWait); !errors.Is(err, store.ErrTrimmed) {
			t.Errorf("tail from %d: err %v, want store.ErrTrimmed", from, err)
		}
	}

	trim(5)
	for _, from := range []store.Cursor{0, 1, 5} {
		trimmed(from)
	}
	h.checkLog(testNS, 6, puts[5:])
	if cs := h.tail(testNS, 6, 2); len(cs) != 2 || cs[0].Seq != 6 || cs[1].Seq != 7 {
		t.Errorf("tail of at most 2 from 6: got %d changes", len(cs))
	}
	if last := h.last(testNS); last != 10 {
		t.Errorf("last after trim = %d, want 10", last)
	}

	trim(3) // already trimmed: nothing changes
	trimmed(4)
	h.checkLog(testNS, 6, puts[5:])

	trim(10)
	trimmed(10)
	if last := h.last(testNS); last != 10 {
		t.Errorf("last after trimming everything = %d, want 10", last)
	}
	if cs := h.tail(testNS, 11, 10); len(cs) != 0 {
		t.Errorf("tail past a fully trimmed log: %d changes", len(cs))
	}
	v := h.put(testNS, "k", bins(t, 11))
	h.checkLog(testNS, 11, []record.Version{v})
}

// testNamespaces checks that namespaces keep separate records and logs.
func testNamespaces(t *testing.T, h *harness) {
	a1 := h.put("ns-a", "k", bins(t, 1))
	b1 := h.put("ns-b", "k", bins(t, 2))
	a2 := h.put("ns-a", "k", bins(t, 3))
	if b1.Generation != 1 || a2.Generation != 2 {
		t.Errorf("generations: ns-b %d, ns-a %d; want 1 and 2", b1.Generation, a2.Generation)
	}
	h.checkLog("ns-a", 1, []record.Version{a1, a2})
	h.checkLog("ns-b", 1, []record.Version{b1})

	if err := h.s.Trim(h.ctx, "ns-a", 2); err != nil {
		t.Fatalf("trim ns-a: %v", err)
	}
	h.checkLog("ns-b", 1, []record.Version{b1})
	h.del("ns-b", "k")
	if got, _ := h.get("ns-a", "k"); got.Tombstone {
		t.Errorf("a delete in ns-b deleted the record in ns-a")
	}
	if last := h.last("ns-a"); last != 2 {
		t.Errorf("last of ns-a = %d, want 2", last)
	}
	if last := h.last("ns-c"); last != 0 {
		t.Errorf("last of an unused namespace = %d, want 0", last)
	}
	if _, found := h.get("ns-c", "k"); found {
		t.Errorf("get in an unused namespace: found")
	}
}
