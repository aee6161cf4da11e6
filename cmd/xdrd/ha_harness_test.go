package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/xdrd/xdrd/internal/testwait"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store/redis"
	"github.com/xdrd/xdrd/store/redis/redistest"
	"github.com/xdrd/xdrd/transport"
)

// haNamespace is the one namespace of the HA tests and haShards its
// shards: every region ships every shard of it to every other region.
const (
	haNamespace = "profiles"
	haShards    = 8
)

// haClient asks the daemons with a deadline: a stopped process accepts a
// connection and never answers.
var haClient = &http.Client{Timeout: time.Second, Transport: &http.Transport{}}

// haEnv is the world of a multi-process HA test: the built binary, one
// NATS per region joined as a supercluster, one redis-server per region,
// the topology file naming them, and each region's member processes.
type haEnv struct {
	t              testing.TB
	dir, bin, topo string
	regions        []*haRegion
}

// haRegion is one region: its redis-server, the test's own client of that
// store, and its `xdrd run` members.
type haRegion struct {
	env     *haEnv
	name    string
	store   *redis.Store
	members []*haMember
}

// haMember is one `xdrd run` process of a region. Its data dir, admin and
// raft addresses stay the same across restarts; its stderr goes to logPath.
type haMember struct {
	region                  *haRegion
	id                      string // raft address and ID; "" for a lone member
	admin, dataDir, logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// newHAEnv starts NATS and a redis-server for each region, writes the
// topology — regions with more than one member list them all as peers —
// and starts every member, returning once every region's leader
// replicates.
func newHAEnv(t testing.TB, sizes map[string]int, order ...string) *haEnv {
	t.Helper()
	e := &haEnv{t: t, dir: t.TempDir()}
	e.bin = filepath.Join(e.dir, "xdrd")
	if out, err := exec.Command("go", "build", "-o", e.bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	sc, err := transport.StartRegions(filepath.Join(e.dir, "nats"), order, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sc.Shutdown)

	text := "regions:\n"
	for i, name := range order {
		srv := redistest.Start(t)
		r := &haRegion{env: e, name: name}
		st, err := redis.Open(srv.URL, record.RegionID(i+1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		r.store = st
		var peers []string
		for n := range sizes[name] {
			m := &haMember{region: r, admin: haFreeAddr(t),
				dataDir: filepath.Join(e.dir, fmt.Sprintf("%s-%d", name, n)),
				logPath: filepath.Join(e.dir, fmt.Sprintf("%s-%d.log", name, n))}
			if sizes[name] > 1 {
				m.id = haFreeAddr(t)
				peers = append(peers, m.id)
			}
			r.members = append(r.members, m)
		}
		e.regions = append(e.regions, r)
		text += fmt.Sprintf("  - name: %s\n    id: %d\n    nats: %s\n    store: %s\n",
			name, i+1, sc.URL(name), srv.URL)
		if len(peers) > 0 {
			text += fmt.Sprintf("    peers: [%s]\n", strings.Join(peers, ", "))
		}
	}
	text += fmt.Sprintf("namespaces:\n  - name: %s\n    conflict: generation\n    shards: %d\n",
		haNamespace, haShards)
	e.topo = filepath.Join(e.dir, "topology.yaml")
	if err := os.WriteFile(e.topo, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Cleanup(e.cleanup)
	for _, r := range e.regions {
		for _, m := range r.members {
			m.start()
		}
	}
	for _, r := range e.regions {
		r.waitLeader(60*time.Second, nil)
	}
	return e
}

// cleanup kills every member and, when the test failed, prints the end of
// each member's log.
func (e *haEnv) cleanup() {
	for _, r := range e.regions {
		for _, m := range r.members {
			m.kill()
		}
	}
	haClient.CloseIdleConnections()
	if !e.t.Failed() {
		return
	}
	for _, r := range e.regions {
		for _, m := range r.members {
			e.t.Logf("last lines of %s (%s):\n%s", m, m.logPath, logTail(m.logPath, 40))
		}
	}
}

func (m *haMember) String() string {
	if m.id == "" {
		return m.region.name
	}
	return m.region.name + "/" + m.id
}

// start runs the member's `xdrd run`, appending its output to its log.
func (m *haMember) start() {
	t := m.region.env.t
	t.Helper()
	args := []string{"run", "--topology", m.region.env.topo, "--region", m.region.name,
		"--data-dir", m.dataDir, "--admin", m.admin}
	if m.id != "" {
		args = append(args, "--raft-bind", m.id)
	}
	f, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, "=== xdrd %s (test: start at %s)\n", strings.Join(args, " "),
		time.Now().Format(time.TimeOnly))
	cmd := exec.Command(m.region.env.bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	m.mu.Lock()
	m.cmd, m.exited = cmd, exited
	m.mu.Unlock()
}

// running returns the process and its exit channel, or nil when it has
// been killed or stopped by the test.
func (m *haMember) running() (*exec.Cmd, chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cmd, m.exited
}

// kill ends the process with SIGKILL, as a crash would, and waits for it.
func (m *haMember) kill() {
	cmd, exited := m.running()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	m.mu.Lock()
	m.cmd, m.exited = nil, nil
	m.mu.Unlock()
}

// signal sends sig to the running process.
func (m *haMember) signal(sig syscall.Signal) {
	m.region.env.t.Helper()
	if cmd, _ := m.running(); cmd == nil || cmd.Process.Signal(sig) != nil {
		m.region.env.t.Fatalf("signal %s to %s: not running", sig, m)
	}
}

// haStatus is the part of /v1/status the HA tests read.
type haStatus struct {
	Raft struct {
		Role    string           `json:"role"`
		Term    uint64           `json:"term"`
		Leader  string           `json:"leader"`
		Members []haMemberStatus `json:"members"`
	} `json:"raft"`
	Replicating bool `json:"replicating"`
	// Outgoing has an entry per namespace and destination this member ships.
	Outgoing []struct{} `json:"outgoing"`
}

// haMemberStatus is one member of the raft group as the leader sees it;
// Shards is how many shards, over every namespace, it ships.
type haMemberStatus struct {
	ID     string `json:"id"`
	Role   string `json:"role"`
	Shards int    `json:"shards"`
}

// haCheckpoints is /v1/checkpoints: the committed cursor of each shard.
type haCheckpoints struct {
	Term    uint64              `json:"term"`
	Cursors map[string][]uint64 `json:"cursors"`
}

func (m *haMember) status() (haStatus, error) {
	var s haStatus
	return s, m.get("/v1/status", &s)
}

func (m *haMember) checkpoints() (haCheckpoints, error) {
	var c haCheckpoints
	return c, m.get("/v1/checkpoints", &c)
}

func (m *haMember) get(path string, v any) error {
	resp, err := haClient.Get("http://" + m.admin + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// post sends a POST to the member's admin API and returns the status code
// and body.
func (m *haMember) post(path string) (int, string, error) {
	resp, err := haClient.Post("http://"+m.admin+path, "", nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// haRefused counts the staged cursors a member did not commit, by reason.
const haRefused = "xdrd_checkpoint_refused_total"

// metricSum adds up the samples of a metric family in /metrics, over all
// its labels.
func (m *haMember) metricSum(name string) float64 {
	t := m.region.env.t
	t.Helper()
	resp, err := haClient.Get("http://" + m.admin + "/metrics")
	if err != nil {
		t.Fatalf("%s: %v", m, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	sum := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("%s: parse %q: %v", m, line, err)
		}
		sum += v
	}
	return sum
}

// roles describes every running member but skip and returns the one that
// is leader and replicating, if any. A stopped process makes its request
// time out, so the member a test stopped is the one it skips.
func (r *haRegion) roles(skip *haMember) (*haMember, string) {
	var leader *haMember
	var seen []string
	for _, m := range r.members {
		cmd, exited := m.running()
		if m == skip || cmd == nil {
			continue
		}
		select {
		case <-exited:
			seen = append(seen, fmt.Sprintf("%s: exited (%s)", m, cmd.ProcessState))
			continue
		default:
		}
		s, err := m.status()
		if err != nil {
			seen = append(seen, fmt.Sprintf("%s: %v", m, err))
			continue
		}
		seen = append(seen, fmt.Sprintf("%s: %s term %d replicating %t",
			m, s.Raft.Role, s.Raft.Term, s.Replicating))
		if s.Raft.Role == "leader" && s.Replicating {
			leader = m
		}
	}
	return leader, strings.Join(seen, "; ")
}

// waitLeader waits until a member other than skip is leader and
// replicating, and returns it.
func (r *haRegion) waitLeader(timeout time.Duration, skip *haMember) *haMember {
	r.env.t.Helper()
	var leader *haMember
	testwait.Until(r.env.t, timeout, r.name+" to have a replicating leader", func() string {
		l, seen := r.roles(skip)
		if l == nil {
			return seen
		}
		leader = l
		return ""
	})
	return leader
}

// waitJoined waits until m answers in one of roles and knows its leader.
func (m *haMember) waitJoined(timeout time.Duration, roles ...string) {
	m.region.env.t.Helper()
	what := fmt.Sprintf("%s to be %s", m, strings.Join(roles, " or "))
	testwait.Until(m.region.env.t, timeout, what, func() string {
		s, err := m.status()
		switch {
		case err != nil:
			return err.Error()
		case !slices.Contains(roles, s.Raft.Role) || s.Raft.Leader == "":
			return fmt.Sprintf("role %q, leader %q", s.Raft.Role, s.Raft.Leader)
		}
		return ""
	})
}

// haFreeAddr returns a loopback address whose port was free a moment ago.
func haFreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// logTail returns the last n lines of a file.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
