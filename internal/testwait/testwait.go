// Package testwait is how xdrd's tests wait for what has no event to wait
// on — convergence, a counter, a process coming up: they poll, with a
// deadline, through this one helper.
package testwait

import (
	"testing"
	"time"
)

// every is how often a condition is polled.
const every = 10 * time.Millisecond

// Until polls missing until it returns "", failing the test with what and
// the last answer when timeout passes first. The answer says what is still
// missing, so a failure explains itself.
func Until(t testing.TB, timeout time.Duration, what string, missing func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		why := missing()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %s", timeout, what, why)
		}
		<-tick.C
	}
}

// For polls cond until it holds; see Until.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Until(t, timeout, what, func() string {
		if cond() {
			return ""
		}
		return "not yet"
	})
}
