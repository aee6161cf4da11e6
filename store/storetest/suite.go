// Package storetest is the conformance suite of store drivers: one Run that
// checks, against a driver, the semantics documented on store.Store — how
// local writes stamp metadata, how conditional apply resolves conflicts,
// how the change log is tailed and trimmed, how scans and purges select
// versions — plus benchmarks every driver can share. Every driver's tests
// call Run, so drivers agree on behaviour that store.go leaves to prose.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// Regions and names the suite writes with. The local region is the one the
// store under test belongs to; the others play remote regions.
const (
	local   record.RegionID = 1
	remoteA record.RegionID = 2
	remoteB record.RegionID = 3
	remoteC record.RegionID = 4

	testNS  = "installs"
	testSet = "devices"
)

// epoch is where every fake wall clock starts, so LUTs, expiries and purge
// cutoffs are the same on every run.
var epoch = time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC)

// longWait bounds a Tail that is expected to return early: if the driver
// waits it out, the test notices from the elapsed time instead of hanging.
const longWait = 5 * time.Second

// Run checks a driver against the store contract. open returns a fresh,
// empty store of region whose LUTs come from clock. reopen, when not nil,
// closes old and returns a store over the same data, with the same region
// and clock; non-durable drivers pass nil and the durability checks are
// skipped. The suite closes every store it gets, so the callbacks need not.
func Run(
	t *testing.T,
	open func(t *testing.T, region record.RegionID, clock *record.Clock) store.Store,
	reopen func(t *testing.T, old store.Store) store.Store,
) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"Put", testPut},
		{"Delete", testDelete},
		{"Get", testGet},
		{"ApplyGeneration", func(t *testing.T, h *harness) { testApply(t, h, conflict.Generation) }},
		{"ApplyTimestamp", func(t *testing.T, h *harness) { testApply(t, h, conflict.Timestamp) }},
		{"ApplyBatch", testApplyBatch},
		{"ApplyValidates", testApplyValidates},
		{"ConcurrentGeneration", func(t *testing.T, h *harness) {
			testConcurrent(t, h, conflict.Generation)
		}},
		{"ConcurrentTimestamp", func(t *testing.T, h *harness) {
			testConcurrent(t, h, conflict.Timestamp)
		}},
		{"TailWaits", testTailWaits},
		{"TailTimesOut", testTailTimesOut},
		{"TailCanceled", testTailCanceled},
		{"Trim", testTrim},
		{"Namespaces", testNamespaces},
		{"Scan", testScan},
		{"Purge", testPurge},
		{"Close", testClose},
		{"Reopen", testReopen},
		{"Model", testModel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wall := &fakeWall{}
			wall.ns.Store(epoch.UnixNano())
			clock := record.NewClock(wall.Now)
			h := &harness{
				t: t, ctx: t.Context(), wall: wall, clock: clock,
				s: open(t, local, clock), reopen: reopen,
			}
			t.Cleanup(h.close)
			tc.fn(t, h)
		})
	}
}

// fakeWall is a wall clock that moves only when a test moves it.
type fakeWall struct{ ns atomic.Int64 }

// Now returns the wall time; it is the clock's wall function.
func (w *fakeWall) Now() time.Time { return time.Unix(0, w.ns.Load()) }

// Advance moves the wall time forward by d.
func (w *fakeWall) Advance(d time.Duration) { w.ns.Add(int64(d)) }

// tb is what the harness needs from *testing.T and *rapid.T alike, so the
// same helpers serve plain tests and the property.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// harness holds one store under test and helpers that fail the test on
// unexpected errors, so test bodies read as the contract they check.
type harness struct {
	t      tb
	ctx    context.Context
	wall   *fakeWall
	clock  *record.Clock
	s      store.Store
	reopen func(t *testing.T, old store.Store) store.Store
}

func (h *harness) close() {
	if err := h.s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
		h.t.Errorf("close store: %v", err)
	}
}

func (h *harness) put(ns, key string, bins []byte) record.Version {
	h.t.Helper()
	v, err := h.s.Put(h.ctx, ns, testSet, key, bins, 0)
	if err != nil {
		h.t.Fatalf("put %s/%s: %v", ns, key, err)
	}
	return v
}

func (h *harness) del(ns, key string) record.Version {
	h.t.Helper()
	v, err := h.s.Delete(h.ctx, ns, testSet, key)
	if err != nil {
		h.t.Fatalf("delete %s/%s: %v", ns, key, err)
	}
	return v
}

