package shipper_test

import (
	"fmt"
	"testing"
	"time"
)

// TestLingerRoundShipsEveryShardAtItsEnd opens a linger round with a
// change of shard 0, then writes one of shard 1 once a heartbeat shows the
// shipper has read the first: both ship together when the round ends, so
// the second waits less than the linger, not a whole one of its own.
func TestLingerRoundShipsEveryShardAtItsEnd(t *testing.T) {
	t.Parallel()
	const shards = 2
	e := newEnv(t)
	r := e.read()
	cfg := config(shards)
	// Long enough that the heartbeat and the second write fit in the
	// round on a slow, busy machine; they take milliseconds on a quiet one.
	cfg.Linger = 3 * time.Second
	e.start(cfg)

	first := keysOfShard("s", 0, shards, 1)[0]
	second := keysOfShard("s", 1, shards, 1)[0]
	e.put("s", first, 10)
	read := e.head()
	waitFor(t, fmt.Sprintf("a heartbeat of shard 1 past change %d", read), func() bool {
		for _, s := range r.all(t) {
			if s.frame.Shard == 1 && s.frame.Count == 0 && s.frame.Last >= read {
				return true
			}
		}
		return false
	})
	e.put("s", second, 10)
	r.waitKeys(t, []string{first, second})

	sent := map[string]int64{}
	for _, s := range r.all(t) {
		for _, v := range s.frame.Records {
			sent[v.Key] = s.frame.SentAt
		}
	}
	if sent[first] != sent[second] {
		t.Errorf("shard 0's frame sent at %d, shard 1's at %d: not at the same round's end",
			sent[first], sent[second])
	}
}

// TestFullFramesShipBeforeALongLingerEnds writes a frame's worth of
// records while a round of a minute is open: the shipper still reads the
// log while the round lasts, and the full frame leaves at once.
func TestFullFramesShipBeforeALongLingerEnds(t *testing.T) {
	t.Parallel()
	const maxRecords = 8
	e := newEnv(t)
	r := e.read()
	cfg := config(1)
	cfg.MaxRecords = maxRecords
	cfg.Linger = time.Minute
	e.start(cfg)

	var keys []string
	for i := range maxRecords {
		keys = append(keys, fmt.Sprintf("k%d", i))
		e.put("s", keys[i], 10)
	}
	// waitFor gives up long before the minute is over.
	r.waitKeys(t, keys)
	for _, s := range r.all(t) {
		if s.frame.Count > 0 && s.frame.Count != maxRecords {
			t.Errorf("a frame of %d records, want %d", s.frame.Count, maxRecords)
		}
	}
}
