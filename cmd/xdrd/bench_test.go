package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchRejectsAnOutputItCannotCreate names the file it could not
// create and measures nothing: the profile it had opened stays empty.
func TestBenchRejectsAnOutputItCannotCreate(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "cpu.prof")
	bad := filepath.Join(dir, "missing", "trace.out")
	var stdout, stderr bytes.Buffer
	code := benchCmd([]string{"--records", "10", "--cpuprofile", profile, "--trace", bad},
		&stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), bad) {
		t.Fatalf("exit %d, stderr %q; want 1 naming %s", code, stderr.String(), bad)
	}
	if stdout.Len() != 0 {
		t.Errorf("printed a result: %q", stdout.String())
	}
	if info, err := os.Stat(profile); err != nil || info.Size() != 0 {
		t.Errorf("cpu profile: %v, %v; want an empty file, nothing measured", info, err)
	}
}

// TestBenchRefusesWindowsWithAnOutage checks the usage error: an outage
// measures a backlog, so latency windows are refused before any file is
// made.
func TestBenchRefusesWindowsWithAnOutage(t *testing.T) {
	windows := filepath.Join(t.TempDir(), "windows.csv")
	var stdout, stderr bytes.Buffer
	code := benchCmd([]string{"--rate", "100", "--outage", "1s", "--windows", windows},
		&stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "--windows") {
		t.Fatalf("exit %d, stderr %q; want 2 naming --windows", code, stderr.String())
	}
	if _, err := os.Stat(windows); !os.IsNotExist(err) {
		t.Errorf("windows file: %v; want none made", err)
	}
}
