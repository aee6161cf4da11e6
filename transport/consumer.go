package transport

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// EnsureConsumer creates or updates dest's durable pull consumer
// to-<dest> on source's stream and returns it. The consumer lives with
// the stream, in source's JetStream; the returned handle reaches it from
// wherever this Conn is connected, so an applier connects to its own
// region and reads every source through it.
//
// Delivery starts at the first frame, every frame needs an explicit ack,
// at most Config.MaxAckPending wait for one, and an unacknowledged frame
// comes back after Config.AckWait, then after each Config.Backoff step, and
// at most Config.MaxDeliver times in all when that is not -1. filterSubjects, each under
// xdrd.<source>., narrow the frames delivered; none means all of them.
func (c *Conn) EnsureConsumer(ctx context.Context, source, dest string,
	filterSubjects []string) (jetstream.Consumer, error) {
	if err := CheckRegion(source); err != nil {
		return nil, fmt.Errorf("ensure consumer: source: %w", err)
	}
	if err := CheckRegion(dest); err != nil {
		return nil, fmt.Errorf("ensure consumer: destination: %w", err)
	}
	prefix := SubjectRoot + "." + source + "."
	for _, f := range filterSubjects {
		if !strings.HasPrefix(f, prefix) || len(f) == len(prefix) {
			return nil, fmt.Errorf("ensure consumer: filter %q is not under %s: %w",
				f, prefix, ErrBadName)
		}
	}

	cfg := jetstream.ConsumerConfig{
		Durable:       ConsumerName(dest),
		Description:   "xdrd frames from " + source + " for " + dest,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.cfg.AckWait,
		BackOff:       c.cfg.consumerBackoff(),
		MaxDeliver:    c.cfg.MaxDeliver,
		MaxAckPending: c.cfg.MaxAckPending,
		Replicas:      c.cfg.Replicas,
	}
	switch len(filterSubjects) {
	case 0:
	case 1:
		cfg.FilterSubject = filterSubjects[0]
	default:
		cfg.FilterSubjects = filterSubjects
	}

	js, err := c.jetStreamFor(source)
	if err != nil {
		return nil, fmt.Errorf("ensure consumer %s: %w", cfg.Durable, err)
	}
	began := time.Now()
	cons, err := untilResponders(ctx, func() (jetstream.Consumer, error) {
		return js.CreateOrUpdateConsumer(ctx, StreamName(source), cfg)
	})
	if err != nil {
		return nil, fmt.Errorf("ensure consumer %s on %s: %w",
			cfg.Durable, StreamName(source), err)
	}
	c.log.Info("consumer ready", zap.String("stream-region", source),
		zap.String("stream", StreamName(source)), zap.String("consumer", cfg.Durable),
		zap.Duration("took", time.Since(began)))
	return cons, nil
}

// LastDelivery reports whether msg is on its last delivery: if it is not
// acknowledged now, the server will never deliver it again. An applier
// that cannot apply such a frame should dead-letter it.
func (c *Conn) LastDelivery(msg jetstream.Msg) bool {
	md, err := msg.Metadata()
	return err == nil && c.cfg.MaxDeliver > 0 && md.NumDelivered >= uint64(c.cfg.MaxDeliver)
}

// DeadLetter copies msg to the destination region's XDRD_DLQ on subject
// xdrd.dlq.<dest>.<reason>, where dest comes from the consumer name, with
// headers naming the original subject, stream, sequence, consumer,
// delivery count, msg-id and reason. Only once that copy is acknowledged
// does it terminate msg, so the server never delivers it again; if the
// copy fails, msg is left alone and comes back. A retried DeadLetter of
// the same message stores one copy. reason must be one subject token,
// such as "oversized" or "unknown-namespace".
func (c *Conn) DeadLetter(ctx context.Context, msg jetstream.Msg, reason string) error {
	if err := checkToken("reason", reason); err != nil {
		return fmt.Errorf("dead-letter: %w", err)
	}
	md, err := msg.Metadata()
	if err != nil {
		return fmt.Errorf("dead-letter: read metadata: %w", err)
	}
	dest, ok := strings.CutPrefix(md.Consumer, ConsumerPrefix)
	if !ok || checkToken("destination", dest) != nil {
		return fmt.Errorf("dead-letter: consumer %q is not named %s<dest>: %w",
			md.Consumer, ConsumerPrefix, ErrBadName)
	}

	seq := strconv.FormatUint(md.Sequence.Stream, 10)
	header := nats.Header{}
	header.Set(HeaderDLQSubject, msg.Subject())
	header.Set(HeaderDLQStream, md.Stream)
	header.Set(HeaderDLQSequence, seq)
	header.Set(HeaderDLQConsumer, md.Consumer)
	header.Set(HeaderDLQDelivered, strconv.FormatUint(md.NumDelivered, 10))
	header.Set(HeaderDLQReason, reason)
	if id := msg.Headers().Get(jetstream.MsgIDHeader); id != "" {
		header.Set(HeaderDLQMsgID, id)
	}
	copied := &nats.Msg{Subject: dlqSubject(dest, reason), Header: header, Data: msg.Data()}

	ack, err := c.js.PublishMsg(ctx, copied,
		jetstream.WithMsgID(md.Stream+"."+seq),
		jetstream.WithExpectStream(DLQStream))
	if err != nil {
		return fmt.Errorf("dead-letter %s/%s: copy to %s: %w", md.Stream, seq, DLQStream, err)
	}
	// A message this client already settled needs no second Term.
	err = msg.TermWithReason(reason)
	if err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		return fmt.Errorf("dead-letter %s/%s: terminate: %w", md.Stream, seq, err)
	}
	c.log.Warn("frame dead-lettered", zap.String("stream", md.Stream),
		zap.String("consumer", md.Consumer), zap.Uint64("sequence", md.Sequence.Stream),
		zap.String("reason", reason), zap.Uint64("dlq-sequence", ack.Sequence))
	return nil
}

// ConsumerInfo returns the state of dest's consumer on source's stream:
// its ack floor says how far dest has applied the stream.
func (c *Conn) ConsumerInfo(ctx context.Context, source, dest string) (*jetstream.ConsumerInfo, error) {
	js, err := c.jetStreamFor(source)
	if err != nil {
		return nil, err
	}
	cons, err := js.Consumer(ctx, StreamName(source), ConsumerName(dest))
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", ConsumerName(dest), StreamName(source), err)
	}
	return cons.CachedInfo(), nil
}
