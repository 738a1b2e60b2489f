//go:build !unix

package process_test

import "time"

// selfUsage is not measured on this system.
func selfUsage() (cpu time.Duration, switches int64) { return 0, 0 }
