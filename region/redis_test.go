package region_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/region"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/store/redis/redistest"
	"github.com/xdrd/xdrd/verify"
)

// TestRedisRegions replicates between two regions whose stores are
// redis-servers, written concurrently on shared keys: both end with the
// same records, and the winners the policies name.
func TestRedisRegions(t *testing.T) {
	names := []string{"eu-west", "us-east"}
	stores := map[string]string{}
	for _, n := range names {
		stores[n] = redistest.Start(t).URL
	}
	c := newClusterOn(t, names, "", region.Tuning{}, stores)
	c.run()

	hist := newHistory()
	var wg sync.WaitGroup
	for i, name := range names {
		w := &writer{store: c.daemon(name).Store(), hist: hist, keys: 30,
			rng: rand.New(rand.NewPCG(uint64(i), 5))}
		wg.Go(func() {
			for range 300 {
				if err := w.one(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	hist.checkWinners(t, c.converge(30*time.Second))
}

// TestRedisTrimmedLogReships writes into eu-west's Redis before its daemon
// runs, through the driver and through the Functions library as an
// application would, then trims the change log past the checkpoints: the
// whole log of profiles, all but the newest changes of sessions. The
// shipper re-ships each namespace once by scanning, says so in its log and
// metric, and us-east gets every record, those written after the re-ship
// too.
func TestRedisTrimmedLogReships(t *testing.T) {
	eu := redistest.Start(t)
	stores := map[string]string{"eu-west": eu.URL, "us-east": redistest.Start(t).URL}
	c := newClusterOn(t, []string{"eu-west", "us-east"}, "", region.Tuning{}, stores)
	logs := c.observeLogs("eu-west")

	ctx := context.Background()
	st := c.daemon("eu-west").Store()
	hist := newHistory()
	for i := range 120 {
		ns := "profiles"
		if i%3 == 0 {
			ns = "sessions"
		}
		key := fmt.Sprintf("k%d", i%50)
		var v record.Version
		var err error
		if i%10 == 9 {
			v, err = st.Delete(ctx, ns, "s", key)
		} else {
			bins, _ := record.EncodeBins(map[string]any{"i": i})
			v, err = st.Put(ctx, ns, "s", key, bins, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
		hist.add(v)
	}

	rdb := goredis.NewClient(&goredis.Options{Addr: eu.Addr})
	defer rdb.Close()
	for i := range 10 {
		key := fmt.Sprintf("a%d", i)
		addr := "profiles:app:" + key
		err := rdb.FCall(ctx, "xdrd_put", []string{addr}, "i", fmt.Sprint(i)).Err()
		if err == nil && i%5 == 4 {
			err = rdb.FCall(ctx, "xdrd_del", []string{addr}).Err()
		}
		if err != nil {
			t.Fatalf("fcall %s: %v", addr, err)
		}
		v, found, err := st.Get(ctx, "profiles", "app", key)
		if err != nil || !found {
			t.Fatalf("get %s: found %v, %v", addr, found, err)
		}
		hist.add(v)
	}

	for ns, keep := range map[string]store.Cursor{"profiles": 0, "sessions": 5} {
		last, err := st.Last(ctx, ns)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Trim(ctx, ns, last-keep); err != nil {
			t.Fatal(err)
		}
	}

	c.run()
	for i := range 20 {
		bins, _ := record.EncodeBins(map[string]any{"after": i})
		v, err := st.Put(ctx, "profiles", "s", fmt.Sprintf("after%d", i), bins, 0)
		if err != nil {
			t.Fatal(err)
		}
		hist.add(v)
	}
	hist.checkWinners(t, c.converge(15*time.Second))

	const warned = "change log trimmed past checkpoint, re-shipping by partition scan"
	for _, ns := range []string{"profiles", "sessions"} {
		if n := c.counter("eu-west", "xdrd_recovery_scans_total",
			map[string]string{"namespace": ns}); n != 1 {
			t.Errorf("%v recovery scans of %s, want 1", n, ns)
		}
		got := logs.FilterMessage(warned).FilterField(zap.String("namespace", ns)).Len()
		if got != 1 {
			t.Errorf("%d %q lines for %s, want 1", got, warned, ns)
		}
	}
}

// observeLogs reopens a region's daemon, which must not run yet, with a
// logger that also keeps every entry of Info and above for the test.
func (c *cluster) observeLogs(name string) *observer.ObservedLogs {
	c.t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	c.stop(name)
	base := c.log
	c.log = zap.New(zapcore.NewTee(base.Core(), core))
	c.open(name)
	c.log = base
	return logs
}

// TestRedisRestartResumes crashes eu-west's redis-server, AOF on, while
// us-east keeps writing, and starts it again on the same port and
// directory. eu-west's writes pause while its server is down. Nothing is
// reconnected or reopened by hand: the daemons' clients find the server
// again, eu-west's records written before the crash are still there, and
// both regions converge on the winners the policies name.
func TestRedisRestartResumes(t *testing.T) {
	names := []string{"eu-west", "us-east"}
	servers := map[string]*redistest.Server{}
	stores := map[string]string{}
	for _, n := range names {
		servers[n] = redistest.StartWith(t, redistest.Options{AppendOnly: true})
		stores[n] = servers[n].URL
	}
	c := newClusterOn(t, names, "", region.Tuning{}, stores)
	c.run()

	ctx := context.Background()
	hist := newHistory()
	usWrites := new(atomic.Int64)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	us := &writer{store: c.daemon("us-east").Store(), hist: hist, keys: 50,
		rng: rand.New(rand.NewPCG(2, 13))}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := us.one(ctx); err != nil {
				t.Error(err)
				return
			}
			usWrites.Add(1)
		}
	})
	halt := sync.OnceFunc(func() {
		close(stop)
		wg.Wait()
	})
	defer halt()
	usWrite := func(n int64) {
		t.Helper()
		target := usWrites.Load() + n
		eventually(t, 10*time.Second, fmt.Sprintf("%d writes in us-east", n), func() string {
			if got := usWrites.Load(); got < target {
				return fmt.Sprintf("%d of %d", got, target)
			}
			return ""
		})
	}

	st := c.daemon("eu-west").Store()
	eu := &writer{store: st, hist: hist, keys: 50, rng: rand.New(rand.NewPCG(1, 13))}
	euWrite := func(n int) {
		t.Helper()
		for range n {
			if err := eu.one(ctx); err != nil {
				t.Fatalf("eu-west: %v", err)
			}
		}
	}
	own := make([]record.Version, 30)
	for i := range own {
		bins, _ := record.EncodeBins(map[string]any{"own": i})
		v, err := st.Put(ctx, "profiles", "own", fmt.Sprintf("o%d", i), bins, 0)
		if err != nil {
			t.Fatal(err)
		}
		own[i] = v
		hist.add(v)
	}
	euWrite(200)
	usWrite(200)

	failures := func() float64 {
		return c.counter("eu-west", "xdrd_publish_failures_total", nil)
	}
	before := failures()
	servers["eu-west"].Stop(t)
	eventually(t, 10*time.Second, "eu-west's shipper to notice its store is down",
		func() string {
			if failures() == before {
				return "no shipping failure yet"
			}
			return ""
		})
	usWrite(100)
	servers["eu-west"].Restart(t)

	for _, want := range own {
		got, found, err := st.Get(ctx, want.Namespace, want.Set, want.Key)
		if err != nil {
			t.Fatalf("get %s after the restart: %v", want.Key, err)
		}
		if !found || !verify.Same(got, want) {
			t.Errorf("%s after the restart: found %v, generation %d lut %d; "+
				"wrote generation %d lut %d", want.Key, found, got.Generation, got.LUT,
				want.Generation, want.LUT)
		}
	}
	euWrite(200)
	usWrite(200)
	halt()

	hist.checkWinners(t, c.converge(15*time.Second))
}
