package shipper_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/xdrd/xdrd/frame"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/transport"
)

// TestShipsEveryChangeOnceInOrder writes a backlog before the shipper starts
// and more while it runs, then checks the stream record by record: right
// subject and shard, decodable, each change exactly once, in write order
// within its shard.
func TestShipsEveryChangeOnceInOrder(t *testing.T) {
	t.Parallel()
	const shards, total = 4, 300
	e := newEnv(t)
	r := e.read()

	written := make(map[string]record.Version)
	var keys []string
	write := func(i int) {
		k := fmt.Sprintf("k%d", i)
		keys = append(keys, k)
		if i%10 == 9 {
			// Deletes of keys never written still ship, as tombstones.
			v, err := e.store.Delete(e.ctx, testNS, "s", k)
			if err != nil {
				t.Fatalf("delete: %v", err)
			}
			written[k] = v
			return
		}
		written[k] = e.put("s", k, i)
	}
	for i := range total / 2 {
		write(i)
	}
	e.start(config(shards))
	for i := total / 2; i < total; i++ {
		write(i)
	}
	r.waitKeys(t, keys)
	e.waitCheckpointed(shards)

	seen := make(map[string]int)
	lastLUT := make([]record.LUT, shards)
	lastCursor := make([]uint64, shards)
	for _, s := range r.all(t) {
		f := s.frame
		if want := transport.Subject(source, testNS, f.Shard); s.subject != want {
			t.Errorf("frame of shard %d on subject %s, want %s", f.Shard, s.subject, want)
		}
		if f.Source != sourceID || f.Namespace != testNS || f.Count != len(f.Records) {
			t.Errorf("frame header %+v", f.Header)
		}
		if f.Last < lastCursor[f.Shard] {
			t.Errorf("shard %d: frame ends at %d after one ending at %d",
				f.Shard, f.Last, lastCursor[f.Shard])
		}
		lastCursor[f.Shard] = f.Last
		for _, v := range f.Records {
			if got := record.Shard(record.Partition(v.Set, v.Key), shards); got != f.Shard {
				t.Errorf("key %s of shard %d in a frame of shard %d", v.Key, got, f.Shard)
			}
			// One writer, so change log order is LUT order.
			if v.LUT <= lastLUT[f.Shard] {
				t.Errorf("shard %d: key %s out of order", f.Shard, v.Key)
			}
			lastLUT[f.Shard] = v.LUT
			seen[v.Key]++
			w := written[v.Key]
			if v.Meta != w.Meta || !bytes.Equal(v.Bins, w.Bins) || v.Namespace != testNS {
				t.Errorf("key %s shipped as %+v, written as %+v", v.Key, v, w)
			}
		}
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Errorf("key %s shipped %d times", k, seen[k])
		}
	}
	if got := e.metric("xdrd_records_shipped_total"); got != total {
		t.Errorf("xdrd_records_shipped_total = %v, want %d", got, total)
	}
	if got := e.metric("xdrd_publish_failures_total"); got != 0 {
		t.Errorf("xdrd_publish_failures_total = %v, want 0", got)
	}
}

// TestCoalescesHotKey writes one key many times inside one linger window:
// fewer records leave than were written, the metric counts the rest, and
// the newest version is the last one shipped.
func TestCoalescesHotKey(t *testing.T) {
	t.Parallel()
	const writes = 100
	e := newEnv(t)
	r := e.read()
	cfg := config(1)
	cfg.Linger = 200 * time.Millisecond
	e.start(cfg)

	var newest record.Version
	for i := range writes {
		newest = e.put("s", "hot", i)
	}
	waitFor(t, "every write shipped or coalesced", func() bool {
		return e.metric("xdrd_records_shipped_total")+
			e.metric("xdrd_records_coalesced_total") == writes
	})
	e.waitCheckpointed(1)

	recs := r.records(t)
	coalesced := e.metric("xdrd_records_coalesced_total")
	if len(recs) >= writes || coalesced == 0 {
		t.Fatalf("%d records shipped, %v coalesced: nothing coalesced", len(recs), coalesced)
	}
	if float64(len(recs))+coalesced != writes {
		t.Errorf("%d records in the stream + %v coalesced != %d writes",
			len(recs), coalesced, writes)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Generation <= recs[i-1].Generation {
			t.Errorf("generation %d shipped after %d", recs[i].Generation, recs[i-1].Generation)
		}
	}
	if last := recs[len(recs)-1]; last.Meta != newest.Meta {
		t.Errorf("last shipped %+v, newest written %+v", last.Meta, newest.Meta)
	}
}

