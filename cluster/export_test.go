package cluster

// StaticFetches reports how many Static values this process fetched from
// the object store: the tests' functions return it from workers.
func StaticFetches() int64 { return staticFetches.Load() }
