package progress

import (
	"bytes"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The terminal display is driven here with a buffer standing in for the
// terminal; terminal_linux_test.go checks that New picks it for a real
// one.

func TestTerminalDrawsBar(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, "thumbnails", 100, true)
	for done := 1; done <= 100; done++ {
		b.Update(done, 100, done/40)
	}
	b.Finish()
	out := buf.String()
	for _, want := range []string{"thumbnails (0 failed)", "thumbnails (2 failed)", "100/100", "items/"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("output has %d newlines, want exactly one, at the end: %q", strings.Count(out, "\n"), out)
	}
}

func TestTerminalFinishIncomplete(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, "pages", 10, true)
	b.Update(5, 10, 1)
	b.Finish()
	b.Finish()
	b.Update(10, 10, 1) // after Finish: ignored
	out := buf.String()
	if !strings.Contains(out, "5/10") || strings.Contains(out, "10/10") {
		t.Errorf("output should stop at 5/10: %q", out)
	}
	if !strings.Contains(out, "pages (1 failed)") {
		t.Errorf("output lacks the failed count: %q", out)
	}
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("output has %d newlines, want exactly one, at the end: %q", strings.Count(out, "\n"), out)
	}
}

func TestTerminalTotalChanges(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, "t", 0, true) // unknown at first
	b.Update(0, 20, 0)
	b.Update(20, 20, 0)
	b.Finish()
	if out := buf.String(); !strings.Contains(out, "20/20") {
		t.Errorf("output lacks 20/20: %q", out)
	}
}

func TestTerminalConcurrentUpdates(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, "t", 400, true)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				mu.Lock()
				done++
				d := done
				mu.Unlock()
				b.Update(d, 400, 0)
			}
		})
	}
	wg.Wait()
	b.Finish()
	if out := buf.String(); !strings.Contains(out, "400/400") || strings.Count(out, "\n") != 1 {
		t.Errorf("output lacks 400/400 or has not one newline: %q", out)
	}
}

// With a known maximum the progressbar library starts no goroutine of its
// own, so a Bar never needs stopping.
func TestTerminalStartsNoGoroutine(t *testing.T) {
	var buf bytes.Buffer
	b := newBar(&buf, "t", 0, true)
	b.Update(1, 3, 0)
	stacks := make([]byte, 1<<20)
	stacks = stacks[:runtime.Stack(stacks, true)]
	if bytes.Contains(stacks, []byte("schollz/progressbar")) {
		t.Errorf("a progressbar goroutine is running:\n%s", stacks)
	}
	b.Finish()
}
