// Package main holds rule 5 (cannot-cross) for deco.Static: a Static made
// anywhere but while the program starts, or whose type cannot cross to
// another process.
package main

import (
	"sync"
	"time"

	"github.com/deco-go/deco"
)

type withChan struct {
	Done chan struct{}
}

type withHidden struct {
	Visible int
	hidden  int
}

type model struct {
	Weights []float64
	Built   time.Time // MarshalBinary
	Index   map[string][]int
	Extra   any // looked into at run time
}

// Made while the program starts: not reported.
var table = deco.NewStatic[[]float64]("table")

var (
	words        = deco.NewStatic[map[string]int]("words")
	weights      = deco.NewStatic[model]("model")
	first, other = deco.NewStatic[int]("first"), deco.NewStatic[string]("other")
	wrapped      = func() *deco.Static[int] { return deco.NewStatic[int]("wrapped") }() // called at once
	fromInit     *deco.Static[[]int]
)

// Functions of the package's own that only package-level initialisers and
// init functions call run while the program starts too.
var (
	fromHelper  = newTable()
	fromGeneric = newStaticOf[string]("generic")
	fromChain   = outer()
)

func newTable() *deco.Static[[]byte] { return deco.NewStatic[[]byte]("newTable") }

func newStaticOf[T any](name string) *deco.Static[T] { return deco.NewStatic[T](name) }

func outer() *deco.Static[int] { return inner() }

func inner() *deco.Static[int] { return deco.NewStatic[int]("inner") }

// Used as a value, or called from main too: reported.
var (
	maker     = asValue
	fromValue = asValue()
)

func asValue() *deco.Static[int] {
	return deco.NewStatic[int]("asValue") // want `cannot-cross: deco.NewStatic\[int\]\("asValue"\) is called inside asValue:`
}

var fromBoth = both()

func both() *deco.Static[int] {
	return deco.NewStatic[int]("both") // want `is called inside both:`
}

// An init function runs in every process of the program, workers too.
func init() {
	fromInit = deco.NewStatic[[]int]("init")
	_ = newStaticOf[int]("generic.init")
	func() {
		_ = deco.NewStatic[int]("init.at.once")
	}()
}

// Types that cannot cross, wherever they are made.
var (
	chans  = deco.NewStatic[withChan]("chan")               // want `cannot-cross: deco.NewStatic\[withChan\]\("chan"\) makes a Static, whose value is carried to the workers of the executors its readers run on, but its type withChan cannot cross to another process: withChan.Done is a chan, which cannot be sent to another process; the calls that read it on worker processes fail, and once it is Set every call on a cluster`
	hidden = deco.NewStatic[[]withHidden]("hidden")         // want `cannot-cross: .* its type \[\]withHidden cannot cross to another process: field \[\]withHidden\[i\].hidden is unexported, and gob would drop it silently \(export it, or give withHidden a GobEncode method\)`
	funcs  = deco.NewStatic[map[string]func() int]("funcs") // want `cannot-cross: .*its type map\[string\]func\(\) int cannot cross to another process: map\[string\]func\(\) int\[k\] is a func`
	mutex  = deco.NewStatic[*sync.Mutex]("mutex")           // want `cannot-cross: .*its type \*sync.Mutex cannot cross to another process: field \*sync.Mutex.\w+ is unexported`
	maps   = deco.NewStatic[*deco.Map[string, int]]("map")  // GobEncode
)

// A function literal stored to run later.
var later = func() *deco.Static[int] {
	return deco.NewStatic[int]("later") // want `cannot-cross: deco.NewStatic\[int\]\("later"\) is called inside a function literal: a worker process`
}

type loader struct{}

func (loader) load() {
	_ = deco.NewStatic[int]("method") // want `cannot-cross: deco.NewStatic\[int\]\("method"\) is called inside method load:`
}

func helper() *deco.Static[[]byte] {
	return deco.NewStatic[[]byte]("helper") // want `cannot-cross: .* is called inside helper:`
}

func main() {
	local := deco.NewStatic[[]float64]("local") // want `cannot-cross: deco.NewStatic\[\[\]float64\]\("local"\) is called inside main: a worker process or cluster worker finds a Static by its name, registered while the program starts, so make it at package level \(var local = deco.NewStatic\[\[\]float64\]\("local"\)\), or the calls that read it on an executor fail, since their workers never have it`
	local.Set(nil)
	var named = deco.NewStatic[int]("named") // want `\(var named = deco.NewStatic\[int\]\("named"\)\)`
	named.Set(1)
	go func() {
		_ = deco.NewStatic[int]("goroutine") // want `is called inside a function literal in main:`
	}()
	defer func() {
		_ = deco.NewStatic[int]("deferred") // want `is called inside main:`
	}()
	twice := deco.NewStatic[withChan]("twice") // want `is called inside main:` `its type withChan cannot cross`
	_ = twice
	_ = both()
	table.Set([]float64{1})
	words.Set(nil)
	weights.Set(model{})
	first.Set(1)
	other.Set("")
	wrapped.Set(1)
	fromInit.Set(nil)
	_, _, _, _, _, _ = chans, hidden, funcs, mutex, maps, later
	loader{}.load()
	helper()
	_, _, _, _, _, _ = fromHelper, fromGeneric, fromChain, maker, fromValue, fromBoth
}

func init() {
	go func() {
		_ = deco.NewStatic[int]("init.goroutine") // want `is called inside a function literal in init:`
	}()
}
