package embedded

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/store/storetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestConformance(t *testing.T) {
	open := func(t *testing.T, region record.RegionID, clock *record.Clock) store.Store {
		s, err := Open(t.TempDir(), region, clock)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		return s
	}
	reopen := func(t *testing.T, old store.Store) store.Store {
		o := old.(*Store)
		if err := o.Close(); err != nil {
			t.Fatalf("close before reopen: %v", err)
		}
		s, err := Open(o.dir, o.region, o.clock)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		return s
	}
	storetest.Run(t, open, reopen)
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(file, 1, nil)
	if err == nil || !strings.Contains(err.Error(), "open pebble at "+file) {
		t.Errorf("open on a file: err %v, want it to name the directory", err)
	}
	if _, err := Open(t.TempDir(), 0, nil); err == nil {
		t.Errorf("open for region 0: no error")
	}
}

// TestPurgeRuns checks both ways Purge deletes: runs of adjacent dead
// records as one range and scattered ones point by point, across several
// chunks, and that live records next to a run survive the range's end.
func TestPurgeRuns(t *testing.T) {
	s, err := Open(t.TempDir(), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()

	// Keys land in partitions by hash, so in key order the dead and the
	// live ones interleave in runs of every length.
	const n = 3 * purgeChunk
	var batch []record.Version
	live := 0
	for i := range n {
		v := record.Version{
			Namespace: "ns", Set: "set", Key: fmt.Sprintf("key-%d", i),
			Meta: record.Meta{Generation: 1, LUT: 1, Origin: 2, Tombstone: i%7 != 0},
		}
		if !v.Tombstone {
			v.Bins = []byte{1}
			live++
		}
		batch = append(batch, v)
	}
	if _, err := s.Apply(ctx, conflict.Generation, batch); err != nil {
		t.Fatal(err)
	}

	removed, err := s.Purge(ctx, "ns", time.Unix(1, 0))
	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	if removed != n-live {
		t.Errorf("purge removed %d, want %d", removed, n-live)
	}
	seen := 0
	err = s.Scan(ctx, "ns", func(int) bool { return true }, func(v record.Version) error {
		if v.Tombstone {
			return errors.New("a tombstone survived: " + v.Key)
		}
		seen++
		return nil
	})
	if err != nil || seen != live {
		t.Errorf("after purge: %d live records, err %v; want %d", seen, err, live)
	}
}
