package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// redisServer is a redis-server process the demo started for one region.
// It persists to an append-only file in the region's directory, so the
// demo runs with the durability setting docs/redis.md recommends.
type redisServer struct {
	url    string
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait returned
}

// startRedis starts redis-server on a free loopback port with its data in
// dir and waits until it answers PING.
func startRedis(dir string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("demo --store redis needs redis-server on PATH "+
			"(on Debian or Ubuntu: apt-get install redis-server): %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create redis dir: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"))
	// Its own process group, so a Ctrl-C reaches the demo only and the demo
	// stops the server after its daemons.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	s := &redisServer{url: "redis://" + addr + "/0", cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()

	if err := s.waitReady(addr, 10*time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("start redis-server on %s (log: %s): %w",
			addr, filepath.Join(dir, "redis.log"), err)
	}
	return s, nil
}

// waitReady polls the server with PING until it answers, it exits or the
// timeout passes. The server has no readiness signal to wait on instead.
func (s *redisServer) waitReady(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !answers(addr) {
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %s", timeout)
		}
		select {
		case <-s.exited:
			return errors.New("redis-server exited")
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// stop asks the server to shut down, kills it if it has not within five
// seconds, and waits for the process to end.
func (s *redisServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// answers reports whether a Redis server at addr answers PING.
func answers(addr string) bool {
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1,
		DialTimeout: time.Second, ReadTimeout: time.Second})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return rdb.Ping(ctx).Err() == nil
}

// freePort returns a loopback port that was free a moment ago. Another
// process may take it before redis-server binds it; the server then exits
// and startRedis reports it, which is acceptable for a demo.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
