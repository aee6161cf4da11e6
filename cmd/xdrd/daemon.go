package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/xdrd/xdrd/admin"
	"github.com/xdrd/xdrd/checkpoint"
	"github.com/xdrd/xdrd/region"
	"github.com/xdrd/xdrd/topology"
)

// runDaemon runs one region until SIGTERM or SIGINT. SIGHUP reloads the
// topology file and keeps the one in force when the new one is invalid.
func runDaemon(args []string, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	topoPath := fs.String("topology", "", "topology file (required)")
	name := fs.String("region", "", "this daemon's region (required)")
	dataDir := fs.String("data-dir", "xdrd-data", "directory for raft, the embedded store and NATS")
	addr := fs.String("admin", "127.0.0.1:7070", "admin HTTP address")
	raftBind := fs.String("raft-bind", "", "raft TCP address (default: a free loopback port)")
	interval := fs.Duration("checkpoint-interval", 0,
		"longest wait before shipped cursors are committed (default 50ms)")
	tlsCert := fs.String("raft-tls-cert", "", "PEM certificate of this daemon for raft over mutual TLS")
	tlsKey := fs.String("raft-tls-key", "", "PEM key of --raft-tls-cert")
	tlsCA := fs.String("raft-tls-ca", "", "PEM CA that signed every member's raft certificate")
	raftTimeout := fs.Duration("raft-timeout", 0, "raft heartbeat and election timeout: how "+
		"long the region's daemons go without a leader before electing another (default 500ms)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *topoPath == "" || *name == "" {
		fmt.Fprintln(stderr, "xdrd run: --topology and --region are required")
		return 2
	}

	tlsFiles := []string{*tlsCert, *tlsKey, *tlsCA}
	if n := len(slices.DeleteFunc(tlsFiles, func(f string) bool { return f == "" })); n != 0 && n != 3 {
		fmt.Fprintln(stderr, "xdrd run: --raft-tls-cert, --raft-tls-key and --raft-tls-ca go together")
		return 2
	}

	log := newLogger(stderr, zapcore.InfoLevel)
	defer func() { _ = log.Sync() }()
	topo, err := topology.Load(*topoPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}

	var raftTLS *tls.Config
	if *tlsCert != "" {
		if raftTLS, err = checkpoint.LoadTLS(*tlsCert, *tlsKey, *tlsCA); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}

	d, err := region.Open(region.Config{
		Topology: topo, Region: *name, DataDir: *dataDir, Logger: log,
		RaftBind: *raftBind, CheckpointInterval: *interval,
		Tuning: region.Tuning{RaftTimeout: *raftTimeout}, RaftTLS: raftTLS,
	})
	if err != nil {
		log.Error("open region", zap.Error(err))
		return 1
	}
	defer func() {
		if err := d.Close(); err != nil {
			log.Warn("close region", zap.Error(err))
		}
	}()

	srv, err := admin.Serve(*addr, admin.Handler(d.Admin(), d.Registry(), log), log)
	if err != nil {
		log.Error("serve admin api", zap.String("address", *addr), zap.Error(err))
		return 1
	}
	defer func() { _ = srv.Close() }()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// SIGHUP is caught before Run, so an early one cannot kill the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadOnHUP(ctx, hup, *topoPath, d)

	if err := d.Run(ctx); err != nil {
		log.Error("region stopped", zap.Error(err))
		return 1
	}
	log.Info("region stopped gracefully")
	return 0
}

// reloadOnHUP re-reads the topology on every SIGHUP until ctx ends; the
// daemon logs and counts what happened.
func reloadOnHUP(ctx context.Context, hup <-chan os.Signal, path string, d *region.Daemon) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = d.ReloadFile(path)
		}
	}
}
