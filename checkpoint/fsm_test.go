package checkpoint

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"testing"

	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// encodeCommand turns a batch of cursors into the bytes of a log entry.
func encodeCommand(term uint64, cursors map[Key]uint64) ([]byte, error) {
	return encode(command{Term: term, Cursors: sortedEntries(cursors)})
}

// applyCommand feeds one encoded command to f as raft would.
func applyCommand(t *testing.T, f *fsm, index, term uint64, cursors map[Key]uint64) any {
	t.Helper()
	data, err := encodeCommand(term, cursors)
	if err != nil {
		t.Fatal(err)
	}
	return f.Apply(&raft.Log{Index: index, Term: term, Type: raft.LogCommand, Data: data})
}

// memSink is a raft.SnapshotSink that keeps the snapshot in memory.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }

// persist snapshots f and returns the encoded bytes.
func persist(t *testing.T, f *fsm) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	defer snap.Release()

	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatalf("persist: %v", err)
	}
	if !sink.closed || sink.cancelled {
		t.Fatalf("sink closed %v, cancelled %v; want closed only", sink.closed, sink.cancelled)
	}
	return sink.Bytes()
}

func TestFSMFencesLowerTerm(t *testing.T) {
	f := newFSM(zap.NewNop())
	k, other := Key{"installs", 0}, Key{"installs", 1}

	if res := applyCommand(t, f, 1, 5, map[Key]uint64{k: 10}); res != nil {
		t.Fatalf("apply at term 5: %v", res)
	}
	res := applyCommand(t, f, 2, 3, map[Key]uint64{k: 99, other: 1})
	if err, _ := res.(error); !errors.Is(err, ErrFenced) {
		t.Fatalf("apply at term 3 = %v, want ErrFenced", res)
	}
	if got := f.refused.Load(); got != 1 {
		t.Errorf("refused = %d, want 1", got)
	}
	want := map[Key]uint64{k: 10}
	if got := f.snapshotCursors(); !maps.Equal(got, want) || f.appliedTerm() != 5 {
		t.Errorf("state after fenced command = %v term %d, want %v term 5",
			got, f.appliedTerm(), want)
	}

	if res := applyCommand(t, f, 3, 5, map[Key]uint64{other: 2}); res != nil {
		t.Errorf("apply at the same term: %v", res)
	}
	if res := applyCommand(t, f, 4, 6, map[Key]uint64{k: 11}); res != nil {
		t.Errorf("apply at a higher term: %v", res)
	}
	want = map[Key]uint64{k: 11, other: 2}
	if got := f.snapshotCursors(); !maps.Equal(got, want) || f.appliedTerm() != 6 {
		t.Errorf("state = %v term %d, want %v term 6", got, f.appliedTerm(), want)
	}
	if got := f.refused.Load(); got != 1 {
		t.Errorf("refused = %d, want still 1", got)
	}
}

func TestFSMSkipsUndecodableCommand(t *testing.T) {
	f := newFSM(zap.NewNop())
	applyCommand(t, f, 1, 2, map[Key]uint64{{"a", 0}: 4})

	res := f.Apply(&raft.Log{Index: 2, Term: 2, Type: raft.LogCommand, Data: []byte{0xc1}})
	if _, ok := res.(error); !ok {
		t.Errorf("apply of garbage = %v, want an error", res)
	}
	if got := f.cursor(Key{"a", 0}); got != 4 {
		t.Errorf("cursor = %d, want 4", got)
	}
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	src := newFSM(zap.NewNop())
	applyCommand(t, src, 1, 4, map[Key]uint64{{"installs", 0}: 8, {"events", 9}: 1 << 40})
	data := persist(t, src)

	// The snapshot is a copy: later commands do not leak into it.
	applyCommand(t, src, 2, 4, map[Key]uint64{{"installs", 0}: 9})

	dst := newFSM(zap.NewNop())
	if err := dst.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatalf("restore: %v", err)
	}
	want := map[Key]uint64{{"installs", 0}: 8, {"events", 9}: 1 << 40}
	if got := dst.snapshotCursors(); !maps.Equal(got, want) {
		t.Errorf("restored cursors = %v, want %v", got, want)
	}
	if dst.appliedTerm() != 4 {
		t.Errorf("restored term = %d, want 4", dst.appliedTerm())
	}
}

func TestRestoreDiscardsPriorState(t *testing.T) {
	src := newFSM(zap.NewNop())
	applyCommand(t, src, 1, 2, map[Key]uint64{{"installs", 0}: 5})
	data := persist(t, src)

	dst := newFSM(zap.NewNop())
	applyCommand(t, dst, 1, 9, map[Key]uint64{{"installs", 0}: 50, {"stale", 1}: 7})
	if err := dst.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatalf("restore: %v", err)
	}

	want := map[Key]uint64{{"installs", 0}: 5}
	if got := dst.snapshotCursors(); !maps.Equal(got, want) {
		t.Errorf("cursors after restore = %v, want %v", got, want)
	}
	if dst.appliedTerm() != 2 {
		t.Errorf("term after restore = %d, want 2", dst.appliedTerm())
	}
}

func TestRestoreRejectsGarbage(t *testing.T) {
	f := newFSM(zap.NewNop())
	applyCommand(t, f, 1, 1, map[Key]uint64{{"a", 0}: 1})

	if err := f.Restore(io.NopCloser(bytes.NewReader([]byte{0xc1}))); err == nil {
		t.Fatal("restore of garbage succeeded")
	}
	if got := f.cursor(Key{"a", 0}); got != 1 {
		t.Errorf("cursor after failed restore = %d, want 1", got)
	}
}
