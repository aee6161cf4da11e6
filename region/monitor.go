package region

import (
	"context"
	"maps"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/xdrd/xdrd/lag"
	"github.com/xdrd/xdrd/topology"
)

// monitorEvery is how often lag is measured and alerts are evaluated.
const monitorEvery = time.Second

// monitor measures the lag of every incoming link this member applies
// once a second, exports it and feeds the lag alerts of the namespaces
// that configure them.
func (d *Daemon) monitor(ctx context.Context) {
	tick := time.NewTicker(d.monitorEvery())
	defer tick.Stop()
	for {
		d.observe(d.Topology())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (d *Daemon) monitorEvery() time.Duration {
	if d.cfg.Tuning.Monitor > 0 {
		return d.cfg.Tuning.Monitor
	}
	return monitorEvery
}

// observe measures every link once. A link that was observed before and
// is gone now — the topology was reloaded without it — has its alerts
// resolved and forgotten.
func (d *Daemon) observe(t *topology.Topology) {
	d.mu.Lock()
	appliers := maps.Clone(d.appliers)
	d.mu.Unlock()

	seen := make(map[lag.Link]bool)
	defer func() {
		for link := range d.observed {
			if !seen[link] {
				d.alerts.Forget(link)
			}
		}
		d.observed = seen
	}()
	for source, a := range appliers {
		for _, s := range a.Report() {
			ns, ok := t.Namespace(s.Namespace)
			if !ok || ns.LagAlert == nil {
				continue
			}
			link := lag.Link{Namespace: s.Namespace, Source: source, Destination: d.region.Name}
			seen[link] = true
			d.alerts.Observe(link, s.Lag, s.Cause, lag.Thresholds{
				Warning:  ns.LagAlert.Warning.Std(),
				Critical: ns.LagAlert.Critical.Std(),
				For:      ns.LagAlert.For.Std(),
			})
		}
	}
}

// alertState is the link's worst lag alert state, as /v1/status shows it:
// "firing critical", "pending warning", ..., or "inactive".
func (d *Daemon) alertState(link lag.Link) string {
	states := d.alerts.States(link)
	for _, sev := range []lag.Severity{lag.Critical, lag.Warning} {
		if st := states[sev]; st == lag.Firing {
			return string(st) + " " + string(sev)
		}
	}
	for _, sev := range []lag.Severity{lag.Critical, lag.Warning} {
		if st := states[sev]; st != "" && st != lag.Inactive {
			return string(st) + " " + string(sev)
		}
	}
	return string(lag.Inactive)
}

// newAlerts builds the lag alert evaluator, pushing to the topology's
// Alertmanager when it names one.
func (d *Daemon) newAlerts() (*lag.Evaluator, *lag.Alertmanager, error) {
	var push *lag.Alertmanager
	if url := d.cfg.Topology.Alertmanager; url != "" {
		var err error
		push, err = lag.NewAlertmanager(url, &http.Client{Timeout: 10 * time.Second}, d.log)
		if err != nil {
			return nil, nil, err
		}
		d.log.Info("pushing lag alerts", zap.String("alertmanager", url))
	}
	ev := lag.NewEvaluator(lag.Config{
		Logger: d.log, Registerer: d.reg, Region: d.region.Name, Push: push,
	})
	return ev, push, nil
}
