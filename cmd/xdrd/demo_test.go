package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestDemoJSON runs a short demo and checks the contract of its last line.
func TestDemoJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three regions")
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"demo", "--duration", "2s", "--rate", "300", "--json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var sum map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last line is not JSON: %v\n%s", err, lines[len(lines)-1])
	}
	for _, key := range []string{"regions", "written", "applied", "conflicts", "converged",
		"convergence_seconds", "records_compared"} {
		if _, ok := sum[key]; !ok {
			t.Errorf("summary lacks %q: %s", key, lines[len(lines)-1])
		}
	}
	if sum["regions"] != float64(3) || sum["converged"] != true {
		t.Errorf("want 3 regions converged: %s", lines[len(lines)-1])
	}
	if sum["written"].(float64) == 0 || sum["applied"].(float64) == 0 ||
		sum["records_compared"].(float64) == 0 {
		t.Errorf("the demo moved nothing: %s", lines[len(lines)-1])
	}
}
