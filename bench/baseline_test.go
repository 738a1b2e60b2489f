package bench

// Standard-library baselines: what Go code does without any library.
//
//   - goroutines: a plain `go` statement per task and a sync.WaitGroup
//     (Add before the go statement, Done deferred in the goroutine). No limit.
//   - wg.Go: sync.WaitGroup.Go (Go 1.25+), the same thing in one call. No limit.
//   - semaphore: a buffered channel of capacity limit as a counting
//     semaphore, acquired by the submitter before each go statement and
//     released by the goroutine when its task returns, plus a WaitGroup.
//
// Per workload: run is the loop above (shared form: the goroutine calls the
// one task; closure form: the go statement's closure captures the index);
// gather writes a preallocated slice by index (gatherSlice); nested starts
// the inner tasks the same way from inside the outer task and waits for
// them with a WaitGroup of its own; spawn does the same without the inner
// wait, counting every task on the batch's WaitGroup (Add from inside a
// task that is itself counted is allowed). The semaphore's outer task holds
// its slot while it acquires slots for its inner tasks, so with limit <=
// outer it deadlocks in both; the unbounded two cannot.

import "sync"

func init() {
	register(library{name: "goroutines", rank: 0, unbounded: true, open: func(int) executor { return goroutines{} }})
	register(library{name: "wg.Go", rank: 1, unbounded: true, open: func(int) executor { return wgGo{} }})
	register(library{name: "semaphore", rank: 2, open: func(limit int) executor { return semaphore{limit: limit} }})
}

type goroutines struct{}

// start runs task i of w on a new goroutine counted by wg.
func (goroutines) start(wg *sync.WaitGroup, w work, i int) {
	wg.Add(1)
	if t := w.shared; t != nil {
		go func() {
			defer wg.Done()
			t()
		}()
		return
	}
	t := w.indexed
	go func() {
		defer wg.Done()
		t(i)
	}()
}

func (g goroutines) run(n int, w work) {
	var wg sync.WaitGroup
	for i := range n {
		g.start(&wg, w, i)
	}
	wg.Wait()
}

func (g goroutines) gather(n int, f func(int) int) gathered { return gatherSlice(g, n, f) }

func (g goroutines) nested(outer, inner int, w work) {
	var wg sync.WaitGroup
	for o := range outer {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var inners sync.WaitGroup
			for j := range inner {
				g.start(&inners, w, o*inner+j)
			}
			inners.Wait()
		}()
	}
	wg.Wait()
}

func (g goroutines) spawn(outer, inner int, w work) {
	var wg sync.WaitGroup
	for o := range outer {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range inner {
				g.start(&wg, w, o*inner+j)
			}
		}()
	}
	wg.Wait()
}

func (goroutines) close() {}

type wgGo struct{}

// start runs task i of w with wg.Go.
func (wgGo) start(wg *sync.WaitGroup, w work, i int) {
	if w.shared != nil {
		wg.Go(w.shared)
		return
	}
	t := w.indexed
	wg.Go(func() { t(i) })
}

func (g wgGo) run(n int, w work) {
	var wg sync.WaitGroup
	for i := range n {
		g.start(&wg, w, i)
	}
	wg.Wait()
}

func (g wgGo) gather(n int, f func(int) int) gathered { return gatherSlice(g, n, f) }

func (g wgGo) nested(outer, inner int, w work) {
	var wg sync.WaitGroup
	for o := range outer {
		wg.Go(func() {
			var inners sync.WaitGroup
			for j := range inner {
				g.start(&inners, w, o*inner+j)
			}
			inners.Wait()
		})
	}
	wg.Wait()
}

func (g wgGo) spawn(outer, inner int, w work) {
	var wg sync.WaitGroup
	for o := range outer {
		wg.Go(func() {
			for j := range inner {
				g.start(&wg, w, o*inner+j)
			}
		})
	}
	wg.Wait()
}

func (wgGo) close() {}

type semaphore struct{ limit int }

// start acquires a slot of sem (blocking while limit tasks run), then runs
// task i of w on a new goroutine that releases it.
func (semaphore) start(sem chan struct{}, wg *sync.WaitGroup, w work, i int) {
	sem <- struct{}{}
	wg.Add(1)
	if t := w.shared; t != nil {
		go func() {
			defer func() { <-sem; wg.Done() }()
			t()
		}()
		return
	}
	t := w.indexed
	go func() {
		defer func() { <-sem; wg.Done() }()
		t(i)
	}()
}

func (s semaphore) run(n int, w work) {
	sem := make(chan struct{}, s.limit)
	var wg sync.WaitGroup
	for i := range n {
		s.start(sem, &wg, w, i)
	}
	wg.Wait()
}

func (s semaphore) gather(n int, f func(int) int) gathered { return gatherSlice(s, n, f) }

func (s semaphore) nested(outer, inner int, w work) {
	sem := make(chan struct{}, s.limit)
	var wg sync.WaitGroup
	for o := range outer {
		s.start(sem, &wg, work{shared: func() {
			var inners sync.WaitGroup
			for j := range inner {
				s.start(sem, &inners, w, o*inner+j) // blocks for good once outer tasks hold every slot
			}
			inners.Wait()
		}}, o)
	}
	wg.Wait()
}

func (s semaphore) spawn(outer, inner int, w work) {
	sem := make(chan struct{}, s.limit)
	var wg sync.WaitGroup
	for o := range outer {
		s.start(sem, &wg, work{shared: func() {
			for j := range inner {
				s.start(sem, &wg, w, o*inner+j) // blocks for good once outer tasks hold every slot
			}
		}}, o)
	}
	wg.Wait()
}

func (semaphore) close() {}
