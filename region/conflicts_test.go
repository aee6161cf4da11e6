package region_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xdrd/xdrd/conflictlog"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/transport"
)

// TestConflictLogMatchesCounter writes the same keys in two regions before
// they replicate: every conflict either applier decides is in its region's
// XDRD_CONFLICTS, as many entries as xdrd_conflicts_total counts, each
// naming both versions.
func TestConflictLogMatchesCounter(t *testing.T) {
	names := []string{"eu-west", "us-east"}
	c := newCluster(t, names, "")
	ctx := context.Background()
	for _, name := range names {
		for k := range 20 {
			bins, _ := record.EncodeBins(map[string]any{"by": name})
			if _, err := c.daemon(name).Store().Put(ctx, "profiles", "s",
				fmt.Sprintf("k%d", k), bins, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.run()
	c.converge(30 * time.Second)

	for _, name := range names {
		// The stores can agree before the losing versions have reached
		// their appliers, so wait for the conflicts to be decided.
		var counted float64
		eventually(t, 10*time.Second, name+" to decide the seeded conflicts", func() string {
			if counted = c.counter(name, "xdrd_conflicts_total", nil); counted < 20 {
				return fmt.Sprintf("%v conflicts, want at least the 20 seeded keys", counted)
			}
			return ""
		})
		var entries []conflictlog.Entry
		eventually(t, 10*time.Second, name+"'s conflict log", func() string {
			entries = readConflicts(t, c, name)
			if float64(len(entries)) != counted {
				return fmt.Sprintf("%d entries, %v counted", len(entries), counted)
			}
			return ""
		})
		for _, e := range entries {
			if e.Region != name || e.Policy != "generation" ||
				e.Incoming.Origin == "" || e.Stored.Origin == "" ||
				e.Incoming.Origin == e.Stored.Origin || e.Incoming.Generation == 0 ||
				e.Stored.Generation == 0 || e.Incoming.LUT == 0 || e.Stored.LUT == 0 {
				t.Errorf("entry does not name both versions: %+v", e)
			}
		}
	}
}

func readConflicts(t *testing.T, c *cluster, region string) []conflictlog.Entry {
	t.Helper()
	conn, err := transport.Connect(c.nats.URL(region), "test-reader", c.log)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var entries []conflictlog.Entry
	err = conn.ReadConflicts(context.Background(), region, time.Time{}, func(data []byte) error {
		e, err := conflictlog.Decode(data)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}
