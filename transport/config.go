package transport

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes the streams, consumers and connection that a Conn makes.
// Start from DefaultConfig; Validate reports every bad field at once.
type Config struct {
	// StreamMaxBytes caps the bytes a source stream keeps on disk; the
	// server reserves it when the stream is created. A full stream refuses
	// new frames instead of dropping old ones, so the shipper stops and
	// the backlog waits in the change log: nothing is lost.
	StreamMaxBytes int64
	// StreamMaxAge is how long a frame stays in a source stream. A
	// destination that is down for longer misses frames and needs the
	// shipper's re-ship of the affected partitions.
	StreamMaxAge time.Duration
	// Replicas is the replica count of every stream: 1 for one JetStream
	// server per region, 3 for a three-server JetStream cluster.
	Replicas int
	// DuplicateWindow is how long a stream remembers Nats-Msg-Id values
	// to drop frames that are shipped again.
	DuplicateWindow time.Duration

	// DLQMaxBytes and DLQMaxAge bound a region's XDRD_DLQ; when full it
	// drops its oldest dead letters.
	DLQMaxBytes int64
	DLQMaxAge   time.Duration

	// MaxAckPending bounds the frames a destination holds unacknowledged.
	MaxAckPending int
	// AckWait is how long a delivered frame may stay unacknowledged
	// before its first redelivery.
	AckWait time.Duration
	// Backoff are the waits before the later redeliveries; the last one
	// repeats until MaxDeliver.
	Backoff []time.Duration
	// MaxDeliver is how many times a frame is delivered at most; -1, the
	// default, is without limit. Appliers dead-letter bad frames
	// themselves, so a limit would only drop good frames while a
	// destination store is down. With a limit, an applier should
	// dead-letter a frame on its last delivery (see Conn.LastDelivery)
	// rather than let the server give up on it.
	MaxDeliver int

	// PublishMaxPending bounds the asynchronous publishes awaiting an
	// ack; PublishAsync blocks while the window is full.
	PublishMaxPending int
	// PublishStallWait is how long PublishAsync blocks on a full window
	// before it fails.
	PublishStallWait time.Duration
	// PublishTimeout is how long an asynchronous publish waits for its
	// ack before its future fails.
	PublishTimeout time.Duration
	// RequestTimeout bounds JetStream API calls made without a deadline.
	RequestTimeout time.Duration

	// ReconnectWait is the pause between reconnect attempts; reconnects
	// never stop.
	ReconnectWait time.Duration
	// PingInterval is how often the client checks that the server still
	// answers; three missed pings drop the connection.
	PingInterval time.Duration
}

// DefaultConfig returns the documented defaults (docs/transport.md).
func DefaultConfig() Config {
	return Config{
		StreamMaxBytes:    8 << 30,
		StreamMaxAge:      7 * 24 * time.Hour,
		Replicas:          1,
		DuplicateWindow:   30 * time.Second,
		DLQMaxBytes:       1 << 30,
		DLQMaxAge:         30 * 24 * time.Hour,
		MaxAckPending:     1024,
		AckWait:           5 * time.Second,
		MaxDeliver:        -1,
		PublishMaxPending: 256,
		PublishStallWait:  5 * time.Second,
		PublishTimeout:    10 * time.Second,
		RequestTimeout:    5 * time.Second,
		ReconnectWait:     250 * time.Millisecond,
		PingInterval:      10 * time.Second,
	}
}

// Validate reports every field that is out of range, one per line.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, v ...any) {
		errs = append(errs, fmt.Errorf("transport.%s: %s", field, fmt.Sprintf(format, v...)))
	}
	positive := func(field string, d time.Duration) {
		if d <= 0 {
			bad(field, "must be positive, got %s", d)
		}
	}
	if c.StreamMaxBytes <= 0 {
		bad("stream-max-bytes", "must be positive, got %d", c.StreamMaxBytes)
	}
	if c.DLQMaxBytes <= 0 {
		bad("dlq-max-bytes", "must be positive, got %d", c.DLQMaxBytes)
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		bad("replicas", "must be 1 to 5, got %d", c.Replicas)
	}
	positive("stream-max-age", c.StreamMaxAge)
	positive("duplicate-window", c.DuplicateWindow)
	positive("dlq-max-age", c.DLQMaxAge)
	positive("ack-wait", c.AckWait)
	positive("publish-stall-wait", c.PublishStallWait)
	positive("publish-timeout", c.PublishTimeout)
	positive("request-timeout", c.RequestTimeout)
	positive("reconnect-wait", c.ReconnectWait)
	positive("ping-interval", c.PingInterval)
	for i, d := range c.Backoff {
		positive(fmt.Sprintf("backoff[%d]", i), d)
	}
	if c.DuplicateWindow > c.StreamMaxAge {
		bad("duplicate-window", "%s is longer than stream-max-age %s",
			c.DuplicateWindow, c.StreamMaxAge)
	}
	if c.MaxAckPending < 1 {
		bad("max-ack-pending", "must be at least 1, got %d", c.MaxAckPending)
	}
	if c.MaxDeliver != -1 && (c.MaxDeliver < 2 || c.MaxDeliver <= len(c.Backoff)) {
		bad("max-deliver", "must be -1 or at least 2 and above the %d backoff steps, got %d",
			len(c.Backoff), c.MaxDeliver)
	}
	if c.PublishMaxPending < 1 {
		bad("publish-max-pending", "must be at least 1, got %d", c.PublishMaxPending)
	}
	return errors.Join(errs...)
}

// consumerBackoff is the consumer's BackOff list: the first delivery waits
// AckWait, later ones the configured steps. The server takes AckWait from
// the first entry when a list is given.
// Without steps there is no list: every redelivery waits AckWait.
func (c Config) consumerBackoff() []time.Duration {
	if len(c.Backoff) == 0 {
		return nil
	}
	return append([]time.Duration{c.AckWait}, c.Backoff...)
}
