// Package conflict decides which of two versions of a record wins. It is
// one pure function over record metadata with a documented total order, so
// that every region, given the same versions in any order, keeps the same
// winner.
package conflict

import (
	"fmt"

	"github.com/xdrd/xdrd/record"
)

// Policy names the order in which versions are compared.
type Policy uint8

const (
	// Generation compares (generation, last-update time, origin). It is the
	// default: a record written more often wins over one written less often.
	Generation Policy = iota
	// Timestamp compares (last-update time, generation, origin): the latest
	// write wins.
	Timestamp
)

// Policies lists the valid policy names in the order of their values.
var Policies = []string{"generation", "timestamp"}

// ParsePolicy turns a topology's policy name into a Policy.
func ParsePolicy(name string) (Policy, error) {
	for i, n := range Policies {
		if n == name {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown policy %q (valid: generation, timestamp)", name)
}

// String returns the policy's topology name.
func (p Policy) String() string {
	if int(p) < len(Policies) {
		return Policies[p]
	}
	return fmt.Sprintf("policy(%d)", p)
}

// Compare orders two versions by the policy's tuple, highest first:
// it returns +1 when a wins over b, -1 when b wins, and 0 when the tuples are
// equal, which means they are the same version. The tie-break chain ends on
// the origin region, and one region's clock never hands out the same LUT
// twice, so two different versions never compare equal: the order is total.
func Compare(p Policy, a, b record.Meta) int {
	first, second := cmp(uint64(a.Generation), uint64(b.Generation)), cmpLUT(a.LUT, b.LUT)
	if p == Timestamp {
		first, second = second, first
	}
	if first != 0 {
		return first
	}
	if second != 0 {
		return second
	}
	return cmp(uint64(a.Origin), uint64(b.Origin))
}

// Concurrent reports whether two different versions provably did not see
// each other: they come from different regions and neither is ahead of the
// other in both generation and last-update time. A write made on top of a
// version always is ahead in both, because a local write increments the
// generation and the hybrid clock moves past every LUT it has seen. Two
// concurrent versions are a conflict: one of them loses.
//
// Versions where one is ahead in both may still have been concurrent; they
// are not counted, so the conflict count is a lower bound.
func Concurrent(a, b record.Meta) bool {
	if a.Origin == b.Origin {
		return false
	}
	g, l := cmp(uint64(a.Generation), uint64(b.Generation)), cmpLUT(a.LUT, b.LUT)
	return g == 0 || l == 0 || g != l
}

func cmp(a, b uint64) int {
	switch {
	case a > b:
		return 1
	case a < b:
		return -1
	}
	return 0
}

func cmpLUT(a, b record.LUT) int {
	switch {
	case a > b:
		return 1
	case a < b:
		return -1
	}
	return 0
}
