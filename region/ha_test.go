package region_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/xdrd/xdrd/checkpoint"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/region"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/store/memory"
	"github.com/xdrd/xdrd/topology"
	"github.com/xdrd/xdrd/transport"
	"github.com/xdrd/xdrd/verify"
)

// member is one running daemon of a region of several.
type member struct {
	d      *region.Daemon
	cancel context.CancelFunc
	done   chan struct{}
}

// stop stops the member gracefully. The last members of a group that
// stops cannot commit what they staged (no quorum is left), which is
// tolerated when lastOfGroup is set: they ship it again when they return.
func (m *member) stop(t *testing.T, lastOfGroup bool) {
	t.Helper()
	m.cancel()
	<-m.done
	err := m.d.Close()
	if lastOfGroup && errors.Is(err, checkpoint.ErrNotLeader) {
		return
	}
	if err != nil {
		t.Errorf("close %s: %v", m.d.Status().Raft.ID, err)
	}
}

// freeAddrs reserves n loopback addresses for raft. The ports are free
// when this returns; another process could take one before the daemon
// binds it, which would fail the test loudly, not silently.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		_ = ln.Close()
	}
	return out
}

// TestRegionOfThreeMembers runs eu-west as three daemons sharing one store
// beside us-east: the leader spreads the shards and the incoming link over
// the members, and when the leader stops, the others take over its work,
// and every write reaches the other region.
func TestRegionOfThreeMembers(t *testing.T) {
	dir := t.TempDir()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	sc, err := transport.StartRegions(filepath.Join(dir, "nats"), []string{"eu-west", "us-east"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Shutdown()
	peers := freeAddrs(t, 3)
	text := fmt.Sprintf(`regions:
  - {name: eu-west, id: 1, nats: %q, store: "memory://", peers: [%s]}
  - {name: us-east, id: 2, nats: %q, store: "memory://"}
`, sc.URL("eu-west"), strings.Join(peers, ", "), sc.URL("us-east")) + namespacesYAML
	topo, err := topology.Parse("topology.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	tuning := region.Tuning{Heartbeat: 100 * time.Millisecond, TrimEvery: 100 * time.Millisecond}

	run := func(name, bind string, st store.Store) *member {
		d, err := region.Open(region.Config{
			Topology: topo, Region: name, DataDir: filepath.Join(dir, name, bind),
			RaftBind: bind, Store: st, Registry: prometheus.NewRegistry(), Logger: log,
			Tuning: tuning,
		})
		if err != nil {
			t.Fatalf("open %s %s: %v", name, bind, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		m := &member{d: d, cancel: cancel, done: make(chan struct{})}
		go func() {
			defer close(m.done)
			if err := d.Run(ctx); err != nil {
				t.Errorf("run %s: %v", name, err)
			}
		}()
		return m
	}
	east := run("us-east", "", nil)
	defer east.stop(t, false)
	shared := memory.New(1, record.NewClock(nil))
	handles := store.Share(shared, len(peers))
	members := map[string]*member{}
	for i, p := range peers {
		members[p] = run("eu-west", p, handles[i])
	}
	defer func() {
		for _, m := range members {
			m.stop(t, true)
		}
	}()

	waitSpread(t, members, len(peers))
	write(t, shared, "a", 200)
	waitKeys(t, east.d.Store(), "a", 200)

	var leader string
	for id, m := range members {
		if m.d.Status().Raft.Role == "leader" {
			leader = id
		}
	}
	members[leader].stop(t, false)
	delete(members, leader)
	waitSpread(t, members, len(peers)-1)
	write(t, shared, "b", 200)
	waitKeys(t, east.d.Store(), "b", 200)
	write(t, east.d.Store(), "c", 200)
	waitKeys(t, shared, "c", 200)

	namespaces := []string{"profiles", "sessions"}
	eventually(t, 30*time.Second, "the regions to converge", func() string {
		a, err := verify.Take(context.Background(), shared, namespaces)
		if err != nil {
			t.Fatal(err)
		}
		b, err := verify.Take(context.Background(), east.d.Store(), namespaces)
		if err != nil {
			t.Fatal(err)
		}
		diffs, _ := verify.Diff([]string{"eu-west", "us-east"}, []verify.Snapshot{a, b}, 5)
		return strings.Join(diffs, "\n")
	})
}

// waitSpread waits until a leader replicates, every running member ships
// a share of the six shards, which the members cover exactly once, and one
// member applies the link from us-east.
func waitSpread(t *testing.T, members map[string]*member, want int) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("shards spread over %d members", want), func() string {
		for id, m := range members {
			s := m.d.Status()
			if len(s.Raft.Members) == 0 {
				return id + " lists no members"
			}
			if s.Raft.Role == "leader" && !s.Replicating {
				return "leader " + id + " is not replicating"
			}
			total, owners, links := 0, 0, 0
			for _, mem := range s.Raft.Members {
				total += mem.Shards
				links += len(mem.Applies)
				if mem.Shards > 0 {
					owners++
				}
			}
			if links != 1 {
				return fmt.Sprintf("%s sees the link from us-east applied by %d members", id, links)
			}
			if total != 6 || owners != want {
				return fmt.Sprintf("%s sees %d shards over %d members: %+v", id, total, owners,
					s.Raft.Members)
			}
		}
		return ""
	})
}

// write puts n keys named prefix0, prefix1, … into st.
func write(t *testing.T, st store.Store, prefix string, n int) {
	t.Helper()
	for i := range n {
		ns := "profiles"
		if i%2 == 1 {
			ns = "sessions"
		}
		if _, err := st.Put(context.Background(), ns, "s", fmt.Sprintf("%s%d", prefix, i),
			nil, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// waitKeys waits until st holds every key write wrote with prefix.
func waitKeys(t *testing.T, st store.Store, prefix string, n int) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("%d %s keys", n, prefix), func() string {
		for i := range n {
			ns := "profiles"
			if i%2 == 1 {
				ns = "sessions"
			}
			key := fmt.Sprintf("%s%d", prefix, i)
			_, found, err := st.Get(context.Background(), ns, "s", key)
			if err != nil {
				t.Fatal(err)
			}
			if !found {
				return key + " is missing"
			}
		}
		return ""
	})
}
