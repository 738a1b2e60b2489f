package process_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco/process"
)

func TestInvalidOptionsPanicNamingThem(t *testing.T) {
	for _, tc := range []struct {
		want string
		new  func()
	}{
		{"New(0)", func() { process.New(0) }},
		{"Retries(-1)", func() { process.New(1, process.Retries(-1)) }},
		{"Timeout(0s)", func() { process.New(1, process.Timeout(0)) }},
		{"IdleTimeout(-1s)", func() { process.New(1, process.IdleTimeout(-time.Second)) }},
		{"Stdout(nil)", func() { process.New(1, process.Stdout(nil)) }},
		{"Stderr(nil)", func() { process.New(1, process.Stderr(nil)) }},
		{`StderrPrefix("worker: ")`, func() { process.New(1, process.StderrPrefix("worker: ")) }},
		{`StderrPrefix("%s: ")`, func() { process.New(1, process.StderrPrefix("%s: ")) }},
		{"nil Option", func() { process.New(1, nil) }},
		{"Pipeline(0)", func() { process.New(1, process.Pipeline(0)) }},
		{"Pipeline(5)", func() { process.New(1, process.Pipeline(5)) }},
		{"MaxMessage(1023)", func() { process.New(1, process.MaxMessage(1023)) }},
		{"MaxMessage(-1)", func() { process.New(1, process.MaxMessage(-1)) }},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Errorf("panic %v, want one naming %s", r, tc.want)
				}
			}()
			tc.new()
		}()
	}
}

func TestTheEnvironmentsArgumentIsTheNumberOfWorkers(t *testing.T) {
	e, err := process.FromEnv("3")
	// 3 worker processes, each taking 2 calls at once (Pipeline's default).
	if err != nil || e.(*process.Executor).Stats().Workers != 3 || e.(*process.Executor).Workers() != 6 {
		t.Fatalf("processes:3 made %v, %v", e, err)
	}
	if e, err := process.FromEnv(""); err != nil || e.(*process.Executor).Workers() < 1 {
		t.Fatalf("processes made %v, %v", e, err)
	}
	for _, bad := range []string{"x", "0", "-2"} {
		if _, err := process.FromEnv(bad); err == nil || !strings.Contains(err.Error(), "not a number of workers") {
			t.Errorf("processes:%s: err = %v", bad, err)
		}
	}
}
