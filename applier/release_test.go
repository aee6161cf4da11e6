package applier_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/applier"
	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/internal/testwait"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// stuckStore is a store whose Apply waits until its context ends, as a
// store would that stopped answering.
type stuckStore struct {
	store.Store
	entered chan struct{}
}

func (s *stuckStore) Apply(ctx context.Context, _ conflict.Policy,
	_ []record.Version) ([]store.Result, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestStoppedApplierHandsBackItsMessages stops an applier while it holds
// frames it fetched but did not apply: it hands them back, so that the
// next applier of the link (a new leader) does not wait out the ack wait.
func TestStoppedApplierHandsBackItsMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := &stuckStore{Store: e.store, entered: make(chan struct{}, 1)}
	a := applier.New(config(), st, e.conn, applier.NewMetrics(e.reg, dest), zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	lut := record.LUT(time.Now().UnixNano())
	for i := range 20 {
		key := fmt.Sprintf("k%d", i)
		e.publish(testNS, shardOf(key), version(key, 1, lut, sourceID))
	}
	<-st.entered
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("applier run: %v", err)
	}

	// The next applier gets them at once. The consumer's ack wait is 5s:
	// frames still missing after 3s were not handed back.
	next := applier.New(config(), e.store, e.conn,
		applier.NewMetrics(prometheus.NewRegistry(), dest), zap.NewNop())
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- next.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	testwait.Until(t, 3*time.Second, "the next applier to apply every frame", func() string {
		for i := range 20 {
			key := fmt.Sprintf("k%d", i)
			_, found, err := e.store.Get(e.ctx, testNS, "s", key)
			if err != nil {
				t.Fatal(err)
			}
			if !found {
				return key + " is missing"
			}
		}
		return ""
	})
}
