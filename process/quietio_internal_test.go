//go:build unix

package process

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// A frame larger than the pipe holds is written whole, the writer waiting
// for room while the reader is slow; once the reader has gone, a write
// fails and the writer's process goes on.
func TestQuietWriterWritesAFrameLargerThanThePipeAndFailsOnceTheReaderIsGone(t *testing.T) {
	r, w, err := blockingPipe()
	if err != nil {
		t.Fatal(err)
	}
	qw := newQuietWriter(w)
	defer qw.Close()
	if runtime.GOOS == "linux" {
		if _, plain := qw.(*os.File); plain || !nonblocking(t, w) {
			t.Fatalf("newQuietWriter: %T, O_NONBLOCK %v: not written quietly", qw, nonblocking(t, w))
		}
	}
	frame := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, 16 pipes' worth
	got := make(chan []byte, 1)
	go func() {
		var b bytes.Buffer
		chunk := make([]byte, 8<<10)
		for b.Len() < len(frame) {
			time.Sleep(time.Millisecond / 10) // a slow reader: the pipe fills
			n, err := r.Read(chunk)
			if err != nil {
				break
			}
			b.Write(chunk[:n])
		}
		got <- b.Bytes()
	}()
	done := make(chan error, 1)
	go func() {
		n, err := qw.Write(frame)
		if err == nil && n != len(frame) {
			err = io.ErrShortWrite
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a frame larger than the pipe: still writing after a minute")
	}
	if b := <-got; !bytes.Equal(b, frame) {
		t.Fatalf("the reader got %d bytes, not the %d written", len(b), len(frame))
	}
	r.Close()
	if _, err := qw.Write([]byte("late")); !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("a write once the reader has gone: %v, want EPIPE", err)
	}
	qw.Close()
	if _, err := qw.Write([]byte("closed")); err == nil {
		t.Fatal("a write after Close succeeded")
	}
}

// After a long call, a results pipe waits in the poller and reads quietly: it
// reads what is written, waits for what is not yet, and sees the end of
// the pipe.
func TestAResultPipeWaitsInThePollerQuietlyAndSeesTheEnd(t *testing.T) {
	r, w, err := blockingPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := newResultPipe(r)
	defer p.Close()
	p.setPoll(true)
	if p.polled == nil {
		t.Fatal("setPoll(true): no duplicate in the poller")
	}
	go func() {
		w.Write([]byte("now"))
		time.Sleep(20 * time.Millisecond) // the reader parks in the poller
		w.Write([]byte("later"))
		w.Close()
	}()
	var b bytes.Buffer
	if _, err := io.Copy(&b, p); err != nil || b.String() != "nowlater" {
		t.Fatalf("read %q, %v; want %q, nil", b.String(), err, "nowlater")
	}
	if n, err := p.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Fatalf("at the end: %d, %v; want 0, io.EOF", n, err)
	}
}
