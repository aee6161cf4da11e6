package checkpoint

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/hashicorp/raft"
)

// tlsLayer carries raft's connections over TLS: every member both serves
// and dials with the same configuration, so with client certificates
// required only holders of a certificate signed by the region's CA can
// join the group or speak to it.
type tlsLayer struct {
	net.Listener
	cfg *tls.Config
}

// Dial opens a TLS connection to a member. The member's certificate must
// name the host of its address.
func (l *tlsLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: l.cfg}
	return d.Dial("tcp", string(address))
}

// listenTLS starts raft's transport on bind over TLS.
func listenTLS(bind string, cfg *tls.Config, c *raft.NetworkTransportConfig) (*raft.NetworkTransport, error) {
	ln, err := tls.Listen("tcp", bind, cfg)
	if err != nil {
		return nil, fmt.Errorf("listen for raft over tls on %s: %w", bind, err)
	}
	c.Stream = &tlsLayer{Listener: ln, cfg: cfg}
	return raft.NewNetworkTransportWithConfig(c), nil
}

// LoadTLS builds the TLS configuration of a region's raft group from PEM
// files: this member's certificate and key, and the CA that signed every
// member's. Members verify each other both ways.
func LoadTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load raft tls certificate: %w", err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read raft tls ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("raft tls ca: no PEM certificate in " + caFile)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}, nil
}
