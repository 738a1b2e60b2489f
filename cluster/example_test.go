package cluster_test

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
)

// cube runs on the cluster's workers: it is named and decorated at
// package level, where every process of the program has it.
var cube = deco.ConcurrentValue(func(x int) int { return x * x * x }, deco.Name("example.cube"))

// An embedded server and two local worker processes; the call site is
// the in-process one. (The program's main, or TestMain, calls
// cluster.Main first.)
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "deco-example")
	defer os.RemoveAll(dir)
	e := cluster.New(cluster.Dir(dir), cluster.Workers(2))
	defer e.Close()

	f := cube.With(deco.On(e))
	for i := range 5 {
		f.Go(i)
	}
	got, err := f.Wait()
	fmt.Println(got, err)
	// Output: [0 1 8 27 64] <nil>
}

// A large read-only input, made at package level like the functions that
// read it, and the function that reads it on the workers.
var (
	prices    = cluster.NewStatic[map[string]float64]("example.prices")
	price     = deco.ConcurrentValue(func(item string) float64 { return prices.Get()[item] }, deco.Name("example.price"))
	setPrices sync.Once // Set is once per process: a Static is read-only
)

// A Static's value is set once in the caller and goes to each worker once
// (through JetStream's Object Store), not with every call.
func ExampleNewStatic() {
	dir, _ := os.MkdirTemp("", "deco-example")
	defer os.RemoveAll(dir)
	e := cluster.New(cluster.Dir(dir), cluster.Workers(2))
	defer e.Close()

	setPrices.Do(func() { prices.Set(map[string]float64{"apple": 0.5, "pear": 0.75}) })
	f := price.With(deco.On(e))
	for _, item := range []string{"apple", "pear", "apple"} {
		f.Go(item)
	}
	got, err := f.Wait()
	fmt.Println(got, err)
	// Output: [0.5 0.75 0.5] <nil>
}

// A durable batch: run again with the same name (after a crash, say), the
// calls already computed are collected, not run again.
func ExampleDurable() {
	dir, _ := os.MkdirTemp("", "deco-example")
	defer os.RemoveAll(dir)
	e := cluster.New(cluster.Dir(dir), cluster.Workers(1))
	defer e.Close()

	ctx := cluster.Durable(context.Background(), "cubes")
	f := cube.With(deco.On(e))
	for range 2 { // the second run finds every result
		for i := range 3 {
			f.GoContext(ctx, i)
		}
		got, _ := f.Wait()
		fmt.Println(got)
	}
	fmt.Println("collected without running:", e.Stats().Collected)
	// Output:
	// [0 1 8]
	// [0 1 8]
	// collected without running: 3
}

// List reports the workers of a server and the calls they run.
func ExampleList() {
	dir, _ := os.MkdirTemp("", "deco-example")
	defer os.RemoveAll(dir)
	e := cluster.New(cluster.Dir(dir), cluster.Workers(2))
	defer e.Close()
	if err := e.Start(); err != nil {
		fmt.Println(err)
		return
	}
	snap, err := e.List(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range snap.Workers {
		fmt.Println("worker serving", w.Funcs > 0, "slots", w.Slots)
	}
	fmt.Println(len(e.PIDs()), "local workers")
	// Output:
	// worker serving true slots 2
	// worker serving true slots 2
	// 2 local workers
}
