package checkpoint

import (
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
