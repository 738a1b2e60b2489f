package cluster_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
	"github.com/nats-io/nats-server/v2/server"
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
	prices    = deco.NewStatic[map[string]float64]("example.prices")
	price     = deco.ConcurrentValue(func(item string) float64 { return prices.Get()[item] }, deco.Name("example.price"))
	setPrices sync.Once // Set is once per process: a Static is read-only
)

// A deco.Static's value is set once in the caller and goes to each worker
// once (through JetStream's Object Store, by hash), not with every call.
func Example_static() {
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

// Inspect reads the workers and queues of a server by its URL, as
// command deco workers does.
func ExampleInspect() {
	dir, _ := os.MkdirTemp("", "deco-example")
	defer os.RemoveAll(dir)
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Start()
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	if !s.ReadyForConnections(10 * time.Second) {
		fmt.Println("server not ready")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := cluster.Inspect(ctx, s.ClientURL())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(snap.Workers), "workers,", len(snap.Queues), "queues")
	_, err = cluster.Inspect(ctx, "localhost:4222")
	fmt.Println(err)
	// Output:
	// 0 workers, 0 queues
	// cluster: "localhost:4222" is not a URL of the form nats://host:port
}

func ExampleSnapshot_WriteTable() {
	now := time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC)
	snap := &cluster.Snapshot{
		Workers: []cluster.WorkerInfo{{
			ID: "vm:4242", Host: "vm", PID: 4242, Build: "3f2a9c1d0b7e", Funcs: 2, Slots: 2,
			Started: now.Add(-90 * time.Second), Executed: 17,
			Running: []cluster.Running{{Func: "resize", Call: 7, Key: "s.abc.8", Since: now.Add(-250 * time.Millisecond)}},
		}},
		Queues: []cluster.Queue{{Build: "3f2a9c1d0b7e", Func: "resize", Pending: 12, Running: 2, Pulling: 1}},
	}
	snap.WriteTable(os.Stdout, now)
	// Output:
	// WORKER   BUILD         SLOTS  RUNNING  EXECUTED  UP
	// vm:4242  3f2a9c1d0b7e  2      1        17        1m30s
	// 1 workers
	//
	// WORKER   CALL       KEY      FOR
	// vm:4242  resize #7  s.abc.8  250ms
	//
	// BUILD         FUNC    QUEUED  TAKEN  PULLING  REDELIVERED
	// 3f2a9c1d0b7e  resize  12      2      1        0
}
