package progress

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestPlainLinesAtEachTenth(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "thumbnails", 100)
	for done := 1; done <= 100; done++ {
		b.Update(done, 100, done/30)
	}
	b.Finish()
	got := lines(t, buf.String())
	var want []string
	for step := 1; step <= 10; step++ {
		want = append(want, fmt.Sprintf("thumbnails: %d/100 done, %d failed", step*10, step*10/30))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got lines\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlainFinishPrintsFinalStateOnce(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "pages", 7)
	for done := 1; done <= 5; done++ {
		b.Update(done, 7, 1)
	}
	b.Finish() // the state 5/7 was just printed: nothing to add
	b.Finish() // idempotent
	b.Update(7, 7, 1)
	b.Finish()
	// With 7 items each one crosses at least one tenth.
	want := "pages: 1/7 done, 1 failed\n" +
		"pages: 2/7 done, 1 failed\n" +
		"pages: 3/7 done, 1 failed\n" +
		"pages: 4/7 done, 1 failed\n" +
		"pages: 5/7 done, 1 failed\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestPlainFinishAddsChangedState(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "t", 100)
	b.Update(15, 100, 0) // crosses 10%
	b.Update(17, 100, 2) // no new tenth: not printed
	b.Finish()
	want := "t: 15/100 done, 0 failed\nt: 17/100 done, 2 failed\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestPlainJumpsPrintOneLine(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "t", 10)
	b.Update(7, 10, 0)
	b.Update(10, 10, 0)
	b.Finish()
	want := "t: 7/10 done, 0 failed\nt: 10/10 done, 0 failed\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestPlainZeroTotal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "t", 0)
	b.Update(0, 0, 0)
	b.Finish()
	if want := "t: 0/0 done, 0 failed\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}
