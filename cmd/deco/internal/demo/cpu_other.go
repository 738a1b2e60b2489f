//go:build !unix

package demo

import "time"

// cpuTime would be the CPU time this process has used so far; this system
// is not asked, so the demo shows no CPU figures.
func cpuTime() time.Duration { return 0 }
