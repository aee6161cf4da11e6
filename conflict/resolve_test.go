package conflict_test

import (
	"testing"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
)

func TestResolve(t *testing.T) {
	stored, storedHigh := meta(5, 100, 1), meta(5, 100, 3)
	tests := []struct {
		name     string
		policy   conflict.Policy
		stored   *record.Meta
		incoming record.Meta
		want     conflict.Outcome
	}{
		{"nothing stored", conflict.Generation, nil, meta(1, 1, 1), conflict.Applied},
		{"nothing stored, timestamp", conflict.Timestamp, nil, meta(1, 1, 1), conflict.Applied},
		{"newer generation", conflict.Generation, &stored, meta(6, 50, 1), conflict.Applied},
		{"older generation", conflict.Generation, &stored, meta(4, 900, 9),
			conflict.RejectedOlder},
		{"later LUT under timestamp", conflict.Timestamp, &stored, meta(1, 101, 1),
			conflict.Applied},
		{"earlier LUT under timestamp", conflict.Timestamp, &stored, meta(9, 99, 9),
			conflict.RejectedOlder},
		{"origin breaks the tie", conflict.Generation, &stored, meta(5, 100, 2), conflict.Applied},
		{"origin loses the tie", conflict.Timestamp, &storedHigh, meta(5, 100, 2),
			conflict.RejectedOlder},
		{"same version", conflict.Generation, &stored, meta(5, 100, 1), conflict.Duplicate},
		{"same version, timestamp", conflict.Timestamp, &stored, meta(5, 100, 1),
			conflict.Duplicate},
		{"newer tombstone", conflict.Generation, &stored,
			record.Meta{Generation: 6, LUT: 150, Origin: 2, Tombstone: true}, conflict.Applied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := conflict.Resolve(tt.policy, tt.stored, tt.incoming); got != tt.want {
				t.Errorf("Resolve = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestResolveOlderWriteAfterTombstone(t *testing.T) {
	tomb := record.Meta{Generation: 7, LUT: 700, Origin: 2, Tombstone: true}
	late := meta(6, 600, 3) // written before the delete, delivered after it
	for _, p := range []conflict.Policy{conflict.Generation, conflict.Timestamp} {
		if got := conflict.Resolve(p, &tomb, late); got != conflict.RejectedOlder {
			t.Errorf("%v: Resolve = %v, want the tombstone to stay", p, got)
		}
	}
}

func TestOutcomeString(t *testing.T) {
	tests := []struct {
		o    conflict.Outcome
		want string
	}{
		{conflict.Applied, "applied"},
		{conflict.RejectedOlder, "rejected_older"},
		{conflict.Duplicate, "duplicate"},
		{conflict.Outcome(42), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.o.String(); got != tt.want {
			t.Errorf("Outcome(%d).String() = %q, want %q", tt.o, got, tt.want)
		}
	}
}
