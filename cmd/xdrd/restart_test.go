package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/xdrd/xdrd/internal/testwait"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/region"
	"github.com/xdrd/xdrd/topology"
	"github.com/xdrd/xdrd/transport"
)

// TestKilledDaemonRestarts runs eu-west as a real `xdrd run` process and
// us-east in this process. eu-west takes writes through its KV API, is
// killed with SIGKILL while writes continue in us-east, and starts again on
// the same data dir: no acknowledged write is lost, and what eu-west ships
// again from its last committed checkpoint is counted in us-east as
// duplicates.
func TestKilledDaemonRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	e := newTwoRegions(t)
	dir, bin, topoPath := e.dir, e.bin, e.topoPath
	reg := prometheus.NewRegistry()
	east := runEast(t, e.topo, dir, reg, e.log)

	// A checkpoint interval of an hour means nothing is committed before the
	// kill, so the restarted daemon ships every change again.
	admin := freeAddr(t)
	west := startDaemon(t, bin, topoPath, dir, admin)
	for i := range 300 {
		putKV(t, admin, fmt.Sprintf("a%d", i), i)
	}
	waitFor(t, 30*time.Second, "us-east to hold eu-west's 300 writes", func() bool {
		return countOrigin(t, east, "a", 300, 1) == 300
	})

	if err := west.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = west.Wait()
	for i := range 100 {
		putStore(t, east, fmt.Sprintf("b%d", i))
	}
	west = startDaemon(t, bin, topoPath, dir, admin)
	defer stopDaemon(t, west)
	for i := 300; i < 400; i++ {
		putKV(t, admin, fmt.Sprintf("a%d", i), i)
	}

	waitFor(t, 60*time.Second, "us-east to hold all 400 of eu-west's writes", func() bool {
		return countOrigin(t, east, "a", 400, 1) == 400
	})
	waitFor(t, 60*time.Second, "eu-west to hold us-east's 100 writes", func() bool {
		for i := range 100 {
			if !getKV(t, admin, fmt.Sprintf("b%d", i)) {
				return false
			}
		}
		return true
	})
	dups := counterValue(t, reg, "xdrd_records_applied_total",
		map[string]string{"source": "eu-west", "outcome": "duplicate"})
	if dups < 300 {
		t.Errorf("us-east counted %v duplicates; eu-west re-shipped its 300 first writes", dups)
	}
}

// twoRegions is what the tests that run `xdrd run` share: the built
// binary, NATS for eu-west and us-east, and their topology file.
type twoRegions struct {
	dir, bin, topoPath string
	topo               *topology.Topology
	log                *zap.Logger
}

func newTwoRegions(t *testing.T) *twoRegions {
	t.Helper()
	e := &twoRegions{dir: t.TempDir(), log: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))}
	e.bin = buildBinary(t, e.dir)
	sc, err := transport.StartRegions(filepath.Join(e.dir, "nats"),
		[]string{"eu-west", "us-east"}, e.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sc.Shutdown)
	e.topoPath = writeTopology(t, e.dir, sc)
	if e.topo, err = topology.Load(e.topoPath); err != nil {
		t.Fatal(err)
	}
	return e
}

// runEast runs us-east in this process until the test ends.
func runEast(t *testing.T, topo *topology.Topology, dir string, reg *prometheus.Registry,
	log *zap.Logger) *region.Daemon {
	t.Helper()
	east, err := region.Open(region.Config{Topology: topo, Region: "us-east",
		DataDir: filepath.Join(dir, "us-east"), Registry: reg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = east.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = east.Close()
	})
	return east
}

func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "xdrd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func writeTopology(t *testing.T, dir string, sc *transport.Supercluster) string {
	t.Helper()
	text := "regions:\n"
	for i, n := range []string{"eu-west", "us-east"} {
		text += fmt.Sprintf("  - name: %s\n    id: %d\n    nats: %s\n    store: embedded://%s\n",
			n, i+1, sc.URL(n), filepath.Join(dir, n, "store"))
	}
	text += "namespaces:\n  - name: profiles\n    shards: 4\n"
	path := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDaemon starts `xdrd run` for eu-west and waits until it replicates.
