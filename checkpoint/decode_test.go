package checkpoint

import (
	"runtime"
	"slices"
	"testing"
)

func TestDecodeCommandRefusesLyingHeaders(t *testing.T) {
	for name, data := range map[string][]byte{
		// {"cursors": array32 of 2^31 entries}, and nothing after it.
		"cursors": append([]byte{0x81, 0xa7}, append([]byte("cursors"),
			0xdd, 0x80, 0x00, 0x00, 0x00)...),
		"members": append([]byte{0x81, 0xa7}, append([]byte("members"),
			0xdd, 0x80, 0x00, 0x00, 0x00)...),
	} {
		// Refused before anything is allocated for the claimed elements:
		// a test run with a 2^31-element allocation would not finish.
		if _, err := decodeCommand(data); err == nil {
			t.Errorf("%s: a header claiming 2^31 elements in 5 bytes was accepted", name)
		}
	}
}

// TestLyingLengthsStayBounded decodes, again and again, ten-byte inputs
// whose bin header claims 768 MiB: each is refused, and the decoders
// allocate about a MiB a call, not a buffer that grows from call to call.
func TestLyingLengthsStayBounded(t *testing.T) {
	// {"zzzz": bin32 of 0x30000000 bytes}, and nothing after it: a key the
	// command does not know, whose value the decoder skips by reading it.
	lying := []byte{0x81, 0xa4, 'z', 'z', 'z', 'z', 0xc6, 0x30, 0x00, 0x00, 0x00}
	for name, decode := range map[string]func([]byte) error{
		"command": func(b []byte) error { _, err := decodeCommand(b); return err },
		"relayed batch": func(b []byte) error {
			_, err := decodeRelayBatch(b)
			return err
		},
	} {
		const calls = 50
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range calls {
			if err := decode(lying); err == nil {
				t.Fatalf("%s: a bin claiming 768 MiB in 4 bytes was accepted", name)
			}
		}
		runtime.ReadMemStats(&after)
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(calls*2<<20); got > limit {
			t.Errorf("%s: %d calls allocated %d MiB, more than 2 MiB a call", name, calls, got>>20)
		}
	}
}

func FuzzDecodeCommand(f *testing.F) {
	for _, c := range []command{
		{Term: 3, Cursors: []entry{{Namespace: "installs", Shard: 1, Cursor: 9}}},
		{Term: 4, Assign: true, Members: []string{"a", "b"}},
		{Term: 5, Members: []string{"a"}, Epoch: 12},
	} {
		data, err := encode(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCommand(data)
		if err != nil {
			return
		}
		again, err := encode(c)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		d, err := decodeCommand(again)
		if err != nil {
			t.Fatalf("re-encoded command refused: %v", err)
		}
		if d.Term != c.Term || d.Assign != c.Assign || d.Epoch != c.Epoch ||
			!slices.Equal(d.Cursors, c.Cursors) || !slices.Equal(d.Members, c.Members) {
			t.Fatalf("round trip changed the command: %+v then %+v", c, d)
		}
	})
}
