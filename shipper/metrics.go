package shipper

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the shipper's Prometheus series. One Metrics serves every
// shipper of a daemon; labels say which namespace.
type Metrics struct {
	shipped   *prometheus.CounterVec
	frames    *prometheus.CounterVec
	coalesced *prometheus.CounterVec
	failures  *prometheus.CounterVec
	recovery  *prometheus.CounterVec
	pending   *prometheus.GaugeVec
}

// NewMetrics registers the shipper's series with reg.
func NewMetrics(reg prometheus.Registerer, source string) *Metrics {
	constant := prometheus.Labels{"source": source}
	m := &Metrics{
		shipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "xdrd_records_shipped_total",
			Help:        "Records published to the source stream and acknowledged by JetStream.",
			ConstLabels: constant,
		}, []string{"namespace"}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "xdrd_frames_shipped_total",
			Help:        "Frames acknowledged by JetStream, heartbeats included.",
			ConstLabels: constant,
		}, []string{"namespace"}),
		coalesced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "xdrd_records_coalesced_total",
			Help:        "Writes of a hot key replaced by a later write of it in the same batch.",
			ConstLabels: constant,
		}, []string{"namespace"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "xdrd_publish_failures_total",
			Help:        "Publishes that failed; the shipper rewinds to its checkpoint.",
			ConstLabels: constant,
		}, []string{"namespace"}),
		recovery: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "xdrd_recovery_scans_total",
			Help:        "Partition scans run because the change log was trimmed past a checkpoint.",
			ConstLabels: constant,
		}, []string{"namespace"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name:        "xdrd_unshipped_records",
			Help:        "Changes in the local change log not yet acknowledged by JetStream.",
			ConstLabels: constant,
		}, []string{"namespace"}),
	}
	reg.MustRegister(m.shipped, m.frames, m.coalesced, m.failures, m.recovery, m.pending)
	return m
}
