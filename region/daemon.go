// Package region wires one region's daemon: its store, its raft group of
// checkpoints, its NATS connection, a shipper per namespace and an applier
// per incoming link.
package region

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/applier"
	"github.com/xdrd/xdrd/checkpoint"
	"github.com/xdrd/xdrd/conflictlog"
	"github.com/xdrd/xdrd/lag"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/shipper"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/topology"
	"github.com/xdrd/xdrd/transport"
)

// Config says which region of a topology this daemon runs and where.
type Config struct {
	Topology *topology.Topology
	Region   string
	// DataDir holds the raft group's files, the embedded store when the
	// topology names none, and an embedded NATS server when it names none.
	DataDir string
	// NATS overrides the region's nats URL; the demo and tests use it.
	NATS string
	// Store, when set, is used instead of opening the region's store URL;
	// the daemon closes it. Benchmarks wrap a store this way.
	Store store.Store
	// RaftBind is the raft TCP address; default 127.0.0.1:0 for a group of
	// one.
	RaftBind string
	// RaftTLS, when set, carries raft over mutual TLS (checkpoint.LoadTLS).
	RaftTLS *tls.Config
	// CheckpointInterval is the longest time shipped cursors wait to be
	// committed through raft; default 50ms. A crash re-ships at most this
	// much, which the destination counts as duplicates.
	CheckpointInterval time.Duration
	// Registry receives the daemon's metrics; nil makes a new one.
	Registry *prometheus.Registry
	Logger   *zap.Logger
	// Tuning overrides shipping defaults; zero fields keep them.
	Tuning Tuning
}

// Tuning holds the knobs that tests and benchmarks turn.
type Tuning struct {
	Linger    time.Duration
	Heartbeat time.Duration
	TrimEvery time.Duration
	// MaxFrame is the largest frame an applier accepts, in bytes.
	MaxFrame int
	// Monitor is how often lag is measured and alerts evaluated; 1s.
	Monitor time.Duration
	// RaftTimeout is the raft group's heartbeat and election timeout;
	// 500ms, for members on a LAN.
	RaftTimeout time.Duration
}

// Daemon is one region's replication daemon.
type Daemon struct {
	cfg       Config
	region    topology.Region
	id        record.RegionID
	clock     *record.Clock
	store     store.Store
	raft      *checkpoint.Node
	conn      *transport.Conn
	nats      *server.Server // embedded, when the topology names no NATS
	reg       *prometheus.Registry
	ship      *shipper.Metrics
	apply     *applier.Metrics
	purge     *purger
	reloads   *reloads
	conflicts *conflictlog.Log
	alerts    *lag.Evaluator
	push      *lag.Alertmanager
	// observed are the links the monitor saw last; only it touches them.
	observed map[lag.Link]bool
	log      *zap.Logger

	replicating atomic.Bool // set once streams exist and workers run

	mu       sync.Mutex
	topo     *topology.Topology
	reload   chan struct{}
	appliers map[string]*applier.Applier // by source region
	shippers map[string]*shipper.Shipper // by namespace
	backlog  *prometheus.GaugeVec
	backlogs map[backlogKey]int64 // the gauge's last values, for /v1/status
}

// Open opens the store, the raft group and the NATS connection of a region.
// Run starts replicating; Close releases everything.
func Open(cfg Config) (_ *Daemon, err error) {
	r, ok := cfg.Topology.Region(cfg.Region)
	if !ok {
		return nil, fmt.Errorf("region %q is not in the topology", cfg.Region)
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}

	if err := checkShared(cfg, r); err != nil {
		return nil, err
	}

	d := &Daemon{
		cfg: cfg, region: r, id: record.RegionID(r.ID), clock: record.NewClock(nil),
		reg: cfg.Registry, topo: cfg.Topology, reload: make(chan struct{}, 1),
		shippers: make(map[string]*shipper.Shipper),
		appliers: make(map[string]*applier.Applier),
		log:      cfg.Logger.With(zap.String("region", r.Name)),
	}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()

	d.store = cfg.Store
	if d.store == nil {
		if d.store, err = openStore(r.Store, cfg.DataDir, d.id, d.clock); err != nil {
			return nil, err
		}
	}
	if d.conn, err = d.connect(); err != nil {
		return nil, err
	}
	if d.raft, err = d.openRaft(); err != nil {
		return nil, err
	}

	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(
		collectors.ProcessCollectorOpts{}), buildInfo())
	d.ship = shipper.NewMetrics(d.reg, r.Name)
	d.apply = applier.NewMetrics(d.reg, r.Name)
	d.purge = newPurger(d)
	d.reloads = newReloads(d.reg)
	d.backlog = newBacklogGauge(d.reg, r.Name)
	d.backlogs = make(map[backlogKey]int64)
	d.conflicts = conflictlog.New(d.conn, r.Name, d.reg, d.log)
	if d.alerts, d.push, err = d.newAlerts(); err != nil {
		return nil, err
	}
	d.log.Info("region opened", zap.String("store", storeName(r.Store)),
		zap.String("data-dir", cfg.DataDir))
	return d, nil
}

