package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cmd/deco/internal/pages"
	"github.com/deco-go/deco/cmd/deco/internal/progress"
	"github.com/deco-go/deco/timeline"
)

// ErrInterrupted is returned by [Run] when its context was cancelled, as by
// Ctrl-C.
var ErrInterrupted = errors.New("interrupted")

// runners are the experiments by name.
var runners = map[string]func(context.Context, *env) (Result, error){
	Sleep:      runSleep,
	Order:      runOrder,
	Thumbnails: runThumbnails,
	Downloads:  runDownloads,
}

// env is what the experiments of one run share.
type env struct {
	cfg      Config
	cores    int
	out      *output
	narr     *lockedWriter // the narration; safe for concurrent use
	progress io.Writer     // where progress bars go
	server   *pages.Server // the page server, when downloads run
}

// Run runs the experiments of cfg, narrating on stdout (stderr with
// cfg.JSON) with progress bars on stderr, then writes the timeline files
// and prints the summary table, or the JSON report on stdout with cfg.JSON.
//
// Everything that can be checked before the experiments start is checked
// first: the settings, the output folder and the timeline files' folders,
// and the page server's port. On an error before the timeline files are
// written, Run removes what it wrote; its errors are one line naming the
// problem, and [ErrInterrupted] when ctx was cancelled.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer) (rep *Report, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	narr := stdout
	if cfg.JSON {
		narr = stderr
	}
	e := &env{cfg: cfg, cores: runtime.GOMAXPROCS(0), narr: &lockedWriter{w: narr}, progress: stderr}

	out, err := openOutput(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			out.discard()
			if ctx.Err() != nil {
				err = ErrInterrupted
			}
		} else {
			out.keep()
		}
	}()
	e.out = out
	rep = &Report{Cores: e.cores, Out: out.dir, Trace: cfg.Trace, SVG: cfg.SVG}
	for _, f := range []struct {
		flag, def string
		path      *string
	}{{"trace", "trace.json", &rep.Trace}, {"svg", "timeline.svg", &rep.SVG}} {
		if *f.path == "" {
			*f.path = out.path(f.def)
		}
		if *f.path, err = filepath.Abs(*f.path); err != nil {
			return nil, fmt.Errorf("-%s: %w", f.flag, err)
		}
		if err := checkFileTarget(f.flag, *f.path); err != nil {
			return nil, err
		}
	}
	if rep.Trace == rep.SVG {
		return nil, fmt.Errorf("-trace and -svg are the same file %s", rep.Trace)
	}
	if slices.Contains(cfg.Experiments, Downloads) {
		addr := fmt.Sprintf("127.0.0.1:%d", cfg.Port)
		srv, err := pages.Start(ctx, addr, cfg.Pages, cfg.Seed, cfg.Latency)
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("downloads: port %d of 127.0.0.1 is already taken: choose another with -port, or -port 0 for any free one", cfg.Port)
		}
		if err != nil {
			return nil, fmt.Errorf("downloads: page server: %w", err)
		}
		defer srv.Close()
		e.server = srv
	}

	e.printf("deco demo: %s on %d cores (GOMAXPROCS); output in %s\n",
		strings.Join(cfg.Experiments, ", "), e.cores, out.dir)
	for _, name := range cfg.Experiments {
		e.printf("\n")
		res, err := runners[name](ctx, e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rep.Results = append(rep.Results, res)
	}

	if err := rep.writeTimelines(); err != nil {
		return nil, err
	}
	out.keep() // the run is complete: from here on, its files stay

	e.printf("\nsummary, %d cores:\n", e.cores)
	_ = rep.WriteSummary(e.narr) // narration, like e.printf: best effort
	e.printf("\n")
	if slices.Contains(cfg.Experiments, Thumbnails) {
		e.printf("thumbnails  %s\n", out.path("thumbnails"))
	}
	e.printf("timeline    %s  (open it in a browser)\n", rep.SVG)
	e.printf("trace       %s  (open it at https://ui.perfetto.dev)\n", rep.Trace)
	if cfg.JSON {
		if err := rep.WriteJSON(stdout); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// writeTimelines writes the Chrome trace of every run and the SVG picture,
// one section per experiment, both or neither.
func (r *Report) writeTimelines() error {
	var traces []timeline.Trace
	var sections [][]timeline.Trace
	for _, res := range r.Results {
		traces = append(traces, res.traces...)
		sections = append(sections, res.traces)
	}
	var chrome bytes.Buffer
	if err := timeline.WriteChrome(&chrome, traces...); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	svg, err := sectionsSVG(fmt.Sprintf("deco demo on %d cores: serial and concurrent runs", r.Cores), sections)
	if err != nil {
		return fmt.Errorf("timeline picture: %w", err)
	}
	return writeFiles(file{r.Trace, chrome.Bytes()}, file{r.SVG, svg})
}

// printf narrates.
func (e *env) printf(format string, args ...any) {
	fmt.Fprintf(e.narr, format, args...)
}

// bar starts a progress bar of n calls.
func (e *env) bar(title string, n int) *progress.Bar {
	return progress.New(e.progress, title, n)
}

// showProgress is the option that draws a decorated function's progress
// on bar, as its calls finish.
func showProgress(bar *progress.Bar) deco.Option {
	return deco.OnProgress(func(p deco.Progress) {
		bar.Update(int(p.Done), int(p.Total), int(p.Failed))
	})
}

// lockedWriter serializes writes, for tasks that print as they finish.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// serialRun is what a plain loop measured.
type serialRun struct {
	took  time.Duration  // wall time of the loop
	cpu   time.Duration  // CPU time of the process during the loop
	sum   time.Duration  // the calls' own times, as the loop measured them
	trace timeline.Trace // one lane, one span per call
}

// serial is the post's "before": it calls call(0) to call(n-1) in a plain
// loop, with a progress bar when bar is set, and times every call for a
// one-lane timeline drawn beside deco's. Like a plain loop it stops at the
// first error.
func (e *env) serial(ctx context.Context, experiment, name string, n int, bar bool, call func(i int) error) (serialRun, error) {
	r := serialRun{trace: timeline.Trace{Title: experiment + ", serial: a plain loop", Lanes: 1}}
	b := e.bar(experiment+", serial", n)
	if !bar {
		b = progress.New(nil, "", n)
	}
	defer b.Finish()
	t0, cpu0 := time.Now(), cpuTime()
	for i := range n {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		start := time.Since(t0)
		err := call(i)
		end := time.Since(t0)
		r.sum += end - start
		r.trace.Spans = append(r.trace.Spans, timeline.Span{Name: name, Index: i, Start: start, End: end, Failed: err != nil})
		failed := 0
		if err != nil {
			failed = 1
		}
		b.Update(i+1, n, failed)
		if err != nil {
			return r, fmt.Errorf("%s #%d: %w", name, i, err)
		}
	}
	r.took, r.cpu = time.Since(t0), cpuTime()-cpu0
	return r, nil
}

// concurrentTitle is the title of a concurrent run's timeline.
func (e *env) concurrentTitle(experiment string, limit int) string {
	return fmt.Sprintf("%s, concurrent: deco, Limit(%d) on %d cores", experiment, limit, e.cores)
}

// named gives a name to the spans of t that have none: the demo's
// decorated functions are not named (see Run's note on deco.Name).
func named(t timeline.Trace, name string) timeline.Trace {
	for i := range t.Spans {
		if t.Spans[i].Name == "" {
			t.Spans[i].Name = name
		}
	}
	return t
}

// printRuns prints the post's TOOK and WOULD HAVE TAKEN lines for both
// runs with the cores they kept busy, the speed-up, and what deco's Stats
// say of the concurrent run.
func (e *env) printRuns(r Result) {
	busy := func(cpu, wall time.Duration) string {
		if cpu <= 0 {
			return ""
		}
		return fmt.Sprintf("   CPU %.1f of %d cores", cores(cpu, wall), e.cores)
	}
	e.printf("serial      TOOK %-8s WOULD HAVE TAKEN %-8s%s\n", seconds(r.Serial), seconds(r.SerialSum), busy(r.SerialCPU, r.Serial))
	e.printf("concurrent  TOOK %-8s WOULD HAVE TAKEN %-8s%s\n", seconds(r.Concurrent), seconds(r.WouldHaveTaken), busy(r.ConcurrentCPU, r.Concurrent))
	e.printf("speed-up    %.2fx with Limit(%d) on %d cores\n", r.Speedup(), r.Workers, r.Cores)
	st := r.Stats
	e.printf("deco stats  %d calls, %d failed, at most %d at once, %.1f on average; queue wait p50 %s, p99 %s\n",
		st.Calls, st.Failed, st.MaxParallel, r.Parallelism(), seconds(st.QueueWaitMedian), seconds(st.QueueWaitP99))
	if len(st.Workers) > 0 {
		// On a cluster: which worker process ran how many calls.
		parts := make([]string, len(st.Workers))
		for i, w := range st.Workers {
			parts[i] = fmt.Sprintf("%s %d calls (%s)", w.Worker, w.Calls, seconds(w.Ran))
		}
		e.printf("on workers  %s\n", strings.Join(parts, ", "))
	}
}

// condense turns the joined error of a wait into one line: the first
// failed call's error and how many failed.
func condense(err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return fmt.Errorf("%d calls failed, the first: %w", len(errs), errs[0])
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
