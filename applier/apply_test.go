package applier_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
)

// TestAppliesAndCountsOutcomes sends a crafted sequence through a real
// stream and consumer: a new version, the same frame again, a newer
// version, an older one, and a version concurrent with a local write. Each
// outcome is counted exactly, the store keeps the winners and every frame
// is acked.
func TestAppliesAndCountsOutcomes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.start(config())

	lut := record.LUT(time.Now().UnixNano())
	v1 := version("k1", 1, lut, sourceID)
	e.publish(testNS, shardOf("k1"), v1)
	e.publish(testNS, shardOf("k1"), v1) // a redelivered frame
	v2 := version("k1", 2, lut+1, sourceID)
	e.publish(testNS, shardOf("k1"), v2)
	e.publish(testNS, shardOf("k1"), v1) // late, behind v2

	// Same generation as a local write, from another region: neither saw
	// the other. The later LUT wins.
	local, err := e.store.Put(e.ctx, testNS, "s", "k2", nil, 0)
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	rival := version("k2", uint64(local.Generation), local.LUT+1000, sourceID)
	last := e.publish(testNS, shardOf("k2"), rival)
	e.waitSettled(last)

	counts := map[conflict.Outcome]float64{
		conflict.Applied: 3, conflict.Duplicate: 1, conflict.RejectedOlder: 1,
	}
	for o, want := range counts {
		if got := e.outcome(o); got != want {
			t.Errorf("%s: %v records, want %v", o, got, want)
		}
	}
	conflicts := e.metric("xdrd_conflicts_total", map[string]string{"namespace": testNS})
	if conflicts != 1 {
		t.Errorf("xdrd_conflicts_total = %v, want 1", conflicts)
	}
	p := a.Progress(testNS)
	if p.Applied != 3 || p.Duplicate != 1 || p.RejectedOlder != 1 || p.Conflicts != 1 {
		t.Errorf("progress %+v, want 3 applied, 1 duplicate, 1 older, 1 conflict", p)
	}

	for key, want := range map[string]record.Meta{"k1": v2.Meta, "k2": rival.Meta} {
		got, found, err := e.store.Get(e.ctx, testNS, "s", key)
		if err != nil || !found || got.Meta != want {
			t.Errorf("stored %s: %+v (found %t, %v), want %+v", key, got.Meta, found, err, want)
		}
	}
	if dl := e.deadLetters(); len(dl) != 0 {
		t.Errorf("%d good frames dead-lettered", len(dl))
	}
}

// TestSkipsLoopingRecords sends, from the source, a version this region
// wrote, one a third region wrote and one the source wrote. The own one
// never applies (it came around a loop); the third region's applies only
// on a forwarding link.
func TestSkipsLoopingRecords(t *testing.T) {
	t.Parallel()
	for _, forward := range []bool{false, true} {
		t.Run(fmt.Sprintf("forward=%t", forward), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cfg := config()
			cfg.Forward = forward
			e.start(cfg)

			lut := record.LUT(time.Now().UnixNano())
			e.publish(testNS, shardOf("own"), version("own", 1, lut, destID))
			e.publish(testNS, shardOf("third"), version("third", 1, lut, third))
			last := e.publish(testNS, shardOf("src"), version("src", 1, lut, sourceID))
			e.waitSettled(last)

			skipped := func(reason string) float64 {
				return e.metric("xdrd_records_skipped_total", map[string]string{
					"namespace": testNS, "source": source, "reason": reason})
			}
			wantApplied, wantNotForwarded := 1.0, 1.0
			if forward {
				wantApplied, wantNotForwarded = 2, 0
			}
			if got := skipped("own-origin"); got != 1 {
				t.Errorf("skipped own-origin = %v, want 1", got)
			}
			if got := skipped("not-forwarded"); got != wantNotForwarded {
				t.Errorf("skipped not-forwarded = %v, want %v", got, wantNotForwarded)
			}
			if got := e.outcome(conflict.Applied); got != wantApplied {
				t.Errorf("applied = %v, want %v", got, wantApplied)
			}

			stored := func(key string) bool {
				_, found, err := e.store.Get(e.ctx, testNS, "s", key)
				if err != nil {
					t.Fatalf("get %s: %v", key, err)
				}
				return found
			}
			if stored("own") || !stored("src") || stored("third") != forward {
				t.Errorf("stored own %t, src %t, third %t", stored("own"), stored("src"),
					stored("third"))
			}
		})
	}
}
