package deco_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deco-go/deco"
)

// The seed's first example: three slow calls that run at once.
func ExampleConcurrent() {
	var started sync.WaitGroup
	started.Add(3)
	slow := func(index string) {
		started.Done()
		started.Wait() // returns only once all three calls run at the same time
		time.Sleep(10 * time.Millisecond)
	}

	{
		// The default limit is one call per core; Limit(3) is deco's
		// processes=3, so that three calls run at once even on 2 cores.
		slow := deco.Concurrent(slow, deco.Limit(3))
		for _, index := range []string{"1", "2", "3"} {
			slow.Go(index)
		}
		slow.Wait()
	}
	fmt.Println("all three calls ran at once")
	// Output: all three calls ran at once
}

func ExampleConcurrentErr() {
	check := deco.ConcurrentErr(func(n int) error {
		if n < 0 {
			return fmt.Errorf("%d is negative", n)
		}
		return nil
	})
	for _, n := range []int{1, -2, 3, -4} {
		check.Go(n)
	}
	_, err := check.Wait()
	fmt.Println(err)
	// Output:
	// deco: call #1: -2 is negative
	// deco: call #3: -4 is negative
}

func ExampleConcurrentValue() {
	square := deco.ConcurrentValue(func(n int) int { return n * n })
	for n := range 5 {
		square.Go(n)
	}
	squares, _ := square.Wait() // in call order, whatever order they finished in
	fmt.Println(squares)
	// Output: [0 1 4 9 16]
}

func ExampleConcurrentResult() {
	parse := deco.ConcurrentResult(func(s string) (int, error) {
		var n int
		_, err := fmt.Sscan(s, &n)
		return n, err
	})
	for _, s := range []string{"1", "two", "3"} {
		parse.Go(s)
	}
	numbers, err := parse.Wait()
	var ce *deco.CallError
	errors.As(err, &ce)
	fmt.Println(numbers, "failed call:", ce.Index)
	// Output: [1 0 3] failed call: 1
}

