// Package checkpoint keeps the replication checkpoints of one region (for
// each namespace and shard, the cursor up to which work is done) in a
// hashicorp/raft group, so that a follower can take over from the last
// committed cursor when the leader dies.
//
// Cursors only move forward, progress is committed in batches, and a
// command proposed in a term older than one already applied is fenced.
package checkpoint

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Errors reported by a Node; check them with errors.Is.
var (
	// ErrClosed is returned by a Node that has been closed.
	ErrClosed = errors.New("checkpoint: node closed")
	// ErrNoLeader is returned by Healthy while the group has no known leader.
	ErrNoLeader = errors.New("checkpoint: no known leader")
	// ErrFenced is returned when a command carries a term older than the
	// highest term already applied: it comes from a deposed leader.
	ErrFenced = errors.New("checkpoint: command from a deposed leader")
)

const (
	defaultCommitInterval = 50 * time.Millisecond
	defaultTimeout        = 500 * time.Millisecond
	closeFlushTimeout     = 5 * time.Second
	applyEnqueueTimeout   = 5 * time.Second
	snapshotRetain        = 2
	transportMaxPool      = 3
	// transportTimeout bounds one raft RPC; it is also how long a member
	// that stopped answering (a paused process) keeps its shards.
	transportTimeout = 2 * time.Second
	// leaderRecheck bounds how long WaitLeader trusts the observer alone.
	leaderRecheck = 250 * time.Millisecond
)

// Config describes one member of a region's raft group.
type Config struct {
	// DataDir holds raft.db (the raft log and stable store) and snapshots/.
	DataDir string
	// ID is this member's raft server ID, stable across restarts (e.g.
	// "eu-west-1"). Empty means Bind.
	ID string
	// Bind is the TCP address raft listens on and advertises, so it must be
	// reachable by the peers. Port 0 picks a free port and is only allowed
	// with no Peers.
	Bind string
	// Peers lists the other members, each as "address" or "id=address". A
	// bare address is also the member's ID. Every member of a new group must
	// be started with the same set. Empty means a group of one.
	Peers []string
	// CommitInterval is the longest time staged cursors wait before they
	// are committed in one raft apply. Zero means 50ms.
	CommitInterval time.Duration
	// Timeout is raft's heartbeat, election and leader lease timeout: how
	// long a group goes without a leader before it elects another. Zero
	// means 500ms, tuned for a LAN; members that share a busy machine need
	// more, or they depose leaders that are only slow.
	Timeout time.Duration
	// TLS, when set, carries raft's connections over TLS (see LoadTLS);
	// every member of the group must use it. Nil is plain TCP.
	TLS *tls.Config
	// Relay carries cursors staged on a member that does not lead to the
	// leader. Nil keeps them staged until this member leads, which is all a
	// group of one needs.
	Relay Relay
	// Logger receives lifecycle logs and raft's own warnings. Nil discards.
	Logger *zap.Logger
	// Registerer receives the group's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// withDefaults fills the optional fields and reports every invalid one.
func (c Config) withDefaults() (Config, error) {
	if c.ID == "" {
		c.ID = c.Bind
	}
	if c.CommitInterval == 0 {
		c.CommitInterval = defaultCommitInterval
	}
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}

	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir: empty"))
	}
	if c.Bind == "" {
		errs = append(errs, errors.New("bind: empty"))
	}
	if c.CommitInterval < 0 {
		errs = append(errs, fmt.Errorf("commit-interval: negative (%s)", c.CommitInterval))
	}
	if c.Timeout < 50*time.Millisecond {
		errs = append(errs, fmt.Errorf("timeout: %s is below raft's 50ms minimum", c.Timeout))
	}
	if _, port, err := net.SplitHostPort(c.Bind); err == nil && port == "0" && len(c.Peers) > 0 {
		errs = append(errs, errors.New("bind: port 0 cannot be reached by peers"))
	}
	if _, err := c.servers(raft.ServerAddress(c.Bind)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("checkpoint config: %w", err)
	}
	return c, nil
}

// servers returns the voters of a new group: this member at local and
// every peer, sorted by ID so that all members bootstrap the same list.
func (c Config) servers(local raft.ServerAddress) ([]raft.Server, error) {
	out := []raft.Server{{Suffrage: raft.Voter, ID: raft.ServerID(c.ID), Address: local}}
	for _, p := range c.Peers {
		id, addr, found := strings.Cut(p, "=")
		if !found {
			id, addr = p, p
		}
		if id == "" || addr == "" {
			return nil, fmt.Errorf("peers: %q is not an address or id=address", p)
		}
		out = append(out, raft.Server{
			Suffrage: raft.Voter, ID: raft.ServerID(id), Address: raft.ServerAddress(addr),
		})
	}

	slices.SortFunc(out, func(a, b raft.Server) int {
		return strings.Compare(string(a.ID), string(b.ID))
	})
	for i := 1; i < len(out); i++ {
		if out[i].ID == out[i-1].ID {
			return nil, fmt.Errorf("peers: server id %q appears twice", out[i].ID)
		}
	}
	return out, nil
}

