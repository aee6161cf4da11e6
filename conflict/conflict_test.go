package conflict_test

import (
	"math"
	"strings"
	"testing"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
)

// meta builds metadata from the three fields that conflict resolution reads.
func meta(g record.Generation, l record.LUT, o record.RegionID) record.Meta {
	return record.Meta{Generation: g, LUT: l, Origin: o}
}

func TestCompare(t *testing.T) {
	gen, ts := conflict.Generation, conflict.Timestamp
	tests := []struct {
		name   string
		policy conflict.Policy
		a, b   record.Meta
		want   int
	}{
		// generation: (generation, LUT, origin)
		{"gen: higher generation wins over later LUT and higher origin",
			gen, meta(5, 100, 1), meta(4, 900, 9), 1},
		{"gen: lower generation loses", gen, meta(4, 900, 9), meta(5, 100, 1), -1},
		{"gen: equal generation, later LUT wins over higher origin",
			gen, meta(5, 200, 1), meta(5, 100, 9), 1},
		{"gen: equal generation, earlier LUT loses", gen, meta(5, 100, 9), meta(5, 200, 1), -1},
		{"gen: equal generation and LUT, higher origin wins",
			gen, meta(5, 100, 2), meta(5, 100, 1), 1},
		{"gen: equal generation and LUT, lower origin loses",
			gen, meta(5, 100, 1), meta(5, 100, 2), -1},
		{"gen: equal tuples", gen, meta(5, 100, 1), meta(5, 100, 1), 0},

		// timestamp: (LUT, generation, origin)
		{"ts: later LUT wins over higher generation and origin",
			ts, meta(1, 200, 1), meta(9, 100, 9), 1},
		{"ts: earlier LUT loses", ts, meta(9, 100, 9), meta(1, 200, 1), -1},
		{"ts: equal LUT, higher generation wins over higher origin",
			ts, meta(6, 100, 1), meta(5, 100, 9), 1},
		{"ts: equal LUT, lower generation loses", ts, meta(5, 100, 9), meta(6, 100, 1), -1},
		{"ts: equal LUT and generation, higher origin wins",
			ts, meta(5, 100, 3), meta(5, 100, 2), 1},
		{"ts: equal LUT and generation, lower origin loses",
			ts, meta(5, 100, 2), meta(5, 100, 3), -1},
		{"ts: equal tuples", ts, meta(5, 100, 1), meta(5, 100, 1), 0},

		// Extremes: no overflow in the comparisons.
		{"gen: max generation", gen, meta(math.MaxUint64, 0, 1), meta(0, 0, 1), 1},
		{"gen: max origin", gen, meta(0, 0, 255), meta(0, 0, 1), 1},
		{"ts: max LUT over min LUT", ts, meta(0, math.MaxInt64, 1), meta(0, math.MinInt64, 1), 1},
		{"ts: positive LUT over negative", ts, meta(0, 1, 1), meta(0, -1, 1), 1},

		// Only the tuple counts.
		{"gen: tombstone flag is not in the tuple", gen,
			record.Meta{Generation: 2, LUT: 7, Origin: 1, Tombstone: true}, meta(2, 7, 1), 0},
		{"ts: expiry is not in the tuple", ts,
			record.Meta{Generation: 2, LUT: 7, Origin: 1, Expiry: 99}, meta(2, 7, 1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := conflict.Compare(tt.policy, tt.a, tt.b); got != tt.want {
				t.Errorf("Compare(%v, a, b) = %d, want %d", tt.policy, got, tt.want)
			}
			if got := conflict.Compare(tt.policy, tt.b, tt.a); got != -tt.want {
				t.Errorf("Compare(%v, b, a) = %d, want %d", tt.policy, got, -tt.want)
			}
		})
	}
}

// TestComparePoliciesDisagree shows the one case the policy decides: a
// version written more often but earlier against one written later.
func TestComparePoliciesDisagree(t *testing.T) {
	often, later := meta(10, 100, 1), meta(3, 500, 2)
	if got := conflict.Compare(conflict.Generation, often, later); got != 1 {
		t.Errorf("generation policy: Compare = %d, want 1", got)
	}
	if got := conflict.Compare(conflict.Timestamp, often, later); got != -1 {
		t.Errorf("timestamp policy: Compare = %d, want -1", got)
	}
}

func TestParsePolicy(t *testing.T) {
	valid := []struct {
		name string
		want conflict.Policy
	}{
		{"generation", conflict.Generation},
		{"timestamp", conflict.Timestamp},
	}
	for _, tt := range valid {
		got, err := conflict.ParsePolicy(tt.name)
		if err != nil || got != tt.want {
			t.Errorf("ParsePolicy(%q) = %v, %v; want %v", tt.name, got, err, tt.want)
		}
		if got.String() != tt.name {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tt.name)
		}
	}

	for _, name := range []string{"", "newest", "Generation", "TIMESTAMP", " timestamp", "bins"} {
		_, err := conflict.ParsePolicy(name)
		if err == nil {
			t.Errorf("ParsePolicy(%q) succeeded, want an error", name)
			continue
		}
		if quoted := `"` + name + `"`; !strings.Contains(err.Error(), quoted) {
			t.Errorf("ParsePolicy(%q) error %q does not name the policy", name, err)
		}
		for _, p := range conflict.Policies {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("ParsePolicy(%q) error %q does not list %q", name, err, p)
			}
		}
	}
}

func TestPolicyStringUnknown(t *testing.T) {
	if got := conflict.Policy(9).String(); got != "policy(9)" {
		t.Errorf("Policy(9).String() = %q, want %q", got, "policy(9)")
	}
}

func TestConcurrent(t *testing.T) {
	tests := []struct {
		name string
		a, b record.Meta
		want bool
	}{
		{"same origin, crossed", meta(5, 100, 1), meta(4, 200, 1), false},
		{"same origin, equal generation", meta(5, 100, 1), meta(5, 200, 1), false},
		{"same origin, identical", meta(5, 100, 1), meta(5, 100, 1), false},
		{"equal generation", meta(5, 100, 1), meta(5, 200, 2), true},
		{"equal LUT", meta(5, 100, 1), meta(6, 100, 2), true},
		{"equal generation and LUT", meta(5, 100, 1), meta(5, 100, 2), true},
		{"higher generation, earlier LUT", meta(6, 100, 1), meta(5, 200, 2), true},
		{"lower generation, later LUT", meta(5, 200, 1), meta(6, 100, 2), true},
		{"a ahead in both", meta(6, 200, 1), meta(5, 100, 2), false},
		{"b ahead in both", meta(5, 100, 1), meta(6, 200, 2), false},
		{"far ahead in both", meta(100, 9000, 3), meta(1, 1, 200), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := conflict.Concurrent(tt.a, tt.b); got != tt.want {
				t.Errorf("Concurrent(a, b) = %v, want %v", got, tt.want)
			}
			if got := conflict.Concurrent(tt.b, tt.a); got != tt.want {
				t.Errorf("Concurrent(b, a) = %v, want %v (must be symmetric)", got, tt.want)
			}
		})
	}
}
