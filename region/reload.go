package region

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/xdrd/xdrd/topology"
)

// reloads are the metrics of topology reloads.
type reloads struct {
	ok   prometheus.Gauge
	when prometheus.Gauge
}

func newReloads(reg prometheus.Registerer) *reloads {
	r := &reloads{
		ok: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "xdrd_config_last_reload_successful",
			Help: "1 if the last topology reload was applied, 0 if it was refused.",
		}),
		when: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "xdrd_config_last_reload_success_timestamp_seconds",
			Help: "When the topology in force was loaded, in unix seconds.",
		}),
	}
	r.ok.Set(1)
	r.when.Set(float64(time.Now().Unix()))
	reg.MustRegister(r.ok, r.when)
	return r
}

// ReloadFile reads the topology file again and, when it is valid and
// still names this region, restarts shippers and appliers on it. When it is
// not, the topology in force stays and the error says every problem.
func (d *Daemon) ReloadFile(path string) error {
	t, err := topology.Load(path)
	if err == nil {
		err = d.Reload(t)
	}
	if err != nil {
		d.reloads.ok.Set(0)
		d.log.Warn("topology reload refused, keeping the one in force",
			zap.String("topology", path), zap.Error(err))
		return fmt.Errorf("reload %s: %w", path, err)
	}
	d.reloads.ok.Set(1)
	d.reloads.when.Set(float64(time.Now().Unix()))
	d.log.Info("topology reloaded", zap.String("topology", path))
	return nil
}