// Node is one member of a region's checkpoint group. All methods are safe
// for concurrent use.
type Node struct {
	cfg     Config
	log     *zap.Logger
	metrics *metrics
	raft    *raft.Raft
	fsm     *fsm
	store   *raftboltdb.BoltStore
	trans   raft.Transport

	// staged holds progress not yet proposed; see commit.go.
	stageMu sync.Mutex
	staged  map[Key]staged

	// establishedTerm is the last term in which this member, as leader,
	// applied the log of earlier terms and raised the fence.
	establishedTerm atomic.Uint64
	establishMu     sync.Mutex

	// down are the members whose heartbeats fail, as the leader sees it.
	downMu sync.Mutex
	down   map[raft.ServerID]bool

	balance      chan struct{}
	stopBalancer chan struct{}
	balancerDone chan struct{}
	stopRelay    func()

	flushCh       chan chan error
	stopCommitter chan struct{}
	committerDone chan struct{}

	observer  *raft.Observer
	stopWatch chan struct{}
	watchDone chan struct{}
	changeMu  sync.Mutex
	changed   chan struct{} // closed and replaced on every leadership change

	closed atomic.Bool
}

// Open starts this member: it opens or creates the stores under
// cfg.DataDir, listens on cfg.Bind and, when the data dir holds no raft
// state yet, bootstraps the group from cfg.Peers.
func Open(cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}

	trans, err := listen(cfg.Bind, cfg.TLS, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return open(cfg, trans)
}

// listen starts raft's TCP transport on bind. The transport advertises
// the address it really listens on, so port 0 resolves to a free port.
func listen(bind string, tlsCfg *tls.Config, log *zap.Logger) (*raft.NetworkTransport, error) {
	c := &raft.NetworkTransportConfig{
		Logger:  newRaftLogger(log),
		MaxPool: transportMaxPool,
		Timeout: transportTimeout,
	}
	if tlsCfg != nil {
		return listenTLS(bind, tlsCfg, c)
	}
	trans, err := raft.NewTCPTransportWithConfig(bind, nil, c)
	if err != nil {
		return nil, fmt.Errorf("listen for raft on %s: %w", bind, err)
	}
	return trans, nil
}

// open starts a member on trans and takes ownership of it: trans is closed
// when open fails or the Node is closed. cfg must have its defaults.
func open(cfg Config, trans raft.Transport) (*Node, error) {
	n, existing, err := startRaft(cfg, trans)
	if err != nil {
		if c, ok := trans.(raft.WithClose); ok {
			_ = c.Close()
		}
		return nil, err
	}
	if err := n.startWorkers(); err != nil {
		_ = n.Close()
		return nil, err
	}

	if !existing {
		if err := n.bootstrap(trans.LocalAddr()); err != nil {
			_ = n.Close()
			return nil, err
		}
	}

	n.log.Info("opened checkpoint node", zap.String("id", cfg.ID),
		zap.String("address", string(trans.LocalAddr())),
		zap.String("data-dir", cfg.DataDir), zap.Int("peers", len(cfg.Peers)),
		zap.Bool("bootstrapped", !existing))
	return n, nil
}

