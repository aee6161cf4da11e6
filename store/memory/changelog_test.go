package memory

import (
	"context"
	"testing"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// TestChangeLogAcrossChunks appends and trims across chunk boundaries and
// reads back every change still held, in order.
func TestChangeLogAcrossChunks(t *testing.T) {
	l := newChangeLog("ns")
	total := 3*chunkSize + 17
	for i := range total {
		l.append(&record.Version{Key: string(rune('a' + i%26))})
	}
	check := func(from store.Cursor, want int) {
		t.Helper()
		got, _, err := l.read(from, total)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Fatalf("read from %d: %d changes, want %d", from, len(got), want)
		}
		for i, c := range got {
			if c.Seq != from+store.Cursor(i) {
				t.Fatalf("read from %d: change %d has seq %d", from, i, c.Seq)
			}
		}
	}
	check(1, total)
	check(chunkSize, total-chunkSize+1)

	for _, upTo := range []store.Cursor{5, chunkSize, 2*chunkSize + 3, store.Cursor(total)} {
		trimTo(l, upTo)
		if l.first != upTo+1 {
			t.Fatalf("after trim to %d first is %d", upTo, l.first)
		}
		check(upTo+1, total-int(upTo))
	}
	if len(l.chunks) != 0 {
		t.Fatalf("an empty log keeps %d chunks", len(l.chunks))
	}
	l.append(&record.Version{Key: "z"})
	check(store.Cursor(total)+1, 1)
}

func trimTo(l *changeLog, upTo store.Cursor) {
	s := &Store{logs: map[string]*changeLog{"ns": l}, done: make(chan struct{})}
	if err := s.Trim(context.Background(), "ns", upTo); err != nil {
		panic(err)
	}
}
