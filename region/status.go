package region

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xdrd/xdrd/checkpoint"
	"github.com/xdrd/xdrd/internal/version"
	"github.com/xdrd/xdrd/lag"
)

// Status is the daemon's state as /v1/status reports it.
type Status struct {
	Region string     `json:"region"`
	Raft   RaftStatus `json:"raft"`
	// Replicating is true while this member runs the shippers and appliers
	// the assignment gives it (see Daemon.Replicating).
	Replicating bool `json:"replicating"`
	// Links are the incoming links this member applies.
	Links []Link `json:"links"`
	// Outgoing are the links from this region, as the source sees them,
	// counted over the shards this member ships.
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
	// ID is this member's raft ID; Leader the ID of the member it knows
	// as leader, empty while there is none.
	ID     string `json:"id"`
	Role   string `json:"role"`
	Term   uint64 `json:"term"`
	Leader string `json:"leader"`
	// Epoch numbers the assignment of shards in force; 0 before the first.
	Epoch   uint64   `json:"epoch"`
	Members []Member `json:"members"`
}

// Member is one daemon of the region's raft group.
type Member struct {
	checkpoint.Member
	// Shards counts the shards, over every namespace this region ships,
	// that the member ships.
	Shards int `json:"shards"`
	// Applies lists the source regions whose links the member applies.
	Applies []string `json:"applies"`
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

// Status reports this member's place in the raft group, the incoming
// links it applies and the outgoing links it ships.
func (d *Daemon) Status() Status {
	s := Status{
		Region: d.region.Name,
		Raft:   d.raftStatus(),
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

// raftStatus describes the group as this member sees it.
func (d *Daemon) raftStatus() RaftStatus {
	a := d.raft.Assignment()
	s := RaftStatus{ID: d.raft.ID(), Role: d.raft.State(), Term: d.raft.Term(),
		Leader: d.raft.Leader(), Epoch: a.Epoch, Members: []Member{}}
	members, err := d.raft.Members()
	if err != nil {
		return s
	}
	t := d.Topology()
	applies := make(map[string][]string)
	for src, member := range linkAppliers(t, d.region.Name, a) {
		applies[member] = append(applies[member], src)
	}
	for _, m := range members {
		slices.Sort(applies[m.ID])
		shards := 0
		for _, ns := range t.Namespaces {
			if len(t.Destinations(ns.Name, d.region.Name)) > 0 {
				shards += a.Count(m.ID, ns.Name, ns.Shards)
			}
		}
		s.Members = append(s.Members, Member{Member: m, Shards: shards,
			Applies: append([]string{}, applies[m.ID]...)})
	}
	return s
}

// Checkpoints are the committed cursors as this member's raft state holds
// them, as /v1/checkpoints reports them.
type Checkpoints struct {
	Term uint64 `json:"term"`
	// Cursors lists, per namespace, the cursor of every shard.
	Cursors map[string][]uint64 `json:"cursors"`
}

// Checkpoints returns the committed cursors of every namespace.
func (d *Daemon) Checkpoints() Checkpoints {
	out := Checkpoints{Term: d.raft.Term(), Cursors: make(map[string][]uint64)}
	for _, ns := range d.Topology().Namespaces {
		cursors := make([]uint64, ns.Shards)
		for shard := range cursors {
			cursors[shard] = d.raft.Cursor(checkpoint.Key{Namespace: ns.Name, Shard: shard})
		}
		out.Cursors[ns.Name] = cursors
	}
	return out
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
