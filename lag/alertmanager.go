package lag

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// AlertName is the alertname label of every pushed lag alert.
const AlertName = "XdrdReplicationLag"

const (
	// queueSize bounds the notices waiting to be pushed; more are dropped.
	queueSize = 256
	// requestTimeout bounds one POST.
	requestTimeout = 10 * time.Second
	// flushTimeout bounds how long Close waits for queued notices.
	flushTimeout = 5 * time.Second
	// warnEvery is the least time between two push failure logs.
	warnEvery = 30 * time.Second
)

// Alertmanager pushes lag alerts to an Alertmanager's API v2 from a
// background goroutine, so that the Evaluator never waits on the network.
//
// A failed push is not retried: a firing alert is pushed again at the next
// resend, and a lost resolution leaves the alert active in Alertmanager
// until its resolve_timeout (five minutes by default) ends it.
type Alertmanager struct {
	endpoint string
	client   *http.Client
	log      *zap.Logger
	failures *prometheus.CounterVec
	flush    time.Duration

	queue  chan notice
	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool

	warnMu     sync.Mutex
	lastWarn   time.Time
	suppressed int
}

// notice is one alert state to push.
type notice struct {
	region           string
	link             Link
	severity         Severity
	threshold, lag   time.Duration
	cause            string
	startsAt, endsAt time.Time // endsAt is zero while firing
}

// NewAlertmanager returns a pusher to the Alertmanager at rawURL (http or
// https, without the /api/v2 path) and starts its goroutine; Close stops
// it. A nil client means a default one; a nil log discards messages. Its
// failure counter is registered by the Evaluator it is given to.
func NewAlertmanager(rawURL string, client *http.Client, log *zap.Logger) (*Alertmanager, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse alertmanager url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("alertmanager url %q: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("alertmanager url %q: no host", u.Redacted())
	}
	if client == nil {
		client = &http.Client{}
	}
	if log == nil {
		log = zap.NewNop()
	}

	am := &Alertmanager{
		endpoint: strings.TrimSuffix(u.String(), "/") + "/api/v2/alerts",
		client:   client,
		log:      log.With(zap.String("url", u.Redacted())),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xdrd_alertmanager_push_failures_total",
			Help: "Lag alerts that could not be pushed to Alertmanager, by reason.",
		}, []string{"reason"}),
		flush: flushTimeout,
		queue: make(chan notice, queueSize),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	for _, reason := range []string{"queue_full", "request", "status"} {
		am.failures.WithLabelValues(reason)
	}
	am.ctx, am.cancel = context.WithCancel(context.Background())
	go am.run()
	return am, nil
}

// Close pushes what is queued, waiting at most a few seconds, then stops
// the goroutine and closes the client's idle connections. Notices handed
// over after Close are dropped.
func (am *Alertmanager) Close() {
	am.mu.Lock()
	if !am.closed {
		am.closed = true
		close(am.stop)
	}
	am.mu.Unlock()

	timer := time.NewTimer(am.flush)
	defer timer.Stop()
	select {
	case <-am.done:
	case <-timer.C:
		am.cancel()
		<-am.done
	}
	am.cancel()
	am.client.CloseIdleConnections()
}

// enqueue hands n to the goroutine without waiting.
func (am *Alertmanager) enqueue(n notice) {
	am.mu.Lock()
	defer am.mu.Unlock()
	if am.closed {
		return
	}
	select {
	case am.queue <- n:
	default:
		am.fail("queue_full", errors.New("push queue full, alert dropped"), n)
	}
}

// run pushes notices until Close, then drains the queue.
func (am *Alertmanager) run() {
	defer close(am.done)
	for {
		select {
		case n := <-am.queue:
			am.post(n)
		case <-am.stop:
			for {
				select {
				case n := <-am.queue:
					am.post(n)
				default:
					return
				}
			}
		}
	}
}

// post sends one notice as a one-alert array.
func (am *Alertmanager) post(n notice) {
	body, err := json.Marshal([]postableAlert{n.payload()})
	if err != nil {
		am.fail("request", fmt.Errorf("encode alert: %w", err), n)
		return
	}
	ctx, cancel := context.WithTimeout(am.ctx, requestTimeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, am.endpoint,
		bytes.NewReader(body))
	if err != nil {
		am.fail("request", fmt.Errorf("build request: %w", err), n)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := am.client.Do(req)
	if err != nil {
		am.fail("request", fmt.Errorf("post alert: %w", err), n)
		return
	}
	defer resp.Body.Close()

	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		am.fail("status", fmt.Errorf("post alert: %s: %s", resp.Status,
			strings.TrimSpace(string(reply))), n)
	}
}

// fail counts a failed push and logs it, at most once per warnEvery.
func (am *Alertmanager) fail(reason string, err error, n notice) {
	am.failures.WithLabelValues(reason).Inc()

	am.warnMu.Lock()
	defer am.warnMu.Unlock()
	if !am.lastWarn.IsZero() && time.Since(am.lastWarn) < warnEvery {
		am.suppressed++
		return
	}
	am.log.Warn("push lag alert to alertmanager", zap.Error(err),
		zap.String("namespace", n.link.Namespace),
		zap.String("source-region", n.link.Source),
		zap.String("destination-region", n.link.Destination),
		zap.String("severity", string(n.severity)),
		zap.Int("suppressed", am.suppressed))
	am.lastWarn, am.suppressed = time.Now(), 0
}

// postableAlert is one element of the body of POST /api/v2/alerts.
type postableAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt,omitzero"`
}

// payload renders n as Alertmanager expects it. The labels identify the
// alert: a resolution carries the same ones as the firing alert it ends.
func (n notice) payload() postableAlert {
	summary := fmt.Sprintf("replication lag of namespace %s from %s to %s is above "+
		"the %s threshold", n.link.Namespace, n.link.Source, n.link.Destination, n.severity)
	if !n.endsAt.IsZero() {
		summary = fmt.Sprintf("replication lag of namespace %s from %s to %s is back "+
			"below the %s threshold", n.link.Namespace, n.link.Source, n.link.Destination,
			n.severity)
	}
	cause := cmp.Or(n.cause, "none reported")

	return postableAlert{
		Labels: map[string]string{
			"alertname":   AlertName,
			"severity":    string(n.severity),
			"namespace":   n.link.Namespace,
			"source":      n.link.Source,
			"destination": n.link.Destination,
			"region":      n.region,
		},
		Annotations: map[string]string{
			"summary": summary,
			"description": fmt.Sprintf("lag %s (threshold %s), cause: %s",
				n.lag.Round(time.Millisecond), n.threshold, cause),
		},
		StartsAt: n.startsAt,
		EndsAt:   n.endsAt,
	}
}
