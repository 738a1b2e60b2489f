package process_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/process"
)

// The examples' executors and functions are package-level variables, as
// functions that run on workers must be: a worker runs package
// initialisation, and then only the calls it is sent. TestMain calls
// process.Main, which a program calls first thing in main.

var (
	cpu    = process.New(2)
	square = deco.ConcurrentValue(func(n int) int { return n * n },
		deco.Name("example.square"), deco.On(cpu), deco.Limit(cpu.Workers()))
)

// Two worker processes run the calls; the code that calls and waits is
// the code of the in-process version.
func Example() {
	defer cpu.Close()
	for n := range 5 {
		square.Go(n)
	}
	fmt.Println(square.Wait())
	// Output: [0 1 4 9 16] <nil>
}

// Main is the first call in main. In the program it returns at once; in
// a worker it serves calls and never returns.
func ExampleMain() {
	process.Main()
	fmt.Println("not a worker: main goes on")
	// Output: not a worker: main goes on
}

var (
	isolated = process.New(1)
	whereRun = deco.ConcurrentValue(func(int) bool { return os.Getpid() != os.Getppid() },
		deco.Name("example.whereRun"), deco.On(isolated), deco.Limit(1))
	workerPID = deco.ConcurrentValue(func(int) int { return os.Getpid() },
		deco.Name("example.workerPID"), deco.On(isolated), deco.Limit(1))
)

// New makes an executor and starts no process: the first call does.
func ExampleNew() {
	defer isolated.Close()
	fmt.Println("running before the first call:", isolated.Stats().Running)
	pid, _ := workerPID.Go(0).Wait()
	workerPID.Wait()
	fmt.Println("ran in another process:", pid != os.Getpid())
	fmt.Println("running after it:", isolated.Stats().Running)
	// Output:
	// running before the first call: 0
	// ran in another process: true
	// running after it: 1
}

