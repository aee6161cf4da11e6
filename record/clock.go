package record

import (
	"sync"
	"time"
)

// Clock is a hybrid logical clock. Every LUT it hands out is at least the
// wall clock and strictly greater than every LUT it has handed out or
// observed, so a local write always sorts after every version the region
// has seen, even when wall clocks of regions disagree.
type Clock struct {
	mu   sync.Mutex
	last LUT
	wall func() time.Time
}

// NewClock returns a clock that reads wall time from wall, or from
// time.Now when wall is nil. Tests pass their own wall clock.
func NewClock(wall func() time.Time) *Clock {
	if wall == nil {
		wall = time.Now
	}
	return &Clock{wall: wall}
}

// Now returns a fresh LUT for a local write.
func (c *Clock) Now() LUT {
	w := LUT(c.wall().UnixNano())

	c.mu.Lock()
	defer c.mu.Unlock()
	if w <= c.last {
		w = c.last + 1
	}
	c.last = w
	return w
}

// Observe moves the clock past a LUT seen on a remote version, so later
// local writes sort after it.
func (c *Clock) Observe(l LUT) {
	c.mu.Lock()
	if l > c.last {
		c.last = l
	}
	c.mu.Unlock()
}

// Wall returns the clock's wall time, for expiry and horizon checks.
func (c *Clock) Wall() time.Time {
	return c.wall()
}
