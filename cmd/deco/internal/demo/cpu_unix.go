//go:build unix

package demo

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used so far, user and system,
// or 0 when the system does not say.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
