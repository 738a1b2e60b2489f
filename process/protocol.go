package process

import (
	"bufio"
	"encoding/gob"
	"io"
	"os"
	"sync"
)

// The protocol between the parent and a worker runs over three pipes,
// passed as the worker's file descriptors 3, 4 and 5, never over stdin,
// stdout or stderr, which belong to the program:
//
//	fd 3, parent → worker: calls, and Static values the worker asked for
//	fd 4, worker → parent: hello, results, and requests for Static values
//	fd 5, parent → worker: cancels
//
// Each pipe carries one gob stream of frames: gob frames each message with
// its length, and a stream sends the frame's type once per worker, not per
// call. Arguments and results inside frames are the bytes deco encodes
// (backend.Executor); the protocol never decodes them.
//
//	worker → parent  hello   once, when the worker is ready: its PID
//	parent → worker  call    ID, function name, encoded argument
//	worker → parent  result  ID, encoded outcome (backend.Invoke), or Err
//	parent → worker  cancel  ID: the caller's context is done
//	worker → parent  need    a Static's name, asked by a task
//	parent → worker  static  the Static's name and encoded value, or Err
//
// The parent sends at most one call at a time to a worker, and the next
// only after the result of the previous one. So the calls pipe and the
// results pipe each have one reader at a time, which reads them with
// plain blocking reads: the goroutine that waits for a call's result is
// the one woken when it arrives, with no hand-over between goroutines or
// through the runtime's poller, which on this project's machines makes a
// round trip several times faster. Cancels, which must arrive while a call
// runs, have a pipe of their own, read by a goroutine of the worker.
const (
	kindHello uint8 = iota + 1
	kindCall
	kindResult
	kindCancel
	kindNeed
	kindStatic
)

// protocolVersion is sent in the worker's environment and checked by
// Main, so that a worker never talks to a parent of another version.
const protocolVersion = "deco-process/1"

// frame is one message. Zero fields cost nothing on the wire.
type frame struct {
	Kind uint8
	ID   uint64
	Name string
	Data []byte
	Err  string
	PID  int
}

// sender writes frames to one pipe. It is safe for concurrent use.
type sender struct {
	mu  sync.Mutex
	w   io.WriteCloser
	buf *bufio.Writer
	enc *gob.Encoder
	err error // the first write error: the pipe is broken
}

func newSender(w io.WriteCloser) *sender {
	b := bufio.NewWriter(w)
	return &sender{w: w, buf: b, enc: gob.NewEncoder(b)}
}

// close closes the pipe: its reader sees the end of the stream.
func (s *sender) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = os.ErrClosed
	}
	s.w.Close()
}

// send writes f and flushes it.
func (s *sender) send(f *frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if err := s.enc.Encode(f); err != nil {
		s.err = err
		return err
	}
	if err := s.buf.Flush(); err != nil {
		s.err = err
		return err
	}
	return nil
}

// receiver reads frames from one pipe, from one goroutine at a time.
type receiver struct {
	dec *gob.Decoder
}

func newReceiver(r io.Reader) *receiver {
	return &receiver{dec: gob.NewDecoder(bufio.NewReaderSize(r, 64<<10))}
}

func (r *receiver) receive(f *frame) error {
	*f = frame{}
	return r.dec.Decode(f)
}
