package process

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
)

// lockedWriter serialises writes to a writer that several workers share.
// It never reports an error: a worker must not see its output fail
// because the parent's destination did.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.w.Write(p)
	l.mu.Unlock()
	return len(p), nil
}

// tailLines is how many lines of a worker's standard error a lineWriter
// keeps for error messages.
const tailLines = 20

// maxLine is the longest line a lineWriter holds before writing it out
// unfinished.
const maxLine = 64 << 10

// lineWriter prefixes each line of one worker's standard error and keeps
// the last lines, for the error of a call whose worker died.
type lineWriter struct {
	dst    *lockedWriter
	prefix []byte

	mu    sync.Mutex
	part  []byte
	tail  []string
	cause string
}

func newLineWriter(dst *lockedWriter, format string, worker int) *lineWriter {
	return &lineWriter{dst: dst, prefix: []byte(fmt.Sprintf(format, worker))}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.part = append(w.part, p...)
			if len(w.part) >= maxLine {
				w.emit()
			}
			break
		}
		w.part = append(w.part, p[:i]...)
		w.emit()
		p = p[i+1:]
	}
	return n, nil
}

// emit writes the line held in part.
func (w *lineWriter) emit() {
	line := make([]byte, 0, len(w.prefix)+len(w.part)+1)
	line = append(line, w.prefix...)
	line = append(line, w.part...)
	line = append(line, '\n')
	w.dst.Write(line)
	s := string(w.part)
	w.part = w.part[:0]
	if len(w.tail) == tailLines {
		copy(w.tail, w.tail[1:])
		w.tail = w.tail[:tailLines-1]
	}
	w.tail = append(w.tail, s)
	if strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ") || strings.HasPrefix(s, "fatal: ") {
		w.cause = s
	}
}

// flush writes an unfinished last line.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.part) > 0 {
		w.emit()
	}
}

// last returns the last lines and the last line that reports a panic or a
// fatal error, and forgets them.
func (w *lineWriter) last() (tail, cause string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	tail, cause = strings.Join(w.tail, "\n"), w.cause
	w.tail, w.cause = nil, ""
	return tail, cause
}
