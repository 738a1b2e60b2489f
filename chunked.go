package deco

import (
	"sync/atomic"
	"unsafe"
)

// chunked is an append-only list in chunks of chunkSize entries that are
// never copied as the list grows: a scope of 10,000 calls kept doubling
// and copying a slice of them. Entry i is chunks[i/chunkSize][i%chunkSize].
// Its users guard it with their own lock.
type chunked[T any] struct {
	chunks [][]T
	n      int
}

// add appends v. first is the capacity the first chunk starts with; it
// grows as a slice up to chunkSize, so that lists that are usually short
// (a scope's calls) start small.
func (l *chunked[T]) add(v T, first int) {
	if l.n%chunkSize == 0 {
		size := chunkSize
		if l.n == 0 {
			size = first
		}
		l.chunks = append(l.chunks, make([]T, 0, size))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, v)
	l.n++
}

// at returns entry i.
func (l *chunked[T]) at(i int) T { return l.chunks[i/chunkSize][i%chunkSize] }

// last returns the last entry, or nil if there is none.
func (l *chunked[T]) last() *T {
	if l.n == 0 {
		return nil
	}
	ch := l.chunks[len(l.chunks)-1]
	return &ch[len(ch)-1]
}

// cellList is a function batch's result cells, in chunks of chunkSize:
// the caller adds chunks under its Func's lock, and the worker that
// finishes call i finds cell i without a lock, so that a call needs no
// pointer to its cell. The table of chunks is published through an atomic
// pointer and replaced only when it fills (its capacity doubles); a chunk
// is put in it before any call of its cells is queued, which orders the
// put before the worker's read, and no place a reader may read is written
// again.
type cellList[R any] struct {
	p atomic.Pointer[chunkTable[R]]
	n int // chunks added; under the Func's lock
}

type chunkTable[R any] struct{ chunks []*[chunkSize]cell[R] }

// at returns cell i, which must have been added. Cells lie in call order,
// 16 small ones to a line that two workers finishing neighbouring calls
// both write; spreading neighbours 64 places apart measured no gain
// (bench/ Overhead and Gather ratios to the hand pool, 40 rounds, p>0.18;
// Gather/deco +7.5%).
func (l *cellList[R]) at(i int) *cell[R] {
	u := uint(i) // unsigned: a shift and a mask, not a signed division's fix-ups
	return &l.p.Load().chunks[u/chunkSize][u%chunkSize]
}

// values copies the values of the first n cells into out, a chunk at a
// time: Wait reads every cell of its batch, and finding each by index cost
// more than the copy.
func (l *cellList[R]) values(out []R) {
	if len(out) == 0 {
		return
	}
	var zero R
	if unsafe.Sizeof(zero) == 0 {
		return // struct{}: nothing to copy
	}
	t := l.p.Load()
	for k := 0; len(out) > 0; k++ {
		ch := t.chunks[k][:min(len(out), chunkSize)]
		for j := range ch {
			out[j] = ch[j].value
		}
		out = out[len(ch):]
	}
}

// grow adds a chunk of cells. Its caller holds the Func's lock.
func (l *cellList[R]) grow() {
	t := l.p.Load()
	if t == nil || l.n == len(t.chunks) {
		bigger := &chunkTable[R]{chunks: make([]*[chunkSize]cell[R], max(4, 2*l.n))}
		if t != nil {
			copy(bigger.chunks, t.chunks)
		}
		t = bigger
		l.p.Store(t)
	}
	t.chunks[l.n] = new([chunkSize]cell[R])
	l.n++
}
