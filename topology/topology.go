// Package topology describes an xdrd deployment: its regions, the
// namespaces replicated between them and the per-link policies. One YAML
// file, identical in every region, holds it; Load and Parse decode that
// file strictly and report every problem in it at once.
package topology

import (
	"fmt"
	"slices"
	"time"
)

// Conflict policies a namespace may name, and the defaults filled in for
// keys a file leaves out.
const (
	// ConflictGeneration orders versions by (generation, LUT, origin).
	ConflictGeneration = "generation"
	// ConflictTimestamp orders versions by (LUT, generation, origin).
	ConflictTimestamp = "timestamp"

	// DefaultShards is the shard count of a namespace that does not set one.
	DefaultShards = 16
	// MaxShards is the most shards a namespace may have: one per partition.
	MaxShards = 4096
	// DefaultTombstoneHorizon is how long a delete is remembered when a
	// namespace does not say.
	DefaultTombstoneHorizon = 24 * time.Hour

	// MinRegionID and MaxRegionID bound a region's ID, which travels in
	// every record as its origin and must fit in one byte without zero.
	MinRegionID = 1
	MaxRegionID = 255
)

// Topology is the decoded topology file. Values returned by Load and Parse
// are valid and have every default filled in; treat them as read-only,
// since the accessors share slices with the caller.
type Topology struct {
	Regions    []Region    `yaml:"regions"`
	Namespaces []Namespace `yaml:"namespaces"`
	Links      []Link      `yaml:"links"`
	// Alertmanager is the base URL of an Alertmanager that receives lag
	// alerts through its v2 API; empty pushes none.
	Alertmanager string `yaml:"alertmanager,omitempty"`
}

// Region is one datacenter running an xdrd group and its own KV cluster.
type Region struct {
	// Name is unique and usable as a NATS subject token.
	Name string `yaml:"name"`
	// ID is unique, 1-255, and recorded as the origin of local writes.
	ID int `yaml:"id"`
	// NATS is a nats:// or tls:// URL; empty selects the embedded default.
	NATS string `yaml:"nats"`
	// Store is the KV cluster URL: memory://[name], embedded:///abs/path,
	// redis://[user:pass@]host:port[/db] or rediss://... Empty leaves the
	// choice to the daemon.
	Store string `yaml:"store"`
	// Peers are the host:port raft addresses of the region's daemons;
	// empty means a single daemon.
	Peers []string `yaml:"peers"`
}

// Namespace is a keyspace replicated between regions under one policy.
type Namespace struct {
	// Name is unique and usable as a NATS subject token.
	Name string `yaml:"name"`
	// Conflict is ConflictGeneration or ConflictTimestamp.
	Conflict string `yaml:"conflict"`
	// Shards is how many shards the partitions are grouped into, 1-4096.
	Shards int `yaml:"shards"`
	// ShipTo lists the regions that receive this namespace. Every region
	// ships to each entry but itself; the default is every region.
	ShipTo []string `yaml:"ship-to"`
	// Sets limits which sets replicate; nil replicates all of them.
	Sets *SetFilter `yaml:"sets"`
	// LagAlert holds the lag thresholds; nil disables lag alerts.
	LagAlert *LagAlert `yaml:"lag-alert"`
	// TombstoneHorizon is how long a delete is kept so that an older
	// write arriving late cannot bring the record back.
	TombstoneHorizon Duration `yaml:"tombstone-horizon"`
}

// SetFilter selects sets by name. At most one of its lists is non-empty.
type SetFilter struct {
	// Include, when non-empty, is the only sets that replicate.
	Include []string `yaml:"include,omitempty"`
	// Exclude lists sets that never replicate.
	Exclude []string `yaml:"exclude,omitempty"`
}

// LagAlert holds the lag thresholds of a namespace. Warning is below
// Critical and both are positive.
type LagAlert struct {
	// Warning is the lag above which the warning alert fires.
	Warning Duration `yaml:"warning"`
	// Critical is the lag above which the critical alert fires.
	Critical Duration `yaml:"critical"`
	// For is how long lag must stay above a threshold before it fires.
	For Duration `yaml:"for"`
}

// Link tunes one directed link between two regions. A pair of regions
// without a configured link still replicates, with the zero settings.
type Link struct {
	// From is the region that ships.
	From string `yaml:"from"`
	// To is the region that receives.
	To string `yaml:"to"`
	// Forward lets From pass on versions that originated elsewhere, for
	// star and chain topologies. A cycle of forwarding links is rejected.
	Forward bool `yaml:"forward"`
	// MaxRecordsPerSecond caps the link's rate; 0 means unlimited.
	MaxRecordsPerSecond int `yaml:"max-records-per-second"`
}

// Duration is a time.Duration written in YAML as "5s" or "1m30s".
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d the way time.Duration does, which Parse accepts back.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes d as a string, so that a marshalled Topology parses
// again; a bare number of nanoseconds would be rejected.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Region returns the region called name.
func (t *Topology) Region(name string) (Region, bool) {
	for _, r := range t.Regions {
		if r.Name == name {
			return r, true
		}
	}
	return Region{}, false
}

// RegionByID returns the region whose ID is id.
func (t *Topology) RegionByID(id int) (Region, bool) {
	for _, r := range t.Regions {
		if r.ID == id {
			return r, true
		}
	}
	return Region{}, false
}

// Namespace returns the namespace called name.
func (t *Topology) Namespace(name string) (Namespace, bool) {
	for _, ns := range t.Namespaces {
		if ns.Name == name {
			return ns, true
		}
	}
	return Namespace{}, false
}

// Link returns the configured link from one region to another, or, when
// the file has none, a link that does not forward and has no rate limit.
func (t *Topology) Link(from, to string) Link {
	for _, l := range t.Links {
		if l.From == from && l.To == to {
			return l
		}
	}
	return Link{From: from, To: to}
}

// Destinations returns the regions that source ships namespace to, in
// ship-to order. It is nil for an unknown namespace.
func (t *Topology) Destinations(namespace, source string) []string {
	ns, ok := t.Namespace(namespace)
	if !ok {
		return nil
	}
	var dests []string
	for _, r := range ns.ShipTo {
		if r != source {
			dests = append(dests, r)
		}
	}
	return dests
}

// Sources returns the regions that ship namespace to dest, in file order:
// every other region when dest is in the namespace's ship-to, else none.
func (t *Topology) Sources(namespace, dest string) []string {
	ns, ok := t.Namespace(namespace)
	if !ok || !slices.Contains(ns.ShipTo, dest) {
		return nil
	}
	var sources []string
	for _, r := range t.Regions {
		if r.Name != dest {
			sources = append(sources, r.Name)
		}
	}
	return sources
}

// Summary describes t in one line, as `xdrd validate` prints it.
func (t *Topology) Summary() string {
	return fmt.Sprintf("%s, %s, %s",
		count(len(t.Regions), "region"),
		count(len(t.Namespaces), "namespace"),
		count(len(t.Links), "link"))
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Ships reports whether records of set replicate under the set filter.
func (ns *Namespace) Ships(set string) bool {
	if ns.Sets == nil {
		return true
	}
	if len(ns.Sets.Include) > 0 {
		return slices.Contains(ns.Sets.Include, set)
	}
	return !slices.Contains(ns.Sets.Exclude, set)
}
