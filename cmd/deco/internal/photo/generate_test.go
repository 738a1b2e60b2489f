package photo_test

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/deco-go/deco/cmd/deco/internal/photo"
)

func mustGenerate(t *testing.T, w, h int, seed int64) *image.RGBA {
	t.Helper()
	img, err := photo.Generate(w, h, seed)
	if err != nil {
		t.Fatalf("Generate(%d, %d, %d): %v", w, h, seed, err)
	}
	return img
}

func TestGenerateBoundsAndOpaque(t *testing.T) {
	for _, sz := range [][2]int{{320, 240}, {240, 320}, {1, 1}, {1, 700}, {700, 1}, {3, 2}, {33, 65}} {
		img := mustGenerate(t, sz[0], sz[1], 1)
		if got, want := img.Bounds(), image.Rect(0, 0, sz[0], sz[1]); got != want {
			t.Errorf("bounds = %v, want %v", got, want)
		}
		if !img.Opaque() {
			t.Errorf("%dx%d: image is not opaque", sz[0], sz[1])
		}
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a := mustGenerate(t, 300, 200, 42)
	b := mustGenerate(t, 300, 200, 42)
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Error("same seed painted different pixels")
	}
	c := mustGenerate(t, 300, 200, 43)
	if bytes.Equal(a.Pix, c.Pix) {
		t.Error("seeds 42 and 43 painted the same pixels")
	}
}

// The row bands are shared among GOMAXPROCS workers; the pixels must not
// depend on how many there are.
func TestGenerateIndependentOfParallelism(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	one := mustGenerate(t, 257, 190, 7)
	runtime.GOMAXPROCS(5)
	five := mustGenerate(t, 257, 190, 7)
	runtime.GOMAXPROCS(prev)
	if !bytes.Equal(one.Pix, five.Pix) {
		t.Error("GOMAXPROCS 1 and 5 painted different pixels")
	}
}

// A flat or nearly flat image would make the decode and resample
// unrealistically cheap; the picture must look like a landscape.
func TestGenerateLooksLikeAPhoto(t *testing.T) {
	const w, h = 400, 300
	img := mustGenerate(t, w, h, 3)

	colors := map[[3]uint8]bool{}
	var sum, sum2 float64
	for i := 0; i < len(img.Pix); i += 4 {
		p := img.Pix[i : i+3]
		colors[[3]uint8{p[0], p[1], p[2]}] = true
		l := 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
		sum += l
		sum2 += l * l
	}
	n := float64(w * h)
	if len(colors) < 5000 {
		t.Errorf("only %d distinct colors, want at least 5000", len(colors))
	}
	if sd := sum2/n - (sum/n)*(sum/n); sd < 20*20 {
		t.Errorf("luminance variance %.0f, want at least 400", sd)
	}

	mean := func(y0, y1 int) (r, g, b float64) {
		for y := y0; y < y1; y++ {
			for x := range w {
				p := img.Pix[img.PixOffset(x, y):]
				r += float64(p[0])
				g += float64(p[1])
				b += float64(p[2])
			}
		}
		k := float64((y1 - y0) * w)
		return r / k, g / k, b / k
	}
	if r, g, b := mean(0, h/10); !(b > r && b > g) {
		t.Errorf("top rows mean RGB (%.0f, %.0f, %.0f): want a blue sky", r, g, b)
	}
	if r, g, b := mean(h*9/10, h); !(g > r && g > b) {
		t.Errorf("bottom rows mean RGB (%.0f, %.0f, %.0f): want green ground", r, g, b)
	}
}

// Soft edges: between neighbouring pixels the image changes gradually
// almost everywhere (grain aside), with no large areas of hard steps.
func TestGenerateSoftEdges(t *testing.T) {
	img := mustGenerate(t, 600, 400, 5)
	hard := 0
	for y := range 400 {
		for x := 1; x < 600; x++ {
			a, b := img.Pix[img.PixOffset(x-1, y):], img.Pix[img.PixOffset(x, y):]
			d := 0
			for c := range 3 {
				d = max(d, absDiff(a[c], b[c]))
			}
			if d > 60 {
				hard++
			}
		}
	}
	if frac := float64(hard) / (600 * 400); frac > 0.001 {
		t.Errorf("%.3f%% of neighbouring pixels differ by more than 60 levels, want at most 0.1%%", frac*100)
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestGenerateErrors(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		want string
	}{
		{0, 10, "must be positive"},
		{10, 0, "must be positive"},
		{-3, 10, "must be positive"},
		{10, -3, "must be positive"},
		{photo.MaxPixels/1000 + 1, 1000, "MaxPixels"},
		{math.MaxInt, math.MaxInt, "MaxPixels"},
	} {
		img, err := photo.Generate(tc.w, tc.h, 1)
		if err == nil || img != nil {
			t.Errorf("Generate(%d, %d) = %v, %v; want nil and an error", tc.w, tc.h, img != nil, err)
			continue
		}
		size := fmt.Sprintf("%dx%d", tc.w, tc.h)
		if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, size) {
			t.Errorf("Generate(%d, %d) error %q: want it to contain %q and %q", tc.w, tc.h, msg, tc.want, size)
		}
	}
}

func ExampleGenerate() {
	img, err := photo.Generate(640, 480, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Bounds().Dx(), img.Bounds().Dy(), img.Opaque())

	_, err = photo.Generate(0, 480, 1)
	fmt.Println(err)
	// Output:
	// 640 480 true
	// photo: size 0x480: width and height must be positive
}
