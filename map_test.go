package deco_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
)

func TestMapTakesWritesFromConcurrentCalls(t *testing.T) {
	var times deco.Map[int, int]
	f := deco.Concurrent(func(i int) { times.Set(i, i*10) }, deco.Limit(4))
	for i := range 1000 {
		f.Go(i)
	}
	f.Wait()
	if times.Len() != 1000 || times.Overwrites() != 0 {
		t.Fatalf("Len %d Overwrites %d", times.Len(), times.Overwrites())
	}
	snap := times.Snapshot()
	if snap[999] != 9990 {
		t.Fatalf("snap[999] = %d", snap[999])
	}
	snap[0] = -1
	if v, _ := times.Get(0); v != 0 {
		t.Fatal("Snapshot must be a copy")
	}
	n := 0
	for range times.All() {
		n++
	}
	if n != 1000 {
		t.Fatalf("All yielded %d", n)
	}
	times.Set(1, 0)
	if times.Overwrites() != 1 {
		t.Fatal("Overwrites did not count a second write to a key")
	}
}

// viaBytes is an Executor that runs calls in this process through the
// bytes boundary a worker process uses: encode, Invoke, replay.
type viaBytes struct{}

func (viaBytes) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	return backend.Invoke(ctx, name, arg)
}

type timesJob struct {
	Offset int
	Times  *deco.Map[int, int]
}

var (
	setTwice = deco.ConcurrentErr(func(j timesJob) error {
		prev, _ := j.Times.Get(j.Offset)
		j.Times.Set(j.Offset, prev+1)
		j.Times.Set(j.Offset, prev+j.Offset*10)
		if j.Offset == 3 {
			return errors.New("three")
		}
		if j.Offset == 4 {
			panic("four")
		}
		return nil
	}, deco.Name("deco_test.setTwice"), deco.On(viaBytes{}), deco.PanicAsError(), deco.Limit(1))

	mutateValue = deco.Concurrent(func(m *deco.Map[string, map[string]int]) {
		inner, _ := m.Get("a")
		inner["x"] = 2 // a nested write
	}, deco.Name("deco_test.mutateValue"), deco.On(viaBytes{}))

	passNested = deco.Concurrent(func(*deco.Map[int, *deco.Map[int, int]]) {},
		deco.Name("deco_test.passNested"), deco.On(viaBytes{}))

	passAny = deco.Concurrent(func(*deco.Map[int, any]) {},
		deco.Name("deco_test.passAny"), deco.On(viaBytes{}))
)

func TestMapWritesCrossTheExecutorBoundary(t *testing.T) {
	times := new(deco.Map[int, int])
	times.Set(0, 5) // the task reads it from the copy it receives
	for offset := range 6 {
		setTwice.Go(timesJob{offset, times})
	}
	_, err := setTwice.Wait()
	if err == nil || !strings.Contains(err.Error(), "call #3: three") || !strings.Contains(err.Error(), "call #4") {
		t.Fatalf("err = %v, want calls #3 and #4 to fail", err)
	}
	want := map[int]int{0: 5, 1: 10, 2: 20, 3: 30, 4: 40, 5: 50}
	if got := times.Snapshot(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Map = %v, want %v: every call's last Set, failed and panicked calls included", got, want)
	}
	// Six calls Set twice (6 overwrites) and call 0 replaced the value
	// the caller had (1 more), as in-process.
	if n := times.Overwrites(); n != 7 {
		t.Fatalf("Overwrites() = %d, want 7", n)
	}
}

func TestMapConflictsAcrossTheBoundaryCountAsInProcess(t *testing.T) {
	times := new(deco.Map[int, int])
	setTwice.Go(timesJob{7, times})
	setTwice.Go(timesJob{7, times})
	if _, err := setTwice.Wait(); err != nil {
		t.Fatal(err)
	}
	// With Limit(1) the second call starts after the first's writes are
	// applied, reads 70 and writes 70+70: the later write wins.
	if v, _ := times.Get(7); v != 140 {
		t.Fatalf("times[7] = %d, want 140", v)
	}
	if n := times.Overwrites(); n != 3 {
		t.Fatalf("Overwrites() = %d, want 3", n)
	}
}

func TestNestedMapWritesAreRefused(t *testing.T) {
	m := new(deco.Map[string, map[string]int])
	m.Set("a", map[string]int{"x": 1})
	mutateValue.Go(m)
	_, err := mutateValue.Wait()
	if !errors.Is(err, deco.ErrLostMutation) || !strings.Contains(err.Error(), `arg["a"]["x"]`) {
		t.Fatalf("err = %v, want ErrLostMutation at arg[\"a\"][\"x\"]", err)
	}
	if v, _ := m.Get("a"); v["x"] != 1 {
		t.Fatal("the caller's inner map changed")
	}

	outer := new(deco.Map[int, *deco.Map[int, int]])
	passNested.Go(outer)
	_, err = passNested.Wait()
	if err == nil || !strings.Contains(err.Error(), "a Map whose values hold deco.Maps cannot cross") {
		t.Fatalf("err = %v, want nested Maps refused", err)
	}

	// Values of interface type are refused only when they hold a Map.
	anyMap := new(deco.Map[int, any])
	anyMap.Set(1, "one")
	passAny.Go(anyMap)
	if _, err := passAny.Wait(); err != nil {
		t.Fatalf("a Map of interface values without Maps: %v", err)
	}
}

func TestMapGobRoundTrip(t *testing.T) {
	var m deco.Map[string, int]
	m.Set("a", 1)
	b, err := m.GobEncode()
	if err != nil {
		t.Fatal(err)
	}
	var n deco.Map[string, int]
	if err := n.GobDecode(b); err != nil {
		t.Fatal(err)
	}
	if v, ok := n.Get("a"); !ok || v != 1 || n.Overwrites() != 0 {
		t.Fatalf("decoded Map: %v %v, %d overwrites", v, ok, n.Overwrites())
	}
	if err := n.GobDecode([]byte("junk")); err == nil || !strings.Contains(err.Error(), "deco.Map[string, int]") {
		t.Fatalf("decoding junk: %v", err)
	}
}
