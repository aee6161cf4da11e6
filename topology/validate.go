package topology

import (
	"fmt"
	"regexp"
	"slices"
)

// namePattern is the shape of region and namespace names. They become
// NATS subject tokens (xdrd.<region>.<namespace>.<shard>) and parts of
// stream and consumer names, where dots, spaces, wildcards and case
// changes would all break something.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// policies are the valid conflict policies.
var policies = []string{ConflictGeneration, ConflictTimestamp}

// checker runs the semantic checks over a decoded topology. It skips any
// value the decoder already reported, so that one mistake gives one line.
type checker struct {
	t        *Topology
	given    presence
	problems []Problem
	// regions holds every region name written in the file, valid or not:
	// a ship-to naming a region whose name is malformed is reported once,
	// at the region, rather than again as an unknown region.
	regions map[string]bool
	// validRegions holds the names that match namePattern, which are the
	// only ones safe to print unquoted.
	validRegions map[string]bool
}

func validate(t *Topology, given presence) []Problem {
	c := &checker{
		t:            t,
		given:        given,
		regions:      map[string]bool{},
		validRegions: map[string]bool{},
	}
	c.checkRegions()
	c.checkNamespaces()
	c.checkLinks()
	c.checkLoops()
	if t.Alertmanager != "" {
		if err := checkAlertmanagerURL(t.Alertmanager); err != nil {
			c.addf("alertmanager", "%v", err)
		}
	}
	return c.problems
}

