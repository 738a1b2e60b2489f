package process_test

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/process"
)

// table is a large read-only input: 1 MiB, set once by the test process.
var (
	table    = process.NewStatic[[]byte]("test.table")
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

	unset      = process.NewStatic[int]("test.unset")
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
	if err == nil || !strings.Contains(err.Error(), `Static "test.unset" has no value in the parent`) {
		t.Fatalf("err = %v, want the Static named as having no value", err)
	}
}

func TestStaticNamesAreUnique(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"test.table", "already taken"},
		{"", "must not be empty"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Fatalf("NewStatic(%q): panic %v, want %q", tc.name, r, tc.want)
				}
			}()
			process.NewStatic[int](tc.name)
		}()
	}
}

func TestStaticIsSetOnce(t *testing.T) {
	s := process.NewStatic[int](fmt.Sprintf("test.setOnce.%d", decoratedInTests.Add(1)))
	s.Set(1)
	if s.Get() != 1 {
		t.Fatal("Get after Set")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Set called twice") {
			t.Fatalf("a second Set: panic %v", r)
		}
	}()
	s.Set(2)
}