// TestBatchLimits writes small records, which fill frames by count, then
// records of which exactly five fill MaxBytes, which fill frames by bytes
// to the brim: no frame, header included, may exceed either limit.
func TestBatchLimits(t *testing.T) {
	t.Parallel()
	const maxRecords, maxBytes, each = 8, 1500, 40
	e := newEnv(t)
	r := e.read()
	cfg := config(1)
	cfg.MaxRecords, cfg.MaxBytes = maxRecords, maxBytes
	// Longer than the writes take, so that only the limits cut frames.
	cfg.Linger = 500 * time.Millisecond
	e.start(cfg)

	var keys []string
	for i := range each {
		keys = append(keys, fmt.Sprintf("a%03d", i))
		e.put("s", keys[i], 5)
	}
	fifth := binsFor(t, maxBytes/5)
	for i := range each {
		k := fmt.Sprintf("b%03d", i)
		keys = append(keys, k)
		if v := e.put("s", k, fifth); frame.EncodedSize(&v) != maxBytes/5 {
			t.Fatalf("record of %d bytes, want %d", frame.EncodedSize(&v), maxBytes/5)
		}
	}
	r.waitKeys(t, keys)

	byCount, byBytes := 0, 0
	for _, s := range r.all(t) {
		n := s.frame.Count
		if n > maxRecords || s.size > maxBytes {
			t.Errorf("frame of %d records in %d bytes, limits %d and %d",
				n, s.size, maxRecords, maxBytes)
		}
		if n == maxRecords {
			byCount++
		}
		if n > 0 && n < maxRecords && s.size+maxBytes/5 > maxBytes {
			byBytes++
		}
	}
	// Both limits must have cut frames, or the test proves nothing.
	if byCount == 0 || byBytes == 0 {
		t.Errorf("limits never reached: %d frames cut by count, %d by bytes", byCount, byBytes)
	}
	if got := len(r.records(t)); got != len(keys) {
		t.Errorf("%d records shipped, want %d", got, len(keys))
	}
}

// binsFor finds the string size that makes a record of this test's shape
// (set "s", a four-byte key, a current LUT) encode to exactly size bytes.
func binsFor(t *testing.T, size int) int {
	t.Helper()
	for n := range size {
		bins, err := record.EncodeBins(map[string]any{"v": string(make([]byte, n))})
		if err != nil {
			t.Fatalf("encode bins: %v", err)
		}
		v := record.Version{Set: "s", Key: "b000", Bins: bins,
			Meta: record.Meta{Generation: 1, Origin: sourceID,
				LUT: record.LUT(time.Now().UnixNano())}}
		if frame.EncodedSize(&v) == size {
			return n
		}
	}
	t.Fatalf("no bins make a record of %d bytes", size)
	return 0
}

// TestIdleShardsHeartbeat writes to one shard only: the others send empty
// frames, and their checkpoints follow the log past the busy shard's
// changes.
func TestIdleShardsHeartbeat(t *testing.T) {
	t.Parallel()
	const shards = 4
	e := newEnv(t)
	r := e.read()
	e.start(config(shards))

	keys := keysOfShard("s", 0, shards, 20)
	for _, k := range keys {
		e.put("s", k, 10)
	}
	r.waitKeys(t, keys)
	e.waitCheckpointed(shards)

	head := e.head()
	waitFor(t, "a heartbeat at the head from every idle shard", func() bool {
		beat := make([]bool, shards)
		for _, s := range r.all(t) {
			f := s.frame
			if f.Count == 0 && f.First == head && f.Last == head {
				beat[f.Shard] = true
			}
		}
		return beat[1] && beat[2] && beat[3]
	})
	for _, s := range r.all(t) {
		if s.frame.Shard != 0 && s.frame.Count != 0 {
			t.Errorf("idle shard %d shipped %d records", s.frame.Shard, s.frame.Count)
		}
	}
}
