package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const regionsOK = `regions:
  - {name: a, id: 1, nats: "nats://127.0.0.1:4222", store: "memory://"}
  - {name: b, id: 2}
  - {name: c, id: 3}
`

// TestValidateRejects runs `xdrd validate` on one bad topology per check of
// DESIGN §5: each exits 1 and prints "<file>: <path>: <message>".
func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"duplicate region name", "regions: [{name: a, id: 1}, {name: a, id: 2}]\n" +
			"namespaces: [{name: n}]", `regions[1].name: duplicate region name "a"`},
		{"duplicate region id", "regions: [{name: a, id: 1}, {name: b, id: 1}]\n" +
			"namespaces: [{name: n}]", "regions[1].id: duplicate region id 1"},
		{"id below range", "regions: [{name: a, id: 0}, {name: b, id: 2}]\n" +
			"namespaces: [{name: n}]", "regions[0].id: id 0 is outside 1-255"},
		{"id above range", "regions: [{name: a, id: 256}, {name: b, id: 2}]\n" +
			"namespaces: [{name: n}]", "regions[0].id: id 256 is outside 1-255"},
		{"malformed nats url", "regions: [{name: a, id: 1, nats: 'http://x'}, {name: b, id: 2}]\n" +
			"namespaces: [{name: n}]", "regions[0].nats:"},
		{"malformed store url", "regions: [{name: a, id: 1, store: 'embedded://rel'}, " +
			"{name: b, id: 2}]\nnamespaces: [{name: n}]", "regions[0].store:"},
		{"unknown region in ship-to", regionsOK + "namespaces: [{name: n, ship-to: [zz]}]",
			`namespaces[0].ship-to[0]: unknown region "zz"`},
		{"unknown region in link", regionsOK + "namespaces: [{name: n}]\n" +
			"links: [{from: a, to: zz}]", `links[0].to: unknown region "zz"`},
		{"self link", regionsOK + "namespaces: [{name: n}]\nlinks: [{from: a, to: a}]",
			"links[0]"},
		{"unknown policy", regionsOK + "namespaces: [{name: n, conflict: newest}]",
			`namespaces[0].conflict: unknown policy "newest"`},
		{"shards zero", regionsOK + "namespaces: [{name: n, shards: 0}]",
			"namespaces[0].shards:"},
		{"shards too many", regionsOK + "namespaces: [{name: n, shards: 4097}]",
			"namespaces[0].shards:"},
		{"warning not below critical", regionsOK + "namespaces: [{name: n, " +
			"lag-alert: {warning: 30s, critical: 5s, for: 1m}}]",
			"namespaces[0].lag-alert.warning:"},
		{"forwarding loop", regionsOK + "namespaces: [{name: n}]\nlinks:\n" +
			"  - {from: a, to: b, forward: true}\n  - {from: b, to: a, forward: true}",
			"links[0].forward: forwarding closes a loop"},
		{"unknown key", regionsOK + "namespaces: [{name: n, colour: red}]",
			"namespaces[0].colour: unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "topology.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := run([]string{"validate", path}, &stdout, &stderr); code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
			}
			want := path + ": " + tc.want
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr does not contain %q:\n%s", want, stderr.String())
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				if !strings.HasPrefix(line, path+": ") {
					t.Errorf("line does not name the file: %q", line)
				}
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "topology.yaml")
	if err := os.WriteFile(path, []byte(regionsOK+"namespaces: [{name: n}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"validate", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if lines := strings.Count(stdout.String(), "\n"); lines != 1 {
		t.Errorf("want a one-line summary, got:\n%s", stdout.String())
	}
}
