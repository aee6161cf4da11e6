package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xdrd/xdrd/conflict"
	"github.com/xdrd/xdrd/record"
	"github.com/xdrd/xdrd/store"
)

// TestWindowsSplitTheRun feeds a recorder records applied at known times
// and checks each window's count and quantiles, that records applied
// before the start count in the first window, and that an empty window is
// left out.
func TestWindowsSplitTheRun(t *testing.T) {
	rec := newRecorder(true)
	from := rec.origin.Add(time.Second)
	applyAt := func(at time.Time, latencies ...time.Duration) {
		vs := make([]record.Version, len(latencies))
		res := make([]store.Result, len(latencies))
		for i, l := range latencies {
			vs[i].LUT = record.LUT(at.Add(-l).UnixNano())
			res[i].Outcome = conflict.Applied
		}
		rec.add(at.UnixNano(), vs, res)
	}
	applyAt(from.Add(-time.Millisecond), 4*time.Millisecond)
	applyAt(from.Add(50*time.Millisecond), time.Millisecond, 2*time.Millisecond)
	// Nothing in [0.1 s, 0.2 s).
	applyAt(from.Add(250*time.Millisecond), 30*time.Millisecond)

	var out bytes.Buffer
	if err := rec.writeWindows(&out, from); err != nil {
		t.Fatal(err)
	}
	want := "start_s,records,p50_ms,p99_ms,max_ms\n" +
		"0.0,3,2.000,4.000,4.000\n" +
		"0.2,1,30.000,30.000,30.000\n"
	if out.String() != want {
		t.Errorf("windows:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestRunWritesLatencyWindows runs at a fixed rate with windows asked for:
// every applied record is in one window, and each window's quantiles are
// in order.
func TestRunWritesLatencyWindows(t *testing.T) {
	const records = 2000
	var out bytes.Buffer
	_, err := Run(context.Background(), Options{Store: "memory://", Records: records, Size: 100,
		Rate: 4000, Dir: t.TempDir(), Windows: &out})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	if err != nil {
		t.Fatalf("windows are not CSV: %v\n%s", err, out.String())
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "start_s,records,p50_ms,p99_ms,max_ms" {
		t.Fatalf("windows without a header and a row:\n%s", out.String())
	}
	total, last := 0, -1.0
	for _, row := range rows[1:] {
		var v [5]float64
		for i := range v {
			if v[i], err = strconv.ParseFloat(row[i], 64); err != nil {
				t.Fatalf("row %v: %v", row, err)
			}
		}
		if v[0] <= last || v[2] > v[3] || v[3] > v[4] || v[1] < 1 {
			t.Errorf("row %v out of order after a window at %.1f s", row, last)
		}
		last = v[0]
		total += int(v[1])
	}
	if total != records {
		t.Errorf("windows hold %d records, want %d", total, records)
	}
}

// TestOutageRefusesWindows checks that an outage, which measures no
// latency, refuses latency windows before anything starts.
func TestOutageRefusesWindows(t *testing.T) {
	_, err := Run(context.Background(), Options{Outage: time.Second, Rate: 100,
		Dir: t.TempDir(), Windows: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "windows") {
		t.Errorf("outage with windows: err %v", err)
	}
}
