package shipper_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
)

// TestRemoteOriginShipsOnlyWhenForwarding applies versions that another
// region wrote, as an applier would, among local writes. They must not
// leave again unless a link from here forwards, or they would loop.
func TestRemoteOriginShipsOnlyWhenForwarding(t *testing.T) {
	t.Parallel()
	for _, forward := range []bool{false, true} {
		t.Run(fmt.Sprintf("forward=%t", forward), func(t *testing.T) {
			t.Parallel()
			const shards, remote = 2, record.RegionID(2)
			e := newEnv(t)
			r := e.read()
			cfg := config(shards)
			cfg.Forward = forward
			e.start(cfg)

			var remoteKeys, localKeys []string
			for i := range 10 {
				k := fmt.Sprintf("remote%d", i)
				remoteKeys = append(remoteKeys, k)
				v := record.Version{Namespace: testNS, Set: "s", Key: k,
					Meta: record.Meta{Generation: 3, Origin: remote,
						LUT: record.LUT(time.Now().UnixNano())}}
				res, err := e.store.Apply(e.ctx, conflict.Generation, []record.Version{v})
				if err != nil || res[0].Outcome != conflict.Applied {
					t.Fatalf("apply %s: %v %+v", k, err, res)
				}
				localKeys = append(localKeys, fmt.Sprintf("local%d", i))
				e.put("s", localKeys[i], 10)
			}
			r.waitKeys(t, localKeys)
			if forward {
				r.waitKeys(t, remoteKeys)
			}
			e.waitCheckpointed(shards)

			origins := make(map[record.RegionID]int)
			for _, v := range r.records(t) {
				origins[v.Origin]++
			}
			want := map[record.RegionID]int{sourceID: 10}
			if forward {
				want[remote] = 10
			}
			if len(origins) != len(want) || origins[sourceID] != 10 ||
				origins[remote] != want[remote] {
				t.Errorf("shipped records by origin %v, want %v", origins, want)
			}
		})
	}
}

// TestSetFilter ships only the sets the namespace's filter accepts; the
// others still move the checkpoints.
func TestSetFilter(t *testing.T) {
	t.Parallel()
	const shards = 2
	e := newEnv(t)
	r := e.read()
	cfg := config(shards)
	cfg.Ships = func(set string) bool { return set != "private" }
	e.start(cfg)

	var public []string
	for i := range 20 {
		e.put("private", fmt.Sprintf("p%d", i), 10)
		public = append(public, fmt.Sprintf("k%d", i))
		e.put("public", public[i], 10)
	}
	r.waitKeys(t, public)
	e.waitCheckpointed(shards)

	for _, v := range r.records(t) {
		if v.Set != "public" {
			t.Errorf("record %s/%s of a filtered set shipped", v.Set, v.Key)
		}
	}
	if got := len(r.records(t)); got != len(public) {
		t.Errorf("%d records shipped, want %d", got, len(public))
	}
}
