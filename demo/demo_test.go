package demo

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRunOnRedis runs a short demo with a redis-server per region and
// checks that the regions converged and that the servers are gone after.
func TestRunOnRedis(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	if testing.Short() {
		t.Skip("runs three regions")
	}
	sum, err := Run(context.Background(), Options{Store: "redis", Duration: time.Second,
		Rate: 200, Keys: 100, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Converged || sum.Written == 0 || sum.Applied == 0 {
		t.Errorf("want a converged demo that moved records: %+v", sum)
	}
}

// TestRedisServerStops checks that stop ends the process and its port.
func TestRedisServerStops(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	srv, err := startRedis(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.url[len("redis://") : len(srv.url)-len("/0")]
	if !answers(addr) {
		t.Fatalf("redis-server on %s does not answer", addr)
	}
	srv.stop()
	select {
	case <-srv.exited:
	default:
		t.Fatal("stop returned before the process ended")
	}
	if answers(addr) {
		t.Errorf("%s still answers after stop", addr)
	}
}

// TestRunHA runs every region as three daemons on the embedded store and
// stops the first region's leader halfway: another member takes over and
// the regions still converge.
func TestRunHA(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nine daemons")
	}
	sum, err := Run(context.Background(), Options{Members: 3, Duration: 4 * time.Second,
		Rate: 200, Keys: 100, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Converged || sum.Written == 0 || sum.Applied == 0 {
		t.Errorf("want a converged demo that moved records: %+v", sum)
	}
	if sum.TakeoverSeconds <= 0 {
		t.Errorf("no takeover measured: %+v", sum)
	}
}
