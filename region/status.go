package region

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrd/xdrd/internal/version"
	"github.com/xdrd/xdrd/lag"
)

// Status is the daemon's state as /v1/status reports it.
type Status struct {
	Region string     `json:"region"`
	Raft   RaftStatus `json:"raft"`
	// Replicating is true while this member runs shippers and appliers.
	Replicating bool   `json:"replicating"`
	Links       []Link `json:"links"`
	// Outgoing are the links from this region, as the source sees them.
	Outgoing []Outgoing `json:"outgoing"`
}

// Outgoing is one namespace of one link from this region.
type Outgoing struct {
	Namespace   string `json:"namespace"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// BacklogRecords are changes written here that the destination has not
	// applied yet; Shipped counts the namespace's records JetStream
	// acknowledged since this daemon started, for every destination.
	BacklogRecords int64 `json:"backlog_records"`
	Shipped        int64 `json:"shipped"`
}

// RaftStatus is this member's place in the region's raft group.
type RaftStatus struct {
	Role string `json:"role"`
	Term uint64 `json:"term"`
}

// Link is one namespace of one incoming link, as this region sees it.
type Link struct {
	Namespace     string  `json:"namespace"`
	Source        string  `json:"source"`
	Destination   string  `json:"destination"`
	LagSeconds    float64 `json:"lag_seconds"`
	Cause         string  `json:"cause,omitempty"`
	Paused        bool    `json:"paused"`
	Applied       int64   `json:"applied"`
	RejectedOlder int64   `json:"rejected_older"`
	Duplicate     int64   `json:"duplicate"`
	Conflicts     int64   `json:"conflicts"`
	// Alert is the worst lag alert state: inactive, pending, firing or
	// resolved, with its severity when not inactive.
	Alert string `json:"alert"`
}

// Status reports the raft role and the state of every incoming link.
func (d *Daemon) Status() Status {
	s := Status{
		Region: d.region.Name,
		Raft:   RaftStatus{Role: d.raft.State(), Term: d.raft.Term()},
		Links:  []Link{},

		Outgoing: []Outgoing{},

		Replicating: d.Replicating(),
	}
	t := d.Topology()

	d.mu.Lock()
	defer d.mu.Unlock()
	for _, ns := range t.Namespaces {
		sh, ok := d.shippers[ns.Name]
		if !ok {
			continue
		}
		for _, dest := range t.Destinations(ns.Name, d.region.Name) {
			s.Outgoing = append(s.Outgoing, Outgoing{
				Namespace: ns.Name, Source: d.region.Name, Destination: dest,
				BacklogRecords: d.backlogs[backlogKey{ns.Name, dest}], Shipped: sh.Shipped(),
			})
		}
	}
	for _, src := range t.Regions {
		a, ok := d.appliers[src.Name]
		if !ok {
			continue
		}
		for _, ns := range a.Namespaces() {
			p := a.Progress(ns)
			s.Links = append(s.Links, Link{
				Namespace: ns, Source: src.Name, Destination: d.region.Name,
				LagSeconds: p.Lag.Seconds(), Cause: p.Cause, Paused: a.Paused(),
				Applied: p.Applied, RejectedOlder: p.RejectedOlder,
				Duplicate: p.Duplicate, Conflicts: p.Conflicts,
				Alert: d.alertState(lag.Link{Namespace: ns, Source: src.Name,
					Destination: d.region.Name}),
			})
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
