package deco

import "sync/atomic"

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

// cellList is a function batch's result cells, in chunks of chunkSize:
// the caller adds chunks under its Func's lock, and the worker that
// finishes call i finds cell i without a lock, so that a call needs no
// pointer to its cell. The list of chunks is published through an atomic
// pointer and never written below its length.
type cellList[R any] struct {
	p atomic.Pointer[[]*[chunkSize]cell[R]]
}

// at returns cell i, which must have been added.
func (l *cellList[R]) at(i int) *cell[R] { return &(*l.p.Load())[i/chunkSize][i%chunkSize] }

// grow adds a chunk of cells. Its caller holds the Func's lock.
func (l *cellList[R]) grow() {
	var list []*[chunkSize]cell[R]
	if old := l.p.Load(); old != nil {
		list = *old
	}
	list = append(list, new([chunkSize]cell[R])) // past the length readers know: they never read it
	l.p.Store(&list)
}
