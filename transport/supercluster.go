package transport

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Supercluster runs the NATS side of several regions on 127.0.0.1 for the
// demo and the tests. Each region has a core server, its own cluster
// named after the region, joined to the other regions' cores through
// gateways, and a JetStream server in domain <region> attached to its
// core as a leaf node. Clients only ever connect to a core (URL); the
// Conn of this package reaches each region's JetStream by its domain.
// docs/transport.md explains why the layout is this one.
//
// A Supercluster is safe for concurrent use.
type Supercluster struct {
	log *zap.Logger

	mu      sync.Mutex
	regions []*regionServer // in the order given to StartRegions
}

// StartRegions starts the servers of every region, storing region r's
// streams under dir/r, on random free loopback ports, and returns once
// every region's JetStream is reachable through its core and every core
// has a gateway to every other.
func StartRegions(dir string, regions []string, log *zap.Logger) (*Supercluster, error) {
	if len(regions) == 0 {
		return nil, errors.New("start regions: no regions given")
	}
	seen := make(map[string]bool, len(regions))
	for _, r := range regions {
		if err := CheckRegion(r); err != nil {
			return nil, fmt.Errorf("start regions: %w", err)
		}
		if seen[r] {
			return nil, fmt.Errorf("start regions: region %q given twice", r)
		}
		seen[r] = true
	}
	// A port reserved for a server can still be taken before the server
	// binds it; such a start fails at once and is tried on new ports.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		sc, err := startRegionsOnce(dir, regions, log)
		if err == nil || attempt == attempts {
			return sc, err
		}
		log.Info("supercluster start failed, retrying on new ports", zap.Error(err))
	}
}

// startRegionsOnce makes one attempt of StartRegions.
func startRegionsOnce(dir string, regions []string, log *zap.Logger) (*Supercluster, error) {
	ports, err := freePorts(3 * len(regions))
	if err != nil {
		return nil, fmt.Errorf("start regions: %w", err)
	}
	sc := &Supercluster{log: log}
	for i, r := range regions {
		sc.regions = append(sc.regions, &regionServer{
			region:  r,
			client:  ports[3*i],
			gateway: ports[3*i+1],
			leaf:    ports[3*i+2],
			dir:     filepath.Join(dir, r),
		})
	}

	began := time.Now()
	for _, rs := range sc.regions {
		if err := rs.start(sc.regions, log); err != nil {
			sc.Shutdown()
			return nil, fmt.Errorf("start regions: %w", err)
		}
	}
	if err := sc.waitGateways(); err != nil {
		sc.Shutdown()
		return nil, fmt.Errorf("start regions: %w", err)
	}
	log.Info("supercluster ready", zap.Strings("regions", regions),
		zap.Duration("took", time.Since(began)))
	return sc, nil
}

// URL returns the client URL of region's core server, or "" for an
// unknown region. It stays the same across Stop and Start.
func (sc *Supercluster) URL(region string) string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	rs := sc.find(region)
	if rs == nil {
		return ""
	}
	return natsURL(rs.client).String()
}

// Stop shuts region's servers down, as a region outage would; clients
// keep trying to reconnect. Stopping a stopped or unknown region does
// nothing.
func (sc *Supercluster) Stop(region string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	rs := sc.find(region)
	if rs == nil || !rs.running() {
		return
	}
	rs.stop()
	sc.log.Info("region stopped", zap.String("region", region))
}

// Start restarts region's servers on their old ports and store directory
// and waits until the region's JetStream is reachable and its core has
// gateways to every running region. Starting a running region does
// nothing.
func (sc *Supercluster) Start(region string) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	rs := sc.find(region)
	if rs == nil {
		return fmt.Errorf("start region %q: unknown region", region)
	}
	if rs.running() {
		return nil
	}
	if err := rs.start(sc.regions, sc.log); err != nil {
		return fmt.Errorf("start region %q: %w", region, err)
	}
	if err := sc.waitGateways(); err != nil {
		return fmt.Errorf("start region %q: %w", region, err)
	}
	sc.log.Info("region started", zap.String("region", region))
	return nil
}

// Shutdown stops every running region. Start can bring a region back.
func (sc *Supercluster) Shutdown() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, rs := range sc.regions {
		rs.stop()
	}
}

// find returns the region's record or nil. Caller holds mu.
func (sc *Supercluster) find(region string) *regionServer {
	for _, rs := range sc.regions {
		if rs.region == region {
			return rs
		}
	}
	return nil
}

// waitGateways waits until every running core has an outbound gateway to
// every other running core. Caller holds mu.
func (sc *Supercluster) waitGateways() error {
	var up []*regionServer
	for _, rs := range sc.regions {
		if rs.running() {
			up = append(up, rs)
		}
	}
	connected := func() bool {
		for _, rs := range up {
			if rs.core.NumOutboundGateways() < len(up)-1 {
				return false
			}
		}
		return true
	}
	return waitFor(readyTimeout, "gateways", connected)
}
