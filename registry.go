package deco

import (
	"context"
	"fmt"
	"reflect"

	"github.com/deco-go/deco/internal/registry"
)

// register records fn under name in the registry of named functions
// (internal/registry), which backend.Invoke reads, refusing a duplicate.
//
// Decorating again from the same stack of callers (a test run with
// -count, a function that runs twice) is no collision: the same code takes
// the name again. Any other decoration claiming a taken name is refused,
// also when both go through one helper function, whose own line is the
// same for both. (Decorations in one loop share their stack: a loop that
// names functions alike is not told apart from code that runs twice.)
func register[A, R any](name string, fn func(context.Context, A) (R, error), at site) {
	err := registry.Register(name, registry.Func{
		Where:     at.where,
		Site:      at.stack,
		AtInit:    at.atInit,
		Signature: fmt.Sprintf("func(%v) %v", reflect.TypeFor[A](), reflect.TypeFor[R]()),
		Invoke: func(ctx context.Context, arg []byte) ([]byte, error) {
			return invoke(ctx, name, fn, arg)
		},
	})
	if err != nil {
		panic(err.Error())
	}
}
