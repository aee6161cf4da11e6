// Package redistest starts real redis-server processes for tests, the way
// net/http/httptest starts servers.
package redistest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Options tune StartWith. The zero value is what Start runs: no
// persistence at all.
type Options struct {
	// AppendOnly turns the AOF on with appendfsync always, the setting
	// docs/redis.md recommends: every write the server acknowledged is on
	// disk, so it survives Stop and Restart.
	AppendOnly bool
}

// Server is a redis-server process that a test started for itself. Stop
// and Restart keep its port and directory, so clients connected to it
// meet the same server again.
type Server struct {
	// URL is the store URL of database 0; Addr is host:port.
	URL, Addr string

	bin  string
	args []string
	log  string // the server's log file, quoted when it does not start

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// readyTimeout bounds how long a starting server may take to answer PING,
// loading its AOF included.
const readyTimeout = 10 * time.Second

// Start starts redis-server on a free loopback port, without persistence,
// in a temporary directory, and stops it when the test ends. It skips the
// test when redis-server is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	port := freePort(t)
	dir := t.TempDir()
	srv := &Server{
		Addr: fmt.Sprintf("127.0.0.1:%d", port),
		bin:  bin,
		log:  filepath.Join(dir, "redis.log"),
	}
	srv.URL = "redis://" + srv.Addr + "/0"
	srv.args = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--dir", dir, "--logfile", srv.log}
	if opts.AppendOnly {
		srv.args = append(srv.args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		srv.args = append(srv.args, "--appendonly", "no")
	}

	t.Cleanup(srv.kill)
	srv.launch(t)
	return srv
}

// Stop kills the server with SIGKILL, as a crash would, and waits until it
// has exited. What survives is what the server's persistence kept: with
// Options.AppendOnly every acknowledged write, otherwise nothing.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.kill()
}

// Restart starts the server again on the same port and directory, after
// stopping it if it still runs, and waits until it answers PING (which it
// does only once its AOF is loaded).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.kill()
	s.launch(t)
}

// launch starts the process and waits until it answers.
func (s *Server) launch(t testing.TB) {
	t.Helper()
	cmd := exec.Command(s.bin, s.args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	deadline := time.Now().Add(readyTimeout)
	for !answers(s.Addr) {
		select {
		case <-exited:
			t.Fatalf("redis-server on %s exited at start: %s", s.Addr, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer within %s: %s",
				s.Addr, readyTimeout, s.logTail())
		}
		time.Sleep(10 * time.Millisecond) // polling: the server has no ready signal
	}
}

// kill ends the process, if one runs, and waits for it.
func (s *Server) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// logTail returns the end of the server's log, to say why it did not start.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
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
