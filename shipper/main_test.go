package shipper_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/checkpoint"
	"github.com/xdrd/xdrd/frame"
	"github.com/xdrd/xdrd/internal/testwait"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/shipper"
	"github.com/xdrd/xdrd/store/memory"
	"github.com/xdrd/xdrd/transport"
)

// Every test ships namespace testNS of region source, whose ID is sourceID.
const (
	source   = "east"
	sourceID = record.RegionID(1)
	testNS   = "users"
	// waitTimeout bounds every wait for the shipper to do something.
	waitTimeout = 15 * time.Second
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitFor polls cond until it holds and fails the test at the deadline.
// Shipping happens on the shipper's own goroutines and NATS's, and the
// tests observe it only through the stream, the checkpoints and metrics.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, waitTimeout, what, cond)
}

// env is one region's side of shipping, all real: an embedded NATS server
// with JetStream, a memory store, a one-member checkpoint group.
type env struct {
	t     *testing.T
	ctx   context.Context
	srv   *server.Server
	conn  *transport.Conn
	js    jetstream.JetStream // the test's own view of the stream
	store *memory.Store
	cps   *checkpoint.Node
	reg   *prometheus.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	log := zap.NewNop()

	srv, url, err := transport.StartStandalone(t.TempDir(), log)
	if err != nil {
		t.Fatalf("start nats: %v", err)
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})

	cps, err := checkpoint.Open(checkpoint.Config{
		DataDir: t.TempDir(), Bind: "127.0.0.1:0",
		CommitInterval: 10 * time.Millisecond, Logger: log,
	})
	if err != nil {
		t.Fatalf("open checkpoints: %v", err)
	}
	t.Cleanup(func() { _ = cps.Close() })
	if err := cps.WaitLeader(ctx); err != nil {
		t.Fatalf("wait for checkpoint leader: %v", err)
	}

	// The default stream reservation of 8 GiB may not fit a test machine,
	// and a short publish timeout lets the outage tests see failures soon.
	cfg := transport.DefaultConfig()
	cfg.StreamMaxBytes = 64 << 20
	cfg.DLQMaxBytes = 16 << 20
	cfg.PublishTimeout = 500 * time.Millisecond
	cfg.ReconnectWait = 20 * time.Millisecond
	conn, err := transport.ConnectConfig(url, "shipper-test", log, cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(conn.Close)
	if err := conn.EnsureStream(ctx, source); err != nil {
		t.Fatalf("ensure stream: %v", err)
	}

	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect reader: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}

	st := memory.New(sourceID, nil)
	t.Cleanup(func() { _ = st.Close() })
	return &env{t: t, ctx: ctx, srv: srv, conn: conn, js: js, store: st, cps: cps,
		reg: prometheus.NewRegistry()}
}

// config is a shipper configuration with quick heartbeats and retries, so
// that idle shards and rewinds show within the tests' deadlines.
func config(shards int) shipper.Config {
	return shipper.Config{
		Source: source, SourceID: sourceID, Namespace: testNS, Shards: shards,
		Heartbeat: 50 * time.Millisecond, Retry: 50 * time.Millisecond,
	}
}

// start runs a shipper until the test ends.
func (e *env) start(cfg shipper.Config) {
	e.t.Helper()
	e.startWith(cfg, e.reg)
}

// startWith runs a shipper whose metrics go to reg until the test ends.
func (e *env) startWith(cfg shipper.Config, reg *prometheus.Registry) {
	e.t.Helper()
	s, err := shipper.New(cfg, e.store, e.conn, e.cps, shipper.NewMetrics(reg, source),
		zap.NewNop())
	if err != nil {
		e.t.Fatalf("new shipper: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("shipper run: %v", err)
		}
	})
}

// put writes one local record whose bins hold a string of size bytes.
func (e *env) put(set, key string, size int) record.Version {
	e.t.Helper()
	bins, err := record.EncodeBins(map[string]any{"v": string(make([]byte, size))})
	if err != nil {
		e.t.Fatalf("encode bins: %v", err)
	}
	v, err := e.store.Put(e.ctx, testNS, set, key, bins, 0)
	if err != nil {
		e.t.Fatalf("put %s/%s: %v", set, key, err)
	}
	return v
}

