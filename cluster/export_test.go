package cluster

import "github.com/deco-go/deco/backend"

// StaticFetches reports how many Static values this process fetched from
// the object store: the tests' functions return it from workers.
func StaticFetches() int64 { return staticFetches.Load() }

// PackNext makes the next publish wait until n calls are queued, so that
// they go in one pack (the returned function undoes it if it did not
// happen).
func PackNext(n int) (undo func()) {
	packWaitFor.Store(int32(n))
	return func() { packWaitFor.Store(0) }
}

// SetStatics counts the distinct values of the Statics set in this
// process.
func SetStatics() int {
	sums := map[string]bool{}
	for _, s := range backend.Statics() {
		if s.IsSet() {
			_, sum, _ := s.Encoded()
			sums[sum] = true
		}
	}
	return len(sums)
}
