//go:build !unix

package bench

import "time"

// processCPU is the CPU time the process has used so far; 0: not read on
// this system.
func processCPU() time.Duration { return 0 }