// Start starts the workers ahead of the calls.
func ExampleExecutor_Start() {
	defer cpu.Close()
	if err := cpu.Start(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("running:", cpu.Stats().Running)
	// Output: running: 2
}

// Close stops the workers; the next call starts them again.
func ExampleExecutor_Close() {
	first, _ := workerPID.Go(0).Wait()
	workerPID.Wait()
	isolated.Close()
	fmt.Println("running after Close:", isolated.Stats().Running)
	second, _ := workerPID.Go(0).Wait()
	workerPID.Wait()
	fmt.Println("a new worker:", second != first)
	isolated.Close()
	// Output:
	// running after Close: 0
	// a new worker: true
}

// deco calls Execute; so can code that does its own encoding, as deco's
// tests do. Here it reports a function the workers do not have.
func ExampleExecutor_Execute() {
	defer isolated.Close()
	_, err := isolated.Execute(context.Background(), "example.noSuchFunction", nil)
	fmt.Println(strings.SplitN(err.Error(), " (", 2)[0])
	// Output: deco: no function is named "example.noSuchFunction" in this program
}

// Workers is how many calls the executor takes at once, two per worker
// process unless Pipeline says otherwise (one running, one sent ahead):
// the default limit of the functions that run on it.
func ExampleExecutor_Workers() {
	fmt.Println(cpu.Workers(), cpu.Stats().Workers, process.New(2, process.Pipeline(1)).Workers(), square.Stats().Name)
	// Output: 4 2 2 example.square
}

// PIDs lists the worker processes by number, 0 for one not running.
func ExampleExecutor_PIDs() {
	defer isolated.Close()
	fmt.Println(isolated.PIDs())
	pid, _ := workerPID.Go(0).Wait()
	workerPID.Wait()
	fmt.Println(isolated.PIDs()[0] == pid)
	// Output:
	// [0]
	// true
}

// Stats counts worker processes and what happened to them.
func ExampleExecutor_Stats() {
	defer isolated.Close()
	before := isolated.Stats()
	whereRun.Go(0)
	whereRun.Wait()
	s := isolated.Stats()
	fmt.Println("workers:", s.Workers, "started:", s.Started-before.Started, "crashes:", s.Crashes-before.Crashes)
	// Output: workers: 1 started: 1 crashes: 0
}

var (
	retrying = process.New(1, process.Retries(1), process.Stderr(discard{}))
	// flaky's worker dies the first time it runs for a given folder.
	flaky = deco.ConcurrentValue(func(dir string) string {
		marker := filepath.Join(dir, "tried")
		if _, err := os.Stat(marker); err != nil {
			os.WriteFile(marker, nil, 0o600)
			os.Exit(3)
		}
		return "done"
	}, deco.Name("example.flaky"), deco.On(retrying), deco.Limit(1))
)

// discard drops the output of workers that die on purpose.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Retries runs a call again on a new worker when its worker died.
func ExampleRetries() {
	defer retrying.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	flaky.Go(dir)
	fmt.Println(flaky.Wait())
	fmt.Println("retries:", retrying.Stats().Retries)
	// Output:
	// [done] <nil>
	// retries: 1
}

var (
	bounded = process.New(1, process.Timeout(200*time.Millisecond))
	stuck   = deco.ConcurrentErr(func(int) error { select {} }, deco.Name("example.stuck"), deco.On(bounded), deco.Limit(1))
)

// Timeout kills a worker whose call runs too long; a replacement starts.
func ExampleTimeout() {
	defer bounded.Close()
	stuck.Go(0)
	_, err := stuck.Wait()
	var we *process.WorkerError
	fmt.Println(errors.As(err, &we) && we.TimedOut, errors.Is(err, context.DeadlineExceeded))
	// Output: true true
}

var (
	small  = process.New(1, process.MaxMessage(64<<10))
	length = deco.ConcurrentValue(func(b []byte) int { return len(b) }, deco.Name("example.length"), deco.On(small), deco.Limit(1))
)

// MaxMessage bounds each message between the parent and a worker: an
// argument over it fails its call, saying so.
func ExampleMaxMessage() {
	defer small.Close()
	length.Go(make([]byte, 1<<10))
	length.Go(make([]byte, 1<<20))
	fmt.Println(length.Wait())
	// Output: [1024 0] deco: example.length call #1: process: a message of 1048603 bytes is over the limit of 65536 bytes (MaxMessage)
}

var (
	sleepy = process.New(1, process.IdleTimeout(10*time.Millisecond))
	nap    = deco.ConcurrentValue(func(int) int { return os.Getpid() }, deco.Name("example.nap"), deco.On(sleepy), deco.Limit(1))
)

// IdleTimeout lets idle workers exit; a later call starts one again.
func ExampleIdleTimeout() {
	defer sleepy.Close()
	nap.Go(0)
	nap.Wait()
	for sleepy.Stats().Running > 0 {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("the idle worker exited")
	// Output: the idle worker exited
}

var (
	printed    = &syncBuffer{}
	withOutput = process.New(1, process.Stdout(printed), process.Stderr(printed), process.StderrPrefix("[thumbnails %d] "))
	chatty     = deco.Concurrent(func(name string) {
		fmt.Println("made", name)                  // standard output, as it is
		fmt.Fprintln(os.Stderr, "warning: blurry") // standard error, prefixed
	}, deco.Name("example.chatty"), deco.On(withOutput), deco.Limit(1))
)

// syncBuffer collects the workers' output.
type syncBuffer struct {
	mu sync.Mutex
	strings.Builder
}

func (b *syncBuffer) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.Builder.Reset()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Builder.String()
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Builder.Write(p)
}

// Stdout and Stderr choose where the workers' output goes; StderrPrefix
// marks each line of standard error with the worker's number.
func ExampleStderrPrefix() {
	printed.reset()
	chatty.Go("a.jpg")
	chatty.Wait()
	withOutput.Close() // the output is all in once the worker has exited
	fmt.Print(printed.String())
	// Unordered output:
	// made a.jpg
	// [thumbnails 0] warning: blurry
}

// Stdout sends the workers' standard output to a writer.
func ExampleStdout() {
	ExampleStderrPrefix()
	// Unordered output:
	// made a.jpg
	// [thumbnails 0] warning: blurry
}

// Stderr sends the workers' standard error to a writer, line by line.
func ExampleStderr() {
	ExampleStderrPrefix()
	// Unordered output:
	// made a.jpg
	// [thumbnails 0] warning: blurry
}

var (
	// words is a large read-only input, declared at package level like
	// the functions that read it.
	words    = deco.NewStatic[map[string]int]("example.words")
	setWords sync.Once
	rank     = deco.ConcurrentValue(func(w string) int { return words.Get()[w] },
		deco.Name("example.rank"), deco.On(cpu), deco.Limit(cpu.Workers()))
)

// A deco.Static is sent to each worker process once, when a task there
// first reads it: the worker asks its parent.
func Example_static() {
	defer cpu.Close()
	setWords.Do(func() { words.Set(map[string]int{"the": 1, "of": 2, "deco": 4096}) }) // in main, before the calls
	for _, w := range []string{"the", "deco", "of", "the"} {
		rank.Go(w)
	}
	fmt.Println(rank.Wait())
	fmt.Println("sends at most one per worker:", cpu.Stats().StaticSends <= int64(cpu.Stats().Started))
	// Output:
	// [1 4096 2 1] <nil>
	// sends at most one per worker: true
}

var (
	fragile = process.New(1, process.Stderr(discard{}))
	exits   = deco.ConcurrentValue(func(code int) int {
		if code != 0 {
			os.Exit(code)
		}
		return 0
	}, deco.Name("example.exits"), deco.On(fragile), deco.Limit(1))
)

// A worker that dies fails the call it ran, naming it and how the worker
// ended; the other calls go on.
func ExampleWorkerError() {
	defer fragile.Close()
	exits.Go(0)
	exits.Go(3)
	exits.Go(0)
	results, err := exits.Wait()
	var we *process.WorkerError
	if errors.As(err, &we) {
		fmt.Println(we.Func, "call", we.Call, we.Status)
	}
	fmt.Println(results)
	// Output:
	// example.exits call 1 exit status 3
	// [0 0 0]
}
