package process

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// The protocol between the parent and a worker runs over three pipes,
// passed as the worker's file descriptors 3, 4 and 5 (close-on-exec in the
// worker, so that processes its tasks start never hold them), never over
// stdin, stdout or stderr, which belong to the program, and one word of
// shared memory, fd 6:
//
//	fd 3, parent → worker:     calls
//	fd 4, worker → parent:     hello, results, and requests for Static values
//	fd 5, parent → worker:     cancels, and the Static values the worker asked for
//	fd 6, shared:              the ID of the call the worker started last
//	fds 7 to 9, worker → parent: more results pipes, one per call sent ahead (Pipeline)
//
// A worker that dies with a call it had not started (killed while idle,
// before it read the call, or with the call waiting behind another, see
// Pipeline) leaves the word at an earlier call: the parent then sends the
// call to another worker instead of failing it.
//
// Each pipe carries frames: a 4-byte big-endian length, at most the
// limit (MaxMessage), then the frame. A frame is a kind byte, uvarint
// fields, and its data (arguments and results, the bytes deco encodes
// (backend.Executor), which the protocol never decodes):
//
//	worker → parent  hello   once, when the worker is ready: its PID and its functions' fingerprint
//	parent → worker  call    ID, function name, deadline, timeout, encoded argument
//	worker → parent  result  ID, encoded outcome (backend.Invoke), or Err; TimedOut; NotRun; GivenBack; when it ran
//	parent → worker  cancel  ID: the caller's context is done
//	worker → parent  need    a Static's name, asked by a task
//	parent → worker  static  the Static's name and encoded value, or Err
//	parent → worker  revoke  ID, reply: give back that call if it has not started
//
// A length over the limit, or a frame that does not parse, is a protocol
// violation: the parent kills the worker and fails its call saying so.
//
// Calls to one worker are numbered 1, 2, 3, … in the order they are sent.
// The parent sends up to the executor's window (Pipeline, k) of calls to a
// worker without waiting for their results: the worker reads one, runs it,
// sends its result, and reads the next, which is waiting in the pipe, so
// that the round trip through the parent is not on the worker's path.
// Each call names one of k results pipes (fd 4, then 7 to 9), which no
// other call in flight uses; the worker answers it, and sends the requests
// of its task, on that pipe. So each results pipe has one reader at a time,
// the goroutine waiting for that call's result, which is the one woken
// when its result arrives, with no hand-over between goroutines. Calls and
// results are written with raw system calls that never block (see
// quietFile); the worker reads calls with plain blocking reads; the
// parent reads a result with a plain blocking read after a short call,
// the fastest wake-up, and through the runtime's poller after a long one,
// which holds no thread while the call runs (see resultPipe). The
// blocking reads first poll the pipe a little (see spinner). A cancel
// for a call the worker has not started is kept until it reaches the
// call, which is then not run: its result says NotRun. A call sent ahead
// can be revoked, when another worker is idle and nothing else would keep
// it busy: the worker gives it back at once (a result that says
// GivenBack, on the call's results pipe) if it has not started it, and
// then skips it when it reaches it; else it ignores the revoke, and the
// call's result comes as usual. Either way the call runs once. Cancels,
// revokes and Static values, which must arrive while a call runs, have a
// pipe of their own, read by a goroutine of the worker.
const (
	kindHello uint8 = iota + 1
	kindCall
	kindResult
	kindCancel
	kindNeed
	kindStatic
	kindRevoke
)

// protocolVersion is sent in the worker's environment and checked by
// Main, so that a worker never talks to a parent of another version.
const protocolVersion = "deco-process/4"

// defaultMaxMessage is the default bound of a frame (MaxMessage).
const defaultMaxMessage = 512 << 20

// frame is one message. Zero fields cost a byte each on the wire.
type frame struct {
	Kind        uint8
	ID          uint64
	Name        string // the function (call), the Static (need, static), the fingerprint (hello)
	Err         string
	PID         int
	Deadline    int64         // the caller's deadline, Unix nanoseconds, or 0 (call)
	Timeout     time.Duration // the call's timeout, or 0 (call)
	TimedOut    bool          // the call ran past its timeout (result)
	NotRun      bool          // the call was cancelled before it started, and did not run (result)
	GivenBack   bool          // the call was revoked before it started, and will not run there (result)
	Start, End  int64         // when the call ran, Unix nanoseconds on the worker's clock (result)
	Reply       uint8         // the results pipe to answer on, 0 to the window - 1 (call, revoke)
	CancelCause uint8         // why the caller's context is done (cancel): causeCanceled, causeDeadline
	Data        []byte
}

