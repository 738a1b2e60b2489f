package process_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/process"
)

var (
	outLog, errLog = &lockedBuffer{}, &lockedBuffer{}
	printExec      = process.New(1, process.Stdout(outLog), process.Stderr(errLog), process.StderrPrefix("<w%d> "))
	printer        = deco.Concurrent(func(s string) {
		fmt.Println("out:", s)
		fmt.Fprintf(os.Stderr, "err: %s\nsecond line", s) // the last line unfinished
	}, deco.Name("test.printer"), deco.On(printExec), deco.Limit(1))
)

func TestWorkerOutputIsPassedThrough(t *testing.T) {
	var pids pidSet
	use(t, printExec, &pids)
	printer.Go("hello")
	if _, err := printer.Wait(); err != nil {
		t.Fatal(err)
	}
	printExec.Close() // the worker's pipes are drained when it has exited
	if got := outLog.String(); !strings.Contains(got, "out: hello\n") || strings.Contains(got, "<w") {
		t.Fatalf("stdout = %q, want the task's line, unprefixed", got)
	}
	if got := errLog.String(); !strings.Contains(got, "<w0> err: hello\n<w0> second line\n") {
		t.Fatalf("stderr = %q, want each line prefixed, the unfinished one too", got)
	}
}
