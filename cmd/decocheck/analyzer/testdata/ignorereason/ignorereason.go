// Package ignorereason has an ignore directive without a reason: it still
// silences the shared write, and is reported itself (checked in
// TestIgnoreNeedsAReason, since a want comment cannot share its line).
package ignorereason

import "github.com/deco-go/deco"

func noReason() {
	var n int
	f := deco.Concurrent(func(i int) {
		n = i //decocheck:ignore
	})
	f.Go(1)
	f.Wait()
	_ = n
}
