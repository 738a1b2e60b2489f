// Package cross holds rule 5 (cannot-cross): functions that may run in
// another process, with types gob cannot carry or decorated in a body.
package cross

import (
	"context"
	"sync"
	"time"

	"example.com/decocheck/cross/remote"
	"github.com/deco-go/deco"
)

type local struct{}

func (local) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	return nil, nil
}

type withChan struct {
	Done chan struct{}
}

type withHidden struct {
	Visible int
	hidden  int
}

type withFunc struct {
	Progress func(int)
}

type nested struct {
	Items []withHidden
}

type good struct {
	Name  string
	When  time.Time                     // MarshalBinary
	Times *deco.Map[int, time.Duration] // GobEncode
	Sizes map[string][]int
	Any   any
}

func useChan(withChan)                       {}
func useHidden(withHidden)                   {}
func useFunc(withFunc) error                 { return nil }
func useNested(nested)                       {}
func resultMutex(int) *sync.Mutex            { return nil }
func useGood(good) good                      { return good{} }
func useClosure(func() int)                  {}
func useMapOfChans(*deco.Map[int, chan int]) {}

var (
	a   = deco.Concurrent(useChan, deco.Name("chan"))        // want `cannot-cross: useChan is decorated with deco.Name, so its calls may run in another process, but its argument type withChan cannot cross to another process: withChan.Done is a chan, which cannot be sent to another process`
	b   = deco.Concurrent(useHidden, deco.Name("hidden"))    // want `cannot-cross: useHidden .* argument type withHidden cannot cross to another process: field withHidden.hidden is unexported, and gob would drop it silently \(export it, or give withHidden a GobEncode method\)`
	c   = deco.ConcurrentErr(useFunc, deco.Name("func"))     // want `cannot-cross: useFunc .*Progress is a func, which cannot be sent to another process`
	d   = deco.Concurrent(useNested, deco.Name("nested"))    // want `cannot-cross: useNested .*field nested.Items\[i\].hidden is unexported`
	e   = deco.ConcurrentValue(resultMutex, deco.Name("mu")) // want `cannot-cross: resultMutex .*its result type \*sync.Mutex cannot cross to another process: field \*sync.Mutex.\w+ is unexported`
	g   = deco.Concurrent(useClosure, deco.Name("closure"))  // want `cannot-cross: useClosure .*argument type func\(\) int cannot cross to another process: func\(\) int is a func`
	ok  = deco.ConcurrentValue(useGood, deco.Name("good"))
	ok2 = deco.Concurrent(useHidden) // not named: never leaves the process
)

func decoratedInABody() {
	f := deco.ConcurrentValue(useGood, deco.Name("inside"), deco.On(remote.New(2))) // want `cannot-cross: useGood is decorated with deco.On\(remote.New\(2\)\) inside decoratedInABody: a worker process finds a function by the name it was given while the program starts, so decorate it at package level \(var f = deco.ConcurrentValue\(...\)\) or in init, or the workers will fail its calls with "no function is named"`
	f.Go(good{})
	f.Wait()
	// A name alone, for stats and errors: not reported.
	n := deco.ConcurrentValue(useGood, deco.Name("stats-only"))
	n.Go(good{})
	n.Wait()
	// An executor of this package's own (a test's in-process fake): not
	// reported.
	l := deco.ConcurrentValue(useGood, deco.Name("local"), deco.On(local{}))
	l.Go(good{})
	l.Wait()
	// Settings chosen at run time come through With, which is fine.
	h := ok.With(deco.Limit(2))
	h.Go(good{})
	h.Wait()
}

// An exported function may be called by another package, after the
// program starts: reported even when this package's initialisers call it.
var crossTable = NewTable()

func NewTable() *deco.Static[int] {
	return deco.NewStatic[int]("cross.table") // want `cannot-cross: deco.NewStatic\[int\]\("cross.table"\) is called inside NewTable:`
}

var localTable = newLocalTable()

func newLocalTable() *deco.Static[int] { return deco.NewStatic[int]("cross.local") }

// Decorated in init, or in a helper that only startup code calls: every
// process of the program runs them, so workers have the function. Not
// reported; a goroutine started in init may run after the workers start
// serving, and is.
var (
	inInit      *deco.Func[good, good]
	fromStartup = decorateAtStartup()
)

func init() {
	inInit = deco.ConcurrentValue(useGood, deco.Name("init"), deco.On(remote.New(2)))
	go func() {
		_ = deco.ConcurrentValue(useGood, deco.Name("init.goroutine"), deco.On(remote.New(2))) // want `useGood is decorated with deco.On\(remote.New\(2\)\) inside a function literal in init:`
	}()
}

func decorateAtStartup() *deco.Func[good, good] {
	return deco.ConcurrentValue(useGood, deco.Name("startup"), deco.On(remote.New(2)))
}
