package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xdrd/xdrd/internal/testwait"
	"github.com/xdrd/xdrd/record"
)

// BenchmarkHAFailover measures how long eu-west's replication is broken
// when its leader dies: each iteration kills the leader of three members
// with SIGKILL under a steady 50 writes/s, writes one probe record into
// every shard right after the kill and reports, as failover-ms, the mean
// time from the kill to us-east holding every probe — shipping resumed end
// to end, on the dead member's shards too. The killed member starts again,
// off the clock, before the next iteration.
//
//	go test -run '^$' -bench BenchmarkHAFailover -benchtime=5x ./cmd/xdrd/
func BenchmarkHAFailover(b *testing.B) {
	if testing.Short() {
		b.Skip("builds the binary and runs four daemons")
	}
	e := newHAEnv(b, map[string]int{"eu-west": 3, "us-east": 1}, "eu-west", "us-east")
	eu, us := e.regions[0], e.regions[1]
	load := startLoad(b, e.regions[:1], 1, 20*time.Millisecond)
	ctx := context.Background()

	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		old := eu.waitLeader(30*time.Second, nil)
		killed := time.Now()
		old.kill()

		probes := probeKeys(fmt.Sprintf("after-kill-%d", i))
		for _, key := range probes {
			bins, _ := record.EncodeBins(map[string]any{"iteration": i})
			if _, err := eu.store.Put(ctx, haNamespace, "probe", key, bins, 0); err != nil {
				b.Fatal(err)
			}
		}
		testwait.Until(b, time.Minute, "us-east to apply every probe", func() string {
			for _, key := range probes {
				if _, found, err := us.store.Get(ctx, haNamespace, "probe", key); err != nil || !found {
					return fmt.Sprintf("%s not applied (%v)", key, err)
				}
			}
			return ""
		})
		took := time.Since(killed)
		total += took
		b.Logf("killed %s: writes after the kill reached us-east in %s",
			old, took.Round(time.Millisecond))

		b.StopTimer()
		old.start()
		old.waitJoined(30*time.Second, "follower", "leader")
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "failover-ms")
	load.stop()
}

// probeKeys returns one key per shard of the HA namespace, in set "probe",
// each starting with prefix.
func probeKeys(prefix string) []string {
	keys := make([]string, haShards)
	for n, found := 0, 0; found < haShards; n++ {
		key := fmt.Sprintf("%s-%d", prefix, n)
		shard := record.Shard(record.Partition("probe", key), haShards)
		if keys[shard] == "" {
			keys[shard], found = key, found+1
		}
	}
	return keys
}
