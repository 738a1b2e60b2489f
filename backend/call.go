package backend

import (
	"context"

	"github.com/deco-go/deco/internal/registry"
)

// CallInfo describes a running call, for executors: see [CallOf].
type CallInfo struct {
	Func  string // the function's name
	Index int    // the call's position in call order within its batch or scope, from 0
	Lane  int    // the slot of the function's pool the call holds, 0 to limit-1
}

// CallOf describes the call whose context ctx is, as [Executor.Execute]
// receives it, so that an executor can name the call in its errors and
// run each lane of the pool on one worker, which then shows in stats and
// timelines as that lane. It reports false for a context that belongs to
// no running call. Cost: a context lookup, no allocation.
func CallOf(ctx context.Context) (CallInfo, bool) {
	name, index, lane, ok := registry.CallOf(ctx)
	if !ok {
		return CallInfo{}, false
	}
	return CallInfo{Func: name, Index: index, Lane: lane}, true
}