// head is the newest cursor of the namespace's change log.
func (e *env) head() uint64 {
	e.t.Helper()
	last, err := e.store.Last(e.ctx, testNS)
	if err != nil {
		e.t.Fatalf("last: %v", err)
	}
	return uint64(last)
}

// cursors reads every shard's committed checkpoint.
func (e *env) cursors(shards int) []uint64 {
	out := make([]uint64, shards)
	for i := range out {
		out[i] = e.cps.Cursor(checkpoint.Key{Namespace: testNS, Shard: i})
	}
	return out
}

// waitCheckpointed waits until every shard's checkpoint is at the log's
// head: from then on, everything written so far is in the stream.
func (e *env) waitCheckpointed(shards int) {
	e.t.Helper()
	head := e.head()
	waitFor(e.t, fmt.Sprintf("every checkpoint at %d", head), func() bool {
		for _, c := range e.cursors(shards) {
			if c != head {
				return false
			}
		}
		return true
	})
}

// metric sums the shipper's counter or gauge name over its series.
func (e *env) metric(name string) float64 {
	e.t.Helper()
	families, err := e.reg.Gather()
	if err != nil {
		e.t.Fatalf("gather: %v", err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// shipped is one message of the stream, decoded.
type shipped struct {
	subject string
	size    int
	frame   *frame.Frame
}

// reader follows the source stream from its start with an ordered
// consumer, the way an observer with no durable state would.
type reader struct {
	mu     sync.Mutex
	frames []shipped
	err    error
}

func (e *env) read() *reader {
	e.t.Helper()
	cons, err := e.js.OrderedConsumer(e.ctx, transport.StreamName(source),
		jetstream.OrderedConsumerConfig{})
	if err != nil {
		e.t.Fatalf("ordered consumer: %v", err)
	}
	it, err := cons.Messages()
	if err != nil {
		e.t.Fatalf("messages: %v", err)
	}
	r := &reader{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.follow(it)
	}()
	e.t.Cleanup(func() {
		it.Stop()
		<-done
	})
	return r
}

func (r *reader) follow(it jetstream.MessagesContext) {
	for {
		msg, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return
		}
		if err != nil {
			r.fail(fmt.Errorf("next message: %w", err))
			return
		}
		f, err := frame.Decode(msg.Data(), frame.DefaultMaxSize)
		if err != nil {
			r.fail(fmt.Errorf("decode frame on %s: %w", msg.Subject(), err))
			return
		}
		r.mu.Lock()
		r.frames = append(r.frames, shipped{msg.Subject(), len(msg.Data()), f})
		r.mu.Unlock()
	}
}

func (r *reader) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// all returns the frames read so far, failing the test if reading broke.
func (r *reader) all(t *testing.T) []shipped {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return append([]shipped(nil), r.frames...)
}

// records returns every record shipped so far, in stream order.
func (r *reader) records(t *testing.T) []record.Version {
	t.Helper()
	var out []record.Version
	for _, s := range r.all(t) {
		out = append(out, s.frame.Records...)
	}
	return out
}

// waitKeys waits until every key of want has been shipped at least once.
func (r *reader) waitKeys(t *testing.T, want []string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d keys in the stream", len(want)), func() bool {
		seen := make(map[string]bool)
		for _, v := range r.records(t) {
			seen[v.Key] = true
		}
		for _, k := range want {
			if !seen[k] {
				return false
			}
		}
		return true
	})
}

// keysOfShard returns n keys of set whose changes go through shard.
func keysOfShard(set string, shard, shards, n int) []string {
	var keys []string
	for i := 0; len(keys) < n; i++ {
		k := fmt.Sprintf("k%d", i)
		if record.Shard(record.Partition(set, k), shards) == shard {
			keys = append(keys, k)
		}
	}
	return keys
}
