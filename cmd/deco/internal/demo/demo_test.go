package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/jpeg"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco/cmd/deco/internal/thumbnail"
	"github.com/deco-go/deco/timeline"
)

// tinyConfig is every experiment at a scale that runs in about a second
// under the race detector, writing into a new folder of the test's.
func tinyConfig(t *testing.T) Config {
	c := DefaultConfig()
	c.Sleep = 20 * time.Millisecond
	c.Sleeps = 3
	c.Thumbnails = 4
	c.Megapixels = 0.03
	c.Workers = 2
	c.Pages = 6
	c.Latency = 2 * time.Millisecond
	c.IOWorkers = 4
	c.Out = filepath.Join(t.TempDir(), "out")
	return c
}

// chromeEvents reads a Chrome trace-event document.
func chromeEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []map[string]any `json:"traceEvents"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	return doc.TraceEvents
}

// checkTrace checks that tr has one span per call, on lanes lanes, each
// call index once, named.
func checkTrace(t *testing.T, tr timeline.Trace, calls, lanes int) {
	t.Helper()
	if tr.Lanes != lanes || len(tr.Spans) != calls {
		t.Errorf("%q: %d lanes and %d spans, want %d and %d", tr.Title, tr.Lanes, len(tr.Spans), lanes, calls)
	}
	var idx []int
	for _, s := range tr.Spans {
		idx = append(idx, s.Index)
		if s.Name == "" || s.Failed {
			t.Errorf("%q: span %+v", tr.Title, s)
		}
	}
	slices.Sort(idx)
	for i, x := range idx {
		if i != x {
			t.Errorf("%q: call indexes %v, want 0 to %d once each", tr.Title, idx, calls-1)
			break
		}
	}
	if err := tr.Validate(); err != nil {
		t.Error(err)
	}
}

func TestRunAll(t *testing.T) {
	cfg := tinyConfig(t)
	var stdout, stderr bytes.Buffer
	rep, err := Run(context.Background(), cfg, &stdout, &stderr)
	if err != nil {
		t.Fatalf("Run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}

	// Each experiment: the right number of calls, every call counted by
	// deco and drawn once in each run's timeline.
	want := []struct {
		name           string
		calls, workers int
	}{{Sleep, 3, 3}, {Order, 3, 3}, {Thumbnails, 4, 2}, {Downloads, 6, 4}}
	if len(rep.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(want))
	}
	spans, lanes := 0, 0
	for i, w := range want {
		r := rep.Results[i]
		if r.Experiment != w.name || r.Calls != w.calls || r.Workers != w.workers {
			t.Errorf("result %d: %s, %d calls, %d workers; want %s, %d, %d", i, r.Experiment, r.Calls, r.Workers, w.name, w.calls, w.workers)
		}
		if st := r.Stats; st.Calls != int64(w.calls) || st.Done != int64(w.calls) || st.Failed != 0 ||
			st.MaxParallel < 1 || st.MaxParallel > w.workers || st.WouldHaveTaken <= 0 || st.QueueWaitP99 < st.QueueWaitMedian {
			t.Errorf("%s: deco stats %v", w.name, st)
		}
		if r.Serial <= 0 || r.Concurrent <= 0 || r.SerialSum <= 0 || r.WouldHaveTaken <= 0 || r.SerialSum > r.Serial {
			t.Errorf("%s: times %+v", w.name, r)
		}
		if r.Cores < 1 {
			t.Errorf("%s: %d cores", w.name, r.Cores)
		}
		if len(r.traces) != 2 {
			t.Fatalf("%s: %d traces", w.name, len(r.traces))
		}
		checkTrace(t, r.traces[0], w.calls, 1)
		checkTrace(t, r.traces[1], w.calls, w.workers)
		spans += 2 * w.calls
		lanes += 1 + w.workers
	}
	if s := rep.Results[0]; s.SerialSum < 3*cfg.Sleep || s.WouldHaveTaken < 3*cfg.Sleep {
		t.Errorf("sleep: the calls' times %v and %v are less than 3 sleeps", s.SerialSum, s.WouldHaveTaken)
	}

	// The files.
	if rep.Out != cfg.Out || rep.Trace != filepath.Join(cfg.Out, "trace.json") || rep.SVG != filepath.Join(cfg.Out, "timeline.svg") {
		t.Errorf("files %s, %s, %s", rep.Out, rep.Trace, rep.SVG)
	}
	if got := entries(t, cfg.Out); !slices.Equal(got, []string{"photo.jpg", "thumbnails", "timeline.svg", "trace.json"}) {
		t.Errorf("output folder holds %q", got)
	}
	src, err := os.ReadFile(filepath.Join(cfg.Out, "photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	photo, err := jpeg.DecodeConfig(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := cfg.photoSize(); photo.Width != w || photo.Height != h {
		t.Errorf("photo %d×%d, want %d×%d", photo.Width, photo.Height, w, h)
	}
	thumbs := entries(t, filepath.Join(cfg.Out, "thumbnails"))
	if len(thumbs) != cfg.Thumbnails {
		t.Errorf("thumbnails folder holds %q, want %d files", thumbs, cfg.Thumbnails)
	}
	for offset := range cfg.Thumbnails {
		f, err := os.Open(thumbnailPath(filepath.Join(cfg.Out, "thumbnails"), offset))
		if err != nil {
			t.Fatal(err)
		}
		ic, err := jpeg.DecodeConfig(f)
		f.Close()
		w, h := thumbnail.Fit(photo.Width, photo.Height, thumbnailSize(offset))
		if err != nil || ic.Width != w || ic.Height != h {
			t.Errorf("thumbnail %d: %d×%d, %v; want %d×%d", offset, ic.Width, ic.Height, err, w, h)
		}
	}

	// The Chrome trace: one complete event per call of every run.
	complete := map[float64]int{} // by pid
	names := map[float64]string{}
	for _, ev := range chromeEvents(t, rep.Trace) {
		pid, _ := ev["pid"].(float64)
		switch ev["ph"] {
		case "X":
			complete[pid]++
			if _, ok := ev["dur"].(float64); !ok {
				t.Errorf("complete event without a duration: %v", ev)
			}
		case "M":
			if ev["name"] == "process_name" {
				names[pid] = ev["args"].(map[string]any)["name"].(string)
			}
		}
	}
	if len(complete) != 8 {
		t.Errorf("%d processes with events, want 8 runs: %v", len(complete), names)
	}
	for i, w := range want {
		for j, kind := range []string{"serial", "concurrent"} {
			pid := float64(1 + 2*i + j)
			if complete[pid] != w.calls || !strings.HasPrefix(names[pid], w.name+", "+kind) {
				t.Errorf("process %v %q: %d complete events, want %q with %d", pid, names[pid], complete[pid], w.name+", "+kind, w.calls)
			}
		}
	}

	// The picture: one section per experiment, one bar per call, one lane
	// per slot.
	svg, err := os.ReadFile(rep.SVG)
	if err != nil {
		t.Fatal(err)
	}
	c := readSVG(t, svg)
	if c.sections != 4 || c.traces != 8 || c.spans != spans || c.laneLabels != lanes {
		t.Errorf("picture: %d sections, %d traces, %d bars, %d lanes; want 4, 8, %d, %d", c.sections, c.traces, c.spans, c.laneLabels, spans, lanes)
	}

	// The narration: the post's figures for every run, the order
	// experiment's lines, the summary.
	out := stdout.String()
	if n := strings.Count(out, "TOOK"); n != 8 {
		t.Errorf("%d TOOK lines, want 8:\n%s", n, out)
	}
	if n := strings.Count(out, "WOULD HAVE TAKEN"); n != 8 {
		t.Errorf("%d WOULD HAVE TAKEN, want 8", n)
	}
	if n := strings.Count(out, "  done with "); n != 2*cfg.Sleeps {
		t.Errorf("%d 'done with' lines, want %d", n, 2*cfg.Sleeps)
	}
	if !strings.Contains(out, "Wait() returned [1 2 3]: call order") {
		t.Errorf("order experiment does not show Wait's call order:\n%s", out)
	}
	for _, path := range []string{rep.SVG, rep.Trace, filepath.Join(cfg.Out, "thumbnails")} {
		if !strings.Contains(out, path) {
			t.Errorf("output does not name %s", path)
		}
	}
	// Progress goes to stderr, as plain lines here.
	for _, line := range []string{"sleep, serial: 3/3 done, 0 failed", "thumbnails, concurrent: 4/4 done, 0 failed", "downloads, concurrent: 6/6 done, 0 failed"} {
		if !strings.Contains(stderr.String(), line+"\n") {
			t.Errorf("stderr lacks %q:\n%s", line, stderr.String())
		}
	}
	if strings.Contains(out, "done, 0 failed") {
		t.Error("progress went to stdout")
	}
}

func TestRunJSONAndFilePaths(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Experiments = []string{Downloads, Sleep}
	cfg.JSON = true
	elsewhere := t.TempDir()
	cfg.Trace = filepath.Join(elsewhere, "t.json")
	cfg.SVG = filepath.Join(elsewhere, "p.svg")
	var stdout, stderr bytes.Buffer
	if _, err := Run(context.Background(), cfg, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Cores       int
		Trace, SVG  string
		Experiments []struct {
			Experiment string
			Calls      int
			Speedup    float64
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not only JSON: %v\n%s", err, stdout.String())
	}
	if rep.Trace != cfg.Trace || rep.SVG != cfg.SVG || len(rep.Experiments) != 2 ||
		rep.Experiments[0].Experiment != Downloads || rep.Experiments[0].Calls != cfg.Pages ||
		rep.Experiments[1].Experiment != Sleep || rep.Experiments[1].Calls != cfg.Sleeps {
		t.Errorf("JSON report %+v", rep)
	}
	if !strings.Contains(stderr.String(), "WOULD HAVE TAKEN") || !strings.Contains(stderr.String(), "speed-up") {
		t.Errorf("the narration did not go to stderr:\n%s", stderr.String())
	}
	if got := entries(t, elsewhere); !slices.Equal(got, []string{"p.svg", "t.json"}) {
		t.Errorf("%s holds %q", elsewhere, got)
	}
	if got := entries(t, cfg.Out); len(got) != 0 {
		t.Errorf("output folder holds %q, want nothing: no thumbnails ran, the timelines went elsewhere", got)
	}
}

// A run that cannot start reports why on one line, and leaves nothing.
func TestRunRefusesBeforeRunning(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	base := t.TempDir()
	aFile := filepath.Join(base, "file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"port taken", func(c *Config) { c.Port = port }, []string{"downloads", strconv.Itoa(port)}},
		{"output under a file", func(c *Config) { c.Out = filepath.Join(aFile, "out") }, []string{"output folder", aFile}},
		{"svg folder missing", func(c *Config) { c.SVG = filepath.Join(base, "no", "t.svg") }, []string{"-svg", filepath.Join(base, "no")}},
		{"trace is a folder", func(c *Config) { c.Trace = base }, []string{"-trace", base, "folder"}},
		{"same files", func(c *Config) { c.Trace = filepath.Join(base, "x"); c.SVG = c.Trace }, []string{"same file"}},
		{"bad setting", func(c *Config) { c.Pages = -1 }, []string{"-pages"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig(t)
			tc.change(&cfg)
			var stdout, stderr bytes.Buffer
			rep, err := Run(context.Background(), cfg, &stdout, &stderr)
			if err == nil || rep != nil {
				t.Fatalf("Run = %v, %v; want an error", rep, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of several lines: %q", err)
			}
			if stdout.Len() != 0 || stderr.Len() != 0 {
				t.Errorf("something ran: stdout %q, stderr %q", stdout.String(), stderr.String())
			}
			if _, err := os.Stat(cfg.Out); err == nil {
				t.Errorf("output folder %s left behind", cfg.Out)
			}
			if got := entries(t, base); !slices.Equal(got, []string{"file"}) {
				t.Errorf("%s holds %q", base, got)
			}
		})
	}
}

// A call that fails stops the run with an error naming it; the run's
// files go, what was in the folder before stays.
func TestRunFailedCallLeavesNothingBehind(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Experiments = []string{Sleep, Thumbnails}
	if err := os.MkdirAll(filepath.Join(cfg.Out, "thumbnails", "2.jpg"), 0o755); err != nil { // a folder in the way
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Out, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	_, err := Run(context.Background(), cfg, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "thumbnails:") || !strings.Contains(err.Error(), "#2") ||
		!strings.Contains(err.Error(), "2.jpg") {
		t.Fatalf("Run = %v, want an error naming thumbnail #2 and its file", err)
	}
	if got := entries(t, cfg.Out); !slices.Equal(got, []string{"notes.txt", "thumbnails"}) {
		t.Errorf("output folder holds %q, want only what was there before", got)
	}
	if got := entries(t, filepath.Join(cfg.Out, "thumbnails")); !slices.Equal(got, []string{"2.jpg"}) {
		t.Errorf("thumbnails folder holds %q, want only what was there before", got)
	}
}

func TestRunInterrupted(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.Experiments = []string{Sleep}
	cfg.Sleep = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(50*time.Millisecond, cancel)
	defer timer.Stop()
	var stdout, stderr bytes.Buffer
	_, err := Run(ctx, cfg, &stdout, &stderr)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run = %v, want ErrInterrupted", err)
	}
	if _, err := os.Stat(cfg.Out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output folder left behind: %v", err)
	}
}

func TestCondense(t *testing.T) {
	one := errors.New("one")
	if condense(one) != one {
		t.Error("a single error changed")
	}
	err := condense(errors.Join(one, errors.New("two"), errors.New("three")))
	if err.Error() != "3 calls failed, the first: one" || !errors.Is(err, one) {
		t.Errorf("condense = %q", err)
	}
}
