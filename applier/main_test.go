package applier_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/applier"
	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/frame"
	"github.com/xdrd/xdrd/internal/testwait"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/store/memory"
	"github.com/xdrd/xdrd/transport"
)

// Every test applies the link from source to dest; third is a region that
// neither is.
const (
	source   = "west"
	sourceID = record.RegionID(2)
	dest     = "east"
	destID   = record.RegionID(1)
	third    = record.RegionID(3)
	testNS   = "users"
	shards   = 4
	// waitTimeout bounds every wait for the applier to do something.
	waitTimeout = 15 * time.Second
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitFor polls cond until it holds and fails the test at the deadline.
// The applier works on its own goroutines; the tests observe it through
// the consumer's state, the store and metrics.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, waitTimeout, what, cond)
}

// env is the destination's side of one link, all real: an embedded NATS
// server holding the source's stream and the dead-letter stream, and a
// memory store of the destination.
type env struct {
	t     *testing.T
	ctx   context.Context
	conn  *transport.Conn
	js    jetstream.JetStream // the test's own view of the streams
	store *memory.Store
	reg   *prometheus.Registry
	sent  int // frames published, for unique message IDs
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

	// The default stream reservation of 8 GiB may not fit a test machine.
	cfg := transport.DefaultConfig()
	cfg.StreamMaxBytes = 64 << 20
	cfg.DLQMaxBytes = 16 << 20
	conn, err := transport.ConnectConfig(url, "applier-test", log, cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(conn.Close)
	if err := conn.EnsureStream(ctx, source); err != nil {
		t.Fatalf("ensure stream: %v", err)
	}
	if err := conn.EnsureDLQ(ctx, dest); err != nil {
		t.Fatalf("ensure dlq: %v", err)
	}

	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect observer: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}

	st := memory.New(destID, nil)
	t.Cleanup(func() { _ = st.Close() })
	return &env{t: t, ctx: ctx, conn: conn, js: js, store: st, reg: prometheus.NewRegistry()}
}

// config is the link from source to dest carrying testNS; the topology
// also knows namespace "elsewhere", which source does not ship here.
func config() applier.Config {
	return applier.Config{
		Region: dest, RegionID: destID, Source: source, SourceID: sourceID,
		Namespaces: map[string]applier.Namespace{
			testNS: {Policy: conflict.Generation, Shards: shards},
		},
		Known: func(ns string) bool { return ns == testNS || ns == "elsewhere" },
		Retry: 50 * time.Millisecond,
	}
}

// start runs an applier until the test ends.
func (e *env) start(cfg applier.Config) *applier.Applier {
	e.t.Helper()
	return e.startOn(cfg, e.store)
}

// startOn runs an applier writing into st until the test ends.
func (e *env) startOn(cfg applier.Config, st store.Store) *applier.Applier {
	e.t.Helper()
	a := applier.New(cfg, st, e.conn, applier.NewMetrics(e.reg, dest), zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("applier run: %v", err)
		}
	})
	return a
}

// version is a version of key in testNS as region origin wrote it.
func version(key string, gen uint64, lut record.LUT, origin record.RegionID) record.Version {
	return record.Version{
		Namespace: testNS, Set: "s", Key: key, Bins: []byte{0x80}, // an empty map
		Meta: record.Meta{Generation: record.Generation(gen), LUT: lut, Origin: origin},
	}
}

// shardOf is the shard that carries key.
func shardOf(key string) int {
	return record.Shard(record.Partition("s", key), shards)
}

// publish sends the records as one frame of ns and shard from source and
// returns its stream sequence.
func (e *env) publish(ns string, shard int, recs ...record.Version) uint64 {
	e.t.Helper()
	seq, _ := e.publishFrame(ns, shard, recs)
	return seq
}

// publishFrame is publish that also returns the frame's size in bytes.
func (e *env) publishFrame(ns string, shard int, recs []record.Version) (seq uint64, size int) {
	e.t.Helper()
	e.sent++
	f := frame.Frame{
		Header: frame.Header{
			Source: sourceID, Namespace: ns, Shard: shard,
			First: uint64(e.sent), Last: uint64(e.sent),
			Count: len(recs), SentAt: time.Now().UnixNano(),
		},
		Records: recs,
	}
	data, err := frame.Append(nil, &f)
	if err != nil {
		e.t.Fatalf("encode frame: %v", err)
	}
	subject := transport.Subject(source, ns, shard)
	id := transport.MsgID(source, ns, shard, f.First, f.Last)
	ack, err := e.conn.Publish(e.ctx, subject, id, data)
	if err != nil {
		e.t.Fatalf("publish: %v", err)
	}
	return ack.Sequence, len(data)
}

// waitSettled waits until the applier has acked or terminated every
// frame up to seq and holds none unacknowledged.
func (e *env) waitSettled(seq uint64) {
	e.t.Helper()
	waitFor(e.t, fmt.Sprintf("frames up to %d settled", seq), func() bool {
		info := e.consumerInfo()
		return info != nil && info.AckFloor.Stream >= seq && info.NumAckPending == 0 &&
			info.NumPending == 0
	})
}

// waitDelivered waits until the applier holds n frames unacknowledged.
func (e *env) waitDelivered(n int) {
	e.t.Helper()
	waitFor(e.t, fmt.Sprintf("%d frames delivered", n), func() bool {
		info := e.consumerInfo()
		return info != nil && info.NumAckPending >= n
	})
}

// consumerInfo returns the state of the link's consumer, or nil while the
// applier has not made it yet.
func (e *env) consumerInfo() *jetstream.ConsumerInfo {
	e.t.Helper()
	cons, err := e.js.Consumer(e.ctx, transport.StreamName(source),
		transport.ConsumerName(dest))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatalf("look up consumer: %v", err)
	}
	info, err := cons.Info(e.ctx)
	if err != nil {
		e.t.Fatalf("consumer info: %v", err)
	}
	return info
}

// deadLetters returns every message of the dead-letter stream.
func (e *env) deadLetters() []*jetstream.RawStreamMsg {
	e.t.Helper()
	s, err := e.js.Stream(e.ctx, transport.DLQStream)
	if err != nil {
		e.t.Fatalf("dlq stream: %v", err)
	}
	info, err := s.Info(e.ctx)
	if err != nil {
		e.t.Fatalf("dlq info: %v", err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(e.ctx, seq)
		if err != nil {
			e.t.Fatalf("dlq message %d: %v", seq, err)
		}
		out = append(out, m)
	}
	return out
}

// metric sums the series of counter name whose labels include want.
func (e *env) metric(name string, want map[string]string) float64 {
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
	series:
		for _, m := range f.GetMetric() {
			have := make(map[string]string)
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue series
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// outcome is the applied-records counter of one outcome in testNS.
func (e *env) outcome(o conflict.Outcome) float64 {
	e.t.Helper()
	return e.metric("xdrd_records_applied_total",
		map[string]string{"namespace": testNS, "source": source, "outcome": o.String()})
}
