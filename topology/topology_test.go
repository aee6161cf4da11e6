package topology_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/xdrd/xdrd/topology"
)

const accessorDoc = `
regions:
  - {name: eu, id: 1}
  - {name: us, id: 2}
  - {name: ap, id: 9}
namespaces:
  - {name: everywhere}
  - {name: to-us, ship-to: [us, eu]}
  - {name: only-us, ship-to: [us]}
links:
  - {from: eu, to: us, forward: true, max-records-per-second: 100}
`

func TestLookups(t *testing.T) {
	topo := mustParse(t, accessorDoc)

	if r, ok := topo.Region("us"); !ok || r.ID != 2 {
		t.Errorf(`Region("us") = %+v, %v`, r, ok)
	}
	if _, ok := topo.Region("mars"); ok {
		t.Errorf(`Region("mars") found a region`)
	}
	if r, ok := topo.RegionByID(9); !ok || r.Name != "ap" {
		t.Errorf("RegionByID(9) = %+v, %v", r, ok)
	}
	if _, ok := topo.RegionByID(3); ok {
		t.Errorf("RegionByID(3) found a region")
	}
	if ns, ok := topo.Namespace("to-us"); !ok || len(ns.ShipTo) != 2 {
		t.Errorf(`Namespace("to-us") = %+v, %v`, ns, ok)
	}
	if _, ok := topo.Namespace("nope"); ok {
		t.Errorf(`Namespace("nope") found a namespace`)
	}
	if got := topo.Summary(); got != "3 regions, 3 namespaces, 1 link" {
		t.Errorf("Summary() = %q", got)
	}
}

func TestLink(t *testing.T) {
	topo := mustParse(t, accessorDoc)
	configured := topology.Link{From: "eu", To: "us", Forward: true, MaxRecordsPerSecond: 100}
	if got := topo.Link("eu", "us"); got != configured {
		t.Errorf(`Link("eu", "us") = %+v, want %+v`, got, configured)
	}
	// The reverse direction is not configured, so it gets the defaults.
	if got, want := topo.Link("us", "eu"), (topology.Link{From: "us", To: "eu"}); got != want {
		t.Errorf(`Link("us", "eu") = %+v, want %+v`, got, want)
	}
}

func TestDestinationsAndSources(t *testing.T) {
	topo := mustParse(t, accessorDoc)
	cases := []struct {
		namespace, region string
		dests, sources    []string
	}{
		{"everywhere", "eu", []string{"us", "ap"}, []string{"us", "ap"}},
		{"everywhere", "ap", []string{"eu", "us"}, []string{"eu", "us"}},
		{"to-us", "eu", []string{"us"}, []string{"us", "ap"}},
		{"to-us", "us", []string{"eu"}, []string{"eu", "ap"}},
		{"to-us", "ap", []string{"us", "eu"}, nil},
		{"only-us", "us", nil, []string{"eu", "ap"}},
		{"only-us", "eu", []string{"us"}, nil},
		{"unknown", "eu", nil, nil},
	}
	for _, tc := range cases {
		if got := topo.Destinations(tc.namespace, tc.region); !reflect.DeepEqual(got, tc.dests) {
			t.Errorf("Destinations(%q, %q) = %v, want %v", tc.namespace, tc.region, got, tc.dests)
		}
		if got := topo.Sources(tc.namespace, tc.region); !reflect.DeepEqual(got, tc.sources) {
			t.Errorf("Sources(%q, %q) = %v, want %v", tc.namespace, tc.region, got, tc.sources)
		}
	}
}

func TestShips(t *testing.T) {
	cases := []struct {
		name string
		sets *topology.SetFilter
		set  string
		want bool
	}{
		{"no filter", nil, "any", true},
		{"empty filter", &topology.SetFilter{}, "any", true},
		{"included", &topology.SetFilter{Include: []string{"a", "b"}}, "b", true},
		{"not included", &topology.SetFilter{Include: []string{"a"}}, "b", false},
		{"excluded", &topology.SetFilter{Exclude: []string{"scratch"}}, "scratch", false},
		{"not excluded", &topology.SetFilter{Exclude: []string{"scratch"}}, "users", true},
	}
	for _, tc := range cases {
		ns := topology.Namespace{Name: "ns", Sets: tc.sets}
		if got := ns.Ships(tc.set); got != tc.want {
			t.Errorf("%s: Ships(%q) = %v, want %v", tc.name, tc.set, got, tc.want)
		}
	}
}

func TestDuration(t *testing.T) {
	d := topology.Duration(90 * time.Second)
	if d.Std() != 90*time.Second || d.String() != "1m30s" {
		t.Errorf("Std() = %v, String() = %q", d.Std(), d.String())
	}
	v, err := d.MarshalYAML()
	if err != nil || v != "1m30s" {
		t.Errorf("MarshalYAML() = %v, %v, want 1m30s", v, err)
	}
}
