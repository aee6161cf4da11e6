package lograte

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := New(time.Minute)
	t0 := time.Unix(1000, 0)
	steps := []struct {
		at         time.Duration
		ok         bool
		suppressed int
	}{
		{0, true, 0},
		{time.Second, false, 0},
		{30 * time.Second, false, 0},
		{time.Minute, true, 2},
		{time.Minute + time.Second, false, 0},
	}
	for i, s := range steps {
		ok, n := l.Allow(t0.Add(s.at))
		if ok != s.ok || n != s.suppressed {
			t.Fatalf("step %d: Allow = %v, %d; want %v, %d", i, ok, n, s.ok, s.suppressed)
		}
	}
	l.Reset()
	if ok, _ := l.Allow(t0.Add(time.Minute + 2*time.Second)); !ok {
		t.Fatal("a reset limiter held a line back")
	}
}
