package shipper_test

import (
	"fmt"
	"testing"

	"github.com/xdrd/xdrd/store"
)

// TestRecoversTrimmedLogByScan trims the change log past the (empty)
// checkpoints before the shipper starts, as a log retention limit would:
// the shipper re-ships every record from a partition scan, once, and ends
// with every checkpoint at the log's head.
func TestRecoversTrimmedLogByScan(t *testing.T) {
	t.Parallel()
	const shards, total = 4, 100
	e := newEnv(t)
	r := e.read()

	keys := make([]string, total)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", i)
		e.put("s", keys[i], i)
	}
	head := e.head()
	if err := e.store.Trim(e.ctx, testNS, store.Cursor(head)); err != nil {
		t.Fatalf("trim: %v", err)
	}
	if _, err := e.store.Tail(e.ctx, testNS, 1, 1, 0); err == nil {
		t.Fatal("tail from 1 after the trim did not fail: nothing to recover")
	}

	e.start(config(shards))
	r.waitKeys(t, keys)
	e.waitCheckpointed(shards)

	seen := make(map[string]int)
	for _, v := range r.records(t) {
		seen[v.Key]++
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Errorf("key %s shipped %d times", k, seen[k])
		}
	}
	if got := e.metric("xdrd_recovery_scans_total"); got != 1 {
		t.Errorf("xdrd_recovery_scans_total = %v, want 1", got)
	}
}
