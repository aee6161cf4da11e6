package conflict

import "github.com/xdrd/xdrd/record"

// Outcome is what applying an incoming version to a stored one does.
type Outcome uint8

const (
	// Applied: the incoming version won and replaced the stored one (or
	// there was none).
	Applied Outcome = iota
	// RejectedOlder: the stored version wins; the incoming one is dropped.
	RejectedOlder
	// Duplicate: the incoming version is the stored version; nothing changes.
	Duplicate

	// NumOutcomes is the number of outcomes, for arrays indexed by them.
	NumOutcomes = 3
)

// Outcomes lists outcome names in the order of their values, as they
// appear in metric labels.
var Outcomes = []string{"applied", "rejected_older", "duplicate"}

// String returns the outcome's metric label.
func (o Outcome) String() string {
	if int(o) < len(Outcomes) {
		return Outcomes[o]
	}
	return "unknown"
}

// Resolve decides what an incoming version does to the stored one, which
// is nil when the store holds no version of the record.
func Resolve(p Policy, stored *record.Meta, incoming record.Meta) Outcome {
	if stored == nil {
		return Applied
	}
	switch Compare(p, incoming, *stored) {
	case 1:
		return Applied
	case 0:
		return Duplicate
	}
	return RejectedOlder
}