const (
	causeCanceled = iota
	causeDeadline
)

// errProtocol is wrapped by the errors of a malformed stream.
var errProtocol = errors.New("protocol violation")

func (f *frame) marshal(b []byte) []byte {
	b = append(b, 0, 0, 0, 0, f.Kind)
	b = binary.AppendUvarint(b, f.ID)
	b = binary.AppendUvarint(b, uint64(len(f.Name)))
	b = append(b, f.Name...)
	b = binary.AppendUvarint(b, uint64(len(f.Err)))
	b = append(b, f.Err...)
	b = binary.AppendUvarint(b, uint64(f.PID))
	b = binary.AppendVarint(b, f.Deadline)
	b = binary.AppendVarint(b, int64(f.Timeout))
	b = binary.AppendVarint(b, f.Start)
	b = binary.AppendVarint(b, f.End)
	flags := (f.CancelCause & 1) << 1
	if f.TimedOut {
		flags |= 1
	}
	if f.NotRun {
		flags |= 1 << 2
	}
	if f.GivenBack {
		flags |= 1 << 3
	}
	b = append(b, flags, f.Reply)
	b = append(b, f.Data...)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func (f *frame) unmarshal(b []byte) error {
	r := frameReader{b: b}
	f.Kind = r.byte()
	f.ID = r.uvarint()
	f.Name = string(r.bytes(r.uvarint()))
	f.Err = string(r.bytes(r.uvarint()))
	f.PID = int(r.uvarint())
	f.Deadline = r.varint()
	f.Timeout = time.Duration(r.varint())
	f.Start = r.varint()
	f.End = r.varint()
	flags := r.byte()
	f.TimedOut, f.CancelCause, f.NotRun, f.GivenBack = flags&1 != 0, flags>>1&1, flags&(1<<2) != 0, flags&(1<<3) != 0
	f.Reply = r.byte()
	if r.bad || f.Kind < kindHello || f.Kind > kindRevoke || flags > 15 {
		return fmt.Errorf("%w: a malformed frame", errProtocol)
	}
	f.Data = r.b
	return nil
}

type frameReader struct {
	b   []byte
	bad bool
}

func (r *frameReader) byte() uint8 {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *frameReader) uvarint() uint64 {
	x, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *frameReader) varint() int64 {
	x, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return x
}

func (r *frameReader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

// sender writes frames to one pipe. It is safe for concurrent use.
type sender struct {
	mu  sync.Mutex
	w   io.WriteCloser
	max int
	buf []byte
	err error // the first write error: the pipe is broken
}

func newSender(w io.WriteCloser, max int) *sender { return &sender{w: w, max: max} }

// errTooLarge is returned by send for a frame over the limit; the pipe
// stays usable.
type errTooLarge struct{ n, max int }

func (e errTooLarge) Error() string {
	return fmt.Sprintf("process: a message of %d bytes is over the limit of %d bytes (MaxMessage)", e.n, e.max)
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

// send writes f in one write.
func (s *sender) send(f *frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	b := f.marshal(s.buf[:0])
	if len(b)-4 > s.max {
		s.buf = nil
		return errTooLarge{len(b) - 4, s.max}
	}
	return s.writeLocked(b)
}

// writeLocked writes the marshalled frame b, which may be s.buf. s.mu is
// held.
func (s *sender) writeLocked(b []byte) error {
	_, err := s.w.Write(b)
	if cap(b) <= 64<<10 {
		s.buf = b // keep a small buffer, not a large argument
	} else {
		s.buf = nil
	}
	if err != nil {
		s.err = err
	}
	return err
}

// receiver reads frames from one pipe, from one goroutine at a time.
type receiver struct {
	r   *bufio.Reader
	max int
}

func newReceiver(r io.Reader, max int) *receiver {
	return &receiver{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// buffered reports how many bytes of the pipe r has read and not yet
// returned: a frame may be waiting in them.
func (r *receiver) buffered() int { return r.r.Buffered() }

// receive reads the next frame. Its Data is its own: nothing else holds
// it. A frame longer than the limit is refused before it is read.
func (r *receiver) receive(f *frame) error {
	*f = frame{}
	h, err := r.r.Peek(4) // not io.ReadFull into an array: it would be allocated
	if err != nil {
		if err == io.EOF && len(h) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	n := binary.BigEndian.Uint32(h)
	r.r.Discard(4)
	if uint64(n) > uint64(r.max) {
		return fmt.Errorf("%w: a frame of %d bytes, over the limit of %d (MaxMessage)", errProtocol, n, r.max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return f.unmarshal(b)
}
