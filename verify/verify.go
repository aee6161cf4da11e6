// Package verify compares what regions store, record by record, to prove
// that they converged.
package verify

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// Snapshot is every version a region stores, tombstones included, by
// "namespace/set/key".
type Snapshot map[string]record.Version

// Take scans every namespace of st into a snapshot.
func Take(ctx context.Context, st store.Store, namespaces []string) (Snapshot, error) {
	snap := make(Snapshot)
	for _, ns := range namespaces {
		err := st.Scan(ctx, ns, nil, func(v record.Version) error {
			v.Bins = bytes.Clone(v.Bins)
			snap[ns+"/"+v.Set+"/"+v.Key] = v
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", ns, err)
		}
	}
	return snap, nil
}

// Diff lists the records on which the snapshots disagree, at most limit of
// them, and counts the distinct records seen. Two versions agree when their
// metadata and bins are equal. names[i] names the region of snaps[i].
func Diff(names []string, snaps []Snapshot, limit int) (diffs []string, records int) {
	keys := make(map[string]bool)
	for _, s := range snaps {
		for k := range s {
			keys[k] = true
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)

	for _, k := range sorted {
		first, ok0 := snaps[0][k]
		for i := 1; i < len(snaps); i++ {
			v, ok := snaps[i][k]
			if ok != ok0 || (ok && !Same(first, v)) {
				if len(diffs) < limit {
					diffs = append(diffs, fmt.Sprintf("%s: %s has %s, %s has %s",
						k, names[0], describe(first, ok0), names[i], describe(v, ok)))
				}
				break
			}
		}
	}
	return diffs, len(sorted)
}

// Same reports whether two versions are equal in metadata and bins.
func Same(a, b record.Version) bool {
	return a.Meta == b.Meta && bytes.Equal(a.Bins, b.Bins)
}

func describe(v record.Version, ok bool) string {
	if !ok {
		return "nothing"
	}
	return fmt.Sprintf("generation %d lut %d origin %d tombstone %t",
		v.Generation, v.LUT, v.Origin, v.Tombstone)
}
