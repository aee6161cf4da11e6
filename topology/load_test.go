package topology_test

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xdrd/xdrd/topology"
)

// TestLoadDesignExample loads the example from the design document and
// checks every value, including the one default it leaves out.
func TestLoadDesignExample(t *testing.T) {
	topo, err := topology.Load("testdata/valid.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := &topology.Topology{
		Regions: []topology.Region{
			{
				Name:  "eu-west",
				ID:    1,
				NATS:  "nats://nats.eu-west.internal:4222",
				Store: "redis://redis.eu-west.internal:6379",
				Peers: []string{"10.0.1.5:7946", "10.0.1.6:7946", "10.0.1.7:7946"},
			},
			{
				Name:  "us-east",
				ID:    2,
				NATS:  "nats://nats.us-east.internal:4222",
				Store: "embedded:///var/lib/xdrd/store",
			},
		},
		Namespaces: []topology.Namespace{{
			Name:     "installs",
			Conflict: "generation",
			Shards:   16,
			ShipTo:   []string{"us-east"},
			Sets:     &topology.SetFilter{Exclude: []string{"scratch"}},
			LagAlert: &topology.LagAlert{
				Warning:  topology.Duration(5 * time.Second),
				Critical: topology.Duration(30 * time.Second),
				For:      topology.Duration(time.Minute),
			},
			TombstoneHorizon: topology.Duration(24 * time.Hour),
		}},
		Links: []topology.Link{
			{From: "eu-west", To: "us-east", MaxRecordsPerSecond: 50000},
		},
	}
	if !reflect.DeepEqual(topo, want) {
		t.Errorf("Load:\n%+v\nwant:\n%+v", topo, want)
	}
	if got := topo.Summary(); got != "2 regions, 1 namespace, 1 link" {
		t.Errorf("Summary() = %q", got)
	}
}

func TestDefaults(t *testing.T) {
	topo := mustParse(t, `
regions:
  - {name: c, id: 3}
  - {name: a, id: 1}
  - {name: b, id: 2}
namespaces:
  - name: ns
`)
	ns := topo.Namespaces[0]
	if ns.Conflict != topology.ConflictGeneration {
		t.Errorf("Conflict = %q, want generation", ns.Conflict)
	}
	if ns.Shards != topology.DefaultShards {
		t.Errorf("Shards = %d, want %d", ns.Shards, topology.DefaultShards)
	}
	if want := []string{"c", "a", "b"}; !reflect.DeepEqual(ns.ShipTo, want) {
		t.Errorf("ShipTo = %v, want every region in file order %v", ns.ShipTo, want)
	}
	if ns.TombstoneHorizon.Std() != 24*time.Hour {
		t.Errorf("TombstoneHorizon = %s, want 24h", ns.TombstoneHorizon)
	}
	if ns.Sets != nil || ns.LagAlert != nil {
		t.Errorf("Sets = %v, LagAlert = %v, want both nil", ns.Sets, ns.LagAlert)
	}
	if topo.Links != nil {
		t.Errorf("Links = %v, want none", topo.Links)
	}
}

// TestAllProblemsAtOnce checks that decoding and semantic problems from
// every section come back together, grouped by entry.
func TestAllProblemsAtOnce(t *testing.T) {
	err := parseErr(t, `
regions:
  - {name: a, id: 1, zone: x}
  - {name: a, id: 300}
  - {name: c, id: 2, store: 'ftp://h:21'}
namespaces:
  - name: ns
    conflict: newest
    shards: many
    lag-alert: {warning: 1m, critical: 30s}
links:
  - {from: a, to: d}
  - {from: a, to: c, forward: true}
  - {from: c, to: a, forward: true}
extra: true
`)
	wantLines(t, err,
		"topology.yaml: extra: unknown key (valid keys: regions, namespaces, links, alertmanager)",
		"topology.yaml: regions[0].zone: unknown key (valid keys: name, id, nats, store, peers)",
		`topology.yaml: regions[1].name: duplicate region name "a" (also regions[0])`,
		"topology.yaml: regions[1].id: id 300 is outside 1-255",
		`topology.yaml: regions[2].store: unknown store scheme "ftp" `+
			"(valid: memory, embedded, redis, rediss)",
		"topology.yaml: namespaces[0].shards: must be an integer, got a string",
		`topology.yaml: namespaces[0].conflict: unknown policy "newest"`,
		"topology.yaml: namespaces[0].lag-alert.warning: "+
			"warning (1m0s) must be less than critical (30s)",
		`topology.yaml: links[0].to: unknown region "d"`,
		"topology.yaml: links[1].forward: forwarding closes a loop: a -> c -> a",
	)
	if n := len(err.Problems); n != 10 {
		t.Errorf("got %d problems, want 10", n)
	}
}

func TestUnknownKeys(t *testing.T) {
	err := parseErr(t, `
regions:
  - name: a
    id: 1
    peers: [h:1]
    nat: nats://h:4222
namespaces:
  - name: ns
    sets: {include: [x], exlude: [y]}
links:
  - {from: a, to: a2, rate: 5}
version: 2
`)
	wantLines(t, err,
		"topology.yaml: version: unknown key (valid keys: regions, namespaces, links, alertmanager)",
		"topology.yaml: regions[0].nat: unknown key (valid keys: name, id, nats, store, peers)",
		"topology.yaml: namespaces[0].sets.exlude: unknown key (valid keys: include, exclude)",
		"topology.yaml: links[0].rate: unknown key "+
			"(valid keys: from, to, forward, max-records-per-second)",
		`topology.yaml: links[0].to: unknown region "a2"`,
	)
}

func TestEmptyFile(t *testing.T) {
	for _, doc := range []string{"", "# nothing yet\n", "~\n"} {
		wantLines(t, parseErr(t, doc),
			"topology.yaml: regions: at least one region is required",
			"topology.yaml: namespaces: at least one namespace is required")
	}
}

func TestAliasesAreFollowed(t *testing.T) {
	topo := mustParse(t, `
regions:
  - &eu {name: eu, id: 1}
  - {name: us, id: 2}
namespaces:
  - {name: one, lag-alert: &lag {warning: 1s, critical: 2s}}
  - {name: two, lag-alert: *lag}
`)
	if got := topo.Namespaces[1].LagAlert; got == nil || got.Critical.Std() != 2*time.Second {
		t.Errorf("aliased lag-alert = %+v, want critical 2s", got)
	}
}

func TestErrorWithoutFileName(t *testing.T) {
	_, err := topology.Parse("", []byte(twoRegions))
	wantLines(t, err, "namespaces: at least one namespace is required")
}

func TestLoadMissingFile(t *testing.T) {
	_, err := topology.Load("testdata/does-not-exist.yaml")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load error = %v, want one wrapping fs.ErrNotExist", err)
	}
	var terr *topology.Error
	if errors.As(err, &terr) {
		t.Errorf("a read failure should not be a *topology.Error")
	}
}

// TestAliasExpansionIsBounded feeds a file whose aliases expand to
// millions of values and expects one problem, quickly.
func TestAliasExpansionIsBounded(t *testing.T) {
	peers := "x: &p [" + strings.Repeat("'h:1', ", 2000) + "]\n"
	region := "y: &r {name: a, id: 1, peers: *p}\n"
	doc := peers + region + "regions: [" + strings.Repeat("*r, ", 2000) + "]\n"
	wantLines(t, parseErr(t, doc), "topology.yaml: document: aliases expand to too many values")
}
