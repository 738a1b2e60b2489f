package registry

import "context"

// CallOf describes the running call whose context ctx is: its function's
// name, its index and its lane. The root package sets it at init.
var CallOf = func(ctx context.Context) (name string, index, lane int, ok bool) { return "", 0, 0, false }

// Ran records where the running call whose context ctx is ran: the
// worker's name and, when known, its start and end on the worker's clock
// (Unix nanoseconds, else 0). The root package sets it at init.
var Ran = func(ctx context.Context, worker string, start, end int64) {}
