package transport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// readyTimeout bounds every wait for an embedded server to become usable:
// accepting clients, JetStream enabled, leaf node and gateways connected.
const readyTimeout = 20 * time.Second

// pollInterval is how often readiness conditions without a notification
// are checked again.
const pollInterval = 10 * time.Millisecond

// loopback is the only address the embedded servers listen on.
const loopback = "127.0.0.1"

// StartStandalone starts one embedded nats-server with JetStream on a
// random free port of 127.0.0.1, keeping its file store in dir. It is the
// single-machine default: no cluster, no gateways, no meta group, so every
// region served by it shares one JetStream and streams are not placed.
// The caller owns the server and calls Shutdown on it.
func StartStandalone(dir string, log *zap.Logger) (*server.Server, string, error) {
	opts := &server.Options{
		ServerName: "xdrd-standalone",
		Host:       loopback,
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
	}
	srv, err := startServer(opts, log)
	if err != nil {
		return nil, "", err
	}
	return srv, srv.ClientURL(), nil
}

// startServer creates and starts one server and waits until it accepts
// clients and, when it runs JetStream, until JetStream is enabled. On
// failure the server is shut down.
func startServer(opts *server.Options, log *zap.Logger) (*server.Server, error) {
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("create nats server %s: %w", opts.ServerName, err)
	}
	slog := newServerLog(log)
	srv.SetLoggerV2(slog, false, false, false)

	began := time.Now()
	srv.Start()
	ready := func() bool {
		return slog.failed() != nil || srv.ReadyForConnections(time.Millisecond)
	}
	err = waitFor(readyTimeout, "client listener", ready)
	if err == nil {
		err = slog.failed()
	}
	if err != nil {
		stopServer(srv)
		return nil, fmt.Errorf("start nats server %s: %w", opts.ServerName, err)
	}
	if opts.JetStream {
		err = waitFor(readyTimeout, "jetstream enabled", srv.JetStreamEnabled)
		if err != nil {
			stopServer(srv)
			return nil, fmt.Errorf("start nats server %s: %w", opts.ServerName, err)
		}
	}

	log.Info("nats server started", zap.String("server", opts.ServerName),
		zap.String("url", srv.ClientURL()),
		zap.Duration("took", time.Since(began)))
	return srv, nil
}

// stopServer shuts a server down and waits until it has released its
// ports and its store, so that it can be started again on them.
func stopServer(srv *server.Server) {
	srv.Shutdown()
	srv.WaitForShutdown()
}

// errNotReady is wrapped by waitFor when a condition stays false.
var errNotReady = errors.New("condition not met")

// waitFor polls cond until it holds or timeout passes. It serves the
// readiness conditions that nats-server exposes only as state, never as
// an event: JetStream enabled, gateway counts, the meta leader.
func waitFor(timeout time.Duration, what string, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			return fmt.Errorf("wait for %s after %s: %w", what, timeout, errNotReady)
		case <-tick.C:
		}
	}
	return nil
}

// freePorts reserves n distinct free TCP ports on the loopback address,
// drawn at random below the kernel's ephemeral range: a port from that
// range could be taken, between the reservation and the server's bind, by
// the local end of some outgoing connection, which is a common one on a
// busy test machine. Every listener stays open until all ports are known.
func freePorts(n int) ([]int, error) {
	low, high := 10000, ephemeralStart()
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for attempt := 0; len(ports) < n; attempt++ {
		if attempt > 100*n {
			return nil, fmt.Errorf("reserve %d free ports below %d: too many in use", n, high)
		}
		port := 0 // let the kernel choose if there is no room below its range
		if high-low > 1000 {
			port = low + rand.IntN(high-low)
		}
		l, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// ephemeralStart returns the first port of the kernel's range for the
// local ends of outgoing connections, or Linux's default.
func ephemeralStart() int {
	const linuxDefault = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return linuxDefault
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return linuxDefault
	}
	start, err := strconv.Atoi(fields[0])
	if err != nil {
		return linuxDefault
	}
	return start
}

// natsURL is the URL of a loopback listener on port.
func natsURL(port int) *url.URL {
	return &url.URL{Scheme: "nats", Host: net.JoinHostPort(loopback, strconv.Itoa(port))}
}

// serverLog sends nats-server's own log lines to zap. They are printf
// text in the server's style, so they travel in a field. Notices and
// warnings go to debug: the server is chatty about normal operation,
// including the peer outages that xdrd is built to ride out. A fatal
// error is also kept, so that a start fails at once instead of waiting.
type serverLog struct {
	log *zap.Logger

	mu    sync.Mutex
	fatal error
}

// newServerLog returns a serverLog that writes to log.
func newServerLog(log *zap.Logger) *serverLog {
	return &serverLog{log: log}
}

// failed returns the server's first fatal error, or nil.
func (l *serverLog) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

// Noticef logs a server notice at debug.
func (l *serverLog) Noticef(format string, v ...any) {
	l.log.Debug("nats server notice", zap.String("text", fmt.Sprintf(format, v...)))
}

// Warnf logs a server warning at debug.
func (l *serverLog) Warnf(format string, v ...any) {
	l.log.Debug("nats server warning", zap.String("text", fmt.Sprintf(format, v...)))
}

// Fatalf logs a fatal server error and keeps it for failed.
func (l *serverLog) Fatalf(format string, v ...any) {
	text := fmt.Sprintf(format, v...)
	l.log.Error("nats server fatal", zap.String("text", text))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fatal == nil {
		l.fatal = fmt.Errorf("nats server fatal: %s", text)
	}
}

// Errorf logs a server error at info: while a region is down, its peers
// log one for every reconnect attempt.
func (l *serverLog) Errorf(format string, v ...any) {
	l.log.Info("nats server error", zap.String("text", fmt.Sprintf(format, v...)))
}

// Debugf drops server debug output.
func (l *serverLog) Debugf(string, ...any) {}

// Tracef drops server protocol traces.
func (l *serverLog) Tracef(string, ...any) {}
