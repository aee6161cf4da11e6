package bench

import (
	"fmt"
	"io"
	"runtime/pprof"
	"runtime/trace"
	"syscall"
	"time"
)

// phase is the timed part of a run: the replication window, or the
// catch-up after an outage. It keeps the CPU profile and the execution
// trace, when they are asked for, and the process's CPU time to that part
// alone.
type phase struct {
	profiled, traced bool
	cpu              time.Duration
}

// startPhase begins the timed part, profiling into profile and tracing
// into tr when they are set.
func startPhase(profile, tr io.Writer) (*phase, error) {
	p := &phase{}
	if profile != nil {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		p.profiled = true
	}
	if tr != nil {
		if err := trace.Start(tr); err != nil {
			p.end()
			return nil, fmt.Errorf("execution trace: %w", err)
		}
		p.traced = true
	}
	p.cpu = cpuTime()
	return p, nil
}

// end stops the profile and the trace and returns the CPU time the
// process spent, on every core, since the phase began.
func (p *phase) end() time.Duration {
	cpu := cpuTime() - p.cpu
	if p.traced {
		trace.Stop()
		p.traced = false
	}
	if p.profiled {
		pprof.StopCPUProfile()
		p.profiled = false
	}
	return cpu
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
