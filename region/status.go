package region

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrd/xdrd/internal/version"
)

// Status is the daemon's state as /v1/status reports it.
type Status struct {
	Region string     `json:"region"`
	Raft   RaftStatus `json:"raft"`
	// Replicating is true while this member runs shippers and appliers.
	Replicating bool   `json:"replicating"`
	Links       []Link `json:"links"`
}

// RaftStatus is this member's place in the region's raft group.
type RaftStatus struct {
	Role string `json:"role"`
	Term uint64 `json:"term"`
}

// Link is one namespace of one incoming link, as this region sees it.
type Link struct {
	Namespace   string `json:"namespace"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// LagSeconds is null until every shard of the link has been heard from.
	LagSeconds    *float64 `json:"lag_seconds"`
	Applied       int64    `json:"applied"`
	RejectedOlder int64    `json:"rejected_older"`
	Duplicate     int64    `json:"duplicate"`
	Conflicts     int64    `json:"conflicts"`
}

// Status reports the raft role and the progress of every incoming link.
// Lag is how long ago the oldest shard's newest applied frame was sent,
// less one heartbeat interval: about 0 on a current link, rising one second
// per second on a stalled one.
func (d *Daemon) Status() Status {
	s := Status{
		Region: d.region.Name,
		Raft:   RaftStatus{Role: d.raft.State(), Term: d.raft.Term()},
		Links:  []Link{},

		Replicating: d.Replicating(),
	}
	heartbeat := d.cfg.Tuning.Heartbeat
	if heartbeat <= 0 {
		heartbeat = time.Second
	}
	t := d.Topology()

	d.mu.Lock()
	defer d.mu.Unlock()
	for _, src := range t.Regions {
		a, ok := d.appliers[src.Name]
		if !ok {
			continue
		}
		for _, ns := range a.Namespaces() {
			p := a.Progress(ns)
			l := Link{
				Namespace: ns, Source: src.Name, Destination: d.region.Name,
				Applied: p.Applied, RejectedOlder: p.RejectedOlder,
				Duplicate: p.Duplicate, Conflicts: p.Conflicts,
			}
			if !p.Current.IsZero() {
				lag := max(0, time.Since(p.Current).Seconds()-heartbeat.Seconds())
				l.LagSeconds = &lag
			}
			s.Links = append(s.Links, l)
		}
	}
	return s
}

func buildInfo() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "xdrd_build_info",
		Help: "Always 1; labels name the build.",
		ConstLabels: prometheus.Labels{
			"version": version.Version, "commit": version.Commit(), "goversion": version.Go(),
		},
	})
	g.Set(1)
	return g
}
