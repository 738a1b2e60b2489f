package thumbnail_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/deco-go/deco/cmd/deco/internal/photo"
	"github.com/deco-go/deco/cmd/deco/internal/thumbnail"
)

// source is a generated photo of w×h pixels as JPEG bytes.
func source(t testing.TB, w, h int) []byte {
	t.Helper()
	img, err := photo.Generate(w, h, 1)
	if err != nil {
		t.Fatal(err)
	}
	data, err := photo.EncodeJPEG(img, 90)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decodeFile decodes the JPEG file at path.
func decodeFile(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s does not decode: %v", path, err)
	}
	return img
}

func TestMakeSizes(t *testing.T) {
	landscape := source(t, 640, 427)
	portrait := source(t, 300, 500)
	for _, tc := range []struct {
		name string
		src  []byte
		size int
		w, h int
	}{
		{"landscape 100", landscape, 100, 100, 67},
		{"landscape 300", landscape, 300, 300, 200},
		{"landscape exact fit", landscape, 640, 640, 427},
		{"landscape not enlarged", landscape, 2080, 640, 427},
		{"portrait 100", portrait, 100, 60, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "thumb.jpg")
			res, err := thumbnail.Make(tc.src, tc.size, path)
			if err != nil {
				t.Fatal(err)
			}
			if res.Width != tc.w || res.Height != tc.h {
				t.Errorf("Result is %dx%d, want %dx%d", res.Width, res.Height, tc.w, tc.h)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if int64(res.Bytes) != fi.Size() || res.Bytes == 0 {
				t.Errorf("Result.Bytes = %d, file holds %d", res.Bytes, fi.Size())
			}
			if b := decodeFile(t, path).Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Errorf("file is %dx%d, want %dx%d", b.Dx(), b.Dy(), tc.w, tc.h)
			}
		})
	}
}

// meanDiff is the mean absolute channel difference of two images of the
// same size.
func meanDiff(a, b image.Image) float64 {
	r := a.Bounds()
	var sum int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ca := color.RGBAModel.Convert(a.At(x, y)).(color.RGBA)
			cb := color.RGBAModel.Convert(b.At(x, y)).(color.RGBA)
			for _, d := range []int{int(ca.R) - int(cb.R), int(ca.G) - int(cb.G), int(ca.B) - int(cb.B)} {
				sum += max(d, -d)
			}
		}
	}
	return float64(sum) / float64(3*r.Dx()*r.Dy())
}

// boxAverage shrinks img by the integer factor k the plain way.
func boxAverage(img image.Image, k int) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()/k, b.Dy()/k))
	for oy := range b.Dy() / k {
		for ox := range b.Dx() / k {
			var r, g, bl int
			for y := oy * k; y < oy*k+k; y++ {
				for x := ox * k; x < ox*k+k; x++ {
					c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
					r, g, bl = r+int(c.R), g+int(c.G), bl+int(c.B)
				}
			}
			n := k * k
			out.SetRGBA(ox, oy, color.RGBA{uint8(r / n), uint8(g / n), uint8(bl / n), 255})
		}
	}
	return out
}

// The thumbnail must show the source's picture, not a shifted, flipped or
// garbled one, through both the box-then-filter path (size 80 of 640) and
// the filter-only path (size 320).
func TestMakeMatchesSource(t *testing.T) {
	src := source(t, 640, 480)
	decoded, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{80, 320} {
		path := filepath.Join(t.TempDir(), "t.jpg")
		if _, err := thumbnail.Make(src, size, path); err != nil {
			t.Fatal(err)
		}
		got := decodeFile(t, path)
		want := boxAverage(decoded, 640/size)
		if d := meanDiff(got, want); d > 8 {
			t.Errorf("size %d: mean difference from a box average of the source = %.1f levels, want at most 8", size, d)
		}
		// The test itself must be able to fail: a mirrored thumbnail is far off.
		mirrored := image.NewRGBA(want.Bounds())
		for y := range want.Bounds().Dy() {
			for x := range want.Bounds().Dx() {
				mirrored.Set(x, y, want.At(want.Bounds().Dx()-1-x, y))
			}
		}
		if d := meanDiff(got, mirrored); d < 12 {
			t.Errorf("size %d: mirrored reference differs by only %.1f levels; the check cannot tell", size, d)
		}
	}
}

func TestMakeGraySource(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 400, 300))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i % 251)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, gray, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "g.jpg")
	res, err := thumbnail.Make(buf.Bytes(), 100, path)
	if err != nil {
		t.Fatal(err)
	}
	if res.Width != 100 || res.Height != 75 {
		t.Errorf("Result is %dx%d, want 100x75", res.Width, res.Height)
	}
	decodeFile(t, path)
}

func TestMakeErrors(t *testing.T) {
	src := source(t, 200, 150)
	dir := t.TempDir()
	good := filepath.Join(dir, "out.jpg")
	missing := filepath.Join(dir, "no-such-dir", "out.jpg")
	for _, tc := range []struct {
		name string
		src  []byte
		size int
		path string
		want string
	}{
		{"zero size", src, 0, good, "size 0 must be positive"},
		{"negative size", src, -20, good, "size -20 must be positive"},
		{"empty path", src, 100, "", "path is empty"},
		{"no input", nil, 100, good, "decode source JPEG (0 bytes)"},
		{"not a JPEG", []byte("GIF89a, or rather not"), 100, good, "decode source JPEG"},
		{"truncated JPEG", src[:len(src)/2], 100, good, "decode source JPEG"},
		{"missing directory", src, 100, missing, missing},
		{"directory in the way", src, 100, dir, dir},
	} {
		res, err := thumbnail.Make(tc.src, tc.size, tc.path)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if res != (thumbnail.Result{}) {
			t.Errorf("%s: Result %+v with the error, want zero", tc.name, res)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not contain %q", tc.name, err, tc.want)
		}
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("failed calls left %d entries in the directory, first %q", len(names), names[0].Name())
	}
}

// Many goroutines making thumbnails of one shared source: no data race
// (under -race), and identical outputs for identical sizes.
func TestMakeConcurrent(t *testing.T) {
	src := source(t, 320, 240)
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			path := filepath.Join(dir, fmt.Sprintf("t%d.jpg", i))
			if _, err := thumbnail.Make(src, 50+10*(i%2), path); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := 2; i < 8; i++ {
		a, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("t%d.jpg", i%2)))
		b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("t%d.jpg", i)))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("t%d.jpg differs from t%d.jpg", i, i%2)
		}
	}
}

func ExampleMake() {
	img, err := photo.Generate(640, 480, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	src, err := photo.EncodeJPEG(img, 90)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "thumbnail-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// The demo's first three sizes: 100 + offset*20.
	for offset := range 3 {
		size := 100 + offset*20
		res, err := thumbnail.Make(src, size, filepath.Join(dir, fmt.Sprintf("%d.jpg", offset)))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("size %d: %dx%d\n", size, res.Width, res.Height)
	}

	_, err = thumbnail.Make(src, 0, filepath.Join(dir, "bad.jpg"))
	fmt.Println(err)
	// Output:
	// size 100: 100x75
	// size 120: 120x90
	// size 140: 140x105
	// thumbnail: size 0 must be positive
}