func ExampleConcurrentCtx() {
	wait := deco.ConcurrentCtx(func(ctx context.Context, d time.Duration) {
		select {
		case <-time.After(d):
		case <-ctx.Done(): // the caller's context reaches the task
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	wait.GoContext(ctx, time.Hour)
	wait.Wait()
	fmt.Println("returned early:", time.Since(start) < time.Minute)
	// Output: returned early: true
}

func ExampleConcurrentCtxErr() {
	fetch := deco.ConcurrentCtxErr(func(ctx context.Context, url string) error {
		if strings.HasPrefix(url, "bad") {
			return errors.New("unreachable")
		}
		return ctx.Err()
	}, deco.Name("ExampleConcurrentCtxErr/fetch"))
	err := deco.Synchronized(context.Background(), func(ctx context.Context) error {
		for _, u := range []string{"good.example", "bad.example"} {
			fetch.GoContext(ctx, u)
		}
		return nil
	})
	fmt.Println(err)
	// Output: deco: ExampleConcurrentCtxErr/fetch call #1: unreachable
}

func ExampleConcurrentCtxValue() {
	length := deco.ConcurrentCtxValue(func(_ context.Context, s string) int { return len(s) })
	fut := length.GoContext(context.Background(), "deco")
	n, _ := fut.Wait()
	fmt.Println(n)
	length.Wait()
	// Output: 4
}

// A ctx-shaped function nests: each call waits for its children in a
// Synchronized scope, lending them its slot, so even a limit of 1 cannot
// deadlock.
func ExampleConcurrentCtxResult() {
	var fib *deco.Func[int, int]
	fib = deco.ConcurrentCtxResult(func(ctx context.Context, n int) (int, error) {
		if n < 2 {
			return n, nil
		}
		var a, b int
		err := deco.Synchronized(ctx, func(ctx context.Context) error {
			deco.AssignToContext(ctx, &a, fib, n-1)
			deco.AssignToContext(ctx, &b, fib, n-2)
			return nil
		})
		return a + b, err
	}, deco.Limit(1))
	fib.Go(10)
	results, err := fib.Wait()
	fmt.Println(results, err)
	// Output: [55] <nil>
}

func ExampleFunc_Go() {
	double := deco.ConcurrentValue(func(n int) int { return 2 * n })
	fut := double.Go(21)
	v, err := fut.Wait() // one call's result; the batch still holds it for Wait
	fmt.Println(v, err, fut.Index())
	double.Wait()
	// Output: 42 <nil> 0
}

// The seed's loop with its call sites untouched: two added lines.
func ExampleFunc_Split() {
	var done atomic.Int64
	slow := func(index string) {
		time.Sleep(time.Millisecond)
		done.Add(1)
	}
	run := func() {
		slow, wait := deco.Concurrent(slow).Split()
		defer wait()
		for _, index := range []string{"1", "2", "3"} {
			slow(index)
		}
	}
	run()
	fmt.Println(done.Load(), "calls done when run returns")
	// Output: 3 calls done when run returns
}

// A function named once at package level, as worker processes need, gets
// the settings of each run with With.
func ExampleFunc_With() {
	resize := deco.Concurrent(func(size int) {}, deco.Name("ExampleFunc_With/resize"))
	var rec deco.Recorder
	run := resize.With(deco.Limit(4), deco.Record(&rec))
	for size := range 10 {
		run.Go(100 + 20*size)
	}
	run.Wait()
	fmt.Println(run.Name(), rec.Len())
	// Output: ExampleFunc_With/resize 10
}

func ExampleFunc_GoContext() {
	work := deco.ConcurrentCtx(func(ctx context.Context, n int) {})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := work.GoContext(ctx, 1).Wait() // never started
	fmt.Println(err)
	work.Wait()
	// Output: context canceled
}

func ExampleFunc_Wait() {
	upper := deco.ConcurrentValue(strings.ToUpper)
	for _, w := range []string{"all", "the", "cores"} {
		upper.Go(w)
	}
	words, err := upper.Wait()
	fmt.Println(words, err)
	// Output: [ALL THE CORES] <nil>
}

func ExampleFunc_Completed() {
	// Each call waits for its gate; the loop opens them one by one, so
	// that this example finishes its calls in a known order: 1, 2, 0.
	gates := []chan struct{}{make(chan struct{}), make(chan struct{}), make(chan struct{})}
	open := []int{1, 2, 0}
	wait := deco.ConcurrentValue(func(i int) int {
		<-gates[i]
		return i * 10
	}, deco.Limit(3))
	for i := range 3 {
		wait.Go(i)
	}
	close(gates[open[0]])
	n := 0
	for i, r := range wait.Completed() {
		fmt.Println("call", i, "returned", r.Value)
		if n++; n < len(open) {
			close(gates[open[n]])
		}
	}
	// Output:
	// call 1 returned 10
	// call 2 returned 20
	// call 0 returned 0
}

func ExampleFunc_InOrder() {
	slowFirst := deco.ConcurrentValue(func(ms int) int {
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return ms
	}, deco.Limit(3))
	for _, ms := range []int{30, 1, 10} {
		slowFirst.Go(ms)
	}
	for i, r := range slowFirst.InOrder() {
		fmt.Println("call", i, "returned", r.Value)
	}
	// Output:
	// call 0 returned 30
	// call 1 returned 1
	// call 2 returned 10
}

// Stream runs a producer of any length — here, lines read one by one — in
// memory bounded by the limit; results come in completion order, so this
// example sums them.
func ExampleFunc_Stream() {
	square := deco.ConcurrentValue(func(n int) int { return n * n }, deco.Limit(2))
	numbers := func(yield func(int) bool) {
		for n := 1; n <= 1000; n++ { // could be a scanner over a huge file
			if !yield(n) {
				return
			}
		}
	}
	sum, count := 0, 0
	for _, r := range square.Stream(numbers) {
		sum += r.Value
		count++
	}
	fmt.Println(count, "squares, sum", sum)
	// Output: 1000 squares, sum 333833500
}

func ExampleFunc_Stats() {
	work := deco.Concurrent(func(int) {}, deco.Name("ExampleFunc_Stats"))
	for i := range 100 {
		work.Go(i)
	}
	work.Wait()
	s := work.Stats()
	fmt.Println(s.Name, s.Calls, s.Done, s.Failed)
	// Output: ExampleFunc_Stats 100 100 0
}

func ExampleSynchronized() {
	download := deco.ConcurrentCtxValue(func(ctx context.Context, url string) int {
		return len(url) // stands for the page's size
	})
	data := map[string]int{}
	err := deco.Synchronized(context.Background(), func(ctx context.Context) error {
		for _, url := range []string{"https://a.example", "https://bb.example"} {
			deco.AssignContext(ctx, data, url, download, url) // data[url] = download(url)
		}
		return nil
	}) // every call is done and data is filled when Synchronized returns
	fmt.Println(data, err)
	// Output: map[https://a.example:17 https://bb.example:18] <nil>
}

func ExampleAssign() {
	square := deco.ConcurrentValue(func(n int) int { return n * n })
	squares := map[int]int{}
	for n := range 4 {
		deco.Assign(squares, n, square, n) // squares[n] = square(n)
	}
	square.Wait() // assignments happen here, in this goroutine
	fmt.Println(squares)
	// Output: map[0:0 1:1 2:4 3:9]
}

func ExampleAssignContext() {
	square := deco.ConcurrentValue(func(n int) int { return n * n })
	squares := map[int]int{}
	deco.Synchronized(context.Background(), func(ctx context.Context) error {
		for n := range 3 {
			deco.AssignContext(ctx, squares, n, square, n)
		}
		return nil
	})
	fmt.Println(squares)
	// Output: map[0:0 1:1 2:4]
}

func ExampleAssignTo() {
	length := deco.ConcurrentValue(func(s string) int { return len(s) })
	words := []string{"deco", "for", "go"}
	lengths := make([]int, len(words))
	for i, w := range words {
		deco.AssignTo(&lengths[i], length, w) // lengths[i] = length(w)
	}
	length.Wait()
	fmt.Println(lengths)
	// Output: [4 3 2]
}

func ExampleAssignToContext() {
	length := deco.ConcurrentValue(func(s string) int { return len(s) })
	var total [2]int
	deco.Synchronized(context.Background(), func(ctx context.Context) error {
		deco.AssignToContext(ctx, &total[0], length, "four")
		deco.AssignToContext(ctx, &total[1], length, "three")
		return nil
	})
	fmt.Println(total)
	// Output: [4 5]
}

// The seed's thumbnail loop records times[offset] from inside each task.
func ExampleMap() {
	var times deco.Map[int, time.Duration]
	slow := deco.Concurrent(func(offset int) {
		t0 := time.Now()
		// ... make the thumbnail ...
		times.Set(offset, time.Since(t0))
	})
	for offset := range 100 {
		slow.Go(offset)
	}
	slow.Wait()
	fmt.Println(times.Len(), "times recorded,", times.Overwrites(), "overwritten")
	// Output: 100 times recorded, 0 overwritten
}

func ExampleNewPool() {
	pool := deco.NewPool(2) // two calls at once, across both functions
	resize := deco.Concurrent(func(int) {}, deco.Shared(pool))
	encode := deco.Concurrent(func(int) {}, deco.Shared(pool))
	for i := range 10 {
		resize.Go(i)
		encode.Go(i)
	}
	resize.Wait()
	encode.Wait()
	fmt.Println(pool.Limit(), resize.Stats().MaxParallel <= 2)
	// Output: 2 true
}

// A call that waits for calls it started lends them its slot: at a limit
// of one, fib's calls wait for their children's Futures without a
// deadlock, one call running at a time.
func ExamplePool_nestedWaits() {
	var fib *deco.Func[int, int]
	fib = deco.ConcurrentValue(func(n int) int {
		if n < 2 {
			return n
		}
		a, b := fib.Go(n-1), fib.Go(n-2)
		x, _ := a.Wait()
		y, _ := b.Wait()
		return x + y
	}, deco.Limit(1))
	v, _ := fib.Go(10).Wait()
	deco.WaitAll() // the children's batches
	fmt.Println(v)
	// Output: 55
}

func ExampleLimit() {
	fetch := deco.Concurrent(func(string) {}, deco.Limit(20)) // deco's processes=20
	fetch.Go("https://example.org")
	fetch.Wait()
	fmt.Println(fetch.Stats().Done)
	// Output: 1
}

func ExampleFailFast() {
	step := deco.ConcurrentErr(func(n int) error {
		if n == 0 {
			return errors.New("first step failed")
		}
		return nil
	}, deco.Limit(1), deco.FailFast())
	for n := range 3 {
		step.Go(n)
	}
	_, err := step.Wait()
	fmt.Println(err)
	// Output:
	// deco: call #0: first step failed
	// deco: call #1: deco: call cancelled before it started
	// deco: call #2: deco: call cancelled before it started
}

func ExamplePanicAsError() {
	risky := deco.Concurrent(func(n int) {
		if n == 1 {
			panic("bad input")
		}
	}, deco.PanicAsError())
	for n := range 3 {
		risky.Go(n)
	}
	_, err := risky.Wait()
	var pe *deco.PanicError
	errors.As(err, &pe)
	fmt.Println("call", pe.Index, "panicked:", pe.Value)
	// Output: call 1 panicked: bad input
}

func ExampleWaitAll() {
	logLine := deco.Concurrent(func(s string) {})
	logLine.Go("fire")
	logLine.Go("and forget")
	// Nobody waits for logLine; main flushes every such call before exit.
	err := deco.WaitAll()
	fmt.Println(logLine.Stats().Done, err)
	// Output: 2 <nil>
}

func ExampleRecorder() {
	var rec deco.Recorder
	work := deco.Concurrent(func(int) { time.Sleep(time.Millisecond) },
		deco.Limit(2), deco.Record(&rec), deco.Name("ExampleRecorder"))
	for i := range 6 {
		work.Go(i)
	}
	work.Wait()
	tr := rec.Trace("six calls on two slots")
	fmt.Println(tr.Lanes, "lanes,", len(tr.Spans), "bars") // for timeline.WriteSVG and WriteChrome

	// Output: 2 lanes, 6 bars
}

func ExampleOnProgress() {
	var last deco.Progress
	work := deco.Concurrent(func(int) {}, deco.Limit(1),
		deco.OnProgress(func(p deco.Progress) { last = p })) // Limit(1): one reporter at a time
	for i := range 5 {
		work.Go(i)
	}
	work.Wait()
	fmt.Printf("%d/%d done, %d failed\n", last.Done, last.Total, last.Failed)
	// Output: 5/5 done, 0 failed
}

func ExampleFuture_Wait() {
	half := deco.ConcurrentResult(func(n int) (int, error) {
		if n%2 != 0 {
			return 0, errors.New("odd")
		}
		return n / 2, nil
	})
	a, b := half.Go(10), half.Go(3)
	fmt.Println(a.Wait())
	fmt.Println(b.Wait())
	half.Wait()
	// Output:
	// 5 <nil>
	// 0 odd
}

func ExampleOn() {
	// Any Executor runs named functions; this one stands for worker
	// processes or a cluster by going through the same encode, Invoke,
	// decode path in this process.
	square := deco.ConcurrentValue(func(n int) int { return n * n },
		deco.Name("ExampleOn/square"), deco.On(loopback{}))
	for n := range 4 {
		square.Go(n)
	}
	fmt.Println(square.Wait())
	// Output: [0 1 4 9] <nil>
}
