package lag

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// DefaultResend is how often a firing alert is pushed again when
// Config.Resend is zero. It is well below Alertmanager's default
// resolve_timeout of five minutes.
const DefaultResend = time.Minute

// Config is what an Evaluator needs.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives every transition at warn; nil discards them.
	Logger *zap.Logger
	// Registerer receives xdrd_lag_alert_firing and, with Push,
	// xdrd_alertmanager_push_failures_total; nil registers nothing.
	Registerer prometheus.Registerer
	// Region is the evaluating region: the "region" label of pushed alerts.
	Region string
	// Push, when not nil, receives firing and resolved alerts. The
	// Evaluator does not close it.
	Push *Alertmanager
	// Resend is how often an alert that keeps firing is pushed again, so
	// that Alertmanager does not resolve it on its own; zero means
	// DefaultResend.
	Resend time.Duration
}

// Evaluator keeps the lag alert state of every link. It is safe for
// concurrent use.
type Evaluator struct {
	now    func() time.Time
	log    *zap.Logger
	region string
	push   *Alertmanager
	resend time.Duration
	firing *prometheus.GaugeVec

	mu    sync.Mutex
	links map[Link]*[len(severities)]alert
}

// alert is one severity of one link.
type alert struct {
	state State
	// since is when state was entered.
	since time.Time
	// firedAt is when the alert last entered Firing; zero before that.
	firedAt time.Time
	// pushedAt is when the alert was last handed to the Alertmanager.
	pushedAt time.Time
	// lag, cause and limit (the threshold) are from the latest observation.
	lag   time.Duration
	cause string
	limit time.Duration
}

// NewEvaluator returns an Evaluator with every link inactive.
func NewEvaluator(cfg Config) *Evaluator {
	e := &Evaluator{
		now:    cfg.Now,
		log:    cfg.Logger,
		region: cfg.Region,
		push:   cfg.Push,
		resend: cmp.Or(cfg.Resend, DefaultResend),
		firing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "xdrd_lag_alert_firing",
			Help: "1 while the lag alert of a link and severity is firing, else 0.",
		}, []string{"namespace", "source", "destination", "severity"}),
		links: make(map[Link]*[len(severities)]alert),
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = zap.NewNop()
	}

	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(e.firing)
	if e.push != nil {
		reg.MustRegister(e.push.failures)
	}
	return e
}

// Observe evaluates link's current lag against th. cause says why the link
// lags, if known; it is logged and pushed with the alert. The daemon calls
// Observe about once a second for every link.
func (e *Evaluator) Observe(link Link, lag time.Duration, cause string, th Thresholds) {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()

	alerts, ok := e.links[link]
	if !ok {
		alerts = new([len(severities)]alert)
		for i, sev := range severities {
			alerts[i] = alert{state: Inactive, since: now}
			e.gauge(link, sev).Set(0)
		}
		e.links[link] = alerts
	}

	for i, sev := range severities {
		a := &alerts[i]
		a.lag, a.cause, a.limit = lag, cause, th.threshold(sev)
		e.step(link, sev, a, th.For, now)
	}
}

// step moves one alert through its state machine.
func (e *Evaluator) step(link Link, sev Severity, a *alert, hold time.Duration, now time.Time) {
	above := a.limit > 0 && a.lag >= a.limit
	switch {
	case a.state == Firing && !above:
		e.enter(link, sev, a, Resolved, now)
		e.notify(link, sev, a, now)
	case a.state == Firing:
		if now.Sub(a.pushedAt) >= e.resend {
			e.notify(link, sev, a, now)
		}
	case !above:
		if a.state != Inactive {
			e.enter(link, sev, a, Inactive, now)
		}
	default:
		if a.state != Pending {
			e.enter(link, sev, a, Pending, now)
		}
		if now.Sub(a.since) >= hold {
			e.enter(link, sev, a, Firing, now)
			a.firedAt = now
			e.notify(link, sev, a, now)
		}
	}
}

// enter moves a to state to, logs the transition and keeps the gauge in
// step.
func (e *Evaluator) enter(link Link, sev Severity, a *alert, to State, now time.Time) {
	from := a.state
	a.state, a.since = to, now
	if from == Firing || to == Firing {
		firing := 0.0
		if to == Firing {
			firing = 1
		}
		e.gauge(link, sev).Set(firing)
	}

	e.log.Warn("lag alert changed state",
		zap.String("namespace", link.Namespace),
		zap.String("source-region", link.Source),
		zap.String("destination-region", link.Destination),
		zap.String("severity", string(sev)),
		zap.String("state", string(from)+"->"+string(to)),
		zap.Float64("lag-seconds", a.lag.Seconds()),
		zap.Float64("threshold-seconds", a.limit.Seconds()),
		zap.String("cause", a.cause))
}

// notify hands a firing or resolved alert to the Alertmanager, if any.
func (e *Evaluator) notify(link Link, sev Severity, a *alert, now time.Time) {
	if e.push == nil {
		return
	}
	a.pushedAt = now

	n := notice{
		region: e.region, link: link, severity: sev,
		threshold: a.limit, lag: a.lag, cause: a.cause, startsAt: a.firedAt,
	}
	if a.state == Resolved {
		n.endsAt = now
	}
	e.push.enqueue(n)
}

// gauge returns the firing gauge of one link and severity.
func (e *Evaluator) gauge(link Link, sev Severity) prometheus.Gauge {
	return e.firing.WithLabelValues(link.Namespace, link.Source, link.Destination, string(sev))
}

// States returns the state of each severity of link's alert. A link never
// observed, or forgotten, is inactive.
func (e *Evaluator) States(link Link) map[Severity]State {
	e.mu.Lock()
	defer e.mu.Unlock()

	states := make(map[Severity]State, len(severities))
	alerts := e.links[link]
	for i, sev := range severities {
		states[sev] = Inactive
		if alerts != nil {
			states[sev] = alerts[i].state
		}
	}
	return states
}

// Alerts returns every alert that is not inactive, ordered by link and
// then severity (warning first).
func (e *Evaluator) Alerts() []Alert {
	e.mu.Lock()
	var out []Alert
	for link, alerts := range e.links {
		for i, sev := range severities {
			a := alerts[i]
			if a.state == Inactive {
				continue
			}
			out = append(out, Alert{
				Link: link, Severity: sev, State: a.state,
				Since: a.since, Lag: a.lag, Cause: a.cause,
			})
		}
	}
	e.mu.Unlock()

	slices.SortFunc(out, func(x, y Alert) int {
		return cmp.Or(
			cmp.Compare(x.Namespace, y.Namespace),
			cmp.Compare(x.Source, y.Source),
			cmp.Compare(x.Destination, y.Destination),
			cmp.Compare(slices.Index(severities[:], x.Severity),
				slices.Index(severities[:], y.Severity)))
	})
	return out
}

// Forget drops link, which is no longer in the topology. A firing alert is
// resolved first (and pushed as such); a pending one becomes inactive.
func (e *Evaluator) Forget(link Link) {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()

	alerts, ok := e.links[link]
	if !ok {
		return
	}
	for i, sev := range severities {
		a := &alerts[i]
		a.cause = "link removed from the topology"
		switch a.state {
		case Firing:
			e.enter(link, sev, a, Resolved, now)
			e.notify(link, sev, a, now)
		case Pending:
			e.enter(link, sev, a, Inactive, now)
		}
		e.firing.DeleteLabelValues(link.Namespace, link.Source, link.Destination, string(sev))
	}
	delete(e.links, link)
}
