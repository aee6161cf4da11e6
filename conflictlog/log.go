package conflictlog

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// Publisher stores an encoded entry in region's XDRD_CONFLICTS, on the
// subject of namespace, without waiting for the ack. transport.Conn
// implements it.
type Publisher interface {
	PublishConflictAsync(region, namespace, msgID string,
		data []byte) (jetstream.PubAckFuture, error)
}

// Defaults of a Log.
const (
	// DefaultQueueSize is how many entries wait to be published before
	// Record drops new ones.
	DefaultQueueSize = 4096
	// DefaultInFlight is how many published entries wait for their ack.
	// It stays well below transport's PublishMaxPending (256), a window
	// that a Conn's shippers share with the log.
	DefaultInFlight = 64
	// DefaultFlushTimeout bounds how long Close waits for queued entries.
	DefaultFlushTimeout = 5 * time.Second
)

// warnInterval is the least time between two warnings about dropped
// entries.
const warnInterval = 10 * time.Second

// Log publishes the conflicts of one region in the background. Record
// never blocks; Close flushes. A Log is safe for concurrent use.
type Log struct {
	pub     Publisher
	region  string
	log     *zap.Logger
	metrics *metrics
	now     func() time.Time
	flush   time.Duration

	warn       rate.Sometimes
	unreported atomic.Int64 // drops since the last warning

	mu     sync.RWMutex
	closed bool
	queue  chan Entry // closed by Close

	acks  chan pending  // closed by publishLoop
	abort chan struct{} // closed when Close gives up waiting
	done  chan struct{} // closed when ackLoop, the last one, ends
}

// pending is a published entry awaiting its ack.
type pending struct {
	future    jetstream.PubAckFuture
	namespace string
}

// New starts the Log of region, which publishes through pub and
// registers its metrics with reg. Close it before closing pub.
func New(pub Publisher, region string, reg prometheus.Registerer, log *zap.Logger) *Log {
	return newLog(pub, region, reg, log, DefaultQueueSize, DefaultInFlight, DefaultFlushTimeout)
}

// newLog is New with the sizes and the flush bound given.
func newLog(pub Publisher, region string, reg prometheus.Registerer, log *zap.Logger,
	queue, inFlight int, flush time.Duration) *Log {
	l := &Log{
		pub:     pub,
		region:  region,
		log:     log, // the caller's logger already names the region
		metrics: newMetrics(reg, region),
		now:     time.Now,
		flush:   flush,
		warn:    rate.Sometimes{First: 1, Interval: warnInterval},
		queue:   make(chan Entry, queue),
		acks:    make(chan pending, inFlight),
		abort:   make(chan struct{}),
		done:    make(chan struct{}),
	}
	go l.publishLoop()
	go l.ackLoop()
	return l
}

// Record queues e for publishing and returns at once: it is called on
// the apply path and never waits for NATS. A zero Time is set to now and
// an empty Region to the Log's.
//
// When the queue is full, because NATS is slow or away, e is dropped and
// counted in xdrd_conflict_log_dropped_total, with a rate-limited
// warning. The conflict itself is still not silent: the applier counts
// every conflict in xdrd_conflicts_total before it calls Record, so the
// two counters show how many conflicts the log lacks.
func (l *Log) Record(e Entry) {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	if e.Region == "" {
		e.Region = l.region
	}

	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.drop(reasonClosed, e.Namespace, nil)
		return
	}
	select {
	case l.queue <- e:
	default:
		l.drop(reasonQueueFull, e.Namespace, nil)
	}
}

// Close stops taking entries and waits for the queued ones to be
// published and acknowledged, for at most the flush bound (5s by
// default). Past it, what is left is dropped and counted; Close then
// still waits for a publish under way, which Publisher bounds (for
// transport.Conn, by PublishStallWait). Calling Close again does nothing.
func (l *Log) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	close(l.queue)
	l.mu.Unlock()

	timer := time.NewTimer(l.flush)
	defer timer.Stop()
	select {
	case <-l.done:
		return
	case <-timer.C:
	}
	close(l.abort)
	<-l.done
	l.log.Warn("conflict log closed before every entry was flushed",
		zap.Duration("took", l.flush))
}

