package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// testClose checks that Close wakes a waiting Tail and that every call
// after it fails with store.ErrClosed.
func testClose(t *testing.T, h *harness) {
	h.put(testNS, "k", bins(t, 1))
	start := time.Now()
	done := startTail(h.ctx, h.s, testNS, 2)
	if err := h.s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if r := await(t, done, start, "tail across close"); !errors.Is(r.err, store.ErrClosed) {
		t.Errorf("tail across close: err %v, want store.ErrClosed", r.err)
	}

	ctx, s := h.ctx, h.s
	calls := map[string]func() error{
		"put": func() error {
			_, err := s.Put(ctx, testNS, testSet, "k", nil, 0)
			return err
		},
		"delete": func() error {
			_, err := s.Delete(ctx, testNS, testSet, "k")
			return err
		},
		"get": func() error {
			_, _, err := s.Get(ctx, testNS, testSet, "k")
			return err
		},
		"apply": func() error {
			v := remote(remoteA, testNS, "k", 9, lut(9))
			_, err := s.Apply(ctx, conflict.Generation, []record.Version{v})
			return err
		},
		"tail": func() error {
			_, err := s.Tail(ctx, testNS, 1, 10, 0)
			return err
		},
		"last": func() error {
			_, err := s.Last(ctx, testNS)
			return err
		},
		"trim":  func() error { return s.Trim(ctx, testNS, 1) },
		"scan":  func() error { return s.Scan(ctx, testNS, matchAll, discard) },
		"purge": func() error { _, err := s.Purge(ctx, testNS, epoch); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after close: err %v, want store.ErrClosed", name, err)
		}
	}
}

func matchAll(int) bool { return true }

func discard(record.Version) error { return nil }

// testReopen checks that records, the change log with its trim point, and
// the counters that go on from them survive a restart.
func testReopen(t *testing.T, h *harness) {
	if h.reopen == nil {
		t.Skip("the driver keeps nothing across restarts")
	}
	p1 := h.put(testNS, "k1", bins(t, 1))
	h.put(testNS, "k1", bins(t, 2))
	d := h.del(testNS, "k2")
	r := remote(remoteA, testNS, "k3", 7, lut(7))
	h.apply(conflict.Generation, r)
	if err := h.s.Trim(h.ctx, testNS, 1); err != nil {
		t.Fatalf("trim: %v", err)
	}
	records := map[string]record.Version{}
	for _, k := range []string{"k1", "k2", "k3"} {
		records[k], _ = h.get(testNS, k)
	}
	h.same("k2 before reopen", records["k2"], d)
	changes := h.tail(testNS, 2, 10)

	// A namespace whose log is trimmed to its end keeps its sequence.
	for i := range 3 {
		h.put("drained", "k", bins(t, i))
	}
	if err := h.s.Trim(h.ctx, "drained", 3); err != nil {
		t.Fatalf("trim drained: %v", err)
	}

	h.s = h.reopen(t, h.s)

	for k, want := range records {
		got, found := h.get(testNS, k)
		if !found {
			t.Errorf("%s lost across reopen", k)
		}
		h.same(k+" after reopen", got, want)
	}
	got := h.tail(testNS, 2, 10)
	if len(got) != len(changes) {
		t.Fatalf("change log after reopen: %d changes, want %d", len(got), len(changes))
	}
	for i := range got {
		if got[i].Seq != changes[i].Seq {
			t.Errorf("change %d: seq %d after reopen, want %d", i, got[i].Seq, changes[i].Seq)
		}
		h.same("change after reopen", got[i].Version, changes[i].Version)
	}
	if _, err := h.s.Tail(h.ctx, testNS, 1, 10, 0); !errors.Is(err, store.ErrTrimmed) {
		t.Errorf("tail of a trimmed cursor after reopen: err %v, want store.ErrTrimmed", err)
	}

	next := h.put(testNS, "k1", bins(t, 3))
	if next.Generation != 3 || next.LUT <= p1.LUT {
		t.Errorf("put after reopen: %+v, want generation 3", next.Meta)
	}
	h.checkLog(testNS, 5, []record.Version{next})
	if last := h.last("drained"); last != 3 {
		t.Errorf("last of a drained namespace after reopen = %d, want 3", last)
	}
	v := h.put("drained", "k", bins(t, 4))
	h.checkLog("drained", 4, []record.Version{v})
	if v.Generation != 4 {
		t.Errorf("generation after reopen = %d, want 4", v.Generation)
	}
}
