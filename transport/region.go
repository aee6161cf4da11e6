package transport

import (
	"fmt"
	"net/url"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// regionServer is one region of a Supercluster: a core server, which is
// the region's one-server cluster, its gateways to the other regions and
// the URL that clients use; and a JetStream server, attached to the core
// as a leaf node, that holds the region's streams in JetStream domain
// <region>. The JetStream server has no routes and no gateways, so its
// JetStream is standalone: nothing about it waits for another region.
//
// Ports and directories never change, so a restarted region keeps its
// streams and its clients find it again.
type regionServer struct {
	region  string
	client  int    // core client port
	gateway int    // core gateway port
	leaf    int    // core leaf node port
	dir     string // JetStream store directory

	core *server.Server // nil while stopped
	js   *server.Server // nil while stopped
}

// noCompression turns off s2 on the leaf node connection between a
// region's two servers. They share a host, so compression saves no
// bandwidth, and nats-server's default for leaf nodes (s2_auto) still
// frames every write through an s2 writer on loopback, which cost a tenth
// of the benchmark's CPU in copies.
var noCompression = server.CompressionOpts{Mode: server.CompressionOff}

// coreOptions builds fresh options for the core server; nats-server
// mutates the options it is given, so every start gets its own.
func (rs *regionServer) coreOptions(all []*regionServer) *server.Options {
	opts := &server.Options{
		ServerName: rs.region,
		Host:       loopback,
		Port:       rs.client,
		NoSigs:     true,
		// Leaf nodes and gateways on one server need a system account.
		SystemAccount: server.DEFAULT_SYSTEM_ACCOUNT,
		Accounts:      []*server.Account{server.NewAccount(server.DEFAULT_SYSTEM_ACCOUNT)},
		Gateway: server.GatewayOpts{
			Name: rs.region,
			Host: loopback,
			Port: rs.gateway,
		},
		LeafNode: server.LeafNodeOpts{
			Host:        loopback,
			Port:        rs.leaf,
			Compression: noCompression,
		},
	}
	for _, o := range all {
		if o == rs {
			continue
		}
		opts.Gateway.Gateways = append(opts.Gateway.Gateways, &server.RemoteGatewayOpts{
			Name: o.region,
			URLs: []*url.URL{natsURL(o.gateway)},
		})
	}
	return opts
}

// jetStreamOptions builds fresh options for the JetStream server.
func (rs *regionServer) jetStreamOptions() *server.Options {
	core := natsURL(rs.leaf)
	core.Scheme = "nats-leaf"
	return &server.Options{
		ServerName:      rs.region + "-js",
		Host:            loopback,
		Port:            server.RANDOM_PORT,
		NoSigs:          true,
		JetStream:       true,
		JetStreamDomain: rs.region,
		StoreDir:        rs.dir,
		LeafNode: server.LeafNodeOpts{
			ReconnectInterval: 100 * time.Millisecond,
			Remotes: []*server.RemoteLeafOpts{{
				URLs: []*url.URL{core}, Compression: noCompression}},
		},
	}
}

// start starts the core, then the JetStream server, and waits until the
// region's JetStream API is reachable through the core.
func (rs *regionServer) start(all []*regionServer, log *zap.Logger) error {
	log = log.With(zap.String("region", rs.region))
	core, err := startServer(rs.coreOptions(all), log)
	if err != nil {
		return err
	}
	js, err := startServer(rs.jetStreamOptions(), log)
	if err != nil {
		stopServer(core)
		return err
	}

	// The core learns the domain's API subjects once the leaf node has
	// connected and sent its interest; before that a request finds no
	// responders.
	api := "$JS." + rs.region + ".API.INFO"
	attached := func() bool {
		return js.NumLeafNodes() == 1 && core.GlobalAccount().SubscriptionInterest(api)
	}
	if err := waitFor(readyTimeout, "jetstream leaf node", attached); err != nil {
		stopServer(js)
		stopServer(core)
		return fmt.Errorf("start region %s: %w", rs.region, err)
	}
	rs.core, rs.js = core, js
	return nil
}

// stop shuts the JetStream server down, then the core.
func (rs *regionServer) stop() {
	if rs.js != nil {
		stopServer(rs.js)
		rs.js = nil
	}
	if rs.core != nil {
		stopServer(rs.core)
		rs.core = nil
	}
}

// running reports whether the region's servers are up.
func (rs *regionServer) running() bool {
	return rs.core != nil
}