// startRaft opens the stores and the raft instance, and reports whether
// the stores already held raft state.
func startRaft(cfg Config, trans raft.Transport) (*Node, bool, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, false, fmt.Errorf("create data dir: %w", err)
	}
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.DataDir, "raft.db")})
	if err != nil {
		return nil, false, fmt.Errorf("open raft log: %w", err)
	}

	hl := newRaftLogger(cfg.Logger)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, snapshotRetain, hl)
	if err != nil {
		_ = store.Close()
		return nil, false, fmt.Errorf("open snapshot store: %w", err)
	}
	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		_ = store.Close()
		return nil, false, fmt.Errorf("inspect raft state: %w", err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	// A follower starts an election after Timeout without the leader, and
	// a leader that has not heard from a quorum for as long steps down.
	rc.HeartbeatTimeout = cfg.Timeout
	rc.ElectionTimeout = cfg.Timeout
	rc.LeaderLeaseTimeout = cfg.Timeout
	rc.Logger = hl

	n := &Node{
		cfg:           cfg,
		log:           cfg.Logger,
		metrics:       newMetrics(cfg.Registerer),
		store:         store,
		trans:         trans,
		staged:        make(map[Key]staged),
		down:          make(map[raft.ServerID]bool),
		balance:       make(chan struct{}, 1),
		stopBalancer:  make(chan struct{}),
		balancerDone:  make(chan struct{}),
		flushCh:       make(chan chan error),
		stopCommitter: make(chan struct{}),
		committerDone: make(chan struct{}),
		stopWatch:     make(chan struct{}),
		watchDone:     make(chan struct{}),
		changed:       make(chan struct{}),
	}
	// Restoring a snapshot inside NewRaft already reports the assignment.
	n.fsm = newFSM(cfg.Logger)
	n.fsm.onAssign = n.signalChange
	r, err := raft.NewRaft(rc, n.fsm, store, store, snaps, trans)
	if err != nil {
		_ = store.Close()
		return nil, false, fmt.Errorf("start raft: %w", err)
	}
	n.raft = r
	return n, existing, nil
}

// bootstrap writes the first configuration of a new group.
func (n *Node) bootstrap(local raft.ServerAddress) error {
	servers, err := n.cfg.servers(local)
	if err != nil {
		return fmt.Errorf("bootstrap raft: %w", err)
	}
	err = n.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error()
	if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("bootstrap raft: %w", err)
	}
	return nil
}

// startWorkers starts the leadership watcher, the committer, the balancer
// and the relay's server.
func (n *Node) startWorkers() error {
	obs := make(chan raft.Observation, 16)
	n.observer = raft.NewObserver(obs, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.RaftState, raft.FailedHeartbeatObservation,
			raft.ResumedHeartbeatObservation, raft.PeerObservation:
			return true
		}
		return false
	})
	n.raft.RegisterObserver(n.observer)

	n.metrics.setRole(n.State())
	go n.watch(obs)
	go n.runCommitter()
	go n.runBalancer()

	if n.cfg.Relay != nil {
		stop, err := n.cfg.Relay.Serve(n.cfg.ID, n.serveRelay)
		if err != nil {
			return fmt.Errorf("serve checkpoint relay: %w", err)
		}
		n.stopRelay = stop
	}
	return nil
}

// Close flushes staged cursors (for at most 5s), stops the committer,
// shuts raft down and closes the stores. Staged cursors that could not be
// committed are lost and reported in the returned error. Close is
// idempotent.
func (n *Node) Close() error {
	if !n.closed.CompareAndSwap(false, true) {
		return nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), closeFlushTimeout)
	flushErr := n.Flush(ctx)
	cancel()
	if flushErr != nil {
		flushErr = fmt.Errorf("flush on close: %w", flushErr)
	}
	n.handOver()

	// Raft shuts down before the committer is awaited: that fails a commit
	// still waiting for a quorum instead of waiting with it.
	if n.stopRelay != nil {
		n.stopRelay()
	}
	close(n.stopCommitter)
	close(n.stopBalancer)
	n.raft.DeregisterObserver(n.observer)
	close(n.stopWatch)
	var shutdownErr, storeErr error
	if err := n.raft.Shutdown().Error(); err != nil {
		shutdownErr = fmt.Errorf("shut down raft: %w", err)
	}
	// Shutdown closes the listener but not the pooled connections to the
	// peers, whose handlers would otherwise block reading from them.
	if nt, ok := n.trans.(*raft.NetworkTransport); ok {
		nt.CloseStreams()
	}
	<-n.committerDone
	<-n.balancerDone
	<-n.watchDone

	if err := n.store.Close(); err != nil {
		storeErr = fmt.Errorf("close raft log: %w", err)
	}
	n.signalChange()

	n.log.Info("closed checkpoint node", zap.String("id", n.cfg.ID))
	return errors.Join(flushErr, shutdownErr, storeErr)
}

// handOver transfers leadership to another voter when this member leads
// a group of more than one, so that the group does not wait out an
// election timeout before shipping again.
func (n *Node) handOver() {
	if !n.IsLeader() {
		return
	}
	future := n.raft.GetConfiguration()
	if future.Error() != nil || len(future.Configuration().Servers) < 2 {
		return
	}
	start := time.Now()
	if err := n.raft.LeadershipTransfer().Error(); err != nil {
		n.log.Warn("transfer leadership", zap.Error(err))
		return
	}
	n.log.Info("leadership transferred", zap.Duration("took", time.Since(start)))
}