func startDaemon(t *testing.T, bin, topoPath, dir, admin string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "run", "--topology", topoPath, "--region", "eu-west",
		"--data-dir", filepath.Join(dir, "eu-west"), "--admin", admin,
		"--checkpoint-interval", "1h")
	cmd.Stderr = &bytes.Buffer{}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "eu-west to replicate", func() bool {
		var s region.Status
		return getJSON(admin, "/v1/status", &s) == nil && s.Replicating
	})
	return cmd
}

func stopDaemon(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("xdrd run exited with %v:\n%s", err, cmd.Stderr)
	}
}

func putKV(t *testing.T, admin, key string, n int) {
	t.Helper()
	body := fmt.Sprintf(`{"bins":{"n":%d}}`, n)
	req, _ := http.NewRequest(http.MethodPut,
		"http://"+admin+"/v1/kv/profiles/s/"+key, bytes.NewBufferString(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %s", key, resp.Status)
	}
}

func getKV(t *testing.T, admin, key string) bool {
	t.Helper()
	var got struct {
		Origin string `json:"origin"`
	}
	return getJSON(admin, "/v1/kv/profiles/s/"+key, &got) == nil && got.Origin == "us-east"
}

func getJSON(admin, path string, v any) error {
	resp, err := http.Get("http://" + admin + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func putStore(t *testing.T, d *region.Daemon, key string) {
	t.Helper()
	bins, _ := record.EncodeBins(map[string]any{"by": "us-east"})
	if _, err := d.Store().Put(context.Background(), "profiles", "s", key, bins, 0); err != nil {
		t.Fatal(err)
	}
}

// countOrigin counts keys prefix0..prefix(n-1) that d holds from origin.
func countOrigin(t *testing.T, d *region.Daemon, prefix string, n int, origin record.RegionID) int {
	t.Helper()
	found := 0
	for i := range n {
		v, ok, err := d.Store().Get(context.Background(), "profiles", "s", fmt.Sprintf("%s%d", prefix, i))
		if err != nil {
			t.Fatal(err)
		}
		if ok && v.Origin == origin {
			found++
		}
	}
	return found
}

func counterValue(t *testing.T, reg *prometheus.Registry, family string, match map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != family {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := match[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

// waitFor polls cond until it holds: the one wait of these tests.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testwait.For(t, timeout, what, cond)
}

// TestReloadKeepsOldTopologyWhenInvalid sends SIGHUP to a running `xdrd
// run` after breaking its topology file: the daemon refuses the new file,
// says so in a metric, and keeps replicating on the old one; a valid file
// afterwards is taken.
func TestReloadKeepsOldTopologyWhenInvalid(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	e := newTwoRegions(t)
	dir, bin, topoPath, topo, log := e.dir, e.bin, e.topoPath, e.topo, e.log
	valid, err := os.ReadFile(topoPath)
	if err != nil {
		t.Fatal(err)
	}
	east := runEast(t, topo, dir, prometheus.NewRegistry(), log)

	admin := freeAddr(t)
	west := startDaemon(t, bin, topoPath, dir, admin)
	defer stopDaemon(t, west)
	reloadOK := func() float64 {
		return scrape(t, admin, "xdrd_config_last_reload_successful")
	}

	broken := strings.Replace(string(valid), "shards: 4", "shards: 0", 1)
	if err := os.WriteFile(topoPath, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := west.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the reload to be refused", func() bool { return reloadOK() == 0 })

	putKV(t, admin, "after-bad-reload0", 1)
	waitFor(t, 30*time.Second, "a write after the refused reload to replicate", func() bool {
		return countOrigin(t, east, "after-bad-reload", 1, 1) == 1
	})
	if !strings.Contains(west.Stderr.(*bytes.Buffer).String(), "topology reload refused") {
		t.Error("the refused reload was not logged")
	}

	if err := os.WriteFile(topoPath, valid, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := west.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the valid reload to be taken", func() bool { return reloadOK() == 1 })
}

// scrape reads one unlabelled gauge from a daemon's /metrics.
func scrape(t *testing.T, admin, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("parse %q: %v", line, err)
			}
			return v
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}
