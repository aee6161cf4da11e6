package region_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xdrd/xdrd/record"
)

// TestTrimmedLogReshipsByScan trims eu-west's change log past its
// checkpoints before the daemon runs: the shipper re-ships by scanning the
// store, says so in a metric, and us-east still gets every record.
func TestTrimmedLogReshipsByScan(t *testing.T) {
	c := newCluster(t, []string{"eu-west", "us-east"}, "")
	ctx := context.Background()
	st := c.daemon("eu-west").Store()
	hist := newHistory()
	for i := range 100 {
		bins, _ := record.EncodeBins(map[string]any{"i": i})
		v, err := st.Put(ctx, "profiles", "s", fmt.Sprintf("k%d", i), bins, 0)
		if err != nil {
			t.Fatal(err)
		}
		hist.add(v)
	}
	last, err := st.Last(ctx, "profiles")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Trim(ctx, "profiles", last); err != nil {
		t.Fatal(err)
	}

	c.run()
	snap := c.converge(30 * time.Second)
	hist.checkWinners(t, snap)
	if n := c.counter("eu-west", "xdrd_recovery_scans_total",
		map[string]string{"namespace": "profiles"}); n != 1 {
		t.Errorf("%v recovery scans of profiles, want 1", n)
	}
}
