package conflict_test

import (
	"cmp"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
)

// These properties are the convergence contract of DESIGN §2: any set of
// versions, delivered to any number of regions in any order with
// duplicates, leaves every region with the same winner.

var policies = []conflict.Policy{conflict.Generation, conflict.Timestamp}

// tuple is a version's identity: two versions with equal tuples are one.
type tuple struct {
	g record.Generation
	l record.LUT
	o record.RegionID
}

func tupleOf(m record.Meta) tuple { return tuple{m.Generation, m.LUT, m.Origin} }

// oracle orders a and b by the policy's tuple, written out independently of
// conflict.Compare.
func oracle(p conflict.Policy, a, b record.Meta) int {
	gen := cmp.Compare(a.Generation, b.Generation)
	lut := cmp.Compare(a.LUT, b.LUT)
	origin := cmp.Compare(a.Origin, b.Origin)
	if p == conflict.Timestamp {
		return cmp.Or(lut, gen, origin)
	}
	return cmp.Or(gen, lut, origin)
}

// metaGen draws metadata from narrow ranges, so that versions often tie on
// one or two fields and the tie-breaks are exercised.
func metaGen() *rapid.Generator[record.Meta] {
	return rapid.Custom(func(t *rapid.T) record.Meta {
		return record.Meta{
			Generation: record.Generation(rapid.Uint64Range(1, 4).Draw(t, "generation")),
			LUT:        record.LUT(rapid.Int64Range(1_000, 1_004).Draw(t, "lut")),
			Origin:     record.RegionID(rapid.Uint8Range(1, 3).Draw(t, "origin")),
			Expiry:     rapid.Int64Range(0, 2).Draw(t, "expiry"),
			Tombstone:  rapid.Bool().Draw(t, "tombstone"),
		}
	})
}

// wideMetaGen mixes narrow ranges with the whole range of every field.
func wideMetaGen() *rapid.Generator[record.Meta] {
	return rapid.Custom(func(t *rapid.T) record.Meta {
		g := rapid.OneOf(rapid.Uint64Range(0, 3), rapid.Uint64()).Draw(t, "generation")
		l := rapid.OneOf(rapid.Int64Range(-2, 2), rapid.Int64()).Draw(t, "lut")
		o := rapid.OneOf(rapid.Uint8Range(1, 3), rapid.Uint8()).Draw(t, "origin")
		return meta(record.Generation(g), record.LUT(l), record.RegionID(o))
	})
}

// distinctVersions draws 1–12 versions with pairwise different tuples.
func distinctVersions(t *rapid.T) []record.Meta {
	return rapid.SliceOfNDistinct(metaGen(), 1, 12, tupleOf).Draw(t, "versions")
}

// deliveries draws one replica's inbox: every version at least once, in a
// random order, plus random duplicates at random places.
func deliveries(t *rapid.T, versions []record.Meta, label string) []record.Meta {
	inbox := rapid.Permutation(versions).Draw(t, label+"-order")
	extra := rapid.IntRange(0, 2*len(versions)).Draw(t, label+"-duplicates")
	for range extra {
		v := rapid.SampledFrom(versions).Draw(t, label+"-duplicate")
		at := rapid.IntRange(0, len(inbox)).Draw(t, label+"-at")
		inbox = slices.Insert(inbox, at, v)
	}
	return inbox
}

// replica applies incoming versions the way an applier does.
type replica struct {
	policy conflict.Policy
	held   *record.Meta
}

func (r *replica) apply(t *rapid.T, m record.Meta) conflict.Outcome {
	out := conflict.Resolve(r.policy, r.held, m)
	switch out {
	case conflict.Applied:
		r.held = &m
	case conflict.Duplicate:
		// Distinct tuples make a duplicate the very version held.
		if *r.held != m {
			t.Fatalf("Duplicate for %+v while holding %+v", m, *r.held)
		}
	case conflict.RejectedOlder:
	default:
		t.Fatalf("Resolve returned %v", out)
	}
	return out
}

func forEachPolicy(t *testing.T, prop func(p conflict.Policy) func(*rapid.T)) {
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) { rapid.Check(t, prop(p)) })
	}
}

func TestPropertyConvergence(t *testing.T) {
	forEachPolicy(t, func(p conflict.Policy) func(*rapid.T) {
		return func(t *rapid.T) {
			versions := distinctVersions(t)
			sorted := slices.Clone(versions)
			slices.SortFunc(sorted, func(a, b record.Meta) int { return oracle(p, a, b) })
			want := sorted[len(sorted)-1]

			n := rapid.IntRange(2, 5).Draw(t, "replicas")
			for i := range n {
				r := &replica{policy: p}
				for _, m := range deliveries(t, versions, "replica") {
					r.apply(t, m)
				}
				if r.held == nil || *r.held != want {
					t.Fatalf("replica %d holds %+v, want the maximum %+v", i, r.held, want)
				}
			}
		}
	})
}

func TestPropertyTombstoneNotUndone(t *testing.T) {
	forEachPolicy(t, func(p conflict.Policy) func(*rapid.T) {
		return func(t *rapid.T) {
			versions := distinctVersions(t)
			r := &replica{policy: p}
			for _, m := range deliveries(t, versions, "replica") {
				before := r.held
				out := r.apply(t, m)
				if before == nil || !before.Tombstone {
					continue
				}
				if conflict.Compare(p, m, *before) < 0 {
					if out != conflict.RejectedOlder || *r.held != *before {
						t.Fatalf("older %+v replaced tombstone %+v (%v)", m, *before, out)
					}
				}
				if oracle(p, *r.held, *before) < 0 {
					t.Fatalf("replica went back from %+v to %+v", *before, *r.held)
				}
			}
		}
	})
}

func TestPropertyCompareTotalOrder(t *testing.T) {
	forEachPolicy(t, func(p conflict.Policy) func(*rapid.T) {
		return func(t *rapid.T) {
			gen := rapid.OneOf(metaGen(), wideMetaGen())
			a, b, c := gen.Draw(t, "a"), gen.Draw(t, "b"), gen.Draw(t, "c")
			ab, ba := conflict.Compare(p, a, b), conflict.Compare(p, b, a)
			bc, ac := conflict.Compare(p, b, c), conflict.Compare(p, a, c)

			if ab < -1 || ab > 1 {
				t.Fatalf("Compare = %d, want -1, 0 or 1", ab)
			}
			if conflict.Compare(p, a, a) != 0 {
				t.Fatalf("Compare(a, a) != 0 for %+v", a)
			}
			if ab != -ba {
				t.Fatalf("not antisymmetric: Compare(a, b) = %d, Compare(b, a) = %d", ab, ba)
			}
			if (ab == 0) != (tupleOf(a) == tupleOf(b)) {
				t.Fatalf("Compare(%+v, %+v) = %d: 0 must mean equal tuples", a, b, ab)
			}
			if ab >= 0 && bc >= 0 && ac < max(ab, bc) {
				t.Fatalf("not transitive: a?b=%d b?c=%d a?c=%d for %+v %+v %+v",
					ab, bc, ac, a, b, c)
			}
			if ab <= 0 && bc <= 0 && ac > min(ab, bc) {
				t.Fatalf("not transitive: a?b=%d b?c=%d a?c=%d for %+v %+v %+v",
					ab, bc, ac, a, b, c)
			}
			if want := oracle(p, a, b); ab != want {
				t.Fatalf("Compare(%+v, %+v) = %d, the tuple order says %d", a, b, ab, want)
			}
		}
	})
}
