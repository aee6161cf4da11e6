package topology_test

import (
	"fmt"
	"strings"
	"testing"
)

// regionsNamed returns a regions section with the given names.
func regionsNamed(names ...string) string {
	var b strings.Builder
	b.WriteString("regions:\n")
	for i, n := range names {
		fmt.Fprintf(&b, "  - {name: %s, id: %d}\n", n, i+1)
	}
	return b.String()
}

func TestForwardingLoops(t *testing.T) {
	regions := regionsNamed("a", "b", "c", "d")
	cases := []struct {
		name  string
		links string
		want  []string
	}{
		{"chain", "links: [{from: a, to: b, forward: true}, {from: b, to: c, forward: true}]",
			nil},
		{"cycle with one non-forwarding link", "links: [" +
			"{from: a, to: b, forward: true}, {from: b, to: c, forward: true}, " +
			"{from: c, to: a}]",
			nil},
		{"triangle named from its first region", "links: [" +
			"{from: c, to: a, forward: true}, {from: b, to: c, forward: true}, " +
			"{from: a, to: b, forward: true}]",
			[]string{"topology.yaml: links[2].forward: forwarding closes a loop: " +
				"a -> b -> c -> a"}},
		{"two loops sharing a region", "links: [" +
			"{from: a, to: b, forward: true}, {from: b, to: a, forward: true}, " +
			"{from: c, to: d, forward: true}, {from: d, to: b, forward: true}, " +
			"{from: b, to: c, forward: true}]",
			[]string{
				"topology.yaml: links[0].forward: forwarding closes a loop: a -> b -> a",
				"topology.yaml: links[4].forward: forwarding closes a loop: b -> c -> d -> b",
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := regions + oneNamespace + tc.links
			if tc.want == nil {
				mustParse(t, doc)
				return
			}
			wantLines(t, parseErr(t, doc), tc.want...)
		})
	}
}

// TestForwardingMeshIsBounded checks that a full mesh of forwarding links,
// which has millions of cycles, is reported briefly and quickly.
func TestForwardingMeshIsBounded(t *testing.T) {
	names := make([]string, 12)
	for i := range names {
		names[i] = fmt.Sprintf("r%02d", i)
	}
	var b strings.Builder
	b.WriteString(regionsNamed(names...) + oneNamespace + "links:\n")
	for _, from := range names {
		for _, to := range names {
			if from != to {
				fmt.Fprintf(&b, "  - {from: %s, to: %s, forward: true}\n", from, to)
			}
		}
	}

	err := parseErr(t, b.String())
	if n := len(err.Problems); n != 11 {
		t.Fatalf("got %d problems, want 10 loops and a note:\n%v", n, err)
	}
	want := "more than 10 forwarding loops; only the first 10 are listed"
	if p := err.Problems[0]; p.Path != "links" || p.Message != want {
		t.Errorf("first problem = %+v, want the note at links", p)
	}
	if p := err.Problems[1]; p.Message != "forwarding closes a loop: r00 -> r01 -> r00" {
		t.Errorf("first loop = %+v", p)
	}
}
