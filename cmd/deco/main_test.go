package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deco-go/deco/cluster"
	"github.com/deco-go/deco/process"
)

// tiny are the flags that make every experiment take a moment.
var tiny = []string{
	"-sleep", "10ms", "-sleeps", "3", "-thumbnails", "5", "-megapixels", "0.03", "-workers", "2",
	"-pages", "7", "-latency", "1ms", "-io-workers", "3",
}

// wantCalls is how many calls each experiment makes with tiny.
var wantCalls = map[string]int{"sleep": 3, "order": 3, "thumbnails": 5, "downloads": 7}

// runDemoForTest runs `deco demo args...` in this process.
func runDemoForTest(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"demo"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// summary parses the summary table in a demo's output: the header line
// starting with "experiment", then one row per experiment up to a blank
// line. It returns the rows keyed by experiment, each as a map from column
// to cell.
func summary(t *testing.T, out string) map[string]map[string]string {
	t.Helper()
	lines := strings.Split(out, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "experiment ") {
			start = i
		}
	}
	if start < 0 {
		t.Fatalf("no summary table in:\n%s", out)
	}
	header := strings.Fields(lines[start])
	rows := map[string]map[string]string{}
	for _, l := range lines[start+1:] {
		if strings.TrimSpace(l) == "" {
			break
		}
		cells := strings.Fields(l)
		if len(cells) != len(header) {
			t.Fatalf("row %q has %d cells, the header %d", l, len(cells), len(header))
		}
		row := map[string]string{}
		for i, h := range header {
			row[h] = cells[i]
		}
		rows[cells[0]] = row
	}
	return rows
}

func TestDemoAllEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runDemoForTest(t, append(tiny, "-out", dir, "all")...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rows := summary(t, stdout)
	if len(rows) != len(wantCalls) {
		t.Errorf("summary has %d rows, want %d", len(rows), len(wantCalls))
	}
	for name, calls := range wantCalls {
		row := rows[name]
		if row == nil {
			t.Errorf("no %s row", name)
			continue
		}
		if row["calls"] != strconv.Itoa(calls) {
			t.Errorf("%s: %s calls, want %d", name, row["calls"], calls)
		}
		// Figures are reported, not asserted; they must parse.
		for _, col := range []string{"serial", "concurrent", "would-have-taken"} {
			if v, err := strconv.ParseFloat(strings.TrimSuffix(row[col], "s"), 64); err != nil || v <= 0 || !strings.HasSuffix(row[col], "s") {
				t.Errorf("%s: %s = %q", name, col, row[col])
			}
		}
		if _, err := strconv.ParseFloat(strings.TrimSuffix(row["speed-up"], "x"), 64); err != nil {
			t.Errorf("%s: speed-up %q", name, row["speed-up"])
		}
		if n, err := strconv.Atoi(row["cores"]); err != nil || n < 1 {
			t.Errorf("%s: cores %q", name, row["cores"])
		}
	}
	for _, f := range []string{"timeline.svg", "trace.json", "photo.jpg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
		if !strings.Contains(stdout, dir) {
			t.Errorf("output does not name the folder %s", dir)
		}
	}
}

func TestDemoJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	// Flags may also follow the experiments.
	code, stdout, stderr := runDemoForTest(t, append([]string{"order", "downloads", "-json", "-out", dir}, tiny...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Experiments []struct {
			Experiment string `json:"experiment"`
			Calls      int    `json:"calls"`
			Stats      struct {
				Done int `json:"done"`
			} `json:"deco_stats"`
		} `json:"experiments"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if len(rep.Experiments) != 2 || rep.Experiments[0].Experiment != "order" || rep.Experiments[1].Experiment != "downloads" {
		t.Fatalf("experiments %+v", rep.Experiments)
	}
	for _, e := range rep.Experiments {
		if e.Calls != wantCalls[e.Experiment] || e.Stats.Done != e.Calls {
			t.Errorf("%s: %d calls, %d done; want %d", e.Experiment, e.Calls, e.Stats.Done, wantCalls[e.Experiment])
		}
	}
	if !strings.Contains(stderr, "TOOK") {
		t.Errorf("narration missing from stderr:\n%s", stderr)
	}
}

func TestDemoBadInput(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	base := t.TempDir()
	aFile := filepath.Join(base, "file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		args []string
		code int
		want []string // in the error line
	}{
		{[]string{"thumbs"}, 2, []string{`unknown experiment "thumbs"`, "thumbnails"}},
		{[]string{"sleep", "nap"}, 2, []string{`"nap"`}},
		{[]string{"-thumbnails", "-5"}, 2, []string{"-thumbnails", "-5"}},
		{[]string{"-megapixels", "-1", "thumbnails"}, 2, []string{"-megapixels"}},
		{[]string{"-sleep", "-2s"}, 2, []string{"-sleep"}},
		{[]string{"-pages", "0"}, 2, []string{"-pages"}},
		{[]string{"-sleep", "soon"}, 2, []string{"-sleep", "soon"}},
		{[]string{"-frobnicate"}, 2, []string{"-frobnicate"}},
		{[]string{"-executor", "cluster"}, 2, []string{"-executor", "cluster"}},
		{[]string{"-out", filepath.Join(aFile, "out")}, 1, []string{"output folder", aFile}},
		{[]string{"-port", port}, 1, []string{"downloads", port}},
		{[]string{"-port", port, "downloads"}, 1, []string{"downloads", port}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append(append([]string{"-out", out}, tiny...), tc.args...)
			code, stdout, stderr := runDemoForTest(t, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "deco demo: ") {
				t.Errorf("stderr %q, want one line starting with 'deco demo: '", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output folder left behind: %v", err)
			}
		})
	}
	if got, _ := os.ReadDir(base); len(got) != 1 {
		t.Errorf("%s holds %d entries, want only the file", base, len(got))
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{[]string{"demo", "-h"}, 0, "Usage: deco demo", ""},
		{[]string{"demo", "--help"}, 0, "-thumbnails n", ""},
		{[]string{"demo", "sleep", "-h"}, 0, "-io-workers n", ""},
		{[]string{"help"}, 0, "deco demo [flags]", ""},
		{[]string{"help"}, 0, "deco workers [-url nats://host:port]", ""},
		{[]string{"workers", "-h"}, 0, "Usage: deco workers", ""},
		{[]string{"workers", "-help"}, 0, "-watch", ""},
		{nil, 2, "", "deco demo [flags]"},
		{[]string{"frob"}, 2, "", `deco: unknown command "frob" (want demo, workers or help)`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.wantStdout) || !strings.Contains(stderr.String(), tc.wantStderr) ||
			(tc.wantStdout == "" && stdout.Len() > 0) || (tc.wantStderr == "" && stderr.Len() > 0) {
			t.Errorf("deco %q: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tc.args, code, stdout.String(), stderr.String(), tc.code, tc.wantStdout, tc.wantStderr)
		}
	}
	// The help names every experiment and every flag.
	var stdout bytes.Buffer
	run(context.Background(), []string{"demo", "-h"}, &stdout, &stdout)
	for _, w := range []string{"sleep", "order", "thumbnails", "downloads", "all",
		"-sleep", "-sleeps", "-thumbnails", "-megapixels", "-workers", "-executor", "-pages", "-latency",
		"-port", "-io-workers", "-seed", "-out", "-trace", "-svg", "-json"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("help lacks %q", w)
		}
	}
}

// TestBinary builds the command and runs it as a user would.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	bin := filepath.Join(t.TempDir(), "deco")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	dir := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(bin, append([]string{"demo", "sleep", "-out", dir}, tiny...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("deco demo sleep: %v\n%s", err, stderr.String())
	}
	if rows := summary(t, stdout.String()); len(rows) != 1 || rows["sleep"]["calls"] != "3" {
		t.Errorf("summary %v", rows)
	}
	if !strings.Contains(stderr.String(), "sleep, concurrent: 3/3 done, 0 failed") {
		t.Errorf("no progress on stderr:\n%s", stderr.String())
	}

	cmd = exec.Command(bin, "demo", "nap")
	stdout.Reset()
	stderr.Reset()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || stdout.Len() != 0 ||
		stderr.String() != "deco demo: unknown experiment \"nap\" (want sleep, order, thumbnails, downloads or all)\n" {
		t.Errorf("deco demo nap: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}

// TestMain lets this test binary serve as the worker processes of
// -executor nats and -executor processes, as the command's own main does.
func TestMain(m *testing.M) {
	cluster.Main()
	process.Main()
	os.Exit(m.Run())
}

// TestDemoThumbnailsOnExecutors runs the CPU experiment on worker
// processes and on an embedded NATS JetStream cluster with local workers.
func TestDemoThumbnailsOnExecutors(t *testing.T) {
	for _, executor := range []string{"processes", "nats"} {
		t.Run(executor, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runDemoForTest(t, append(tiny, "-out", dir, "-executor", executor, "thumbnails")...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			row := summary(t, stdout)["thumbnails"]
			if row == nil || row["calls"] != strconv.Itoa(wantCalls["thumbnails"]) {
				t.Fatalf("thumbnails row %v, want %d calls\n%s", row, wantCalls["thumbnails"], stdout)
			}
			// On the cluster, the worker processes show: in the run's
			// lines, and as the concurrent run's lanes in the trace.
			host, _ := os.Hostname()
			trace, err := os.ReadFile(filepath.Join(dir, "trace.json"))
			if err != nil {
				t.Fatal(err)
			}
			named := strings.Contains(string(trace), `"args":{"name":"`+host+`:`)
			workersLine := strings.Contains(stdout, "on workers  "+host+":")
			if want := executor == "nats"; named != want || workersLine != want {
				t.Fatalf("lanes named by worker %v, 'on workers' line %v; want %v\n%s", named, workersLine, want, stdout)
			}
		})
	}
}
