package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/xdrd/xdrd/record"
)

// testPut checks how a local write stamps its version and logs it.
func testPut(t *testing.T, h *harness) {
	before := h.clock.Now()
	var puts []record.Version
	for i := 1; i <= 3; i++ {
		b := bins(t, i)
		v := h.put(testNS, "k", b)
		want := record.Version{
			Namespace: testNS, Set: testSet, Key: "k", Bins: b,
			Meta: record.Meta{Generation: record.Generation(i), LUT: v.LUT, Origin: local},
		}
		h.same("put", v, want)

		prev := before
		if len(puts) > 0 {
			prev = puts[len(puts)-1].LUT
		}
		if v.LUT <= prev {
			t.Errorf("put %d: LUT %d not after %d", i, v.LUT, prev)
		}
		puts = append(puts, v)
	}
	if after := h.clock.Now(); puts[2].LUT >= after {
		t.Errorf("put LUT %d is not from the store's clock (clock at %d)", puts[2].LUT, after)
	}

	got, found := h.get(testNS, "k")
	if !found {
		t.Fatalf("get after put: not found")
	}
	h.same("get after put", got, puts[2])
	h.checkLog(testNS, 1, puts)
	if last := h.last(testNS); last != 3 {
		t.Errorf("last = %d, want 3", last)
	}

	// The same key in another set is another record.
	other, err := h.s.Put(h.ctx, testNS, "other-set", "k", bins(t, 9), 0)
	if err != nil {
		t.Fatalf("put in other set: %v", err)
	}
	if other.Generation != 1 {
		t.Errorf("put in other set: generation %d, want 1", other.Generation)
	}

	// Expiry is stored as given.
	exp := epoch.Add(time.Hour).Unix()
	v, err := h.s.Put(h.ctx, testNS, testSet, "expiring", bins(t, 1), exp)
	if err != nil {
		t.Fatalf("put with expiry: %v", err)
	}
	got, _ = h.get(testNS, "expiring")
	if v.Expiry != exp || got.Expiry != exp {
		t.Errorf("expiry: put returned %d, get %d, want %d", v.Expiry, got.Expiry, exp)
	}
}

// testDelete checks that deletes are local writes of tombstones.
func testDelete(t *testing.T, h *harness) {
	p1 := h.put(testNS, "k", bins(t, 1))
	d := h.del(testNS, "k")
	if !d.Tombstone || len(d.Bins) != 0 {
		t.Errorf("delete: tombstone %v with %d bytes of bins, want an empty tombstone",
			d.Tombstone, len(d.Bins))
	}
	if d.Generation != 2 || d.Origin != local || d.LUT <= p1.LUT {
		t.Errorf("delete: meta %+v, want generation 2, origin %d, LUT after %d",
			d.Meta, local, p1.LUT)
	}
	got, found := h.get(testNS, "k")
	if !found {
		t.Fatalf("get after delete: not found, want the tombstone")
	}
	h.same("get after delete", got, d)

	// A write after a delete continues from the tombstone's generation.
	p2 := h.put(testNS, "k", bins(t, 2))
	if p2.Generation != 3 || p2.Tombstone {
		t.Errorf("put after delete: generation %d tombstone %v, want 3, false",
			p2.Generation, p2.Tombstone)
	}

	// Deleting a record that never existed still writes a tombstone, so the
	// delete replicates to regions that have the record.
	m := h.del(testNS, "missing")
	if !m.Tombstone || m.Generation != 1 {
		t.Errorf("delete of missing key: %+v, want a tombstone of generation 1", m.Meta)
	}
	h.checkLog(testNS, 1, []record.Version{p1, d, p2, m})
}

// testGet checks that reads show every kind of stored version.
func testGet(t *testing.T, h *harness) {
	if _, found := h.get(testNS, "never"); found {
		t.Errorf("get of a never-written key: found")
	}

	d := h.del(testNS, "gone")
	got, found := h.get(testNS, "gone")
	if !found || !got.Tombstone {
		t.Errorf("get of a tombstone: found %v, tombstone %v; want both", found, got.Tombstone)
	}
	h.same("tombstone", got, d)

	b := bins(t, 7)
	exp := h.wall.Now().Add(10 * time.Second).Unix()
	v, err := h.s.Put(h.ctx, testNS, testSet, "short-lived", b, exp)
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	h.wall.Advance(time.Minute)
	got, found = h.get(testNS, "short-lived")
	if !found {
		t.Fatalf("get of an expired version: not found")
	}
	if !got.Expired(h.wall.Now().Unix()) {
		t.Errorf("get of an expired version: expiry %d not passed at %d",
			got.Expiry, h.wall.Now().Unix())
	}
	h.same("expired", got, v)

	if _, found, err := h.s.Get(h.ctx, testNS, "other-set", "gone"); err != nil || found {
		t.Errorf("get in another set: found %v, err %v; want not found", found, err)
	}
	if _, found, err := h.s.Get(h.ctx, "other-ns", testSet, "gone"); err != nil || found {
		t.Errorf("get in another namespace: found %v, err %v; want not found", found, err)
	}
}

// testApplyValidates checks that a batch with an invalid version is
// refused as a whole, and that local writes validate their address too.
func testApplyValidates(t *testing.T, h *harness) {
	good := remote(remoteA, testNS, "good", 1, lut(1))
	bad := map[string]record.Version{
		"origin 0":           remote(0, testNS, "bad", 1, lut(2)),
		"LUT 0":              remote(remoteA, testNS, "bad", 1, 0),
		"tombstone and bins": withBins(remoteTombstone(remoteA, testNS, "bad", 1, lut(2))),
		"empty key":          remote(remoteA, testNS, "", 1, lut(2)),
		"empty namespace":    remote(remoteA, "", "bad", 1, lut(2)),
		"zero byte in set":   withSet(remote(remoteA, testNS, "bad", 1, lut(2)), "a\x00b"),
	}
	for name, v := range bad {
		for _, p := range policies {
			_, err := h.s.Apply(h.ctx, p, []record.Version{good, v})
			if !errors.Is(err, record.ErrInvalid) {
				t.Errorf("apply with %s (%v): err %v, want record.ErrInvalid", name, p, err)
			}
		}
	}
	if _, found := h.get(testNS, "good"); found {
		t.Errorf("a batch with an invalid version wrote its valid one")
	}

	_, err := h.s.Put(h.ctx, testNS, testSet, "", bins(t, 1), 0)
	if !errors.Is(err, record.ErrInvalid) {
		t.Errorf("put with an empty key: err %v, want record.ErrInvalid", err)
	}
	if _, err := h.s.Delete(h.ctx, testNS, testSet, "a\x00b"); !errors.Is(err, record.ErrInvalid) {
		t.Errorf("delete of a key with a zero byte: err %v, want record.ErrInvalid", err)
	}
	if last := h.last(testNS); last != 0 {
		t.Errorf("invalid writes reached the change log: last = %d", last)
	}
}

func withBins(v record.Version) record.Version {
	v.Bins = []byte{0x80}
	return v
}

func withSet(v record.Version, set string) record.Version {
	v.Set = set
	return v
}
