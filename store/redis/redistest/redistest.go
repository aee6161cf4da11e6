// Package redistest starts real redis-server processes for tests, the way
// net/http/httptest starts servers.
package redistest

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Server is a redis-server process that a test started for itself.
type Server struct {
	// URL is the store URL of database 0; Addr is host:port.
	URL, Addr string
}

// Start starts redis-server on a free loopback port, without persistence,
// in a temporary directory, and stops it when the test ends. It skips the
// test when redis-server is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	port := freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	srv := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	srv.URL = "redis://" + srv.Addr + "/0"
	deadline := time.Now().Add(10 * time.Second)
	for !answers(srv.Addr) {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer within 10s", srv.Addr)
		}
		time.Sleep(10 * time.Millisecond) // polling: the server has no ready signal
	}
	return srv
}

// answers reports whether the server answers PING.
func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 7)
	n, _ := c.Read(buf)
	return string(buf[:n]) == "+PONG\r\n"
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
