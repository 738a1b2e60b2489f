package deco

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