func (d *Daemon) openRaft() (*checkpoint.Node, error) {
	id, bind, others, err := membership(d.region, d.cfg.RaftBind)
	if err != nil {
		return nil, err
	}
	return checkpoint.Open(checkpoint.Config{
		DataDir: filepath.Join(d.cfg.DataDir, "raft"),
		ID:      id,
		Bind:    bind,
		Peers:   others,
		Relay:   transport.NewRelay(d.conn, d.region.Name),
		TLS:     d.cfg.RaftTLS,
		Logger:  d.log,

		Registerer:     d.reg,
		CommitInterval: d.cfg.CheckpointInterval,
		Timeout:        d.cfg.Tuning.RaftTimeout,
	})
}

// connect reaches the region's NATS, starting an embedded server under the
// data dir when the topology names none.
func (d *Daemon) connect() (*transport.Conn, error) {
	url := d.cfg.NATS
	if url == "" {
		url = d.region.NATS
	}
	if url == "" {
		srv, u, err := transport.StartStandalone(filepath.Join(d.cfg.DataDir, "nats"), d.log)
		if err != nil {
			return nil, fmt.Errorf("start embedded nats: %w", err)
		}
		d.nats, url = srv, u
	}
	return transport.Connect(url, "xdrd-"+d.region.Name, d.log)
}

func storeName(url string) string {
	if url == "" {
		return "embedded (data dir)"
	}
	return url
}

// Store is the region's store, for the KV API and the demo's load.
func (d *Daemon) Store() store.Store { return d.store }

// Replicating reports whether this member runs the work the group's
// assignment gives it: its streams exist, an assignment is in force and,
// on the leader, its term is established.
func (d *Daemon) Replicating() bool { return d.replicating.Load() }

// Registry is the daemon's metrics registry.
func (d *Daemon) Registry() *prometheus.Registry { return d.reg }

// Name is the region's name.
func (d *Daemon) Name() string { return d.region.Name }

// Topology is the topology in force.
func (d *Daemon) Topology() *topology.Topology {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.topo
}

// Ready reports nil when NATS, the store and the raft group are usable,
// and otherwise an error naming what is not.
func (d *Daemon) Ready() error {
	var errs []error
	if err := d.conn.Healthy(); err != nil {
		errs = append(errs, fmt.Errorf("nats: %w", err))
	}
	if err := d.raft.Healthy(); err != nil {
		errs = append(errs, fmt.Errorf("raft: %w", err))
	}
	ns := d.Topology().Namespaces[0].Name
	if _, err := d.store.Last(context.Background(), ns); err != nil {
		errs = append(errs, fmt.Errorf("store: %w", err))
	}
	return errors.Join(errs...)
}

// Close releases the daemon: checkpoints are flushed by the raft node's
// own Close.
func (d *Daemon) Close() error {
	var errs []error
	if d.push != nil {
		d.push.Close()
	}
	if d.raft != nil {
		errs = append(errs, d.raft.Close())
	}
	if d.conflicts != nil {
		d.conflicts.Close()
	}
	if d.conn != nil {
		d.conn.Close()
	}
	if d.store != nil {
		errs = append(errs, d.store.Close())
	}
	if d.nats != nil {
		d.nats.Shutdown()
		d.nats.WaitForShutdown()
	}
	return errors.Join(errs...)
}
