package demo

import (
	"flag"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseExperiments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, Experiments},
		{[]string{"all"}, Experiments},
		{[]string{"downloads"}, []string{Downloads}},
		{[]string{"downloads", "sleep"}, []string{Downloads, Sleep}},
		{[]string{"sleep", "sleep", "order"}, []string{Sleep, Order}},
		{[]string{"thumbnails", "all"}, []string{Thumbnails, Sleep, Order, Downloads}},
	} {
		got, err := ParseExperiments(tc.args)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseExperiments(%q) = %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
	_, err := ParseExperiments([]string{"sleep", "thumbs"})
	if err == nil || !strings.Contains(err.Error(), `"thumbs"`) || !strings.Contains(err.Error(), "thumbnails") {
		t.Errorf("unknown experiment: error %v, want one naming it and the choices", err)
	}
}

func TestParseExperimentsDoesNotShareDefaults(t *testing.T) {
	got, _ := ParseExperiments(nil)
	got[0] = "changed"
	if Experiments[0] != Sleep {
		t.Fatal("ParseExperiments returned the package's own slice")
	}
}

func TestDefaultConfigIsValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// The post's numbers, scaled only where waiting would be long.
	if c.Sleeps != 3 || c.Thumbnails != 100 || c.Pages != 100 {
		t.Errorf("defaults %d sleeps, %d thumbnails, %d pages; want the post's 3, 100, 100", c.Sleeps, c.Thumbnails, c.Pages)
	}
}

func TestValidateNamesTheFlag(t *testing.T) {
	for _, tc := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Sleeps = 0 }, "-sleeps"},
		{func(c *Config) { c.Thumbnails = -5 }, "-thumbnails"},
		{func(c *Config) { c.Workers = 0 }, "-workers"},
		{func(c *Config) { c.Workers = 1_000_000_000_000 }, "-workers must be at most"},
		{func(c *Config) { c.IOWorkers = 1 << 40 }, "-io-workers must be at most"},
		{func(c *Config) { c.Pages = -1 }, "-pages"},
		{func(c *Config) { c.IOWorkers = -3 }, "-io-workers"},
		{func(c *Config) { c.Sleep = -time.Second }, "-sleep"},
		{func(c *Config) { c.Latency = -time.Millisecond }, "-latency"},
		{func(c *Config) { c.Port = -1 }, "-port"},
		{func(c *Config) { c.Port = 70000 }, "-port"},
		{func(c *Config) { c.Megapixels = 0 }, "-megapixels"},
		{func(c *Config) { c.Megapixels = -2 }, "-megapixels"},
		{func(c *Config) { c.Megapixels = math.NaN() }, "-megapixels"},
		{func(c *Config) { c.Megapixels = math.Inf(1) }, "-megapixels"},
		{func(c *Config) { c.Megapixels = 101 }, "-megapixels"},
		{func(c *Config) { c.Executor = "cluster" }, "-executor"},
		{func(c *Config) { c.Experiments = nil }, "no experiment"},
		{func(c *Config) { c.Experiments = []string{"nap"} }, `"nap"`},
	} {
		c := DefaultConfig()
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want an error naming %s", err, tc.want)
		}
	}
}

func TestFlagsSetConfig(t *testing.T) {
	c := DefaultConfig()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Flags(fs)
	err := fs.Parse([]string{"-sleep", "250ms", "-sleeps", "4", "-thumbnails", "7", "-megapixels", "0.5",
		"-workers", "3", "-pages", "9", "-latency", "5ms", "-port", "8123", "-io-workers", "6",
		"-seed", "42", "-out", "o", "-trace", "t.json", "--svg", "s.svg", "--json", "-executor", "local"})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Experiments: Experiments, Sleep: 250 * time.Millisecond, Sleeps: 4, Thumbnails: 7, Megapixels: 0.5,
		Workers: 3, Executor: ExecutorLocal, Pages: 9, Latency: 5 * time.Millisecond, Port: 8123, IOWorkers: 6,
		Seed: 42, Out: "o", Trace: "t.json", SVG: "s.svg", JSON: true,
	}
	if !slices.Equal(c.Experiments, want.Experiments) {
		t.Errorf("experiments %q", c.Experiments)
	}
	c.Experiments, want.Experiments = nil, nil
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestPhotoSize(t *testing.T) {
	for _, mp := range []float64{0.05, 1, 4, 12.5} {
		c := DefaultConfig()
		c.Megapixels = mp
		w, h := c.photoSize()
		if got := float64(w*h) / 1e6; math.Abs(got-mp)/mp > 0.01 {
			t.Errorf("%v megapixels: %d×%d = %.3f MP", mp, w, h, got)
		}
		if w <= h {
			t.Errorf("%v megapixels: %d×%d is not landscape", mp, w, h)
		}
	}
	c := DefaultConfig()
	c.Megapixels = 1e-12
	if w, h := c.photoSize(); w < 1 || h < 1 {
		t.Errorf("tiny photo %d×%d", w, h)
	}
}

func TestThumbnailSizeIsThePosts(t *testing.T) {
	if thumbnailSize(0) != 100 || thumbnailSize(99) != 2080 {
		t.Errorf("sizes %d and %d, want the post's 100 and 2080", thumbnailSize(0), thumbnailSize(99))
	}
}
