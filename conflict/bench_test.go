package conflict

import (
	"testing"

	"github.com/xdrd/xdrd/record"
)

// BenchmarkResolve measures the conflict decision an applier makes for
// every replicated record.
func BenchmarkResolve(b *testing.B) {
	stored := record.Meta{Generation: 7, LUT: 1_700_000_000_000_000_000, Origin: 1}
	incoming := []record.Meta{
		{Generation: 8, LUT: 1_700_000_000_000_000_001, Origin: 2},
		{Generation: 7, LUT: 1_700_000_000_000_000_000, Origin: 1},
		{Generation: 7, LUT: 1_699_999_999_999_999_999, Origin: 3},
	}
	for _, p := range []Policy{Generation, Timestamp} {
		b.Run(p.String(), func(b *testing.B) {
			n := 0
			for i := range b.N {
				if Resolve(p, &stored, incoming[i%len(incoming)]) == Applied {
					n++
				}
				if Concurrent(stored, incoming[i%len(incoming)]) {
					n++
				}
			}
			if n < 0 {
				b.Fatal(n)
			}
		})
	}
}
