package topology_test

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/xdrd/xdrd/topology"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Flow-style fragments that are valid on their own, for tests that break
// one section and need the others to be quiet.
const (
	twoRegions   = "regions: [{name: a, id: 1}, {name: b, id: 2}]\n"
	oneNamespace = "namespaces: [{name: ns}]\n"
)

// parseErr parses doc as topology.yaml and returns the *Error, failing
// the test when parsing succeeds or fails some other way.
func parseErr(t *testing.T, doc string) *topology.Error {
	t.Helper()
	topo, err := topology.Parse("topology.yaml", []byte(doc))
	if err == nil {
		t.Fatalf("Parse succeeded, want an error; got %s", topo.Summary())
	}
	var terr *topology.Error
	if !errors.As(err, &terr) {
		t.Fatalf("Parse error is %T, want *topology.Error: %v", err, err)
	}
	if terr.File != "topology.yaml" {
		t.Errorf("Error.File = %q, want topology.yaml", terr.File)
	}
	return terr
}

// wantLines checks the whole text of err against lines, one per problem.
func wantLines(t *testing.T, err error, lines ...string) {
	t.Helper()
	got, want := err.Error(), strings.Join(lines, "\n")
	if got != want {
		t.Errorf("error text:\n%s\nwant:\n%s", got, want)
	}
}

// mustParse parses doc, which the test expects to be valid.
func mustParse(t *testing.T, doc string) *topology.Topology {
	t.Helper()
	topo, err := topology.Parse("topology.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return topo
}
