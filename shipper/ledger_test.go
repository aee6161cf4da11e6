package shipper

import "testing"

func TestLedgerCountsRecordsAboveFloor(t *testing.T) {
	var l ledger
	l.add(10, 5)
	l.add(11, 0) // a heartbeat carries nothing
	l.add(12, 7)
	l.add(12, 7) // a duplicate ack
	l.add(15, 3)
	for _, c := range []struct{ floor, want uint64 }{
		{0, 15}, {9, 15}, {10, 10}, {11, 10}, {12, 3}, {15, 0}, {99, 0},
	} {
		if got := l.after(c.floor); got != c.want {
			t.Errorf("after(%d) = %d, want %d", c.floor, got, c.want)
		}
	}
	l.trim(12)
	if got := l.after(0); got != 3 {
		t.Errorf("after trimming to 12, after(0) = %d, want 3", got)
	}
	l.add(16, 4)
	if got := l.after(15); got != 4 {
		t.Errorf("after(15) = %d, want 4", got)
	}
	l.trim(99)
	if got := l.after(0); got != 0 || len(l.seqs) != 0 {
		t.Errorf("after trimming all, after(0) = %d with %d frames", got, len(l.seqs))
	}
}

// TestLedgerStaysBoundedAndCountsEveryRecord fills the ledger past its
// bound: it keeps at most maxLedger entries, its total stays exact, and a
// floor inside a merged entry over-counts by at most that entry.
func TestLedgerStaysBoundedAndCountsEveryRecord(t *testing.T) {
	var l ledger
	const frames = maxLedger + maxLedger/2
	for seq := uint64(1); seq <= frames; seq++ {
		l.add(seq, 3)
	}
	if len(l.seqs) > maxLedger {
		t.Fatalf("ledger keeps %d entries, bound %d", len(l.seqs), maxLedger)
	}
	if got := l.after(0); got != 3*frames {
		t.Fatalf("after(0) = %d, want every record: %d", got, 3*frames)
	}
	for _, floor := range []uint64{1, 1000, frames/2 + 1, frames - 1} {
		want := 3 * (frames - floor)
		got := l.after(floor)
		if got < want || got > want+3*2 {
			t.Errorf("after(%d) = %d, want %d plus at most one merged entry", floor, got, want)
		}
	}
	l.trim(frames)
	if got := l.after(0); got != 0 {
		t.Errorf("after trimming all, after(0) = %d", got)
	}
}