func (h *harness) get(ns, key string) (record.Version, bool) {
	h.t.Helper()
	v, found, err := h.s.Get(h.ctx, ns, testSet, key)
	if err != nil {
		h.t.Fatalf("get %s/%s: %v", ns, key, err)
	}
	return v, found
}

func (h *harness) apply(p conflict.Policy, vs ...record.Version) []store.Result {
	h.t.Helper()
	res, err := h.s.Apply(h.ctx, p, vs)
	if err != nil {
		h.t.Fatalf("apply %d versions: %v", len(vs), err)
	}
	if len(res) != len(vs) {
		h.t.Fatalf("apply %d versions returned %d results", len(vs), len(res))
	}
	return res
}

// tail reads changes without waiting.
func (h *harness) tail(ns string, from store.Cursor, max int) []store.Change {
	h.t.Helper()
	cs, err := h.s.Tail(h.ctx, ns, from, max, 0)
	if err != nil {
		h.t.Fatalf("tail %s from %d: %v", ns, from, err)
	}
	return cs
}

func (h *harness) last(ns string) store.Cursor {
	h.t.Helper()
	c, err := h.s.Last(h.ctx, ns)
	if err != nil {
		h.t.Fatalf("last %s: %v", ns, err)
	}
	return c
}

// checkLog checks that the change log of ns, from cursor from on, holds
// exactly want, in order, with consecutive sequence numbers.
func (h *harness) checkLog(ns string, from store.Cursor, want []record.Version) {
	h.t.Helper()
	got := h.tail(ns, from, len(want)+10)
	if len(got) != len(want) {
		h.t.Fatalf("change log of %s from %d: got %d changes, want %d",
			ns, from, len(got), len(want))
	}
	for i, c := range got {
		if seq := from + store.Cursor(i); c.Seq != seq {
			h.t.Errorf("change %d of %s: seq %d, want %d", i, ns, c.Seq, seq)
		}
		h.same(fmt.Sprintf("change %d", c.Seq), c.Version, want[i])
	}
}

// same reports a difference between two versions, bins compared by bytes
// so that a nil and an empty slice are alike.
func (h *harness) same(what string, got, want record.Version) {
	h.t.Helper()
	if got.Namespace != want.Namespace || got.Set != want.Set || got.Key != want.Key {
		h.t.Errorf("%s: address %s/%s/%s, want %s/%s/%s", what,
			got.Namespace, got.Set, got.Key, want.Namespace, want.Set, want.Key)
	}
	if got.Meta != want.Meta {
		h.t.Errorf("%s: meta %+v, want %+v", what, got.Meta, want.Meta)
	}
	if !bytes.Equal(got.Bins, want.Bins) {
		h.t.Errorf("%s: bins %x, want %x", what, got.Bins, want.Bins)
	}
}

// bins encodes a one-bin record whose value is n.
func bins(t tb, n int) []byte {
	t.Helper()
	b, err := record.EncodeBins(map[string]any{"n": n})
	if err != nil {
		t.Fatalf("encode bins: %v", err)
	}
	return b
}

// lut is a LUT d after the suite's epoch.
func lut(d time.Duration) record.LUT { return record.LUT(epoch.Add(d).UnixNano()) }

// remote builds a live version written in another region. Its bins derive
// from its metadata, so two versions with equal tuples are truly equal;
// they are not msgpack, which also checks that stores treat bins as
// opaque bytes.
func remote(origin record.RegionID, ns, key string, gen record.Generation,
	l record.LUT) record.Version {
	v := record.Version{
		Namespace: ns, Set: testSet, Key: key,
		Meta: record.Meta{Generation: gen, LUT: l, Origin: origin},
	}
	v.Bins = binsFor(v.Meta)
	return v
}

// remoteTombstone builds a delete written in another region.
func remoteTombstone(origin record.RegionID, ns, key string, gen record.Generation,
	l record.LUT) record.Version {
	return record.Version{
		Namespace: ns, Set: testSet, Key: key,
		Meta: record.Meta{Generation: gen, LUT: l, Origin: origin, Tombstone: true},
	}
}

func binsFor(m record.Meta) []byte {
	return fmt.Appendf(nil, "g%d/t%d/o%d", m.Generation, m.LUT, m.Origin)
}
