// Package fixes holds the suggested fixes of rule 1, where they are offered
// and where they are not (fixes.go.golden is this file with them applied).
package fixes

import (
	"context"
	"fmt"
	"strings"

	"github.com/deco-go/deco"
)

// Offered: to deco.AssignContext, for a ctx-shaped task started with
// GoContext inside a scope.
func assignContext(ctx context.Context, words []string) map[string]string {
	upper := make(map[string]string, len(words))
	f := deco.ConcurrentCtx(func(ctx context.Context, w string) {
		upper[w] = strings.ToUpper(w) // want `shared-write: upper\[w\] = strings.ToUpper\(w\) writes the map upper`
	})
	_ = deco.Synchronized(ctx, func(ctx context.Context) error {
		for _, w := range words {
			f.GoContext(ctx, w)
		}
		return nil
	})
	_, err := f.Wait()
	_ = err
	return upper
}

// Offered: to a *deco.Map, with a comma-ok read, len and make.
func toMap() {
	seen := make(map[int]bool)
	f := deco.Concurrent(func(i int) {
		seen[i] = true // want `shared-write: seen\[i\] = true writes the map seen`
		fmt.Println(i)
	})
	for i := range 3 {
		f.Go(i)
	}
	f.Wait()
	if v, ok := seen[1]; ok {
		fmt.Println(v, len(seen))
	}
}

// Not offered: the map is read with one value, which a *deco.Map's Get
// does not give, and the write is not the task's last statement.
func singleRead() {
	m := map[int]int{}
	f := deco.Concurrent(func(i int) {
		m[i] = i // want `shared-write: m\[i\] = i writes the map m`
		fmt.Println(i)
	})
	f.Go(1)
	f.Wait()
	fmt.Println(m[1])
}

// Not offered: the key is not the call's argument, so deco.Assign would
// need a key the call site does not have; and the map comes from a
// parameter of an exported function whose callers are elsewhere... here
// the function is passed as a value, so its type must not change.
func keyNotArgument(m map[string]int) {
	f := deco.Concurrent(func(i int) {
		m[fmt.Sprint(i)] = i // want `shared-write: m\[fmt.Sprint\(i\)\] = i writes the map m`
	})
	f.Go(1)
	f.Wait()
}

var handler = keyNotArgument

// Not offered: the decorated function escapes (returned), so its calls
// cannot all be rewritten.
func escapes() (*deco.Func[int, struct{}], map[int]int) {
	m := map[int]int{}
	f := deco.Concurrent(func(i int) {
		m[i] = i * 2 // want `shared-write: m\[i\] = i \* 2 writes the map m`
	})
	return f, m
}
