package applier

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrd/xdrd/conflict"
)

// Metrics are the appliers' Prometheus series. One Metrics serves every
// applier of a daemon; labels say which link and namespace.
type Metrics struct {
	applied  *prometheus.CounterVec
	conflict *prometheus.CounterVec
	rejected *prometheus.CounterVec
	skipped  *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	lag      *prometheus.GaugeVec
	skew     *prometheus.GaugeVec
	paused   *prometheus.GaugeVec
}

// NewMetrics registers the appliers' series with reg; destination is this
// region.
func NewMetrics(reg prometheus.Registerer, destination string) *Metrics {
	constant := prometheus.Labels{"destination": destination}
	m := &Metrics{
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "xdrd_records_applied_total",
			Help:        "Replicated records handled by the store, by outcome.",
			ConstLabels: constant,
		}, []string{"namespace", "source", "outcome"}),
		conflict: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "xdrd_conflicts_total",
			Help:        "Replicated records that were concurrent with the stored version.",
			ConstLabels: constant,
		}, []string{"namespace", "source"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "xdrd_frames_rejected_total",
			Help:        "Frames refused and copied to the dead-letter stream, by reason.",
			ConstLabels: constant,
		}, []string{"source", "reason"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "xdrd_records_skipped_total",
			Help:        "Replicated records not applied because they would loop, by reason.",
			ConstLabels: constant,
		}, []string{"namespace", "source", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "xdrd_replication_latency_seconds",
			Help:        "Time from a record's write (its last-update time) to its remote apply.",
			ConstLabels: constant,
			Buckets:     prometheus.ExponentialBuckets(0.0005, 2, 18),
		}, []string{"namespace", "source"}),
	}
	m.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name:        "xdrd_replication_lag_seconds",
		Help:        "Age of the oldest change this region has not applied from the source.",
		ConstLabels: constant,
	}, []string{"namespace", "source"})
	m.skew = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name:        "xdrd_clock_skew_seconds",
		Help:        "Source's heartbeat send time minus its arrival here; positive: source ahead.",
		ConstLabels: constant,
	}, []string{"source"})
	m.paused = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name:        "xdrd_link_paused",
		Help:        "1 while an operator has paused applying the link.",
		ConstLabels: constant,
	}, []string{"source"})
	reg.MustRegister(m.applied, m.conflict, m.rejected, m.skipped, m.latency,
		m.lag, m.skew, m.paused)
	return m
}

// outcome returns the counter of one outcome, for the hot path.
func (m *Metrics) outcome(ns, source string, o conflict.Outcome) prometheus.Counter {
	return m.applied.WithLabelValues(ns, source, o.String())
}
