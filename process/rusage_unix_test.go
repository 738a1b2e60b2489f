//go:build unix

package process_test

import (
	"syscall"
	"time"
)

// selfUsage returns the CPU time this process has used, all its threads,
// and its context switches, voluntary and not.
func selfUsage() (cpu time.Duration, switches int64) {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()), int64(u.Nvcsw) + int64(u.Nivcsw)
}
