package bench

import (
	"fmt"
	"io"
	"runtime/pprof"
	"syscall"
	"time"
)

// phase is the timed part of a run: the replication window, or the
// catch-up after an outage. It keeps the CPU profile, when one is asked
// for, and the process's CPU time to that part alone.
type phase struct {
	profiled bool
	cpu      time.Duration
}

// startPhase begins the timed part, profiling into profile when it is set.
func startPhase(profile io.Writer) (*phase, error) {
	p := &phase{cpu: cpuTime()}
	if profile != nil {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		p.profiled = true
	}
	return p, nil
}

// end stops the profile and returns the CPU time the process spent,
// on every core, since the phase began.
func (p *phase) end() time.Duration {
	if p.profiled {
		pprof.StopCPUProfile()
		p.profiled = false
	}
	return cpuTime() - p.cpu
}

// cpuTime is the user and system time of the whole process so far; 0
// where the system does not say.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
