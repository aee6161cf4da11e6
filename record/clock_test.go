package record_test

import (
	"sync"
	"testing"
	"time"

	"github.com/xdrd/xdrd/record"
)

// fakeWall is a wall clock that a test moves by hand.
type fakeWall struct{ now time.Time }

func (w *fakeWall) read() time.Time { return w.now }

func TestClockNowStrictlyIncreasing(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	// Each step sets the wall clock, then takes one LUT.
	steps := []struct {
		name string
		wall time.Time
	}{
		{"start", base},
		{"wall stands still", base},
		{"wall still stands still", base},
		{"wall one nanosecond back", base.Add(-1)},
		{"wall one hour back", base.Add(-time.Hour)},
		{"wall catches up", base.Add(3)},
		{"wall jumps ahead", base.Add(time.Minute)},
		{"wall one nanosecond ahead", base.Add(time.Minute + 1)},
		{"wall before the epoch", time.Unix(-5, 0)},
	}

	w := &fakeWall{}
	c := record.NewClock(w.read)
	var prev record.LUT
	for i, s := range steps {
		w.now = s.wall
		got := c.Now()
		if i > 0 && got <= prev {
			t.Errorf("%s: Now() = %d, not after previous %d", s.name, got, prev)
		}
		if wall := record.LUT(s.wall.UnixNano()); got < wall {
			t.Errorf("%s: Now() = %d, behind wall %d", s.name, got, wall)
		}
		prev = got
	}
}

func TestClockFollowsWallWhenAhead(t *testing.T) {
	w := &fakeWall{now: time.Unix(100, 0)}
	c := record.NewClock(w.read)
	c.Now()

	w.now = time.Unix(200, 0)
	if got, want := c.Now(), record.LUT(w.now.UnixNano()); got != want {
		t.Fatalf("Now() = %d, want the wall clock %d", got, want)
	}
}

func TestClockObserve(t *testing.T) {
	wall := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name     string
		observed record.LUT
	}{
		{"far future", record.LUT(wall.Add(time.Hour).UnixNano())},
		{"next nanosecond", record.LUT(wall.UnixNano()) + 1},
		{"equal to wall", record.LUT(wall.UnixNano())},
		{"past", record.LUT(wall.Add(-time.Hour).UnixNano())},
		{"zero", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &fakeWall{now: wall}
			c := record.NewClock(w.read)
			before := c.Now()

			c.Observe(tt.observed)
			got := c.Now()
			if got <= tt.observed {
				t.Errorf("Now() = %d after Observe(%d), want greater", got, tt.observed)
			}
			if got <= before {
				t.Errorf("Now() = %d after Observe, not after earlier %d", got, before)
			}
			if got < record.LUT(wall.UnixNano()) {
				t.Errorf("Now() = %d, behind wall %d", got, wall.UnixNano())
			}
		})
	}
}

func TestClockObserveBeforeFirstNow(t *testing.T) {
	w := &fakeWall{now: time.Unix(10, 0)}
	c := record.NewClock(w.read)
	future := record.LUT(time.Unix(50, 0).UnixNano())

	c.Observe(future)
	if got := c.Now(); got <= future {
		t.Fatalf("Now() = %d, want after observed %d", got, future)
	}
}

func TestClockConcurrentNowUnique(t *testing.T) {
	w := &fakeWall{now: time.Unix(42, 0)}
	c := record.NewClock(w.read) // the wall never moves: only the counter does
	const goroutines, each = 8, 500

	luts := make([][]record.LUT, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				luts[g] = append(luts[g], c.Now())
			}
		})
	}
	wg.Wait()

	seen := make(map[record.LUT]bool, goroutines*each)
	for g, own := range luts {
		for i, l := range own {
			if seen[l] {
				t.Fatalf("LUT %d handed out twice", l)
			}
			seen[l] = true
			if i > 0 && l <= own[i-1] {
				t.Fatalf("goroutine %d: LUT %d after %d", g, l, own[i-1])
			}
		}
	}
}

func TestClockDefaultsToSystemTime(t *testing.T) {
	c := record.NewClock(nil)
	before := time.Now().UnixNano()
	got := c.Now()
	if int64(got) < before {
		t.Fatalf("Now() = %d, behind time.Now() %d", got, before)
	}
	if d := time.Since(c.Wall()); d < 0 || d > time.Hour {
		t.Fatalf("Wall() is %v away from time.Now()", d)
	}
}

func TestClockWallIsInjected(t *testing.T) {
	w := &fakeWall{now: time.Unix(7, 0)}
	c := record.NewClock(w.read)
	if got := c.Wall(); !got.Equal(w.now) {
		t.Fatalf("Wall() = %v, want %v", got, w.now)
	}
}
