package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Names of the conflict log, where each region's appliers record the
// conflicts they decide (package conflictlog writes the entries).
const (
	// ConflictStream is the conflict log's stream; each region has its
	// own, in its own JetStream domain, like XDRD_DLQ.
	ConflictStream = "XDRD_CONFLICTS"
	// conflictsToken is the second subject token of conflict entries. A
	// region can not be named after it: XDRD_<REGION> would then be
	// ConflictStream and take the log's subjects.
	conflictsToken = "conflicts"
)

// readIdle bounds the wait for the next entry while ReadConflicts knows
// that more are pending, in units of Config.RequestTimeout.
const readIdle = 2

// ConflictSubject is the subject of the conflicts that region decided in
// namespace: xdrd.conflicts.<region>.<namespace>.
func ConflictSubject(region, namespace string) string {
	return SubjectRoot + "." + conflictsToken + "." + region + "." + namespace
}

// EnsureConflictStream makes sure that region's conflict log XDRD_CONFLICTS
// exists in region's JetStream, taking subjects xdrd.conflicts.<region>.>,
// so that appliers record conflicts without leaving their region. When
// one JetStream holds every region, one XDRD_CONFLICTS takes
// xdrd.conflicts.> for all of them.
//
// It keeps entries for Config.DLQMaxAge and at most Config.DLQMaxBytes
// (30 days and 1 GiB by default), dropping the oldest first: an audit
// trail of the same kind as the dead letters, so it shares their bounds.
// The duplicate window is Config.DuplicateWindow.
func (c *Conn) EnsureConflictStream(ctx context.Context, region string) error {
	if err := CheckRegion(region); err != nil {
		return fmt.Errorf("ensure conflict stream: %w", err)
	}
	return c.ensureAudit(ctx, region, ConflictStream, conflictsToken,
		"xdrd conflicts decided by appliers")
}

// PublishConflictAsync stores one encoded conflict entry of region and
// namespace in XDRD_CONFLICTS with Nats-Msg-Id msgID, without waiting for
// the ack, under the same window and timeouts as PublishAsync. The
// stream is checked to be XDRD_CONFLICTS, so an entry never lands in a
// replication stream.
func (c *Conn) PublishConflictAsync(region, namespace, msgID string,
	data []byte) (jetstream.PubAckFuture, error) {
	if err := CheckRegion(region); err != nil {
		return nil, fmt.Errorf("publish conflict: %w", err)
	}
	if err := checkToken("namespace", namespace); err != nil {
		return nil, fmt.Errorf("publish conflict: %w", err)
	}
	subject := ConflictSubject(region, namespace)
	if msgID == "" {
		return nil, fmt.Errorf("publish %s: empty msg-id: %w", subject, ErrBadName)
	}
	msg := &nats.Msg{Subject: subject, Data: data}
	future, err := c.js.PublishMsgAsync(msg,
		jetstream.WithMsgID(msgID),
		jetstream.WithExpectStream(ConflictStream),
		jetstream.WithStallWait(c.cfg.PublishStallWait))
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", subject, err)
	}
	return future, nil
}

// ReadConflicts calls fn with every entry of region's conflict log stored
// at or after since (all of them for a zero since), oldest first, until
// it has read what was pending when it started or later. It reads
// through an ordered consumer in region's JetStream, which it deletes at
// the end. An error from fn stops the read and is returned; so is a wait
// for a pending entry longer than twice Config.RequestTimeout.
func (c *Conn) ReadConflicts(ctx context.Context, region string, since time.Time,
	fn func(data []byte) error) error {
	if err := CheckRegion(region); err != nil {
		return fmt.Errorf("read conflicts: %w", err)
	}
	js, err := c.jetStreamFor(region)
	if err != nil {
		return fmt.Errorf("read conflicts of %s: %w", region, err)
	}
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects:   []string{SubjectRoot + "." + conflictsToken + "." + region + ".>"},
		DeliverPolicy:    jetstream.DeliverAllPolicy,
		MaxResetAttempts: 3,
	}
	if !since.IsZero() {
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cfg.OptStartTime = &since
	}
	cons, err := js.OrderedConsumer(ctx, ConflictStream, cfg)
	if err != nil {
		return fmt.Errorf("read conflicts of %s: open %s: %w", region, ConflictStream, err)
	}
	defer c.deleteReader(js, cons)

	info := cons.CachedInfo()
	if info == nil || info.NumPending == 0 {
		return nil
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("read conflicts of %s: %w", region, err)
	}
	defer it.Stop()

	for {
		next, cancel := context.WithTimeout(ctx, readIdle*c.cfg.RequestTimeout)
		msg, err := it.Next(jetstream.NextContext(next))
		cancel()
		if err != nil {
			return fmt.Errorf("read conflicts of %s: %w", region, err)
		}
		if err := fn(msg.Data()); err != nil {
			return err
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("read conflicts of %s: read metadata: %w", region, err)
		}
		if md.NumPending == 0 {
			return nil
		}
	}
}

// deleteReader deletes the ordered consumer of a read rather than leave
// it to expire on the server.
func (c *Conn) deleteReader(js jetstream.JetStream, cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.RequestTimeout)
	defer cancel()
	err := js.DeleteConsumer(ctx, ConflictStream, info.Name)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		c.log.Debug("conflict reader not deleted", zap.String("consumer", info.Name),
			zap.Error(err))
	}
}
