package checkpoint

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the raft group's series as this member sees them.
type metrics struct {
	leaderChanges prometheus.Counter
	role          *prometheus.GaugeVec
	commit        prometheus.Histogram
	refused       *prometheus.CounterVec
}

// Reasons a staged cursor is not committed, the values of the reason label
// of xdrd_checkpoint_refused_total.
const (
	// reasonStale: staged in an earlier term, or relayed by a member that
	// does not own the shard.
	reasonStale = "stale"
	// reasonFenced: proposed, and refused by the state machine because a
	// later term had already been applied.
	reasonFenced = "fenced"
)

// roles are the values of the role label, so that every one is exported
// and exactly one is 1.
var roles = []string{"leader", "follower", "candidate", "shutdown"}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xdrd_raft_leader_changes_total",
			Help: "Leader changes this member observed in its region's raft group.",
		}),
		role: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "xdrd_raft_role",
			Help: "1 for this member's current raft role, 0 for the others.",
		}, []string{"role"}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "xdrd_checkpoint_commit_seconds",
			Help:    "Time to commit one batch of checkpoints through raft.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xdrd_checkpoint_refused_total",
			Help: "Staged cursors this member did not commit because they were stale or fenced.",
		}, []string{"reason"}),
	}
	for _, r := range []string{reasonStale, reasonFenced} {
		m.refused.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.leaderChanges, m.role, m.commit, m.refused)
	}
	return m
}

func (m *metrics) setRole(role string) {
	for _, r := range roles {
		v := 0.0
		if r == role {
			v = 1
		}
		m.role.WithLabelValues(r).Set(v)
	}
}
