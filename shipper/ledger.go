package shipper

import (
	"sort"
	"sync"
)

// maxLedger bounds the entries a ledger keeps: 1 MiB. Past it the ledger
// merges neighbouring entries (see coarsen), so a backlog of any length is
// counted in bounded memory, to within one merged entry. A 10-minute
// backlog of small frames (2.6M of them at 5K records/s) then counts in
// entries of 32 to 64 frames, an error of at most about a hundred records
// in millions; a bound of 2^20 entries had been the largest holder of the
// shipper's heap.
const maxLedger = 1 << 16

// ledger remembers, for the frames of one namespace that JetStream
// acknowledged, their stream sequence and how many records they carried,
// so the records a destination has not acknowledged yet can be counted from
// its consumer's ack floor.
type ledger struct {
	mu      sync.Mutex
	seqs    []uint64 // increasing
	cum     []uint64 // records in frames up to and including seqs[i]
	dropped uint64   // records of frames forgotten from the front
}

// add records an acknowledged frame of count records.
func (l *ledger) add(seq uint64, count int) {
	if count == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.seqs); n > 0 && seq <= l.seqs[n-1] {
		return // a duplicate ack of a frame already counted
	}
	total := l.total()
	l.seqs = append(l.seqs, seq)
	l.cum = append(l.cum, total+uint64(count))
	if len(l.seqs) > maxLedger {
		l.coarsen()
	}
}

// coarsen halves the ledger by merging each pair of neighbouring entries
// into one that ends at the later frame. Totals stay exact; a floor that
// falls inside a merged entry counts all of its records as not applied,
// so the backlog is then an upper bound, off by at most one entry.
func (l *ledger) coarsen() {
	n := 0
	for i := 1; i < len(l.seqs); i += 2 {
		l.seqs[n], l.cum[n] = l.seqs[i], l.cum[i]
		n++
	}
	if last := len(l.seqs) - 1; last%2 == 0 {
		l.seqs[n], l.cum[n] = l.seqs[last], l.cum[last]
		n++
	}
	l.seqs, l.cum = l.seqs[:n], l.cum[:n]
}

// after returns the records in frames with a sequence above floor.
func (l *ledger) after(floor uint64) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := sort.Search(len(l.seqs), func(i int) bool { return l.seqs[i] > floor })
	if i == len(l.seqs) {
		return 0
	}
	below := l.dropped
	if i > 0 {
		below = l.cum[i-1]
	}
	return l.total() - below
}

// trim forgets frames at or below floor: every destination has them.
func (l *ledger) trim(floor uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forget(sort.Search(len(l.seqs), func(i int) bool { return l.seqs[i] > floor }))
}

func (l *ledger) forget(n int) {
	if n == 0 {
		return
	}
	l.dropped = l.cum[n-1]
	l.seqs = append(l.seqs[:0], l.seqs[n:]...)
	l.cum = append(l.cum[:0], l.cum[n:]...)
}

func (l *ledger) total() uint64 {
	if n := len(l.cum); n > 0 {
		return l.cum[n-1]
	}
	return l.dropped
}
