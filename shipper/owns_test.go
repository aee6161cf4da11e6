package shipper_test

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrd/xdrd/record"
)

// TestShipsOnlyOwnedShards runs the shippers of two members of a region,
// one owning the even shards and one the odd ones: until the second
// starts, the odd shards ship nothing and keep their checkpoints; once it
// runs, every change is in the stream exactly once.
func TestShipsOnlyOwnedShards(t *testing.T) {
	t.Parallel()
	const shards, total = 4, 200
	e := newEnv(t)
	r := e.read()

	even := config(shards)
	even.Owns = func(shard int) bool { return shard%2 == 0 }
	e.start(even)

	var evenKeys, all []string
	for i := range total {
		k := fmt.Sprintf("k%d", i)
		e.put("s", k, 10)
		all = append(all, k)
		if record.Shard(record.Partition("s", k), shards)%2 == 0 {
			evenKeys = append(evenKeys, k)
		}
	}
	r.waitKeys(t, evenKeys)
	head := e.head()
	waitFor(t, "the even shards' checkpoints at the head", func() bool {
		c := e.cursors(shards)
		return c[0] == head && c[2] == head
	})
	for _, s := range r.all(t) {
		if s.frame.Shard%2 == 1 {
			t.Fatalf("a frame of shard %d shipped by the member owning the even ones", s.frame.Shard)
		}
	}
	if c := e.cursors(shards); c[1] != 0 || c[3] != 0 {
		t.Fatalf("odd shards' checkpoints = %d, %d before their owner started; want 0", c[1], c[3])
	}

	odd := config(shards)
	odd.Owns = func(shard int) bool { return shard%2 == 1 }
	e.startWith(odd, prometheus.NewRegistry())
	r.waitKeys(t, all)
	e.waitCheckpointed(shards)

	seen := make(map[string]int)
	for _, v := range r.records(t) {
		seen[v.Key]++
	}
	for _, k := range all {
		if seen[k] != 1 {
			t.Errorf("key %s shipped %d times, want once", k, seen[k])
		}
	}
}
