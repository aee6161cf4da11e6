package region_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/xdrd/xdrd/region"
	"github.com/xdrd/xdrd/store/redis/redistest"
)

// TestRedisApplicationWrites has applications in two regions write shared
// keys through the Functions library itself — FCALL xdrd_put and xdrd_del,
// as issue 5's contract shows — at the same time: afterwards both servers
// hold identical records and metadata.
func TestRedisApplicationWrites(t *testing.T) {
	names := []string{"eu-west", "us-east"}
	servers := map[string]*redistest.Server{}
	stores := map[string]string{}
	for _, n := range names {
		servers[n] = redistest.Start(t)
		stores[n] = servers[n].URL
	}
	c := newClusterOn(t, names, "", region.Tuning{}, stores)
	c.run()

	ctx := context.Background()
	clients := map[string]*goredis.Client{}
	for _, n := range names {
		clients[n] = goredis.NewClient(&goredis.Options{Addr: servers[n].Addr})
		defer clients[n].Close()
	}
	var wg sync.WaitGroup
	for i, n := range names {
		rdb := clients[n]
		rng := rand.New(rand.NewPCG(uint64(i), 9))
		wg.Go(func() {
			for op := range 300 {
				key := fmt.Sprintf("profiles:users:u%d", rng.IntN(25))
				var err error
				if rng.IntN(8) == 0 {
					err = rdb.FCall(ctx, "xdrd_del", []string{key}).Err()
				} else {
					err = rdb.FCall(ctx, "xdrd_put", []string{key},
						"by", n, "op", fmt.Sprint(op)).Err()
				}
				if err != nil {
					t.Errorf("%s: %v", n, err)
					return
				}
			}
		})
	}
	wg.Wait()

	c.converge(30 * time.Second)
	for k := range 25 {
		key := fmt.Sprintf("profiles:users:u%d", k)
		var metas [2][]any
		var bins [2]map[string]any
		for i, n := range names {
			m, err := clients[n].FCall(ctx, "xdrd_meta", []string{key}).Slice()
			if err != nil {
				t.Fatalf("%s xdrd_meta %s: %v", n, key, err)
			}
			b, err := clients[n].FCall(ctx, "xdrd_get", []string{key}).Slice()
			if err != nil {
				t.Fatalf("%s xdrd_get %s: %v", n, key, err)
			}
			metas[i], bins[i] = m, pairs(b)
		}
		if !reflect.DeepEqual(metas[0], metas[1]) || !reflect.DeepEqual(bins[0], bins[1]) {
			t.Errorf("%s differs: %s has %v %v, %s has %v %v", key,
				names[0], metas[0], bins[0], names[1], metas[1], bins[1])
		}
	}
}

// pairs turns xdrd_get's flat bin, value list into a map: Redis returns a
// hash's fields in no promised order.
func pairs(flat []any) map[string]any {
	m := make(map[string]any, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		m[fmt.Sprint(flat[i])] = flat[i+1]
	}
	return m
}
