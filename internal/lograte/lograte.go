// Package lograte keeps a repeated warning from flooding the logs: the
// first one is written, and later ones at most once per interval with the
// count of those held back.
package lograte

import (
	"sync"
	"time"
)

// Limiter decides whether a repeated log line is written now.
type Limiter struct {
	every time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// New returns a limiter that lets one line through per interval.
func New(every time.Duration) *Limiter {
	return &Limiter{every: every}
}

// Allow reports whether to write the line now and, if so, how many were
// held back since the last one written.
func (l *Limiter) Allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}

// Reset lets the next line through at once: the condition it reports
// ended.
func (l *Limiter) Reset() {
	l.mu.Lock()
	l.last, l.suppressed = time.Time{}, 0
	l.mu.Unlock()
}
