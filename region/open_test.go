package region_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/xdrd/xdrd/region"
)

// TestOpenStoreSizesEmbedded opens an embedded store whose URL sizes
// Pebble, and refuses a URL whose sizes do not fit together, naming them.
func TestOpenStoreSizesEmbedded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	st, err := region.OpenStore("embedded://"+dir+"?cache-size=16MiB&memtable-size=2MiB", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = region.OpenStore("embedded://"+dir+"?cache-size=8MiB&memtable-size=4MiB", "", 1)
	if err == nil || !strings.Contains(err.Error(), "cache-size 8MiB is less than 4 memtables of 4MiB") {
		t.Errorf("a cache of two memtables: err %v", err)
	}
}
