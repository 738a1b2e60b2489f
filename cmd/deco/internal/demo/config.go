package demo

import (
	"flag"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/deco-go/deco/cmd/deco/internal/photo"
)

// The experiments, in the order of the blog post and of `all`.
const (
	Sleep      = "sleep"
	Order      = "order"
	Thumbnails = "thumbnails"
	Downloads  = "downloads"
	All        = "all"
)

// Experiments lists the experiments in the order `all` runs them.
var Experiments = []string{Sleep, Order, Thumbnails, Downloads}

// Config is what one `deco demo` run does. [DefaultConfig] gives the
// defaults, sized so that `all` takes about a minute on 2 cores.
type Config struct {
	Experiments []string // names from Experiments, in the order to run them

	Sleep  time.Duration // how long each call of the sleep experiment sleeps
	Sleeps int           // calls of the sleep and order experiments

	Thumbnails int     // thumbnails to make, of sizes 100+20×offset pixels
	Megapixels float64 // size of the generated source photo
	Workers    int     // thumbnails made at once (deco.Limit)
	Executor   string  // where thumbnails run: "local"

	Pages     int           // pages to download
	Latency   time.Duration // mean response time of the local page server
	Port      int           // port of the local page server, 0 for any free one
	IOWorkers int           // sleeps and downloads at once (deco.Limit)

	Seed int64 // seed of the photo and of the page latencies

	Out   string // output folder; "" makes a new one under os.TempDir()
	Trace string // Chrome trace-event JSON file; "" for Out/trace.json
	SVG   string // timeline picture; "" for Out/timeline.svg
	JSON  bool   // print the results as JSON on stdout, the narration on stderr
}

// DefaultConfig returns the defaults: every experiment, scaled so that
// `all` takes about a minute on a 2-core machine — 1 s sleeps instead of
// the post's 5 s, and the post's 100 thumbnails and 100 downloads.
func DefaultConfig() Config {
	return Config{
		Experiments: slices.Clone(Experiments),
		Sleep:       time.Second,
		Sleeps:      3,
		Thumbnails:  100,
		Megapixels:  4,
		Workers:     runtime.GOMAXPROCS(0),
		Executor:    ExecutorLocal,
		Pages:       100,
		Latency:     100 * time.Millisecond,
		IOWorkers:   20,
		Seed:        1,
	}
}

// Flags defines the flags of `deco demo` on fs, bound to c's fields; the
// values in c are the defaults shown by -h.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Sleep, "sleep", c.Sleep, "each call of slow(index) sleeps for `duration` (the post: 5s)")
	fs.IntVar(&c.Sleeps, "sleeps", c.Sleeps, "`n` calls of slow(index) in sleep and order (the post: 3)")
	fs.IntVar(&c.Thumbnails, "thumbnails", c.Thumbnails, "`n` thumbnails, of sizes 100+20×offset px (the post: 100)")
	fs.Float64Var(&c.Megapixels, "megapixels", c.Megapixels, "the generated source photo has `x` megapixels")
	fs.IntVar(&c.Workers, "workers", c.Workers, "`n` thumbnails made at once, deco.Limit(n): one per core")
	fs.StringVar(&c.Executor, "executor", c.Executor, "run the thumbnails on the executor called `name`: "+strings.Join(Executors, ", "))
	fs.IntVar(&c.Pages, "pages", c.Pages, "`n` pages to download (the post: 100)")
	fs.DurationVar(&c.Latency, "latency", c.Latency, "mean response `time` of the local page server (seeded, log-normal)")
	fs.IntVar(&c.Port, "port", c.Port, "the page server listens on 127.0.0.1:`port` (0: any free port)")
	fs.IntVar(&c.IOWorkers, "io-workers", c.IOWorkers, "`n` sleeps or downloads at once, like the post's @concurrent(processes=n)")
	fs.Int64Var(&c.Seed, "seed", c.Seed, "`seed` of the photo and of the page latencies")
	fs.StringVar(&c.Out, "out", c.Out, "output `folder` (default: a new folder under "+tempDirName()+")")
	fs.StringVar(&c.Trace, "trace", c.Trace, "Chrome trace-event JSON `file` for ui.perfetto.dev (default: <out>/trace.json)")
	fs.StringVar(&c.SVG, "svg", c.SVG, "timeline picture `file` (default: <out>/timeline.svg)")
	fs.BoolVar(&c.JSON, "json", c.JSON, "print the results as JSON on stdout (the narration goes to stderr)")
}

