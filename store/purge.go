package store

import (
	"time"

	"github.com/xdrd/xdrd/record"
)

// Purgeable reports whether Purge with cutoff before removes a version with
// metadata m. It does when the version was written before the cutoff (its
// LUT) and was already dead at the cutoff: a tombstone, or a live version
// whose expiry had passed by then. A version that expired after the cutoff
// is kept, like a young tombstone, so that it still protects the key
// against late, older writes for the whole horizon. Every driver decides
// with this one function so that regions purge alike.
func Purgeable(m record.Meta, before time.Time) bool {
	if m.LUT >= record.LUT(before.UnixNano()) {
		return false
	}
	return m.Tombstone || m.Expired(before.Unix())
}
