package topology

import "go.yaml.in/yaml/v3"

// The keys each mapping accepts, in the order they are documented. A key
// outside these lists is an error, so that a typo such as "ship_to" is
// caught instead of silently falling back to a default.
var (
	topologyKeys  = []string{"regions", "namespaces", "links", "alertmanager"}
	regionKeys    = []string{"name", "id", "nats", "store", "peers"}
	namespaceKeys = []string{
		"name", "conflict", "shards", "ship-to", "sets", "lag-alert", "tombstone-horizon",
	}
	setFilterKeys = []string{"include", "exclude"}
	lagAlertKeys  = []string{"warning", "critical", "for"}
	linkKeys      = []string{"from", "to", "forward", "max-records-per-second"}
)

// topology decodes a whole document; doc is nil for an empty file. It
// returns nil when the document is not a mapping, since nothing more can
// usefully be said about it.
func (d *decoder) topology(doc *yaml.Node) *Topology {
	var root *yaml.Node
	if doc != nil && len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	f := d.fields(root, "", topologyKeys)
	if !d.given.absent("") && !d.given.ok("") {
		return nil
	}

	t := &Topology{}
	for i, n := range d.list(f["regions"], "regions") {
		t.Regions = append(t.Regions, d.region(n, index("regions", i)))
	}
	for i, n := range d.list(f["namespaces"], "namespaces") {
		t.Namespaces = append(t.Namespaces, d.namespace(n, index("namespaces", i)))
	}
	for i, n := range d.list(f["links"], "links") {
		t.Links = append(t.Links, d.link(n, index("links", i)))
	}
	t.Alertmanager = d.str(f["alertmanager"], "alertmanager")
	return t
}

// region decodes one entry of regions. Like the other entry decoders it
// returns a zero value for an entry that is not a mapping, so that the
// indices of the entries after it still match their paths.
func (d *decoder) region(n *yaml.Node, path string) Region {
	f := d.entry(n, path, regionKeys)
	return Region{
		Name:  d.str(f["name"], join(path, "name")),
		ID:    d.int(f["id"], join(path, "id")),
		NATS:  d.str(f["nats"], join(path, "nats")),
		Store: d.str(f["store"], join(path, "store")),
		Peers: d.strs(f["peers"], join(path, "peers")),
	}
}

func (d *decoder) namespace(n *yaml.Node, path string) Namespace {
	f := d.entry(n, path, namespaceKeys)
	ns := Namespace{
		Name:     d.str(f["name"], join(path, "name")),
		Conflict: d.str(f["conflict"], join(path, "conflict")),
		Shards:   d.int(f["shards"], join(path, "shards")),
		ShipTo:   d.strs(f["ship-to"], join(path, "ship-to")),
	}

	sp := join(path, "sets")
	if sf := d.fields(f["sets"], sp, setFilterKeys); sf != nil {
		ns.Sets = &SetFilter{
			Include: d.strs(sf["include"], join(sp, "include")),
			Exclude: d.strs(sf["exclude"], join(sp, "exclude")),
		}
	}

	lp := join(path, "lag-alert")
	if lf := d.fields(f["lag-alert"], lp, lagAlertKeys); lf != nil {
		ns.LagAlert = &LagAlert{
			Warning:  d.duration(lf["warning"], join(lp, "warning")),
			Critical: d.duration(lf["critical"], join(lp, "critical")),
			For:      d.duration(lf["for"], join(lp, "for")),
		}
	}

	ns.TombstoneHorizon = d.duration(f["tombstone-horizon"], join(path, "tombstone-horizon"))
	return ns
}

func (d *decoder) link(n *yaml.Node, path string) Link {
	f := d.entry(n, path, linkKeys)
	const rate = "max-records-per-second"
	return Link{
		From:                d.str(f["from"], join(path, "from")),
		To:                  d.str(f["to"], join(path, "to")),
		Forward:             d.bool(f["forward"], join(path, "forward")),
		MaxRecordsPerSecond: d.int(f[rate], join(path, rate)),
	}
}