func (c *checker) addf(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// required reports a missing or empty string and says whether there is a
// decoded value left to check.
func (c *checker) required(path, value string) bool {
	switch {
	case c.given.absent(path):
		c.addf(path, "required field is missing")
		return false
	case !c.given.ok(path):
		return false
	case value == "":
		c.addf(path, "must not be empty")
		return false
	}
	return true
}

// absentOrOK says whether the value at path is absent or decoded, that
// is, not a mistyped value the decoder has already reported.
func (c *checker) absentOrOK(path string) bool {
	return c.given.absent(path) || c.given.ok(path)
}

// reservedRegions are the names a region cannot take, because its
// subjects would be those of the dead letters or of the conflict log.
var reservedRegions = map[string]string{
	"dlq":       "dead letters use subjects xdrd.dlq.>",
	"conflicts": "the conflict log uses subjects xdrd.conflicts.>",
}

// name checks a required region or namespace name.
func (c *checker) name(path, kind, value string) bool {
	if !c.required(path, value) {
		return false
	}
	if !namePattern.MatchString(value) {
		c.addf(path, "invalid %s name %s: names must match %s to be usable as NATS "+
			"subject tokens and in stream names", kind, quote(value), namePattern)
		return false
	}
	return true
}

func (c *checker) checkRegions() {
	if len(c.t.Regions) == 0 && c.absentOrOK("regions") {
		c.addf("regions", "at least one region is required")
	}
	names := map[string]int{}
	ids := map[int]int{}
	for i, r := range c.t.Regions {
		p := index("regions", i)
		if !c.given.ok(p) {
			continue
		}
		if c.given.ok(join(p, "name")) {
			c.regions[r.Name] = true
		}

		if use, reserved := reservedRegions[r.Name]; reserved {
			c.addf(join(p, "name"), "region name %q is reserved: %s", r.Name, use)
		} else if c.name(join(p, "name"), "region", r.Name) {
			c.validRegions[r.Name] = true
			if j, dup := names[r.Name]; dup {
				c.addf(join(p, "name"), "duplicate region name %q (also regions[%d])", r.Name, j)
			} else {
				names[r.Name] = i
			}
		}

		idp := join(p, "id")
		switch {
		case c.given.absent(idp):
			c.addf(idp, "required field is missing")
		case !c.given.ok(idp):
		case r.ID < MinRegionID || r.ID > MaxRegionID:
			c.addf(idp, "id %d is outside %d-%d", r.ID, MinRegionID, MaxRegionID)
		default:
			if j, dup := ids[r.ID]; dup {
				c.addf(idp, "duplicate region id %d (also regions[%d])", r.ID, j)
			} else {
				ids[r.ID] = i
			}
		}

		if r.NATS != "" {
			if err := checkNATSURL(r.NATS); err != nil {
				c.addf(join(p, "nats"), "%v", err)
			}
		}
		if r.Store != "" {
			if err := checkStoreURL(r.Store); err != nil {
				c.addf(join(p, "store"), "%v", err)
			}
		}
		c.checkPeers(join(p, "peers"), r.Peers)
	}
}

func (c *checker) checkPeers(path string, peers []string) {
	seen := map[string]int{}
	for i, peer := range peers {
		pp := index(path, i)
		if !c.given.ok(pp) {
			continue
		}
		if err := checkHostPort(peer); err != nil {
			c.addf(pp, "malformed peer address %s: %v", quote(peer), err)
			continue
		}
		if j, dup := seen[peer]; dup {
			c.addf(pp, "duplicate peer %q (also peers[%d])", peer, j)
			continue
		}
		seen[peer] = i
	}
}

func (c *checker) checkNamespaces() {
	if len(c.t.Namespaces) == 0 && c.absentOrOK("namespaces") {
		c.addf("namespaces", "at least one namespace is required")
	}
	names := map[string]int{}
	for i := range c.t.Namespaces {
		ns := &c.t.Namespaces[i]
		p := index("namespaces", i)
		if !c.given.ok(p) {
			continue
		}

		if c.name(join(p, "name"), "namespace", ns.Name) {
			if j, dup := names[ns.Name]; dup {
				c.addf(join(p, "name"), "duplicate namespace name %q (also namespaces[%d])",
					ns.Name, j)
			} else {
				names[ns.Name] = i
			}
		}
		if c.given.ok(join(p, "conflict")) && !slices.Contains(policies, ns.Conflict) {
			// The message is the one DESIGN §5 shows, word for word: scripts
			// match it. The valid names are in docs/topology.md.
			c.addf(join(p, "conflict"), "unknown policy %s", quote(ns.Conflict))
		}
		if c.given.ok(join(p, "shards")) && (ns.Shards < 1 || ns.Shards > MaxShards) {
			c.addf(join(p, "shards"), "must be between 1 and %d, got %d",
				MaxShards, ns.Shards)
		}
		c.checkShipTo(join(p, "ship-to"), ns.ShipTo)
		c.checkSets(join(p, "sets"), ns.Sets)
		c.checkLagAlert(join(p, "lag-alert"), ns.LagAlert)
		if tp := join(p, "tombstone-horizon"); c.given.ok(tp) && ns.TombstoneHorizon <= 0 {
			c.addf(tp, "must be greater than zero, got %s", ns.TombstoneHorizon)
		}
	}
}

func (c *checker) checkShipTo(path string, shipTo []string) {
	if c.given.ok(path) && len(shipTo) == 0 {
		c.addf(path, "must not be empty: leave it out to ship to every region")
		return
	}
	seen := map[string]int{}
	for i, r := range shipTo {
		rp := index(path, i)
		switch {
		case !c.given.ok(rp):
		case !c.regions[r]:
			c.addf(rp, "unknown region %s", quote(r))
		default:
			if j, dup := seen[r]; dup {
				c.addf(rp, "duplicate region %q (also ship-to[%d])", r, j)
			} else {
				seen[r] = i
			}
		}
	}
}

func (c *checker) checkSets(path string, sets *SetFilter) {
	if sets == nil {
		return
	}
	ip, ep := join(path, "include"), join(path, "exclude")
	switch {
	case !c.given.absent(ip) && !c.given.absent(ep):
		c.addf(path, "include and exclude cannot both be given")
	case c.given.ok(ip) && len(sets.Include) == 0:
		c.addf(ip, "must not be empty: no set would replicate; leave sets out to replicate all")
	}
	for _, list := range []struct {
		path  string
		names []string
	}{{ip, sets.Include}, {ep, sets.Exclude}} {
		for i, name := range list.names {
			if np := index(list.path, i); c.given.ok(np) && name == "" {
				c.addf(np, "set name must not be empty")
			}
		}
	}
}

func (c *checker) checkLagAlert(path string, la *LagAlert) {
	if la == nil {
		return
	}
	wp, cp, fp := join(path, "warning"), join(path, "critical"), join(path, "for")
	positive := func(p string, d Duration) bool {
		switch {
		case c.given.absent(p):
			c.addf(p, "required field is missing")
		case !c.given.ok(p):
		case d <= 0:
			c.addf(p, "must be greater than zero, got %s", d)
		default:
			return true
		}
		return false
	}
	warningOK := positive(wp, la.Warning)
	criticalOK := positive(cp, la.Critical)
	if warningOK && criticalOK && la.Warning >= la.Critical {
		c.addf(wp, "warning (%s) must be less than critical (%s)", la.Warning, la.Critical)
	}
	if c.given.ok(fp) && la.For < 0 {
		c.addf(fp, "must not be negative, got %s", la.For)
	}
}

func (c *checker) checkLinks() {
	type pair struct{ from, to string }
	seen := map[pair]int{}
	for i, l := range c.t.Links {
		p := index("links", i)
		if !c.given.ok(p) {
			continue
		}
		fromOK := c.linkEnd(join(p, "from"), l.From)
		toOK := c.linkEnd(join(p, "to"), l.To)
		if fromOK && toOK {
			switch j, dup := seen[pair{l.From, l.To}]; {
			case l.From == l.To:
				c.addf(join(p, "to"), "link from %q to itself", l.From)
			case dup:
				c.addf(p, "duplicate link from %q to %q (also links[%d])", l.From, l.To, j)
			default:
				seen[pair{l.From, l.To}] = i
			}
		}
		rp := join(p, "max-records-per-second")
		if c.given.ok(rp) && l.MaxRecordsPerSecond < 0 {
			c.addf(rp, "must not be negative, got %d", l.MaxRecordsPerSecond)
		}
	}
}

// linkEnd checks the from or to of a link and says whether it names a
// known region.
func (c *checker) linkEnd(path, region string) bool {
	if !c.required(path, region) {
		return false
	}
	if !c.regions[region] {
		c.addf(path, "unknown region %s", quote(region))
		return false
	}
	return true
}