// publishLoop encodes and publishes queued entries, handing each future
// to ackLoop. A full acks channel holds it back, which lets the queue
// fill and Record drop: the entries in flight stay bounded.
func (l *Log) publishLoop() {
	defer close(l.acks)
	for e := range l.queue {
		if l.aborted() {
			l.drop(reasonClosed, e.Namespace, nil)
			continue
		}
		data, err := e.Encode()
		if err != nil {
			l.drop(reasonInvalid, e.Namespace, err)
			continue
		}
		future, err := l.pub.PublishConflictAsync(e.Region, e.Namespace, MsgID(&e), data)
		if err != nil {
			l.drop(reasonPublish, e.Namespace, err)
			continue
		}
		select {
		case l.acks <- pending{future: future, namespace: e.Namespace}:
		case <-l.abort:
			l.drop(reasonClosed, e.Namespace, nil)
		}
	}
}

// ackLoop waits for each publish's ack and counts the outcome.
func (l *Log) ackLoop() {
	defer close(l.done)
	for p := range l.acks {
		select {
		case <-p.future.Ok():
			l.metrics.written.Inc()
		case err := <-p.future.Err():
			l.drop(reasonPublish, p.namespace, err)
		case <-l.abort:
			l.drop(reasonClosed, p.namespace, nil)
		}
	}
}

// aborted reports whether Close gave up waiting.
func (l *Log) aborted() bool {
	select {
	case <-l.abort:
		return true
	default:
		return false
	}
}

// drop counts an entry of namespace that will not be written, and warns
// at most once per warnInterval with the number dropped since the last
// warning. The key is left out of the warning on purpose.
func (l *Log) drop(reason, namespace string, cause error) {
	l.metrics.dropped.WithLabelValues(reason).Inc()
	l.unreported.Add(1)
	l.warn.Do(func() {
		l.log.Warn("conflict log entries dropped", zap.String("reason", reason),
			zap.String("namespace", namespace), zap.Int64("dropped", l.unreported.Swap(0)),
			zap.Error(cause))
	})
}

// Reasons an entry is dropped, the values of the reason label.
const (
	// reasonQueueFull: Record found the queue full.
	reasonQueueFull = "queue_full"
	// reasonPublish: the publish failed or was not acknowledged in time.
	reasonPublish = "publish_failed"
	// reasonInvalid: the entry did not pass Validate.
	reasonInvalid = "invalid"
	// reasonClosed: Record after Close, or Close gave up waiting.
	reasonClosed = "closed"
)

// metrics are a Log's Prometheus series. Labels are bounded: never a key,
// never a namespace, since the reasons above are all there is.
type metrics struct {
	written prometheus.Counter
	dropped *prometheus.CounterVec
}

// newMetrics registers a Log's series with reg; region is the deciding
// region, a constant label as on the appliers' series.
func newMetrics(reg prometheus.Registerer, region string) *metrics {
	constant := prometheus.Labels{"region": region}
	m := &metrics{
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        "xdrd_conflict_log_written_total",
			Help:        "Conflict entries acknowledged by the stream XDRD_CONFLICTS.",
			ConstLabels: constant,
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "xdrd_conflict_log_dropped_total",
			Help:        "Conflict entries not written to XDRD_CONFLICTS, by reason.",
			ConstLabels: constant,
		}, []string{"reason"}),
	}
	for _, r := range []string{reasonQueueFull, reasonPublish, reasonInvalid, reasonClosed} {
		m.dropped.WithLabelValues(r)
	}
	reg.MustRegister(m.written, m.dropped)
	return m
}
