// Package store hides a region's KV cluster behind one small interface:
// local writes that stamp metadata and append to a change log, tailing that
// log from a cursor, conditional apply of replicated versions, metadata
// reads and partition scans. Drivers live in sub-folders and are opened by
// URL with Open.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
)

// Cursor is a position in a namespace's change log: the sequence number of
// a change. Sequence numbers start at 1 and grow by one per change, so 0
// means "before the first change".
type Cursor uint64

// Change is one entry of the change log: the version a write produced.
type Change struct {
	Seq Cursor
	record.Version
}

// Result tells what Apply did with one incoming version.
type Result struct {
	Outcome conflict.Outcome
	// Previous is the version's metadata that was stored before, valid when
	// HadPrevious is true. Appliers use it to detect and log conflicts.
	Previous    record.Meta
	HadPrevious bool
}

// Store is one region's KV cluster as xdrd sees it. Every method is safe
// for concurrent use. The versions that Get, Tail and Scan hand out are
// read-only: a store may lend its own memory rather than copy every
// record's bins on the shipper's path, as the memory store does.
type Store interface {
	// Put writes bins locally: generation = stored + 1, LUT from the
	// region's clock, origin = this region. It appends the version to the
	// change log in the same atomic, durable step and returns it.
	Put(ctx context.Context, ns, set, key string, bins []byte, expiry int64) (record.Version, error)
	// Delete writes a tombstone locally, as Put does. Deleting a record that
	// does not exist still writes a tombstone, so the delete replicates.
	Delete(ctx context.Context, ns, set, key string) (record.Version, error)
	// Get returns the stored version, tombstones and expired ones included;
	// found is false when the store has never held the record or has
	// purged it.
	Get(ctx context.Context, ns, set, key string) (v record.Version, found bool, err error)
	// Apply writes each version whose metadata wins over the stored one by
	// the policy, atomically per record, and returns one Result per version
	// in order. When Apply returns nil the batch is durable. Applied
	// versions are appended to the change log (so a forwarding region can
	// ship them on), keeping their origin, generation and LUT.
	Apply(ctx context.Context, p conflict.Policy, vs []record.Version) ([]Result, error)
	// Tail returns up to max changes of namespace ns with Seq >= from, in
	// order. When none is there yet it waits up to wait for one. It returns
	// ErrTrimmed when from is below the oldest change still held.
	Tail(ctx context.Context, ns string, from Cursor, max int, wait time.Duration) ([]Change, error)
	// Last returns the newest cursor of the namespace's change log (0 when
	// it is empty).
	Last(ctx context.Context, ns string) (Cursor, error)
	// Trim drops changes of ns with Seq <= upTo: they are shipped.
	Trim(ctx context.Context, ns string, upTo Cursor) error
	// Scan calls fn for every stored version of ns whose partition
	// satisfies match (every partition when match is nil), tombstones
	// included, in no promised order. It stops at fn's first error and
	// returns it.
	Scan(ctx context.Context, ns string, match func(partition int) bool, fn func(record.Version) error) error
	// Purge removes tombstones and expired versions older than before, which
	// ends the protection they give against late, older writes. It returns
	// how many versions it removed.
	Purge(ctx context.Context, ns string, before time.Time) (int, error)
	// Close releases the store.
	Close() error
}

// Sentinel errors of stores, matched with errors.Is.
var (
	// ErrTrimmed: the change log no longer holds the requested cursor; the
	// caller recovers by scanning partitions.
	ErrTrimmed = errors.New("change log trimmed past cursor")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
	// ErrUnavailable: the store cannot be reached now; retry later.
	ErrUnavailable = errors.New("store unavailable")
)
