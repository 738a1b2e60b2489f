// The project's sleep example written with deco.Synchronized (Python
// deco's @synchronized), with the mistake a newcomer makes: slow.Go in the
// body instead of slow.GoContext(ctx, ...). Synchronized then returns before
// any call is done.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/deco-go/deco"
)

func slow(index string) {
	time.Sleep(5 * time.Second)
	fmt.Println("done with", index)
}

func run(ctx context.Context) error {
	slow := deco.Concurrent(slow, deco.Limit(3))
	return deco.Synchronized(ctx, func(ctx context.Context) error {
		for _, index := range []string{"1", "2", "3"} {
			slow.Go(index) // want `^detached-call: slow.Go inside the deco.Synchronized body at line 22 is not part of the scope`
		}
		return nil
	})
}

func main() {
	defer deco.WaitAll()
	if err := run(context.Background()); err != nil {
		panic(err)
	}
}
