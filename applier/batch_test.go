package applier_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
	"github.com/xdrd/xdrd/transport"
)

// recordingStore keeps a copy of every batch given to Apply. Apply waits
// until the test closes gate, so that frames pile up in the applier as
// they do behind a link that was down.
type recordingStore struct {
	store.Store
	gate chan struct{}

	mu      sync.Mutex
	applies [][]record.Version
}

func newRecordingStore(st store.Store) *recordingStore {
	return &recordingStore{Store: st, gate: make(chan struct{})}
}

func (s *recordingStore) Apply(ctx context.Context, p conflict.Policy,
	vs []record.Version) ([]store.Result, error) {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	s.applies = append(s.applies, slices.Clone(vs))
	s.mu.Unlock()
	return s.Store.Apply(ctx, p, vs)
}

// batches returns the batches applied so far.
func (s *recordingStore) batches() [][]record.Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.applies)
}

// TestCatchUpAppliesLargeBatches publishes a backlog of small frames, as a
// source at a low write rate ships them, before the applier starts, and
// holds the first store apply until the server has delivered all it may.
// The applier then applies the backlog in batches far larger than the 64
// messages it used to take, and every record arrives intact.
func TestCatchUpAppliesLargeBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const frames, perFrame = 2000, 3

	lut := record.LUT(time.Now().UnixNano())
	want := make(map[string]record.Version, frames*perFrame)
	var last uint64
	for i := range frames {
		recs := make([]record.Version, perFrame)
		for j := range recs {
			key := fmt.Sprintf("k%d-%d", i, j)
			recs[j] = version(key, 1, lut+record.LUT(i), sourceID)
			want[key] = recs[j]
		}
		last = e.publish(testNS, i%shards, recs...)
	}

	st := newRecordingStore(e.store)
	e.startOn(config(), st)
	e.waitDelivered(transport.DefaultConfig().MaxAckPending)
	close(st.gate)
	e.waitSettled(last)

	batches := st.batches()
	largest := 0
	for _, b := range batches {
		largest = max(largest, len(b))
	}
	t.Logf("%d records in %d applies, the largest of %d", len(want), len(batches), largest)
	if largest <= 64*perFrame {
		t.Errorf("largest apply took %d records, want more than 64 frames' %d",
			largest, 64*perFrame)
	}

	seen := make(map[string]bool, len(want))
	for _, b := range batches {
		for _, v := range b {
			if w, ok := want[v.Key]; !ok || !reflect.DeepEqual(v, w) {
				t.Fatalf("applied %+v, want %+v (published: %t)", v, w, ok)
			}
			seen[v.Key] = true
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d of %d records applied", len(seen), len(want))
	}
	if got := e.outcome(conflict.Applied); got != float64(len(want)) {
		t.Errorf("applied = %v records, want %d", got, len(want))
	}
	for key, w := range want {
		got, found, err := e.store.Get(e.ctx, testNS, "s", key)
		if err != nil || !found || !reflect.DeepEqual(got, w) {
			t.Fatalf("stored %s: %+v (found %t, %v), want %+v", key, got, found, err, w)
		}
	}
}

// TestBatchKeepsToByteBound publishes frames of assorted sizes, a few of
// them larger than MaxBatchBytes by themselves, and checks that no store
// apply takes more than MaxBatchBytes of frames unless it takes a single
// frame, while applies of several frames do happen.
func TestBatchKeepsToByteBound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const bound, frames = 4 << 10, 300
	cfg := config()
	cfg.MaxBatchBytes = bound

	lut := record.LUT(time.Now().UnixNano())
	frameOf := make(map[string]int, frames) // key → frame
	sizes := make([]int, frames)
	var last uint64
	oversized := 0
	for i := range frames {
		pad := (i % 8) * 200
		if i%50 == 25 {
			pad = 3 * bound
		}
		bins, err := record.EncodeBins(map[string]any{"pad": make([]byte, pad)})
		if err != nil {
			t.Fatalf("encode bins: %v", err)
		}
		key := fmt.Sprintf("k%d", i)
		v := version(key, 1, lut, sourceID)
		v.Bins = bins
		frameOf[key] = i
		last, sizes[i] = e.publishFrame(testNS, shardOf(key), []record.Version{v})
		if sizes[i] > bound {
			oversized++
		}
	}
	if oversized == 0 {
		t.Fatal("no frame is larger than the bound")
	}

	st := newRecordingStore(e.store)
	e.startOn(cfg, st)
	e.waitDelivered(frames)
	close(st.gate)
	e.waitSettled(last)

	applied := make(map[int]bool, frames)
	several := 0
	for _, b := range st.batches() {
		in := make(map[int]bool)
		bytes := 0
		for _, v := range b {
			f := frameOf[v.Key]
			applied[f] = true
			if !in[f] {
				in[f] = true
				bytes += sizes[f]
			}
		}
		if len(in) > 1 {
			several++
			if bytes > bound {
				t.Errorf("one apply took %d frames of %d bytes, over the bound of %d",
					len(in), bytes, bound)
			}
		}
	}
	if len(applied) != frames {
		t.Errorf("%d of %d frames applied", len(applied), frames)
	}
	if several == 0 {
		t.Error("no apply took more than one frame")
	}
}
