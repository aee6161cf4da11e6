package transport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// EnsureStream makes sure that source's stream XDRD_<SOURCE> exists in
// source's JetStream: file storage, subjects xdrd.<source>.>, limits
// retention bounded by Config.StreamMaxBytes and StreamMaxAge, refusing
// new frames when full, and a duplicate window of Config.DuplicateWindow.
//
// An existing stream is left as it is when its settings already match.
// When they differ it is updated; if that update fails, the stream still
// takes publishes, so EnsureStream logs a warning and returns nil.
func (c *Conn) EnsureStream(ctx context.Context, source string) error {
	if err := CheckRegion(source); err != nil {
		return fmt.Errorf("ensure stream: %w", err)
	}
	cfg := jetstream.StreamConfig{
		Name:        StreamName(source),
		Description: "xdrd frames shipped from region " + source,
		Subjects:    []string{SubjectRoot + "." + source + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    c.cfg.StreamMaxBytes,
		MaxAge:      c.cfg.StreamMaxAge,
		Duplicates:  c.cfg.DuplicateWindow,
	}
	return c.ensure(ctx, source, cfg)
}

// EnsureDLQ makes sure that region's dead-letter stream XDRD_DLQ exists
// in region's JetStream, taking subjects xdrd.dlq.<region>.>: the dead
// letters of the appliers that run in region. Every region has its own
// XDRD_DLQ, written without leaving the region. When one JetStream holds
// every region, one XDRD_DLQ takes xdrd.dlq.> for all of them.
func (c *Conn) EnsureDLQ(ctx context.Context, region string) error {
	if err := CheckRegion(region); err != nil {
		return fmt.Errorf("ensure dlq: %w", err)
	}
	return c.ensureAudit(ctx, region, DLQStream, dlqToken, "xdrd frames that appliers rejected")
}

// ensureAudit makes sure one of region's audit streams exists — the dead
// letters or the conflict log — taking subjects xdrd.<token>.<region>.>,
// or xdrd.<token>.> when one JetStream holds every region. Both keep
// Config.DLQMaxAge and at most Config.DLQMaxBytes, dropping the oldest
// first, under the duplicate window.
func (c *Conn) ensureAudit(ctx context.Context, region, name, token, description string) error {
	subject := SubjectRoot + "." + token + "." + region + ".>"
	if c.single {
		subject = SubjectRoot + "." + token + ".>"
	}
	return c.ensure(ctx, region, jetstream.StreamConfig{
		Name:        name,
		Description: description,
		Subjects:    []string{subject},
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxBytes:    c.cfg.DLQMaxBytes,
		MaxAge:      c.cfg.DLQMaxAge,
		Duplicates:  c.cfg.DuplicateWindow,
	})
}

// ensure creates the stream want in region's JetStream or brings an
// existing one in line with it.
func (c *Conn) ensure(ctx context.Context, region string, want jetstream.StreamConfig) error {
	want.Storage = jetstream.FileStorage
	want.Replicas = c.cfg.Replicas
	if c.single && c.nc.ConnectedClusterName() != "" {
		want.Placement = &jetstream.Placement{Cluster: region}
	}
	js, err := c.jetStreamFor(region)
	if err != nil {
		return fmt.Errorf("ensure stream %s: %w", want.Name, err)
	}

	began := time.Now()
	stream, err := untilResponders(ctx, func() (jetstream.Stream, error) {
		return js.Stream(ctx, want.Name)
	})
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if _, err := js.CreateStream(ctx, want); err != nil {
			return fmt.Errorf("create stream %s in %s: %w", want.Name, region, err)
		}
		c.log.Info("stream created", zap.String("stream-region", region),
			zap.String("stream", want.Name), zap.Duration("took", time.Since(began)))
		return nil
	case err != nil:
		return fmt.Errorf("look up stream %s in %s: %w", want.Name, region, err)
	}

	have := stream.CachedInfo().Config
	changed := streamChanges(have, want)
	if len(changed) == 0 {
		return nil
	}
	if have.Storage != want.Storage {
		return fmt.Errorf("ensure stream %s in %s: storage is %s, want %s",
			want.Name, region, have.Storage, want.Storage)
	}
	if _, err := js.UpdateStream(ctx, want); err != nil {
		c.log.Warn("stream kept with old settings", zap.String("stream-region", region),
			zap.String("stream", want.Name), zap.Strings("fields", changed), zap.Error(err))
		return nil
	}
	c.log.Info("stream updated", zap.String("stream-region", region), zap.String("stream", want.Name),
		zap.Strings("fields", changed), zap.Duration("took", time.Since(began)))
	return nil
}

