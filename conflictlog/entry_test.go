package conflictlog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xdrd/xdrd/record"
)

// TestEntryRoundTrip encodes entries, including a key of every byte
// that needs escaping, and decodes them back unchanged.
func TestEntryRoundTrip(t *testing.T) {
	awkward := testEntry("profiles", 7)
	var key strings.Builder
	for key.Len() < record.MaxKeyLen-1 {
		key.WriteString("\x01\"<\u2028")
	}
	awkward.Key = key.String()[:record.MaxKeyLen-3]
	awkward.Set = ""
	awkward.Winner = WinnerStored

	for _, e := range []Entry{testEntry("profiles", 1), awkward} {
		data, err := e.Encode()
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		if len(data) > MaxEntrySize {
			t.Fatalf("encoded to %d bytes", len(data))
		}
		got, err := Decode(data)
		if err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		if !sameEntry(got, e) {
			t.Fatalf("decoded %+v, want %+v", got, e)
		}
	}

	data, err := testEntry("profiles", 1).Encode()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"origin_id":2`, `"lut":1767348000123456790`,
		`"winner":"incoming"`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("encoding %s lacks %s", data, key)
		}
	}
}

// TestDecodeRejects feeds Decode one bad entry per rule.
func TestDecodeRejects(t *testing.T) {
	good, err := testEntry("profiles", 1).Encode()
	if err != nil {
		t.Fatal(err)
	}
	valid := string(good)
	const decided = `"time":"2026-01-02T10:00:00.000000001Z"`
	longKey := `"key":"` + strings.Repeat("k", record.MaxKeyLen+1) + `"`
	longNamespace := `"namespace":"` + strings.Repeat("n", 64) + `"`
	swap := func(old, new string) string {
		if !strings.Contains(valid, old) {
			t.Fatalf("%s not in %s", old, valid)
		}
		return strings.Replace(valid, old, new, 1)
	}
	cases := map[string]string{
		"empty":            "",
		"null":             "null",
		"array":            "[]",
		"truncated":        valid[:len(valid)-1],
		"trailing object":  valid + "{}",
		"trailing garbage": valid + "x",
		"unknown field":    swap(`"winner"`, `"colour":"red","winner"`),
		"unknown side key": swap(`"origin_id":2`, `"origin_id":2,"bins":{}`),
		"bad winner":       swap(`"winner":"incoming"`, `"winner":"both"`),
		"no namespace":     swap(`"namespace":"profiles"`, `"namespace":""`),
		"no key":           swap(`"key":"user-1"`, `"key":""`),
		"no origin":        swap(`"origin":"us-east"`, `"origin":""`),
		"zero time":        swap(decided, `"time":"0001-01-01T00:00:00Z"`),
		"bad time":         swap(decided, `"time":"yesterday"`),
		"origin id 256":    swap(`"origin_id":2`, `"origin_id":256`),
		"negative gen":     swap(`"generation":1`, `"generation":-1`),
		"long key":         swap(`"key":"user-1"`, longKey),
		"long namespace":   swap(`"namespace":"profiles"`, longNamespace),
		"not utf-8":        swap(`"set":"users"`, "\"set\":\"us\xffers\""),
		"oversized":        valid + strings.Repeat(" ", MaxEntrySize),
	}
	for name, data := range cases {
		if _, err := Decode([]byte(data)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: decode gave %v, want ErrInvalid", name, err)
		}
	}
	if _, err := Decode([]byte(valid + "\n")); err != nil {
		t.Errorf("a trailing newline is not data: %v", err)
	}
}

// TestMsgID checks that the msg-id depends on the region, namespace, set,
// key and incoming version, and on nothing else.
func TestMsgID(t *testing.T) {
	base := testEntry("profiles", 1)
	id := MsgID(&base)
	if !strings.HasPrefix(id, "eu-west.profiles.") || len(id) != len("eu-west.profiles.")+32 {
		t.Fatalf("msg-id %q", id)
	}

	same := base
	same.Time = same.Time.Add(time.Hour)
	same.Stored = Side{Generation: 9, LUT: 9, Origin: "ap-south", OriginID: 3}
	same.Winner = WinnerStored
	same.Policy = "timestamp"
	if MsgID(&same) != id {
		t.Errorf("msg-id changed with the stored side, time, policy or winner")
	}

	changes := map[string]func(e *Entry){
		"region":    func(e *Entry) { e.Region = "us-east" },
		"namespace": func(e *Entry) { e.Namespace = "other" },
		"set":       func(e *Entry) { e.Set = "users2" },
		"key":       func(e *Entry) { e.Key = "user-2" },
		"set and key": func(e *Entry) {
			e.Set, e.Key = "user", "s"+e.Key // same bytes, other split
		},
		"generation": func(e *Entry) { e.Incoming.Generation++ },
		"lut":        func(e *Entry) { e.Incoming.LUT++ },
		"origin":     func(e *Entry) { e.Incoming.OriginID++ },
	}
	for name, change := range changes {
		e := base
		change(&e)
		if MsgID(&e) == id {
			t.Errorf("msg-id did not change with the %s", name)
		}
	}
}

// TestSideOf copies a record's metadata.
func TestSideOf(t *testing.T) {
	m := record.Meta{Generation: 4, LUT: 99, Origin: 2, Tombstone: true, Expiry: 5}
	want := Side{Generation: 4, LUT: 99, Origin: "us-east", OriginID: 2, Tombstone: true}
	if got := SideOf(m, "us-east"); got != want {
		t.Errorf("side %+v, want %+v", got, want)
	}
}

// sameEntry compares entries, times by instant.
func sameEntry(a, b Entry) bool {
	if !a.Time.Equal(b.Time) {
		return false
	}
	a.Time, b.Time = time.Time{}, time.Time{}
	return a == b
}

// FuzzDecode checks that Decode never panics and that whatever it
// accepts encodes again, within MaxEntrySize, to an entry that decodes
// to the same. The seeds are committed in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Decode(data)
		if err != nil {
			return
		}
		enc, err := e.Encode()
		if err != nil {
			t.Fatalf("re-encode a decoded entry: %v", err)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("decode the re-encoded entry %s: %v", enc, err)
		}
		if !sameEntry(again, e) {
			t.Fatalf("re-decoded %+v, want %+v", again, e)
		}
		// The encoding is canonical: a second round changes nothing.
		if enc2, err := again.Encode(); err != nil || !bytes.Equal(enc2, enc) {
			t.Fatalf("second encoding %s differs from %s (%v)", enc2, enc, err)
		}
	})
}

// TestSeedCorpus makes sure the committed seeds are there and still mean
// what their names say, so the fuzzer starts from real entries and from
// each way of being wrong.
func TestSeedCorpus(t *testing.T) {
	accepted := map[string]bool{
		"valid": true, "stored-tombstone-wins": true, "escaped-key": true,
		"bad-winner": false, "null": false, "origin-id-overflow": false, "oversized": false,
		"trailing": false, "truncated": false, "unknown-field": false,
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for name, want := range accepted {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("read seed: %v", err)
		}
		_, err = Decode(seedBytes(t, raw))
		if got := err == nil; got != want {
			t.Errorf("seed %s: decode error %v, want accepted %t", name, err, want)
		}
	}
}

// seedBytes returns the input held by a seed file of the fuzzing engine:
// a header line and one []byte("...") line with a Go-quoted string.
func seedBytes(t *testing.T, raw []byte) []byte {
	t.Helper()
	header, body, ok := bytes.Cut(raw, []byte("\n"))
	if !ok || string(header) != "go test fuzz v1" {
		t.Fatalf("seed has no fuzz header: %q", raw)
	}
	body = bytes.TrimSpace(body)
	quoted, ok := bytes.CutPrefix(body, []byte("[]byte("))
	if !ok || !bytes.HasSuffix(quoted, []byte(")")) {
		t.Fatalf("seed is not one []byte value: %q", body)
	}
	s, err := strconv.Unquote(string(quoted[:len(quoted)-1]))
	if err != nil {
		t.Fatalf("unquote seed: %v", err)
	}
	return []byte(s)
}
