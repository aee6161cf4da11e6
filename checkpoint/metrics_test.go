package checkpoint

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	n, err := Open(Config{DataDir: t.TempDir(), Bind: "127.0.0.1:0", Logger: zap.NewNop(),
		Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.WaitLeader(testContext(t)); err != nil {
		t.Fatal(err)
	}
	n.Stage(Key{Namespace: "ns", Shard: 0}, 5)
	flush(t, n)

	values := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, lp := range m.GetLabel() {
				name += "/" + lp.GetValue()
			}
			values[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue() +
				float64(m.GetHistogram().GetSampleCount())
		}
	}
	want := map[string]float64{
		"xdrd_raft_leader_changes_total": 1,
		"xdrd_raft_role/leader":          1,
		"xdrd_raft_role/follower":        0,
	}
	for name, v := range want {
		if values[name] != v {
			t.Errorf("%s = %v, want %v (all: %v)", name, values[name], v, values)
		}
	}
	if values["xdrd_checkpoint_commit_seconds"] < 1 {
		t.Errorf("no checkpoint commit observed: %v", values)
	}
}
