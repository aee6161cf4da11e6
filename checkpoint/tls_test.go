package checkpoint

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// writeCA makes a CA and a certificate it signs for 127.0.0.1, writes
// them as PEM files under dir and returns their paths.
func writeCA(t *testing.T, dir string) (cert, key, ca string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "xdrd test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "member"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caTmpl, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, kind string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}),
			0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return write("member.pem", "CERTIFICATE", leafDER), write("member.key", "EC PRIVATE KEY", keyDER),
		write("ca.pem", "CERTIFICATE", caDER)
}

func loadTestTLS(t *testing.T) *tls.Config {
	t.Helper()
	cfg, err := LoadTLS(writeCA(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestClusterOverTLS runs a group whose members speak raft over mutual
// TLS, and checks that a dialer whose certificate another CA signed is
// turned away.
func TestClusterOverTLS(t *testing.T) {
	cfg := loadTestTLS(t)
	c := newClusterWith(t, 3, nil, cfg)
	want := map[Key]uint64{{"installs", 0}: 7}
	c.commit(t, want)
	c.converged(t, want)

	var addr string
	for a := range c.nodes {
		addr = a
		break
	}
	// A member's own configuration completes a handshake: it is TLS.
	if err := handshake(cfg, addr); err != nil {
		t.Fatalf("handshake with the group's own configuration: %v", err)
	}
	// Without a client certificate, or with one of another CA, it is not.
	anonymous := cfg.Clone()
	anonymous.Certificates = nil
	if err := handshake(anonymous, addr); err == nil {
		t.Error("a member spoke to a dialer without a client certificate")
	}
	if err := handshake(loadTestTLS(t), addr); err == nil {
		t.Error("a member spoke to a dialer whose certificate another CA signed")
	}
}

// handshake dials addr as a member would and reads once: TLS 1.3 reports
// a client certificate the server refused on the first read, which times
// out, harmlessly, when the server accepted it.
func handshake(cfg *tls.Config, addr string) error {
	conn, err := (&tlsLayer{cfg: cfg}).Dial(raft.ServerAddress(addr), time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err = conn.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return nil
	}
	return err
}

func TestLoadTLSRejects(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := writeCA(t, dir)
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(empty, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTLS(cert, key, empty); err == nil {
		t.Error("a CA file without a certificate was accepted")
	}
	if _, err := LoadTLS(cert, cert, empty); err == nil {
		t.Error("a certificate as its own key was accepted")
	}
	if _, err := LoadTLS(cert, key, filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("a missing CA file was accepted")
	}
}
