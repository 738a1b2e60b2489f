// Command unwaitedmain defers deco.WaitAll in main: calls nobody waits for
// are flushed there, so rule 4 says nothing.
package main

import "github.com/deco-go/deco"

func work(i int) {}

func start() {
	f := deco.Concurrent(work)
	f.Go(1)
}

func main() {
	defer deco.WaitAll()
	start()
}
