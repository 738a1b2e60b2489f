package bench

// handpool: the hand-written bounded executor, the practical floor every
// library is measured against: limit worker goroutines ranging over one
// buffered channel of func(), started for the batch and stopped by closing
// the channel once everything is submitted. No futures, no locks of its own,
// no per-task allocation when the same task is submitted again.
//
// The channel holds handpoolQueue tasks: enough that the submitter and the
// workers rarely park on each other, small enough to stay in cache.
// Measured here (2 cores, BenchmarkOverhead/handpool): unbuffered ~175
// ns/task, capacity 2 ~85-120, 16 ~65, 64 and up ~35-45, flat past 256.
//
// Per workload: run sends the task n times; forEach sends a closure per
// index; gather writes a preallocated slice by index (gatherSlice); nested
// keeps the workers for the whole batch and lets each outer task send its
// inner tasks to the same channel and wait for them with a WaitGroup. With
// limit <= outer, every worker is then inside an outer task waiting for
// inner tasks that only a worker could run: deadlock.

import "sync"

const handpoolQueue = 256

// handpool.small is the same pool with a channel of GOMAXPROCS slots, the
// pool whose ~125 ns/task on this machine the project's targets were first
// stated against (issue 4: "deco at most 1.3x the hand-written pool").
// Both rows are shown; ratios in BENCHMARKS.md are to the faster one.
func init() {
	register(library{name: "handpool", rank: 3, open: func(limit int) executor { return handpool{limit: limit, queue: handpoolQueue} }})
	register(library{name: "handpool.small", rank: 4, open: func(limit int) executor { return handpool{limit: limit, queue: limit} }})
}

type handpool struct{ limit, queue int }

// start launches the workers; close the channel, then wait on the group.
func (h handpool) start() (chan func(), *sync.WaitGroup) {
	tasks := make(chan func(), h.queue)
	workers := new(sync.WaitGroup)
	for range h.limit {
		workers.Go(func() {
			for task := range tasks {
				task()
			}
		})
	}
	return tasks, workers
}

func (h handpool) run(n int, task func()) {
	tasks, workers := h.start()
	for range n {
		tasks <- task
	}
	close(tasks)
	workers.Wait()
}

func (h handpool) forEach(n int, task func(int)) {
	tasks, workers := h.start()
	for i := range n {
		tasks <- func() { task(i) }
	}
	close(tasks)
	workers.Wait()
}

func (h handpool) gather(n int, f func(int) int) map[int]int { return gatherSlice(h, n, f) }

func (h handpool) nested(outer, inner int, task func()) {
	tasks, workers := h.start()
	var outers sync.WaitGroup
	for range outer {
		outers.Add(1)
		tasks <- func() {
			defer outers.Done()
			var inners sync.WaitGroup
			for range inner {
				inners.Add(1)
				tasks <- func() {
					defer inners.Done()
					task()
				}
			}
			inners.Wait()
		}
	}
	outers.Wait()
	close(tasks)
	workers.Wait()
}

func (handpool) close() {}
