package topology_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/xdrd/xdrd/topology"
)

// FuzzParse checks that Parse never panics, that every failure is an
// *Error with one well-formed line per problem, and that a topology it
// accepts survives a trip through yaml.Marshal unchanged.
func FuzzParse(f *testing.F) {
	valid, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte(twoRegions + oneNamespace +
		"links: [{from: a, to: b, forward: true}, {from: b, to: a, forward: true}]"))

	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := topology.Parse("fuzz.yaml", data)
		if err != nil {
			checkError(t, err)
			return
		}

		out, err := yaml.Marshal(topo)
		if err != nil {
			t.Fatalf("marshal an accepted topology: %v", err)
		}
		again, err := topology.Parse("again.yaml", out)
		if err != nil {
			t.Fatalf("a marshalled topology does not parse:\n%s\n%v", out, err)
		}
		if out2, _ := yaml.Marshal(again); string(out2) != string(out) {
			t.Fatalf("round trip changed the topology:\n%s\nbecame:\n%s", out, out2)
		}
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var terr *topology.Error
	if !errors.As(err, &terr) {
		t.Fatalf("error is %T, want *topology.Error: %v", err, err)
	}
	if len(terr.Problems) == 0 {
		t.Fatalf("*topology.Error without problems")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(terr.Problems) {
		t.Fatalf("%d problems printed on %d lines:\n%v", len(terr.Problems), len(lines), err)
	}
	for _, p := range terr.Problems {
		if p.Path == "" || p.Message == "" {
			t.Fatalf("problem with an empty part: %+v", p)
		}
	}
}
