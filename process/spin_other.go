//go:build !linux

package process

import "time"

// spinWait is for Linux (see spin_linux.go): elsewhere a reader waits in
// its read at once.
func spinWait(fd int, budget time.Duration) bool { return false }
