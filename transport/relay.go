package transport

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
)

// Relay carries requests between the daemons of one region over their
// NATS connection: core request-reply, no JetStream. checkpoint.Node uses
// it to send cursors to the leader.
type Relay struct {
	conn   *Conn
	region string
}

// NewRelay returns the relay of region's daemons on c.
func NewRelay(c *Conn, region string) *Relay {
	return &Relay{conn: c, region: region}
}

// relaySubject is where member listens. Member IDs are addresses, whose
// dots would split subject tokens, so the ID travels hex-encoded.
func (r *Relay) relaySubject(member string) string {
	return fmt.Sprintf("_xdrd.relay.%s.%s", r.region, hex.EncodeToString([]byte(member)))
}

// Request sends data to member and waits for its answer until ctx ends.
func (r *Relay) Request(ctx context.Context, member string, data []byte) ([]byte, error) {
	msg, err := r.conn.nc.RequestWithContext(ctx, r.relaySubject(member), data)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("member %s is not listening: %w", member, err)
	}
	if err != nil {
		return nil, fmt.Errorf("request member %s: %w", member, err)
	}
	return msg.Data, nil
}

// Serve answers every request sent to member with handle's result until
// stop is called. Requests are handled one at a time.
func (r *Relay) Serve(member string, handle func([]byte) []byte) (stop func(), err error) {
	sub, err := r.conn.nc.Subscribe(r.relaySubject(member), func(m *nats.Msg) {
		if err := m.Respond(handle(m.Data)); err != nil {
			r.conn.log.Warn("answer relay request", zap.String("member", member), zap.Error(err))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("listen for relay requests to %s: %w", member, err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}
