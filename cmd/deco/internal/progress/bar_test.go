package progress

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// lines splits plain output into lines, checking it ends with a newline.
func lines(t *testing.T, out string) []string {
	t.Helper()
	if out == "" {
		return nil
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("output %q does not end with a newline", out)
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

func TestNewChoosesPlainForNonTerminals(t *testing.T) {
	var buf bytes.Buffer
	if _, ok := New(&buf, "x", 10).r.(*plain); !ok {
		t.Error("a bytes.Buffer got a terminal display")
	}
	f, err := os.CreateTemp(t.TempDir(), "progress")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok := New(f, "x", 10).r.(*plain); !ok {
		t.Error("a regular file got a terminal display")
	}
	b := New(nil, "x", 10) // discards
	b.Update(10, 10, 0)
	b.Finish()
}

func TestNewWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, "x", 10)
	if buf.Len() != 0 {
		t.Errorf("New wrote %q", buf.String())
	}
}

func TestUpdateIgnoresStaleCounts(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "t", 10)
	b.Update(3, 10, 2)
	b.Update(1, 10, 0) // arrived late from another goroutine
	b.Update(4, 10, 1) // a new tenth, but the failed count stays at 2
	b.Finish()
	if want := "t: 3/10 done, 2 failed\nt: 4/10 done, 2 failed\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

var lineRE = regexp.MustCompile(`^work: (\d+)/1000 done, (\d+) failed$`)

// Many goroutines report at once: no race (under -race), at most 11 lines,
// counts never going back, and the true final state at the end.
func TestPlainConcurrentUpdates(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "work", 1000)
	var done, failed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 125 {
				f := failed.Load()
				if (g+i)%50 == 0 {
					f = failed.Add(1)
				}
				b.Update(int(done.Add(1)), 1000, int(f))
			}
		})
	}
	wg.Wait()
	b.Finish()
	wg.Go(b.Finish) // concurrent Finish calls are fine too
	b.Finish()
	wg.Wait()

	got := lines(t, buf.String())
	if len(got) < 10 || len(got) > 11 {
		t.Fatalf("%d lines, want 10 or 11:\n%s", len(got), buf.String())
	}
	prevDone, prevFailed := 0, 0
	for _, l := range got {
		m := lineRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %q does not match %v", l, lineRE)
		}
		d, _ := strconv.Atoi(m[1])
		f, _ := strconv.Atoi(m[2])
		if d <= prevDone || f < prevFailed {
			t.Errorf("line %q goes back from %d done, %d failed", l, prevDone, prevFailed)
		}
		prevDone, prevFailed = d, f
	}
	if want := fmt.Sprintf("work: 1000/1000 done, %d failed", failed.Load()); got[len(got)-1] != want {
		t.Errorf("last line %q, want %q", got[len(got)-1], want)
	}
}

func ExampleNew() {
	// os.Stdout is not a terminal when examples run, so the display is
	// plain lines.
	bar := New(os.Stdout, "thumbnails", 100)
	for done := 1; done <= 100; done++ {
		bar.Update(done, 100, 0)
	}
	bar.Finish()
	// Output:
	// thumbnails: 10/100 done, 0 failed
	// thumbnails: 20/100 done, 0 failed
	// thumbnails: 30/100 done, 0 failed
	// thumbnails: 40/100 done, 0 failed
	// thumbnails: 50/100 done, 0 failed
	// thumbnails: 60/100 done, 0 failed
	// thumbnails: 70/100 done, 0 failed
	// thumbnails: 80/100 done, 0 failed
	// thumbnails: 90/100 done, 0 failed
	// thumbnails: 100/100 done, 0 failed
}

func ExampleBar_Update() {
	bar := New(os.Stdout, "pages", 4)
	bar.Update(1, 4, 0)
	bar.Update(3, 4, 1)
	bar.Update(2, 4, 0) // late report from another goroutine: ignored
	bar.Update(4, 4, 1)
	// Output:
	// pages: 1/4 done, 0 failed
	// pages: 3/4 done, 1 failed
	// pages: 4/4 done, 1 failed
}

func ExampleBar_Finish() {
	bar := New(os.Stdout, "pages", 100)
	bar.Update(42, 100, 3) // reaches 40%: printed
	bar.Update(45, 100, 3) // still in the same tenth: not printed
	bar.Finish()           // prints the final state, which no tenth showed
	bar.Finish()           // does nothing
	bar.Update(100, 100, 3)
	// Output:
	// pages: 42/100 done, 3 failed
	// pages: 45/100 done, 3 failed
}
