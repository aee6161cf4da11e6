package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/conflictlog"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/transport"
)

// runConflicts runs `xdrd conflicts` with args and returns its exit code
// and output.
func runConflicts(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := conflictsCmd(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// recordConflicts records one conflict per key of namespace in region's
// log, through a conflictlog.Log that it closes, so every entry is stored
// on return.
func recordConflicts(t *testing.T, url, region, namespace string, keys ...string) {
	t.Helper()
	cfg := transport.DefaultConfig()
	cfg.StreamMaxBytes, cfg.DLQMaxBytes = 16<<20, 16<<20
	conn, err := transport.ConnectConfig(url, region+"-applier", zap.NewNop(), cfg)
	if err != nil {
		t.Fatalf("connect to %s: %v", region, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := conn.EnsureConflictStream(ctx, region); err != nil {
		t.Fatalf("ensure conflict stream of %s: %v", region, err)
	}

	l := conflictlog.New(conn, region, prometheus.NewRegistry(), zap.NewNop())
	defer l.Close()
	incoming := record.Meta{Generation: 5, LUT: 1767348000123456789, Origin: 2}
	stored := record.Meta{Generation: 4, LUT: 1767348000000000000, Origin: 1, Tombstone: true}
	for _, key := range keys {
		l.Record(conflictlog.Entry{
			Namespace: namespace, Set: "users", Key: key, Policy: "generation",
			Incoming: conflictlog.SideOf(incoming, "us-east"),
			Stored:   conflictlog.SideOf(stored, "eu-west"),
			Winner:   conflictlog.WinnerIncoming,
		})
	}
}

// TestConflictsListsRegionLog lists what eu-west's appliers recorded, as
// a table and as JSON lines, by namespace and by age, and nothing of
// us-east's log.
func TestConflictsListsRegionLog(t *testing.T) {
	dir := t.TempDir()
	regions := []string{"eu-west", "us-east"}
	sc, err := transport.StartRegions(filepath.Join(dir, "nats"), regions, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Shutdown()
	topo := writeTopology(t, dir, sc)

	code, _, stderr := runConflicts("--topology", topo, "--region", "us-east")
	if code != 1 || !strings.Contains(stderr, "has no stream XDRD_CONFLICTS") {
		t.Errorf("without a stream: exit %d, stderr %q", code, stderr)
	}

	recordConflicts(t, sc.URL("eu-west"), "eu-west", "profiles", "user-1", "odd key\t")
	recordConflicts(t, sc.URL("eu-west"), "eu-west", "sessions", "session-9")
	recordConflicts(t, sc.URL("us-east"), "us-east", "profiles", "east-only")

	code, stdout, stderr := runConflicts("--topology", topo, "--region", "eu-west")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("want a header and 3 rows:\n%s", stdout)
	}
	for _, want := range []string{"users/user-1", `users/"odd key\t"`, "users/session-9",
		"5/1767348000123456789/us-east", "4/1767348000000000000/eu-west (delete)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "east-only") {
		t.Errorf("table shows us-east's log:\n%s", stdout)
	}

	code, stdout, stderr = runConflicts("--topology", topo, "--region", "eu-west",
		"--namespace", "sessions", "--json")
	if code != 0 {
		t.Fatalf("json: exit %d, stderr:\n%s", code, stderr)
	}
	lines = strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one JSON line for sessions:\n%s", stdout)
	}
	e, err := conflictlog.Decode([]byte(lines[0]))
	if err != nil {
		t.Fatalf("json line does not decode: %v", err)
	}
	if e.Region != "eu-west" || e.Key != "session-9" || e.Winner != conflictlog.WinnerIncoming ||
		e.Incoming.OriginID != 2 || !e.Stored.Tombstone || time.Since(e.Time) > time.Minute {
		t.Errorf("entry %+v", e)
	}

	// Everything was stored before this run began.
	code, stdout, stderr = runConflicts("--topology", topo, "--region", "eu-west",
		"--since", "1ns")
	if code != 0 || strings.TrimSpace(stdout) != "no conflicts" {
		t.Errorf("since 1ns: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestConflictsUnreachable fails clearly when the region's NATS does not
// answer, and refuses bad flags.
func TestConflictsUnreachable(t *testing.T) {
	dir := t.TempDir()
	topo := filepath.Join(dir, "topology.yaml")
	text := "regions:\n  - {name: a, id: 1, nats: \"nats://" + freeAddr(t) + "\"}\n" +
		"  - {name: b, id: 2}\nnamespaces: [{name: n}]\n"
	if err := os.WriteFile(topo, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	code, _, stderr := runConflicts("--topology", topo, "--region", "a")
	if code != 1 || !strings.Contains(stderr, "region a: connect to nats") {
		t.Errorf("unreachable nats: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runConflicts("--topology", topo, "--region", "b")
	if code != 1 || !strings.Contains(stderr, "names no nats URL") {
		t.Errorf("no nats url: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runConflicts("--topology", topo, "--region", "zz")
	if code != 1 || !strings.Contains(stderr, `region "zz" is not in the topology`) {
		t.Errorf("unknown region: exit %d, stderr %q", code, stderr)
	}
	for _, args := range [][]string{
		{"--topology", topo},
		{"--region", "a"},
		{"--topology", topo, "--region", "a", "--since", "-1h"},
		{"--topology", topo, "--region", "a", "extra"},
		{"--colour", "red"},
	} {
		if code, _, _ := runConflicts(args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
