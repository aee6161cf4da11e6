package region

import (
	"strings"
	"testing"

	"github.com/xdrd/xdrd/topology"
)

func TestMembership(t *testing.T) {
	r := topology.Region{Name: "eu-west",
		Peers: []string{"10.0.0.1:7946", "b=10.0.0.2:7946", "10.0.0.3:7946"}}
	id, bind, others, err := membership(r, "10.0.0.2:7946")
	if err != nil || id != "b" || bind != "10.0.0.2:7946" ||
		strings.Join(others, " ") != "10.0.0.1:7946 10.0.0.3:7946" {
		t.Errorf("membership = %q %q %v, %v", id, bind, others, err)
	}
	if id, bind, others, err := membership(topology.Region{Name: "solo"}, ""); err != nil ||
		id != "solo" || bind != "127.0.0.1:0" || others != nil {
		t.Errorf("group of one = %q %q %v, %v", id, bind, others, err)
	}
	for bind, want := range map[string]string{
		"":              "--raft-bind must name this daemon's entry",
		"10.0.0.9:7946": "raft bind 10.0.0.9:7946 is none of its peers",
	} {
		if _, _, _, err := membership(r, bind); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bind %q: error %v, want one containing %q", bind, err, want)
		}
	}
}

func TestCheckSharedRefusesPerProcessStores(t *testing.T) {
	peers := []string{"10.0.0.1:7946", "10.0.0.2:7946"}
	for _, tc := range []struct {
		region topology.Region
		want   string
	}{
		{topology.Region{Name: "a", Peers: peers, Store: "redis://h:6379"}, "has peers but no nats"},
		{topology.Region{Name: "a", Peers: peers, NATS: "nats://h:4222"}, `store "embedded (data dir)"`},
		{topology.Region{Name: "a", Peers: peers, NATS: "nats://h:4222", Store: "memory://"},
			`store "memory://" is each daemon's own`},
	} {
		err := checkShared(Config{}, tc.region)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.region, err, tc.want)
		}
	}
	ok := topology.Region{Name: "a", Peers: peers, NATS: "nats://h:4222", Store: "rediss://h:6379"}
	if err := checkShared(Config{}, ok); err != nil {
		t.Errorf("shared store refused: %v", err)
	}
	if err := checkShared(Config{}, topology.Region{Name: "solo"}); err != nil {
		t.Errorf("group of one refused: %v", err)
	}
}
