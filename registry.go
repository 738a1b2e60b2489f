package deco

import (
	"context"
	"fmt"
	"reflect"

	"github.com/deco-go/deco/internal/registry"
)

// register records fn under name in the registry of named functions
// (internal/registry), which backend.Invoke reads, refusing a duplicate.
func register[A, R any](name string, fn func(context.Context, A) (R, error), where string) {
	err := registry.Register(name, registry.Func{
		Where:     where,
		Signature: fmt.Sprintf("func(%v) %v", reflect.TypeFor[A](), reflect.TypeFor[R]()),
		Invoke: func(ctx context.Context, arg []byte) ([]byte, error) {
			return invoke(ctx, name, fn, arg)
		},
	})
	if err != nil {
		panic(err.Error())
	}
}
