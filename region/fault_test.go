package region_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// load keeps writing into every region until stopped, counting writes.
type load struct {
	stop    chan struct{}
	wg      sync.WaitGroup
	written map[string]*atomic.Int64
}

func startLoad(t *testing.T, c *cluster, hist *history) *load {
	l := &load{stop: make(chan struct{}), written: make(map[string]*atomic.Int64)}
	for i, name := range c.names {
		n := new(atomic.Int64)
		l.written[name] = n
		w := &writer{store: c.daemon(name).Store(), hist: hist, keys: 200,
			rng: rand.New(rand.NewPCG(uint64(i), 11))}
		l.wg.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				if err := w.one(context.Background()); err != nil {
					t.Error(err)
					return
				}
				n.Add(1)
			}
		})
	}
	return l
}

func (l *load) end() {
	close(l.stop)
	l.wg.Wait()
}

// waitWrites waits until region has taken n more writes.
func (l *load) waitWrites(t *testing.T, region string, n int64) {
	t.Helper()
	target := l.written[region].Load() + n
	eventually(t, 30*time.Second, fmt.Sprintf("%d writes in %s", n, region), func() string {
		if got := l.written[region].Load(); got < target {
			return fmt.Sprintf("%d of %d", got, target)
		}
		return ""
	})
}

// TestNATSRestartAndLinkDown restarts the source region's NATS while it
// writes, then takes the destination's NATS down for a while: replication
// resumes by itself both times, the backlog waits in the change log rather
// than in memory, and nothing is lost.
func TestNATSRestartAndLinkDown(t *testing.T) {
	c := newCluster(t, []string{"eu-west", "us-east"}, "")
	c.run()
	hist := newHistory()
	l := startLoad(t, c, hist)

	// The source's NATS restarts mid-stream: changes wait in the log.
	l.waitWrites(t, "eu-west", 200)
	c.nats.Stop("eu-west")
	l.waitWrites(t, "eu-west", 500)
	eventually(t, 10*time.Second, "a backlog in eu-west's change log", func() string {
		if n := c.counter("eu-west", "xdrd_unshipped_records", nil); n == 0 {
			return "no unshipped records"
		}
		return ""
	})
	if err := c.nats.Start("eu-west"); err != nil {
		t.Fatal(err)
	}

	// The destination's NATS goes away: eu-west keeps shipping into its
	// own stream, and us-east catches up when it returns.
	l.waitWrites(t, "eu-west", 200)
	c.nats.Stop("us-east")
	l.waitWrites(t, "eu-west", 500)
	heap := heapInUse()
	if err := c.nats.Start("us-east"); err != nil {
		t.Fatal(err)
	}
	l.waitWrites(t, "us-east", 200)
	l.end()

	began := time.Now()
	snap := c.converge(60 * time.Second)
	t.Logf("converged %s after the last outage", time.Since(began))
	hist.checkWinners(t, snap)
	// Both daemons, both NATS regions and the test share this heap; a
	// backlog held in memory would grow it with every write.
	if heap > 256<<20 {
		t.Errorf("heap in use %d MiB while a link was down", heap>>20)
	}
}

func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
