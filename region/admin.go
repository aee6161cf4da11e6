package region

import (
	"net/url"

	"github.com/xdrd/xdrd/admin"
	"github.com/xdrd/xdrd/store"
)

// adminView adapts a Daemon to what the admin API needs.
type adminView struct{ d *Daemon }

// Admin returns the daemon as the admin API sees it.
func (d *Daemon) Admin() admin.Daemon { return adminView{d} }

func (v adminView) Ready() error { return v.d.Ready() }

func (v adminView) Status() any { return v.d.Status() }

// KV serves the client API only for stores xdrd owns: a Redis region's
// applications write through its own functions.
func (v adminView) KV() store.Store {
	u, err := url.Parse(v.d.region.Store)
	if err != nil || u.Scheme == "memory" || u.Scheme == "embedded" || u.Scheme == "" {
		return v.d.store
	}
	return nil
}

func (v adminView) Namespace(name string) bool {
	_, ok := v.d.Topology().Namespace(name)
	return ok
}

func (v adminView) RegionName(id uint8) string {
	if r, ok := v.d.Topology().RegionByID(int(id)); ok {
		return r.Name
	}
	return ""
}

func (v adminView) Pause(source string) error {
	return v.d.setPaused(source, true)
}

func (v adminView) Resume(source string) error {
	return v.d.setPaused(source, false)
}

func (v adminView) Checkpoints() any { return v.d.Checkpoints() }

func (v adminView) RemoveMember(id string) error { return v.d.raft.RemoveMember(id) }

func (v adminView) AddMember(id, address string) error { return v.d.raft.AddMember(id, address) }
