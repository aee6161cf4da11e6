package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/xdrd/xdrd/record"
)

// testScan checks that Scan visits exactly the versions of the namespace
// whose partition matches, tombstones included, each once.
func testScan(t *testing.T, h *harness) {
	sets := []string{"", "s1", "s2"}
	written := map[string]record.Version{}
	for i := range 150 {
		set, key := sets[i%len(sets)], fmt.Sprintf("key-%d", i)
		var v record.Version
		var err error
		if i%5 == 0 {
			v, err = h.s.Delete(h.ctx, testNS, set, key)
		} else {
			v, err = h.s.Put(h.ctx, testNS, set, key, bins(t, i), 0)
		}
		if err != nil {
			t.Fatalf("write %s/%s: %v", set, key, err)
		}
		written[set+"/"+key] = v
	}
	h.put("other-ns", "key-1", bins(t, 1))

	scan := func(what string, match func(int) bool) {
		t.Helper()
		matches := match
		if match == nil {
			matches = matchAll
		}
		seen := map[string]bool{}
		err := h.s.Scan(h.ctx, testNS, match, func(v record.Version) error {
			id := v.Set + "/" + v.Key
			want, ok := written[id]
			switch {
			case v.Namespace != testNS:
				t.Errorf("%s: visited %s in namespace %q", what, id, v.Namespace)
			case !ok:
				t.Errorf("%s: visited %s, which was never written", what, id)
			case seen[id]:
				t.Errorf("%s: visited %s twice", what, id)
			case !matches(record.Partition(v.Set, v.Key)):
				t.Errorf("%s: visited %s in partition %d, which does not match", what, id,
					record.Partition(v.Set, v.Key))
			}
			seen[id] = true
			h.same(what+" "+id, v, want)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for id, v := range written {
			if matches(record.Partition(v.Set, v.Key)) && !seen[id] {
				t.Errorf("%s: missed %s (tombstone %v)", what, id, v.Tombstone)
			}
		}
	}
	scan("scan of every fourth partition", func(p int) bool { return p%4 == 1 })
	scan("scan of all partitions", matchAll)
	scan("scan with a nil match", nil)
	scan("scan of no partition", func(int) bool { return false })

	errStop := errors.New("stop")
	calls := 0
	err := h.s.Scan(h.ctx, testNS, matchAll, func(record.Version) error {
		calls++
		return errStop
	})
	if !errors.Is(err, errStop) || calls != 1 {
		t.Errorf("scan stopped by fn: err %v after %d calls, want fn's error after 1", err, calls)
	}
}

// testPurge checks which dead versions Purge removes: those written before
// the cutoff and dead at it (see store.Purgeable), in its namespace only.
func testPurge(t *testing.T, h *harness) {
	at := func(d time.Duration) int64 { return epoch.Add(d).Unix() }
	putExp := func(key string, expiry int64) {
		t.Helper()
		if _, err := h.s.Put(h.ctx, testNS, testSet, key, bins(t, 1), expiry); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}

	// Written at the epoch; the cutoff is half an hour later.
	var gone []string
	for i := range 20 {
		key := fmt.Sprintf("deleted-%d", i)
		h.del(testNS, key)
		gone = append(gone, key)
	}
	putExp("expired-early", at(time.Minute))
	gone = append(gone, "expired-early")
	putExp("live", 0)
	putExp("expires-after-cutoff", at(45*time.Minute))
	putExp("expires-later", at(2*time.Hour))
	h.del("other-ns", "deleted-0")

	h.wall.Advance(time.Hour)
	h.del(testNS, "deleted-late")
	kept := []string{"live", "expires-after-cutoff", "expires-later", "deleted-late"}
	lastBefore := h.last(testNS)

	cutoff := epoch.Add(30 * time.Minute)
	n, err := h.s.Purge(h.ctx, testNS, cutoff)
	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	if n != len(gone) {
		t.Errorf("purge removed %d versions, want %d", n, len(gone))
	}
	for _, key := range gone {
		if _, found := h.get(testNS, key); found {
			t.Errorf("%s survived the purge", key)
		}
	}
	for _, key := range kept {
		if _, found := h.get(testNS, key); !found {
			t.Errorf("%s was purged, want it kept", key)
		}
	}
	if _, found := h.get("other-ns", "deleted-0"); !found {
		t.Errorf("purge of %s removed a tombstone of another namespace", testNS)
	}
	if last := h.last(testNS); last != lastBefore {
		t.Errorf("purge changed the change log: last %d, want %d", last, lastBefore)
	}

	if n, err := h.s.Purge(h.ctx, testNS, cutoff); err != nil || n != 0 {
		t.Errorf("second purge removed %d, err %v; want 0", n, err)
	}
	// A purged record is forgotten: it starts over.
	if v := h.put(testNS, "deleted-3", bins(t, 2)); v.Generation != 1 {
		t.Errorf("put after purge: generation %d, want 1", v.Generation)
	}
}
