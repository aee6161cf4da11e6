package transport

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// ErrNotConnected is returned by Healthy while the connection is down.
var ErrNotConnected = errors.New("not connected to nats")

// healthTimeout bounds the round trip that Healthy makes.
const healthTimeout = 2 * time.Second

// Conn is one connection to a region's NATS, with JetStream access to
// every region's streams. It is safe for concurrent use.
//
// Which JetStream holds a region's streams is decided once, at Connect,
// from what the server says about itself:
//   - a server without JetStream, or one in a named JetStream domain, is
//     part of the per-region domain layout: region r's streams live in
//     domain r and are reached through it, wherever the client connects;
//   - a server with JetStream and no domain (StartStandalone, or one
//     cluster shared by all regions) holds every region's streams in one
//     JetStream, placed in the cluster named after the region if any.
type Conn struct {
	nc   *nats.Conn
	js   jetstream.JetStream // the connected server's view; publishes go here
	cfg  Config
	log  *zap.Logger
	name string

	// single is true when one JetStream holds every region's streams.
	single bool

	mu      sync.Mutex
	domains map[string]jetstream.JetStream // per region, domain layout only
}

// Connect connects to url with DefaultConfig. name names the connection
// in the server's monitoring and in logs.
func Connect(url, name string, log *zap.Logger) (*Conn, error) {
	return ConnectConfig(url, name, log, DefaultConfig())
}

// ConnectConfig connects to url with cfg. The connection reconnects
// forever; disconnects and reconnects are logged at info. The first
// connect is not retried: an unreachable server is an error.
func ConnectConfig(url, name string, log *zap.Logger, cfg Config) (*Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	log = log.With(zap.String("conn", name))
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(cfg.ReconnectWait),
		nats.PingInterval(cfg.PingInterval),
		nats.MaxPingsOutstanding(3),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Info("nats disconnected", zap.Error(err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", zap.String("url", nc.ConnectedUrlRedacted()))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Warn("nats async error", zap.String("subject", subject), zap.Error(err))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", url, err)
	}
	js, err := jetstream.New(nc,
		jetstream.WithDefaultTimeout(cfg.RequestTimeout),
		jetstream.WithPublishAsyncMaxPending(cfg.PublishMaxPending),
		jetstream.WithPublishAsyncTimeout(cfg.PublishTimeout),
	)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("open jetstream on %s: %w", url, err)
	}

	hasJS, _ := nc.ConnectedServerJetStream()
	c := &Conn{
		nc:      nc,
		js:      js,
		cfg:     cfg,
		log:     log,
		name:    name,
		single:  hasJS && nc.ConnectedDomain() == "",
		domains: make(map[string]jetstream.JetStream),
	}
	log.Info("nats connected", zap.String("url", nc.ConnectedUrlRedacted()),
		zap.String("cluster", nc.ConnectedClusterName()), zap.Bool("single-jetstream", c.single))
	return c, nil
}

// Config returns the configuration the Conn was made with.
func (c *Conn) Config() Config {
	return c.cfg
}

// Healthy returns nil when the connection is up and the server answers a
// round trip; it does not ask JetStream, so a region cut off from the
// others is still healthy.
func (c *Conn) Healthy() error {
	if !c.nc.IsConnected() {
		return fmt.Errorf("check nats %s: %w (status %s)", c.name, ErrNotConnected, c.nc.Status())
	}
	if err := c.nc.FlushTimeout(healthTimeout); err != nil {
		return fmt.Errorf("check nats %s: %w", c.name, err)
	}
	return nil
}

// Close closes the connection at once. Asynchronous publishes without an
// ack fail; wait on PublishAsyncComplete first to keep them.
func (c *Conn) Close() {
	c.nc.Close()
	c.log.Info("nats connection closed")
}

// jetStreamFor returns the JetStream that holds region's streams.
func (c *Conn) jetStreamFor(region string) (jetstream.JetStream, error) {
	if c.single {
		return c.js, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if js, ok := c.domains[region]; ok {
		return js, nil
	}
	timeout := jetstream.WithDefaultTimeout(c.cfg.RequestTimeout)
	js, err := jetstream.NewWithDomain(c.nc, region, timeout)
	if err != nil {
		return nil, fmt.Errorf("open jetstream domain %s: %w", region, err)
	}
	c.domains[region] = js
	return js, nil
}
