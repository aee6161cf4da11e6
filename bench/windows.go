package bench

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"time"
)

// windowWidth is the interval --windows reports the latency of: short
// enough to show a burst of a few tens of milliseconds, long enough to
// hold thousands of records at the rates worth looking at.
const windowWidth = 100 * time.Millisecond

// writeWindows writes, as CSV, the latency of the records applied in each
// windowWidth from `from` on: how many, and their median, 99th percentile
// and maximum. Records applied before from count in the first window. A
// window in which nothing was applied is left out.
func (r *recorder) writeWindows(w io.Writer, from time.Time) error {
	r.mu.Lock()
	samples, at := slices.Clone(r.samples), slices.Clone(r.at)
	r.mu.Unlock()
	if len(at) != len(samples) {
		return fmt.Errorf("latency windows: %d samples but %d apply times", len(samples), len(at))
	}

	skip := from.Sub(r.origin).Milliseconds()
	width := windowWidth.Milliseconds()
	var windows [][]uint32
	for i, ms := range at {
		n := int(max(0, int64(ms)-skip) / width)
		if n >= len(windows) {
			windows = slices.Grow(windows, n+1-len(windows))[:n+1]
		}
		windows[n] = append(windows[n], samples[i])
	}

	b := bufio.NewWriter(w)
	fmt.Fprintln(b, "start_s,records,p50_ms,p99_ms,max_ms")
	for n, s := range windows {
		if len(s) == 0 {
			continue
		}
		slices.Sort(s)
		fmt.Fprintf(b, "%.1f,%d,%.3f,%.3f,%.3f\n", float64(int64(n)*width)/1e3, len(s),
			quantileMS(s, 0.5), quantileMS(s, 0.99), quantileMS(s, 1))
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("latency windows: %w", err)
	}
	return nil
}
