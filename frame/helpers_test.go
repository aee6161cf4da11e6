package frame

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"go.uber.org/goleak"

	"github.com/xdrd/xdrd/record"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// version returns a live version of namespace "users" with bins of n bytes.
func version(set, key string, n int) record.Version {
	bins := make([]byte, n)
	for i := range bins {
		bins[i] = byte(i*7 + len(key))
	}
	return record.Version{
		Namespace: "users", Set: set, Key: key,
		Meta: record.Meta{Generation: 3, LUT: 1_700_000_000_000_000_000, Origin: 2},
		Bins: bins,
	}
}

// batch is a frame of n live records with bins of binSize bytes, like the
// ones a busy shipper sends.
func batch(n, binSize int) *Frame {
	f := &Frame{Header: Header{
		Source: 2, Namespace: "users", Shard: 17,
		First: 1000, Last: 1000 + uint64(n), Count: n, SentAt: 1_700_000_000_123_456_789,
	}}
	for i := range n {
		f.Records = append(f.Records, version("profiles", fmt.Sprintf("user:%08d", i), binSize))
	}
	return f
}

// mixed is a frame exercising every field kind and integer width the
// encoder picks: tombstones, expiry, an empty set, extreme and negative
// values, and bins in each bin width.
func mixed() *Frame {
	f := &Frame{Header: Header{
		Source: 255, Namespace: "users", Shard: record.Partitions - 1,
		First: 1 << 40, Last: math.MaxUint64, SentAt: -1,
	}}
	tomb := version("profiles", "deleted", 0)
	tomb.Tombstone, tomb.Bins, tomb.Generation, tomb.Expiry = true, nil, 9, -100
	noSet := version("", "no-set", 20)
	noSet.Expiry = 1_800_000_000
	extreme := version("s", "x", 300)
	extreme.Generation, extreme.LUT, extreme.Origin = math.MaxUint64, record.MaxLUT, 255
	extreme.Expiry = math.MaxInt64
	negative := version("profiles", "neg", 70_000)
	negative.LUT, negative.Expiry, negative.Generation = 5, -200, 1<<16
	small := version("profiles", "small", 0)
	small.Bins, small.LUT, small.Generation, small.Expiry = nil, 1<<31, 300, math.MinInt64
	long := version("profiles", string(bytes.Repeat([]byte("k"), record.MaxKeyLen)), 1)
	long.LUT, long.Expiry = 40_000, -40_000

	f.Records = []record.Version{tomb, noSet, extreme, negative, small, long}
	f.Count = len(f.Records)
	return f
}

// heartbeat is a frame without records.
func heartbeat() *Frame {
	return &Frame{Header: Header{
		Source: 1, Namespace: "users", First: 42, Last: 42, SentAt: 1_700_000_000_000_000_000,
	}}
}

func encode(t testing.TB, f *Frame) []byte {
	t.Helper()
	data, err := Append(nil, f)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return data
}

// equalFrames compares frames field by field; a nil and an empty Records
// are equal, as are nil and empty bins.
func equalFrames(a, b *Frame) error {
	if a.Header != b.Header {
		return fmt.Errorf("header %+v, want %+v", a.Header, b.Header)
	}
	if len(a.Records) != len(b.Records) {
		return fmt.Errorf("%d records, want %d", len(a.Records), len(b.Records))
	}
	for i := range a.Records {
		x, y := &a.Records[i], &b.Records[i]
		if x.Namespace != y.Namespace || x.Set != y.Set || x.Key != y.Key ||
			x.Meta != y.Meta || !bytes.Equal(x.Bins, y.Bins) {
			return fmt.Errorf("record %d: %+v, want %+v", i, *x, *y)
		}
	}
	return nil
}

// arr writes an array header of n elements in mp; raw writes its bytes
// as they are.
type (
	arr int
	raw []byte
)

// mp hand-encodes msgpack values, nested []any flattened, so tests can
// build frames the encoder would refuse to produce.
func mp(vals ...any) []byte {
	var b []byte
	for _, v := range vals {
		switch x := v.(type) {
		case arr:
			b = appendArrayLen(b, int(x))
		case raw:
			b = append(b, x...)
		case int:
			b = appendInt(b, int64(x))
		case int64:
			b = appendInt(b, x)
		case uint64:
			b = appendUint(b, x)
		case string:
			b = appendStr(b, x)
		case []byte:
			b = appendBins(b, x)
		case bool:
			b = append(b, map[bool]byte{false: mpFalse, true: mpTrue}[x])
		case nil:
			b = append(b, mpNil)
		case []any:
			b = append(b, mp(x...)...)
		default:
			panic(fmt.Sprintf("mp: unsupported %T", v))
		}
	}
	return b
}

// goodHeader and goodRecord describe a valid one-record frame in mp's
// terms; tests replace one element to break it.
func goodHeader() []any {
	return []any{arr(9), Version, 3, "users", 7, 10, 12, 1, 1_700_000_000, arr(1)}
}

func goodRecord() []any {
	return []any{arr(8), "set", "key", 5, 1000, 3, 0, false, []byte{0x80}}
}

func with(vals []any, i int, v any) []any {
	vals[i] = v
	return vals
}
