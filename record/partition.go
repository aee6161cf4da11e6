package record

import "hash/fnv"

// Partitions is the fixed number of partitions every key maps to. Shards
// group partitions (partition mod shards), so every change of one key
// travels through one shard, in order.
const Partitions = 4096

// Partition maps (set, key) to its partition with FNV-1a, which is stable
// across processes, versions and regions.
func Partition(set, key string) int {
	h := fnv.New64a()
	h.Write([]byte(set))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int(h.Sum64() % Partitions)
}

// Shard is the shard of a partition when a namespace has shards shards.
func Shard(partition, shards int) int {
	return partition % shards
}
