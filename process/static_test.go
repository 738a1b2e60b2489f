package process_test

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/process"
)

// table is a large read-only input: 1 MiB, set once by the test process.
var (
	table    = deco.NewStatic[[]byte]("test.table")
	setTable sync.Once

	staticExec = process.New(2, process.Stderr(testLog))

	// tableSum returns the sum of the table's bytes and the PID of the
	// process it ran in.
	tableSum = deco.ConcurrentValue(func(int) [2]int {
		sum := 0
		for _, b := range table.Get() {
			sum += int(b)
		}
		return [2]int{sum, os.Getpid()}
	}, deco.Name("test.tableSum"), deco.On(staticExec), deco.Limit(2))

	secretive  = deco.NewStatic[struct{ hidden int }]("test.secretive")
	setSecret  sync.Once
	readSecret = deco.ConcurrentValue(func(int) int { return secretive.Get().hidden }, deco.Name("test.readSecret"), deco.On(staticExec), deco.PanicAsError())
	unset      = deco.NewStatic[int]("test.unset")
	readUnset  = deco.ConcurrentValue(func(int) int { return unset.Get() }, deco.Name("test.readUnset"), deco.On(staticExec), deco.Limit(2), deco.PanicAsError())
	sharedPool = deco.ConcurrentValue(func(int) int { return len(table.Get()) }, deco.Limit(2))
)

func tableValue() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestStaticIsSentOncePerWorker(t *testing.T) {
	var pids pidSet
	use(t, staticExec, &pids)
	setTable.Do(func() { table.Set(tableValue()) })
	want := 0
	for _, b := range tableValue() {
		want += int(b)
	}
	before := staticExec.Stats()
	for i := range 40 {
		tableSum.Go(i)
	}
	got, err := tableSum.Wait()
	if err != nil {
		t.Fatal(err)
	}
	workers := map[int]bool{}
	for _, g := range got {
		if g[0] != want {
			t.Fatalf("a worker summed %d, want %d", g[0], want)
		}
		workers[g[1]] = true
		pids.add(g[1])
	}
	sends := staticExec.Stats().StaticSends - before.StaticSends
	if sends != int64(len(workers)) {
		t.Fatalf("the table was sent %d times for 40 calls on %d workers, want once per worker", sends, len(workers))
	}
	// In the process that set it, Get returns the value itself.
	if n, _ := sharedPool.Go(0).Wait(); n != 1<<20 {
		t.Fatalf("Get in the parent returned %d bytes", n)
	}
	sharedPool.Wait()
}

func TestAStaticWithoutValueFailsTheCall(t *testing.T) {
	var pids pidSet
	use(t, staticExec, &pids)
	readUnset.Go(0)
	_, err := readUnset.Wait()
	want := `deco: Static "test.unset" has no value in the calling process: call Set before the calls that read it`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

// A value over MaxMessage cannot be sent: the worker that asked for it
// gets the reason, and the call fails naming the Static (it used to wait
// for the answer for ever).
func TestATooLargeStaticFailsTheCallNamingIt(t *testing.T) {
	setTable.Do(func() { table.Set(tableValue()) })
	small := process.New(1, process.MaxMessage(64<<10), process.Stderr(testLog))
	var pids pidSet
	use(t, small, &pids)
	done := make(chan error, 1)
	go func() {
		f := tableSum.With(deco.On(small), deco.PanicAsError())
		f.Go(0)
		_, err := f.Wait()
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), `deco: Static "test.table" is 1048`) || !strings.Contains(err.Error(), "more than MaxMessage (65536 bytes)") {
			t.Fatalf("err = %v, want the table named as too large for MaxMessage", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the call reading a Static over MaxMessage did not end within 30 s")
	}
	if s := small.Stats(); s.StaticSends != 0 {
		t.Fatalf("StaticSends = %d for a value that could not be sent", s.StaticSends)
	}
}

// A value gob would encode without some of its fields is refused, naming
// the field, rather than arrive changed.
func TestAStaticThatCannotCrossFailsTheCallNamingTheField(t *testing.T) {
	var pids pidSet
	use(t, staticExec, &pids)
	setSecret.Do(func() { secretive.Set(struct{ hidden int }{7}) })
	if v := secretive.Get().hidden; v != 7 { // in-process it is the value
		t.Fatalf("in the parent: %d", v)
	}
	readSecret.Go(0)
	_, err := readSecret.Wait()
	if err == nil || !strings.Contains(err.Error(), `deco: Static "test.secretive"`) || !strings.Contains(err.Error(), "field value.hidden is unexported") {
		t.Fatalf("err = %v, want the Static and its unexported field named", err)
	}
}
