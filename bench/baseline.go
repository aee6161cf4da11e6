package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/transport"
)

// recordsPerFrame is the shipper's default batch: the raw JetStream run
// moves the same bytes in messages of the same size.
const recordsPerFrame = 512

// rawInFlight bounds the bytes of unacknowledged raw publishes, well below
// the 128 MiB a stream queues before it answers "too many requests".
const rawInFlight = 32 << 20

// window is how many raw messages of frameBytes may await their acks.
func window(frameBytes int) int { return max(16, rawInFlight/max(frameBytes, 1)) }

// rawJetStream publishes the bytes of records records, in messages of
// frameBytes each, into a file stream in region's JetStream and consumes
// them with explicit acks at the same time, as a link would. It returns
// records per second.
func rawJetStream(ctx context.Context, url, region string,
	records, frameBytes int) (float64, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return 0, fmt.Errorf("raw jetstream: %w", err)
	}
	defer nc.Close()
	// publish keeps the window itself; the client's own bound is above it
	// so that it never stalls a publish.
	js, err := jetstream.NewWithDomain(nc, region,
		jetstream.WithPublishAsyncMaxPending(2*window(frameBytes)))
	if err != nil {
		return 0, err
	}
	const name = "BENCH_RAW"
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{"bench.raw"}, Storage: jetstream.FileStorage,
	})
	if err != nil {
		return 0, fmt.Errorf("raw jetstream: create stream: %w", err)
	}
	defer func() { _ = js.DeleteStream(context.Background(), name) }()
	cons, err := s.CreateConsumer(ctx, jetstream.ConsumerConfig{
		AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		return 0, err
	}

	msgs := (records + recordsPerFrame - 1) / recordsPerFrame
	payload := make([]byte, max(frameBytes, 1))
	began := time.Now()
	var wg sync.WaitGroup
	consumed := make(chan error, 1)
	consuming, stop := context.WithCancel(ctx)
	defer stop()
	wg.Go(func() { consumed <- consume(consuming, cons, msgs) })
	published := publish(ctx, js, payload, msgs, window(frameBytes))
	if published != nil {
		stop()
	}
	wg.Wait()
	if err := <-consumed; err != nil {
		return 0, errors.Join(published, err)
	}
	if published != nil {
		return 0, published
	}
	return float64(records) / time.Since(began).Seconds(), nil
}

// publish sends msgs messages asynchronously, at most window of them
// unacknowledged, and returns the first failure.
func publish(ctx context.Context, js jetstream.JetStream, payload []byte,
	msgs, window int) error {
	futures := make([]jetstream.PubAckFuture, 0, msgs)
	acked := func(i int) error {
		select {
		case <-futures[i].Ok():
			return nil
		case err := <-futures[i].Err():
			return fmt.Errorf("raw jetstream: publish %d of %d: %w", i+1, msgs, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for i := range msgs {
		if i >= window {
			if err := acked(i - window); err != nil {
				return err
			}
		}
		f, err := js.PublishAsync("bench.raw", payload)
		if err != nil {
			return fmt.Errorf("raw jetstream: publish %d of %d: %w", i+1, msgs, err)
		}
		futures = append(futures, f)
	}
	for i := max(0, msgs-window); i < msgs; i++ {
		if err := acked(i); err != nil {
			return err
		}
	}
	return nil
}

// consumeStall is how long the raw consumer waits for a message before it
// gives up: a publish that failed would otherwise leave it waiting forever.
const consumeStall = time.Minute

func consume(ctx context.Context, cons jetstream.Consumer, n int) error {
	it, err := cons.Messages(jetstream.PullMaxMessages(256))
	if err != nil {
		return err
	}
	defer it.Stop()
	for i := range n {
		next, cancel := context.WithTimeout(ctx, consumeStall)
		m, err := it.Next(jetstream.NextContext(next))
		cancel()
		if err != nil {
			return fmt.Errorf("raw jetstream: consume message %d of %d: %w", i+1, n, err)
		}
		if err := m.Ack(); err != nil {
			return err
		}
	}
	return nil
}

// rawStore applies the same records to a fresh store of the benchmarked
// kind, in batches of a frame, and returns records per second: what the
// store can take with no replication around it. On Redis that is the
// pipelined FCALL xdrd_apply rate of the same server, without the driver's
// validation and reply parsing.
func rawStore(ctx context.Context, o *Options) (float64, error) {
	st, err := openStore(o, rawRegion, 2)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	apply := func(vs []record.Version) error {
		_, err := st.Apply(ctx, conflict.Generation, vs)
		return err
	}
	if isRedis(o.Store) {
		raw, err := rawRedis(o)
		if err != nil {
			return 0, err
		}
		defer raw.Close()
		apply = func(vs []record.Version) error {
			return raw.Apply(ctx, conflict.Generation, vs)
		}
	}
	bins, err := record.EncodeBins(map[string]any{"v": make([]byte, o.Size)})
	if err != nil {
		return 0, err
	}
	batch := make([]record.Version, 0, recordsPerFrame)
	lut := record.LUT(time.Now().UnixNano())
	began := time.Now()
	for i := range o.Records {
		lut++
		batch = append(batch, record.Version{Namespace: namespace, Set: "s",
			Key: fmt.Sprintf("k%09d", i), Bins: bins,
			Meta: record.Meta{Generation: 1, LUT: lut, Origin: 1}})
		if len(batch) == cap(batch) || i == o.Records-1 {
			if err := apply(batch); err != nil {
				return 0, fmt.Errorf("raw store: %w", err)
			}
			batch = batch[:0]
		}
	}
	return float64(o.Records) / time.Since(began).Seconds(), nil
}

// wireBytes is the source stream's bytes per record shipped, heartbeats
// and message overhead included. It puts the stream's message count,
// frames and heartbeats, on progress.
func wireBytes(ctx context.Context, o *Options, url string) (float64, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := jetstream.NewWithDomain(nc, source)
	if err != nil {
		return 0, err
	}
	s, err := js.Stream(ctx, transport.StreamName(source))
	if err != nil {
		return 0, fmt.Errorf("source stream: %w", err)
	}
	state := s.CachedInfo().State
	fmt.Fprintf(o.Progress, "source stream: %d messages, %.1f records a message\n",
		state.Msgs, float64(o.Records)/float64(max(state.Msgs, 1)))
	return float64(state.Bytes) / float64(o.Records), nil
}
