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
// Per workload: run and forEach are the loops above; gather writes a
// preallocated slice by index (gatherSlice); nested starts the inner tasks
// the same way from inside the outer task and waits for them with a
// WaitGroup of its own. The semaphore's nested outer task holds its slot
// while it acquires slots for its inner tasks, so with limit <= outer it
// deadlocks; the unbounded two cannot.

import "sync"

func init() {
	register(library{name: "goroutines", rank: 0, unbounded: true, open: func(int) executor { return goroutines{} }})
	register(library{name: "wg.Go", rank: 1, unbounded: true, open: func(int) executor { return wgGo{} }})
	register(library{name: "semaphore", rank: 2, open: func(limit int) executor { return semaphore{limit: limit} }})
}

type goroutines struct{}

func (goroutines) run(n int, task func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task()
		}()
	}
	wg.Wait()
}

func (goroutines) forEach(n int, task func(int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task(i)
		}()
	}
	wg.Wait()
}

func (e goroutines) gather(n int, f func(int) int) map[int]int { return gatherSlice(e, n, f) }

func (goroutines) nested(outer, inner int, task func()) {
	var wg sync.WaitGroup
	for range outer {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var inners sync.WaitGroup
			for range inner {
				inners.Add(1)
				go func() {
					defer inners.Done()
					task()
				}()
			}
			inners.Wait()
		}()
	}
	wg.Wait()
}

func (goroutines) close() {}

type wgGo struct{}

func (wgGo) run(n int, task func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(task)
	}
	wg.Wait()
}

func (wgGo) forEach(n int, task func(int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { task(i) })
	}
	wg.Wait()
}

func (e wgGo) gather(n int, f func(int) int) map[int]int { return gatherSlice(e, n, f) }

func (wgGo) nested(outer, inner int, task func()) {
	var wg sync.WaitGroup
	for range outer {
		wg.Go(func() {
			var inners sync.WaitGroup
			for range inner {
				inners.Go(task)
			}
			inners.Wait()
		})
	}
	wg.Wait()
}

func (wgGo) close() {}

type semaphore struct{ limit int }

func (s semaphore) run(n int, task func()) {
	sem := make(chan struct{}, s.limit)
	var wg sync.WaitGroup
	for range n {
		sem <- struct{}{} // acquire: blocks while limit tasks run
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }() // release
			task()
		}()
	}
	wg.Wait()
}

func (s semaphore) forEach(n int, task func(int)) {
	sem := make(chan struct{}, s.limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			task(i)
		}()
	}
	wg.Wait()
}

func (s semaphore) gather(n int, f func(int) int) map[int]int { return gatherSlice(s, n, f) }

func (s semaphore) nested(outer, inner int, task func()) {
	sem := make(chan struct{}, s.limit)
	var wg sync.WaitGroup
	for range outer {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var inners sync.WaitGroup
			for range inner {
				sem <- struct{}{} // blocks for good once outer tasks hold every slot
				inners.Add(1)
				go func() {
					defer func() { <-sem; inners.Done() }()
					task()
				}()
			}
			inners.Wait()
		}()
	}
	wg.Wait()
}

func (semaphore) close() {}
