package checkpoint

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
	"go.uber.org/zap"
)

func encodeBatch(t testing.TB, b relayBatch) []byte {
	t.Helper()
	data, err := msgpack.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeRelayBatchRejects(t *testing.T) {
	many := make([]entry, maxRelayCursors+1)
	for i := range many {
		many[i] = entry{Namespace: "n"}
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"garbage", []byte{0xc1}, "decode relayed batch"},
		{"oversized", make([]byte, maxRelayBytes+1), "exceeds"},
		{"no sender", encodeBatch(t, relayBatch{Term: 1}), "empty sender"},
		{"empty namespace", encodeBatch(t, relayBatch{From: "a", Cursors: []entry{{Shard: 1}}}),
			"cursors[0]: namespace of 0 bytes"},
		{"long namespace", encodeBatch(t, relayBatch{From: "a",
			Cursors: []entry{{Namespace: strings.Repeat("n", 256)}}}), "namespace of 256 bytes"},
		{"negative shard", encodeBatch(t, relayBatch{From: "a",
			Cursors: []entry{{Namespace: "n", Shard: -1}}}), "shard -1 outside 0-4095"},
		{"shard too high", encodeBatch(t, relayBatch{From: "a",
			Cursors: []entry{{Namespace: "n", Shard: 4096}}}), "shard 4096 outside"},
		{"too many cursors", encodeBatch(t, relayBatch{From: "a", Cursors: many}),
			"16385 cursors exceed 16384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeRelayBatch(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func FuzzDecodeRelayBatch(f *testing.F) {
	f.Add(encodeBatch(f, relayBatch{From: "10.0.0.1:7946", Term: 3,
		Cursors: []entry{{Namespace: "installs", Shard: 2, Cursor: 99}}}))
	f.Add([]byte{0x80})
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := decodeRelayBatch(data)
		if err != nil {
			return
		}
		again, err := decodeRelayBatch(encodeBatch(t, b))
		if err != nil {
			t.Fatalf("re-encoded batch refused: %v", err)
		}
		if again.From != b.From || again.Term != b.Term || !slices.Equal(again.Cursors, b.Cursors) {
			t.Fatalf("round trip changed the batch: %+v then %+v", b, again)
		}
	})
}

func TestSnapshotKeepsAssignment(t *testing.T) {
	src := newFSM(zap.NewNop())
	data, err := encode(command{Term: 2, Assign: true, Members: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.apply(mustDecode(t, data), 7); err != nil {
		t.Fatal(err)
	}
	snap := persist(t, src)

	dst := newFSM(zap.NewNop())
	signalled := false
	dst.onAssign = func() { signalled = true }
	if err := dst.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	got := dst.currentAssignment()
	if got.Epoch != 7 || !slices.Equal(got.Members, []string{"a", "b"}) {
		t.Errorf("restored assignment = %+v, want epoch 7 members [a b]", got)
	}
	if !signalled {
		t.Error("restore did not report the assignment")
	}
}

func mustDecode(t *testing.T, data []byte) command {
	t.Helper()
	var c command
	if err := msgpack.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
