package checkpoint

import (
	"testing"
	"time"
)

func TestCursorNeverGoesBackwards(t *testing.T) {
	n := openSingle(t, t.TempDir(), 0)
	k := Key{"installs", 3}

	n.Stage(k, 100)
	flush(t, n)
	n.Stage(k, 50)
	flush(t, n)
	if got := n.Cursor(k); got != 100 {
		t.Errorf("cursor after staging lower = %d, want 100", got)
	}

	n.Stage(k, 200)
	n.Stage(k, 150)
	flush(t, n)
	if got := n.Cursor(k); got != 200 {
		t.Errorf("cursor after staging 200 then 150 = %d, want 200", got)
	}

	// A committed command carrying a lower cursor does not move it back.
	data, err := encodeCommand(n.Term(), map[Key]uint64{k: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.raft.Apply(data, time.Second).Error(); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := n.Cursor(k); got != 200 {
		t.Errorf("cursor after a lower command = %d, want 200", got)
	}
}

func TestStagedCursorsAreBatched(t *testing.T) {
	n := openSingle(t, t.TempDir(), 0)
	before := n.raft.LastIndex()

	for i := range 1000 {
		n.Stage(Key{"installs", i % 10}, uint64(i+1))
	}
	flush(t, n)

	grown := n.raft.LastIndex() - before
	if grown == 0 || grown >= 10 {
		t.Errorf("raft log grew by %d entries for 1000 stages, want 1 to 9", grown)
	}
	for shard := range 10 {
		k := Key{"installs", shard}
		if got, want := n.Cursor(k), uint64(990+shard+1); got != want {
			t.Errorf("cursor %v = %d, want %d", k, got, want)
		}
	}
	if got := len(n.Cursors()); got != 10 {
		t.Errorf("cursors = %d keys, want 10", got)
	}
}

func TestNothingChangedMeansNoApply(t *testing.T) {
	n := openSingle(t, t.TempDir(), time.Hour)
	k := Key{"events", 0}

	n.Stage(k, 5)
	flush(t, n)
	before := n.raft.LastIndex()

	flush(t, n)
	n.Stage(k, 5)
	n.Stage(k, 4)
	flush(t, n)
	if after := n.raft.LastIndex(); after != before {
		t.Errorf("raft log grew from %d to %d with nothing new staged", before, after)
	}
}

func TestCommitterCommitsWithoutFlush(t *testing.T) {
	n := openSingle(t, t.TempDir(), 5*time.Millisecond)
	k := Key{"events", 2}

	n.Stage(k, 12)
	waitFor(t, "staged cursor to be committed", func() bool { return n.Cursor(k) == 12 })
}

func TestCursorsIsACopy(t *testing.T) {
	n := openSingle(t, t.TempDir(), 0)
	k := Key{"events", 1}
	n.Stage(k, 3)
	flush(t, n)

	c := n.Cursors()
	c[k] = 1000
	if got := n.Cursor(k); got != 3 {
		t.Errorf("cursor after editing the copy = %d, want 3", got)
	}
}
