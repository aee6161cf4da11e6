package frame

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false,
	"rewrite the named seeds of testdata/fuzz/FuzzDecode")

// FuzzDecode checks that Decode never panics, that every error carries a
// reason, and that whatever it accepts survives re-encoding unchanged.
func FuzzDecode(f *testing.F) {
	// The seeds live in testdata/fuzz/FuzzDecode; see TestSeedCorpus.
	f.Fuzz(checkDecode)
}

func checkDecode(t *testing.T, data []byte) {
	got, err := Decode(data, DefaultMaxSize)
	shared, sharedErr := DecodeShared(data, DefaultMaxSize)
	if (err == nil) != (sharedErr == nil) || Reason(err) != Reason(sharedErr) {
		t.Fatalf("Decode: %v, DecodeShared: %v", err, sharedErr)
	}
	if err != nil {
		if Reason(err) == "" || !strings.HasPrefix(err.Error(), "frame: ") {
			t.Fatalf("error without a reason: %v", err)
		}
		return
	}
	if err := equalFrames(shared, got); err != nil {
		t.Fatalf("DecodeShared: %v", err)
	}
	if got.Count != len(got.Records) {
		t.Fatalf("count %d but %d records", got.Count, len(got.Records))
	}

	// Decoding over an earlier, different frame must give the same result.
	used := mixed()
	if err := DecodeInto(used, data, DefaultMaxSize); err != nil {
		t.Fatalf("DecodeInto failed where Decode did not: %v", err)
	}
	if err := equalFrames(used, got); err != nil {
		t.Fatalf("DecodeInto over a used frame: %v", err)
	}

	enc, err := Append(nil, got)
	if err != nil {
		t.Fatalf("re-encode a decoded frame: %v", err)
	}
	// The encoder picks the narrowest form of every value, so it never
	// needs more bytes than the frame it read.
	if len(enc) > len(data) {
		t.Fatalf("re-encoded to %d bytes from %d", len(enc), len(data))
	}
	again, err := Decode(enc, DefaultMaxSize)
	if err != nil {
		t.Fatalf("decode the re-encoded frame: %v", err)
	}
	if err := equalFrames(again, got); err != nil {
		t.Fatalf("re-encoded frame differs: %v", err)
	}
}

// seeds are the named entries of the committed corpus and the reason
// Decode gives for each, "" for success.
func seeds(t *testing.T) map[string]struct {
	data   []byte
	reason string
} {
	// mixed, trimmed so the fuzzer mutates a small input.
	m := mixed()
	m.Records[3].Bins = m.Records[3].Bins[:40]
	m.Records[5].Key = "long-key-of-forty-bytes-for-a-str8-form!"
	valid := encode(t, m)
	small := encode(t, batch(3, 16))
	type seed = struct {
		data   []byte
		reason string
	}
	return map[string]seed{
		"valid":            {valid, ""},
		"batch":            {small, ""},
		"heartbeat":        {encode(t, heartbeat()), ""},
		"truncated-header": {valid[:9], "malformed"},
		"truncated-record": {small[:len(small)-5], "malformed"},
		"trailing":         {append(bytes.Clone(small), 0xc0), "malformed"},
		"garbage":          {[]byte("\x93\xa3not\xc1 a frame\xff"), "malformed"},
		"version-2":        {frameOf(with(goodHeader(), 1, 2), goodRecord()), "version"},
		"huge-count": {
			mp(arr(9), Version, 3, "u", 7, 10, 12, uint64(1)<<32, 1, arr(0)), "malformed"},
		"huge-key": {
			frameOf(goodHeader(), with(goodRecord(), 2, raw("\xdb\xff\xff\xff\xff"))),
			"malformed"},
	}
}

// TestSeedCorpus checks that the committed corpus holds the named seeds
// and that every entry, fuzzer finds included, passes checkDecode. With
// -update-corpus it first rewrites the named seeds.
func TestSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	named := seeds(t)
	if *updateCorpus {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, s := range named {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s.data)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range entries {
		data := readSeed(t, filepath.Join(dir, e.Name()))
		t.Run(e.Name(), func(t *testing.T) { checkDecode(t, data) })

		s, ok := named[e.Name()]
		if !ok {
			continue
		}
		found++
		if !bytes.Equal(data, s.data) {
			t.Errorf("seed %s is stale; rerun with -update-corpus", e.Name())
		}
		if _, err := Decode(data, 0); Reason(err) != s.reason {
			t.Errorf("seed %s: got %v, want reason %q", e.Name(), err, s.reason)
		}
	}
	if found != len(named) {
		t.Errorf("corpus holds %d of %d named seeds; rerun with -update-corpus",
			found, len(named))
	}
}

// readSeed parses a one-value corpus file of the form go test writes.
func readSeed(t *testing.T, path string) []byte {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if len(lines) != 2 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a one-value corpus file", path)
	}
	lit, ok := strings.CutPrefix(lines[1], "[]byte(")
	lit, ok2 := strings.CutSuffix(lit, ")")
	s, err := strconv.Unquote(lit)
	if !ok || !ok2 || err != nil {
		t.Fatalf("%s: value %q is not a []byte literal", path, lines[1])
	}
	return []byte(s)
}
