package registry

import "context"

// CallOf describes the running call whose context ctx is: its function's
// name, its index and its lane. The root package sets it at init.
var CallOf = func(ctx context.Context) (name string, index, lane int, ok bool) { return "", 0, 0, false }
