package store

import (
	"sync"
	"sync/atomic"
)

// Share returns n handles on st for n daemons of one region running in one
// process (the demo's and the tests' regions of several members). Each
// daemon closes its own handle; st closes with the last one.
func Share(st Store, n int) []Store {
	left := new(atomic.Int32)
	left.Store(int32(n))
	out := make([]Store, n)
	for i := range out {
		out[i] = &handle{Store: st, left: left}
	}
	return out
}

// handle is one daemon's share of a store.
type handle struct {
	Store
	left *atomic.Int32
	once sync.Once
}

// Close closes the shared store when no other handle is open. Closing a
// handle twice is the same as closing it once.
func (h *handle) Close() error {
	var err error
	h.once.Do(func() {
		if h.left.Add(-1) == 0 {
			err = h.Store.Close()
		}
	})
	return err
}