// streamChanges names the settings that differ between an existing
// stream and the wanted one, among those that ensure controls.
func streamChanges(have, want jetstream.StreamConfig) []string {
	var changed []string
	check := func(field string, same bool) {
		if !same {
			changed = append(changed, field)
		}
	}
	check("subjects", slices.Equal(have.Subjects, want.Subjects))
	check("storage", have.Storage == want.Storage)
	check("retention", have.Retention == want.Retention)
	check("discard", have.Discard == want.Discard)
	check("max-bytes", have.MaxBytes == want.MaxBytes)
	check("max-age", have.MaxAge == want.MaxAge)
	check("duplicates", have.Duplicates == want.Duplicates)
	check("replicas", have.Replicas == want.Replicas)
	check("description", have.Description == want.Description)
	return changed
}

// Publish stores data in the stream of the source region named by
// subject, with Nats-Msg-Id msgID, and waits for the stream's ack. A
// msgID seen inside the duplicate window is stored once: the second ack
// has Duplicate set. subject must come from Subject; the stream is
// checked to be XDRD_<SOURCE>, so a frame never lands elsewhere.
//
// Publishing needs only the source region's own JetStream: no other
// region, and no stream management, takes part.
func (c *Conn) Publish(ctx context.Context, subject, msgID string,
	data []byte) (*jetstream.PubAck, error) {
	msg, opts, err := frame(subject, msgID, data)
	if err != nil {
		return nil, err
	}
	ack, err := c.js.PublishMsg(ctx, msg, opts...)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", subject, err)
	}
	return ack, nil
}

// PublishAsync sends a frame like Publish without waiting for its ack,
// so that a shipper can keep several frames in flight. At most
// Config.PublishMaxPending frames wait for an ack; past that PublishAsync
// blocks for up to Config.PublishStallWait and then fails. The future
// fails when no ack comes within Config.PublishTimeout.
func (c *Conn) PublishAsync(subject, msgID string, data []byte) (jetstream.PubAckFuture, error) {
	msg, opts, err := frame(subject, msgID, data)
	if err != nil {
		return nil, err
	}
	opts = append(opts, jetstream.WithStallWait(c.cfg.PublishStallWait))
	future, err := c.js.PublishMsgAsync(msg, opts...)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", subject, err)
	}
	return future, nil
}

// PublishAsyncComplete returns a channel that is closed once every
// asynchronous publish made so far has its ack or has failed.
func (c *Conn) PublishAsyncComplete() <-chan struct{} {
	return c.js.PublishAsyncComplete()
}

// PublishAsyncPending returns how many asynchronous publishes wait for
// their ack.
func (c *Conn) PublishAsyncPending() int {
	return c.js.PublishAsyncPending()
}

// frame builds the message and publish options for a replication frame.
func frame(subject, msgID string, data []byte) (*nats.Msg, []jetstream.PublishOpt, error) {
	source, _, _, err := ParseSubject(subject)
	if err != nil {
		return nil, nil, fmt.Errorf("publish: %w", err)
	}
	if msgID == "" {
		return nil, nil, fmt.Errorf("publish %s: empty msg-id: %w", subject, ErrBadName)
	}
	msg := &nats.Msg{Subject: subject, Data: data}
	opts := []jetstream.PublishOpt{
		jetstream.WithMsgID(msgID),
		jetstream.WithExpectStream(StreamName(source)),
	}
	return msg, opts, nil
}
