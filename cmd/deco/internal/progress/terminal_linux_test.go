package progress

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair, or skips the test where the
// system has none to give.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pseudo-terminal number: %v", err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

func TestNewChoosesTerminalForATTY(t *testing.T) {
	master, slave := openPTY(t)
	// Drain the terminal so that the bar's writes never block.
	got := make(chan []byte)
	go func() {
		var out []byte
		buf := make([]byte, 4096)
		for !bytes.Contains(out, []byte("\n")) {
			n, err := master.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				break
			}
		}
		got <- out
	}()

	b := New(slave, "thumbnails", 3)
	if _, ok := b.r.(*terminal); !ok {
		t.Fatalf("a terminal got a %T display", b.r)
	}
	for done := 1; done <= 3; done++ {
		b.Update(done, 3, 0)
	}
	b.Finish()
	select {
	case out := <-got:
		if !bytes.Contains(out, []byte("thumbnails (0 failed)")) || !bytes.Contains(out, []byte("3/3")) {
			t.Errorf("terminal shows %q", out)
		}
	case <-time.After(10 * time.Second):
		master.Close() // ends the reader
		t.Fatal("nothing reached the terminal")
	}
}
