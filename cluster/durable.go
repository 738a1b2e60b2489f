package cluster

import (
	"context"
	"fmt"
)

type durableKey struct{}

// Durable returns a context that makes the calls started with it (with
// [deco.Func.GoContext], or in a [deco.Synchronized] scope of it) a
// durable batch called name: each call's result is kept under the name,
// the function and the call's index for [ResultTTL], whoever waits for it.
//
// A caller killed mid-batch and started again runs the same loop with the
// same name: each call is re-submitted (JetStream drops it as a duplicate
// while it is queued or running, within [DuplicateWindow]), the results
// already computed are collected without running their calls again, and
// the caller waits only for the rest. Calls are told apart by function
// and index, so the restarted loop must make the same calls in the same
// order; a call whose argument differs from the one submitted under its
// index fails with an error saying so.
//
// Name is 1 to 64 letters, digits, '-' or '_'; another name fails each
// call with an error naming it. Durable batches need an executor whose
// storage outlives the caller: files (the default), not [Memory].
func Durable(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, durableKey{}, name)
}

func durableOf(ctx context.Context) (string, bool, error) {
	name, ok := ctx.Value(durableKey{}).(string)
	if !ok {
		return "", false, nil
	}
	if len(name) == 0 || len(name) > 64 {
		return "", true, fmt.Errorf("cluster: Durable(%q): a batch name is 1 to 64 characters", name)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", true, fmt.Errorf("cluster: Durable(%q): %q is not a letter, digit, '-' or '_'", name, r)
		}
	}
	return name, true, nil
}
