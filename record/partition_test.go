package record_test

import (
	"fmt"
	"testing"

	"github.com/xdrd/xdrd/record"
)

// TestPartitionPinned pins the partitions of a few keys. Every region must
// map a key to the same partition, so these values may never change: a
// failure here means the hash changed and regions would disagree.
func TestPartitionPinned(t *testing.T) {
	tests := []struct {
		set, key string
		want     int
	}{
		{"", "", 2015},
		{"", "a", 2010},
		{"s", "k", 1015},
		{"users", "alice", 3539},
		{"installs", "device-42", 2278},
		// The separator keeps (set, key) pairs with the same concatenation apart.
		{"ab", "c", 2151},
		{"a", "bc", 1315},
	}
	for _, tt := range tests {
		if got := record.Partition(tt.set, tt.key); got != tt.want {
			t.Errorf("Partition(%q, %q) = %d, want %d", tt.set, tt.key, got, tt.want)
		}
	}
}

func TestPartitionInRange(t *testing.T) {
	hit := make(map[int]bool)
	for i := range 50_000 {
		set := fmt.Sprintf("set-%d", i%7)
		key := fmt.Sprintf("key-%d", i)
		p := record.Partition(set, key)
		if p < 0 || p >= record.Partitions {
			t.Fatalf("Partition(%q, %q) = %d, outside [0, %d)", set, key, p, record.Partitions)
		}
		hit[p] = true
	}
	// 50,000 keys over 4,096 partitions miss one with probability ~e^-12 each.
	if len(hit) != record.Partitions {
		t.Errorf("keys reached %d of %d partitions", len(hit), record.Partitions)
	}
}

func TestShard(t *testing.T) {
	tests := []struct {
		partition, shards, want int
	}{
		{0, 1, 0},
		{4095, 1, 0},
		{0, 16, 0},
		{15, 16, 15},
		{16, 16, 0},
		{17, 16, 1},
		{4095, 16, 15},
		{4095, 4096, 4095},
		{100, 3, 1},
	}
	for _, tt := range tests {
		if got := record.Shard(tt.partition, tt.shards); got != tt.want {
			t.Errorf("Shard(%d, %d) = %d, want %d", tt.partition, tt.shards, got, tt.want)
		}
	}
}

// TestShardCoversEvenly checks that every shard count a topology allows
// gives every shard partitions, as evenly as the division allows.
func TestShardCoversEvenly(t *testing.T) {
	for _, shards := range []int{1, 2, 3, 16, 100, 1000, record.Partitions} {
		count := make([]int, shards)
		for p := range record.Partitions {
			s := record.Shard(p, shards)
			if s < 0 || s >= shards {
				t.Fatalf("Shard(%d, %d) = %d, out of range", p, shards, s)
			}
			count[s]++
		}
		lo, hi := record.Partitions/shards, (record.Partitions+shards-1)/shards
		for s, n := range count {
			if n < lo || n > hi {
				t.Errorf("shards=%d: shard %d has %d partitions, want %d–%d",
					shards, s, n, lo, hi)
			}
		}
	}
}
