package region

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/xdrd/xdrd/topology"
)

// membership finds this daemon among its region's peers: its raft ID, the
// address raft binds, and the other members. Without peers the region is
// a group of one whose ID is the region's name, on bind or a free
// loopback port.
func membership(r topology.Region, bind string) (id, addr string, others []string, err error) {
	if len(r.Peers) == 0 {
		if bind == "" {
			bind = "127.0.0.1:0"
		}
		return r.Name, bind, nil, nil
	}
	if bind == "" {
		return "", "", nil, fmt.Errorf("region %s has peers: --raft-bind must name "+
			"this daemon's entry among %v", r.Name, r.Peers)
	}
	for _, p := range r.Peers {
		pid, paddr, named := strings.Cut(p, "=")
		if !named {
			pid, paddr = p, p
		}
		if paddr == bind {
			id = pid
			continue
		}
		others = append(others, p)
	}
	if id == "" {
		return "", "", nil, fmt.Errorf("region %s: raft bind %s is none of its peers %v",
			r.Name, bind, r.Peers)
	}
	return id, bind, others, nil
}

// checkShared refuses a region of several daemons whose store or NATS
// would be each daemon's own: the members must see one change log and
// one stream to take over from each other.
func checkShared(cfg Config, r topology.Region) error {
	if len(r.Peers) == 0 {
		return nil
	}
	if cfg.NATS == "" && r.NATS == "" {
		return fmt.Errorf("region %s has peers but no nats: its daemons must share "+
			"one NATS, and the embedded one is each daemon's own", r.Name)
	}
	if cfg.Store != nil {
		return nil
	}
	u, err := url.Parse(r.Store)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		return fmt.Errorf("region %s has peers but store %q is each daemon's own: "+
			"its daemons must share the store (redis:// or rediss://)", r.Name, storeName(r.Store))
	}
	return nil
}
