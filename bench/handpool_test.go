package bench

// handpool: the hand-written bounded executor, the practical floor every
// library is measured against, in the two ways it is written by hand:
//
//   - handpool: limit worker goroutines ranging over one buffered channel
//     of func(), started for the batch and stopped by closing the channel
//     once everything is submitted: the batch's wait is the workers' exit.
//     No futures, no locks of its own, no per-task allocation when the same
//     task is submitted again. Every ratio in BENCHMARKS.md is to this row.
//   - handpool.wg: the same workers, long-lived (started by open, stopped
//     by close), and a sync.WaitGroup per batch with wg.Done() called by
//     every task: what a pool kept for the life of a program needs, since
//     its workers never exit between batches. The shared form wraps the
//     task with Done once per batch; the closure form's one closure per
//     task calls the task and Done.
//   - handpool.small: handpool with a channel of limit slots, the pool
//     whose ~125 ns/task on this machine the project's targets were first
//     stated against (issue 4).
//
// The channel holds handpoolQueue tasks: enough that the submitter and the
// workers rarely park on each other, small enough to stay in cache.
// Measured here (2 cores, BenchmarkOverhead/shared/handpool): unbuffered
// ~175 ns/task, capacity 2 ~85-120, 16 ~65, 64 and up ~35-45, flat past 256.
//
// Per workload: gather writes a preallocated slice by index (gatherSlice),
// and handpool.mutexmap (Gather only) writes a map under a sync.Mutex from
// the tasks instead (gatherLocked), the other way by hand; nested lets each
// outer task send its inner tasks to the same channel and wait for them
// with a WaitGroup: with limit <= outer every worker is then inside an outer
// task waiting for inner tasks that only a worker could run, a deadlock;
// spawn sends them without waiting, counting every task on the batch's
// WaitGroup, and deadlocks once the channel is full and both workers are
// outer tasks blocked sending to it (10,000 inner tasks, 256 slots).

import "sync"

const handpoolQueue = 256

func init() {
	register(library{name: "handpool", rank: 3, open: func(limit int) executor { return handpool{limit: limit, queue: handpoolQueue} }})
	register(library{name: "handpool.wg", rank: 4, open: func(limit int) executor { return newHandpoolWG(limit) }})
	register(library{name: "handpool.small", rank: 5, open: func(limit int) executor { return handpool{limit: limit, queue: limit} }})
	register(library{name: "handpool.mutexmap", rank: 6, only: []string{"Gather"}, open: func(limit int) executor {
		return handpoolMutexMap{handpool{limit: limit, queue: handpoolQueue}}
	}})
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

func (h handpool) run(n int, w work) {
	tasks, workers := h.start()
	if t := w.shared; t != nil {
		for range n {
			tasks <- t
		}
	} else {
		t := w.indexed
		for i := range n {
			tasks <- func() { t(i) }
		}
	}
	close(tasks)
	workers.Wait()
}

func (h handpool) gather(n int, f func(int) int) gathered { return gatherSlice(h, n, f) }

// send sends task i of w to tasks, counted by wg.
func send(tasks chan<- func(), wg *sync.WaitGroup, w work, i int) {
	wg.Add(1)
	if t := w.shared; t != nil {
		tasks <- func() { t(); wg.Done() }
		return
	}
	t := w.indexed
	tasks <- func() { t(i); wg.Done() }
}

func (h handpool) nested(outer, inner int, w work) {
	tasks, workers := h.start()
	var outers sync.WaitGroup
	for o := range outer {
		outers.Add(1)
		tasks <- func() {
			defer outers.Done()
			var inners sync.WaitGroup
			for j := range inner {
				send(tasks, &inners, w, o*inner+j)
			}
			inners.Wait()
		}
	}
	outers.Wait()
	close(tasks)
	workers.Wait()
}

func (h handpool) spawn(outer, inner int, w work) {
	tasks, workers := h.start()
	var all sync.WaitGroup
	for o := range outer {
		all.Add(1)
		tasks <- func() {
			defer all.Done()
			for j := range inner {
				send(tasks, &all, w, o*inner+j) // blocks for good once the channel is full
			}
		}
	}
	all.Wait()
	close(tasks)
	workers.Wait()
}

func (handpool) close() {}

// handpoolMutexMap is handpool gathering into a map under a mutex.
type handpoolMutexMap struct{ handpool }

func (h handpoolMutexMap) gather(n int, f func(int) int) gathered { return gatherLocked(h, n, f) }

// handpoolWG is the long-lived hand pool: workers from open to close.
type handpoolWG struct {
	tasks   chan func()
	workers sync.WaitGroup
}

func newHandpoolWG(limit int) *handpoolWG {
	h := &handpoolWG{tasks: make(chan func(), handpoolQueue)}
	for range limit {
		h.workers.Go(func() {
			for task := range h.tasks {
				task()
			}
		})
	}
	return h
}

func (h *handpoolWG) run(n int, w work) {
	var wg sync.WaitGroup
	wg.Add(n)
	if t := w.shared; t != nil {
		task := func() { t(); wg.Done() }
		for range n {
			h.tasks <- task
		}
	} else {
		t := w.indexed
		for i := range n {
			h.tasks <- func() { t(i); wg.Done() }
		}
	}
	wg.Wait()
}

func (h *handpoolWG) gather(n int, f func(int) int) gathered { return gatherSlice(h, n, f) }

func (h *handpoolWG) nested(outer, inner int, w work) {
	var outers sync.WaitGroup
	for o := range outer {
		outers.Add(1)
		h.tasks <- func() {
			defer outers.Done()
			var inners sync.WaitGroup
			for j := range inner {
				send(h.tasks, &inners, w, o*inner+j)
			}
			inners.Wait()
		}
	}
	outers.Wait()
}

func (h *handpoolWG) spawn(outer, inner int, w work) {
	var all sync.WaitGroup
	for o := range outer {
		all.Add(1)
		h.tasks <- func() {
			defer all.Done()
			for j := range inner {
				send(h.tasks, &all, w, o*inner+j)
			}
		}
	}
	all.Wait()
}

func (h *handpoolWG) close() {
	close(h.tasks)
	h.workers.Wait()
}
