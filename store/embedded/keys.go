package embedded

// Key layout. Every Pebble key starts with one byte that names its kind;
// names never contain a zero byte (record.Validate), so a zero byte can
// end a name inside a key without escaping:
//
//	records     'r' namespace 0x00 partition(2, big-endian) set 0x00 key
//	change log  'l' namespace 0x00 seq(8, big-endian)
//	trim marks  't' namespace
//
// A record's value and a change's value are both encodeValue's encoding of
// the version (metadata, set, key and bins). Because the partition comes
// right after the namespace, the records of one partition are one key
// range, and Scan seeks from partition to partition. Because sequence
// numbers are big-endian, the change log of a namespace is in order, its
// last key holds the newest Seq, and trimming is one range delete.
//
// The trim mark holds, as 8 big-endian bytes, the highest Seq that Trim
// dropped. It survives a log that is trimmed to its end, so that on open
// the sequence goes on from max(last log key, trim mark) instead of
// restarting at 1.

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

const (
	recordPrefix = 'r'
	logPrefix    = 'l'
	trimPrefix   = 't'
)

// recordKey appends the key of record (ns, set, key) to dst.
func recordKey(dst []byte, ns string, partition int, set, key string) []byte {
	dst = partitionKey(dst, ns, partition)
	dst = append(dst, set...)
	dst = append(dst, 0)
	return append(dst, key...)
}

// partitionKey appends the first possible key of a partition of ns to dst;
// partition may be record.Partitions, the end of the last partition.
func partitionKey(dst []byte, ns string, partition int) []byte {
	dst = append(dst, recordPrefix)
	dst = append(dst, ns...)
	dst = append(dst, 0)
	return binary.BigEndian.AppendUint16(dst, uint16(partition))
}

// recordBounds returns the key range that holds every record of ns.
func recordBounds(ns string) (lo, hi []byte) {
	return namespaceBounds(recordPrefix, ns)
}

// keyPartition reads the partition out of a record key of ns.
func keyPartition(k []byte, ns string) (int, error) {
	i := 1 + len(ns) + 1
	if len(k) < i+2 {
		return 0, errors.New("record key too short")
	}
	p := int(binary.BigEndian.Uint16(k[i:]))
	if p >= record.Partitions {
		return 0, fmt.Errorf("record key in partition %d of %d", p, record.Partitions)
	}
	return p, nil
}

// logKey appends the change-log key of seq in ns to dst.
func logKey(dst []byte, ns string, seq store.Cursor) []byte {
	dst = append(dst, logPrefix)
	dst = append(dst, ns...)
	dst = append(dst, 0)
	return binary.BigEndian.AppendUint64(dst, uint64(seq))
}

// logBounds returns the key range that holds the change log of ns.
func logBounds(ns string) (lo, hi []byte) {
	return namespaceBounds(logPrefix, ns)
}

// logSeq reads the sequence number out of a change-log key.
func logSeq(k []byte) (store.Cursor, error) {
	if len(k) < 8 {
		return 0, errors.New("change-log key too short")
	}
	return store.Cursor(binary.BigEndian.Uint64(k[len(k)-8:])), nil
}

// trimKey returns the key of the trim mark of ns.
func trimKey(ns string) []byte {
	return append([]byte{trimPrefix}, ns...)
}

// namespaceBounds is [prefix ns 0x00, prefix ns 0x01): every key of one
// kind and namespace, and none of a namespace that only shares a prefix
// of the name.
func namespaceBounds(prefix byte, ns string) (lo, hi []byte) {
	lo = append(append([]byte{prefix}, ns...), 0)
	hi = append(append([]byte{prefix}, ns...), 1)
	return lo, hi
}

// successor is the smallest key after k, the exclusive end of a range
// whose last key is k.
func successor(k []byte) []byte {
	return append(append([]byte(nil), k...), 0)
}