// tempDirName is os.TempDir() for the help text, with the usual variable
// where that is what decides it.
func tempDirName() string {
	if runtime.GOOS == "windows" {
		return "%TEMP%"
	}
	return "$TMPDIR"
}

// ParseExperiments turns the command line's experiment names into the
// list to run, in the order given, each once; "all" stands for every
// experiment and no name at all means "all".
func ParseExperiments(names []string) ([]string, error) {
	if len(names) == 0 {
		return slices.Clone(Experiments), nil
	}
	var out []string
	for _, name := range names {
		switch {
		case name == All:
			for _, e := range Experiments {
				if !slices.Contains(out, e) {
					out = append(out, e)
				}
			}
		case slices.Contains(Experiments, name):
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		default:
			return nil, fmt.Errorf("unknown experiment %q (want %s or %s)", name, strings.Join(Experiments, ", "), All)
		}
	}
	return out, nil
}

// MaxWorkers is the most calls -workers and -io-workers let run at once.
const MaxWorkers = 4096

// Validate reports the first setting that cannot work, naming its flag.
func (c Config) Validate() error {
	if len(c.Experiments) == 0 {
		return fmt.Errorf("no experiment to run")
	}
	for _, e := range c.Experiments {
		if !slices.Contains(Experiments, e) {
			return fmt.Errorf("unknown experiment %q (want %s or %s)", e, strings.Join(Experiments, ", "), All)
		}
	}
	atLeast1 := []struct {
		flag string
		v    int
	}{
		{"sleeps", c.Sleeps}, {"thumbnails", c.Thumbnails}, {"workers", c.Workers},
		{"pages", c.Pages}, {"io-workers", c.IOWorkers},
	}
	for _, f := range atLeast1 {
		if f.v < 1 {
			return fmt.Errorf("-%s must be at least 1, got %d", f.flag, f.v)
		}
	}
	for _, f := range []struct {
		flag string
		v    int
	}{{"workers", c.Workers}, {"io-workers", c.IOWorkers}} {
		// A slot per call at once: more than MaxWorkers is a typo, and
		// with processes it would start that many.
		if f.v > MaxWorkers {
			return fmt.Errorf("-%s must be at most %d, got %d", f.flag, MaxWorkers, f.v)
		}
	}
	if c.Sleep < 0 {
		return fmt.Errorf("-sleep must not be negative, got %v", c.Sleep)
	}
	if c.Latency < 0 {
		return fmt.Errorf("-latency must not be negative, got %v", c.Latency)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("-port must be from 0 to 65535, got %d", c.Port)
	}
	if !(c.Megapixels > 0) || math.IsInf(c.Megapixels, 0) {
		return fmt.Errorf("-megapixels must be positive, got %v", c.Megapixels)
	}
	if w, h := c.photoSize(); w*h > photo.MaxPixels {
		return fmt.Errorf("-megapixels must be at most %d, got %v", photo.MaxPixels/1_000_000, c.Megapixels)
	}
	if !slices.Contains(Executors, c.Executor) {
		return fmt.Errorf("-executor %q is not available (want %s)", c.Executor, strings.Join(Executors, " or "))
	}
	return nil
}

// photoSize is the pixel size of the source photo: Megapixels at a 3:2
// camera aspect ratio, at least 1×1.
func (c Config) photoSize() (w, h int) {
	mp := min(c.Megapixels, 1e6) // no overflow below; Validate refuses it anyway
	w = max(1, int(math.Round(math.Sqrt(mp*1e6*3/2))))
	h = max(1, int(math.Round(float64(w)*2/3)))
	return w, h
}

// thumbnailSize is the post's size of thumbnail number offset.
func thumbnailSize(offset int) int { return 100 + offset*20 }
