package thumbnail

import (
	"image"
	"image/color"
	stddraw "image/draw"
	"testing"
)

func TestReduceFactor(t *testing.T) {
	for _, tc := range []struct{ srcW, srcH, w, h, want int }{
		{3464, 2309, 100, 67, 17},
		{3464, 2309, 860, 573, 2},
		{3464, 2309, 880, 587, 1},
		{3464, 2309, 2080, 1386, 1},
		{1000, 10, 100, 1, 5}, // the short side limits the factor
		{100, 100, 100, 100, 1},
	} {
		if got := reduceFactor(tc.srcW, tc.srcH, tc.w, tc.h); got != tc.want {
			t.Errorf("reduceFactor(%d, %d, %d, %d) = %d, want %d", tc.srcW, tc.srcH, tc.w, tc.h, got, tc.want)
		}
	}
}

// patterned fills a w×h RGBA image with varied, non-separable colors.
func patterned(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x*7 + y*3), uint8(x * y), uint8(255 - x*5 + y), 255})
		}
	}
	return img
}

// patternedYCbCr makes a w×h YCbCr image with the given subsampling and
// pseudo-random samples in ranges where conversion to RGB never clamps,
// so that averaging in YCbCr equals averaging in RGB up to rounding and
// any mix-up of sample positions shows.
func patternedYCbCr(w, h int, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), ratio)
	r := uint32(12345)
	next := func(lo, n uint32) uint8 {
		r = r*1664525 + 1013904223
		return uint8(lo + (r>>16)%n)
	}
	for i := range img.Y {
		img.Y[i] = next(80, 90)
	}
	for i := range img.Cb {
		img.Cb[i] = next(112, 32)
		img.Cr[i] = next(112, 32)
	}
	return img
}

// reference averages img's RGBA colors over k×k blocks, partial blocks
// included, the slow way.
func reference(img image.Image, k int) *image.RGBA {
	b := img.Bounds()
	ow, oh := (b.Dx()+k-1)/k, (b.Dy()+k-1)/k
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for oy := range oh {
		for ox := range ow {
			var s [4]int
			n := 0
			for y := oy * k; y < min(oy*k+k, b.Dy()); y++ {
				for x := ox * k; x < min(ox*k+k, b.Dx()); x++ {
					c := color.RGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
					s[0] += int(c.R)
					s[1] += int(c.G)
					s[2] += int(c.B)
					s[3] += int(c.A)
					n++
				}
			}
			out.SetRGBA(ox, oy, color.RGBA{uint8((s[0] + n/2) / n), uint8((s[1] + n/2) / n), uint8((s[2] + n/2) / n), uint8((s[3] + n/2) / n)})
		}
	}
	return out
}

func assertClose(t *testing.T, name string, got, want *image.RGBA, tol int) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Fatalf("%s: bounds %v, want %v", name, got.Bounds(), want.Bounds())
	}
	worst := 0
	for i := range got.Pix {
		d := int(got.Pix[i]) - int(want.Pix[i])
		worst = max(worst, d, -d)
	}
	if worst > tol {
		t.Errorf("%s: a channel differs from the reference by %d, want at most %d", name, worst, tol)
	}
}

func TestBoxReduceYCbCr(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440,
		image.YCbCrSubsampleRatio411, // not read directly: converted first
	} {
		// Not multiples of k: partial blocks at the edges.
		ycc := patternedYCbCr(53, 38, ratio)
		for _, k := range []int{2, 3, 5, 53} {
			assertClose(t, ratio.String(), boxReduce(ycc, k), reference(ycc, k), 2)
		}
	}
}

// A sub-image keeps its parent's coordinates; with an odd origin the
// chroma samples are shared differently.
func TestBoxReduceYCbCrSubImage(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440,
	} {
		ycc := patternedYCbCr(60, 40, ratio)
		sub := ycc.SubImage(image.Rect(7, 5, 50, 33)).(*image.YCbCr)
		assertClose(t, "sub-image "+ratio.String(), boxReduce(sub, 4), reference(sub, 4), 2)
	}
}

func TestBoxReduceRGBAAndGray(t *testing.T) {
	rgba := patterned(31, 17)
	assertClose(t, "RGBA", boxReduce(rgba, 4), reference(rgba, 4), 0)

	sub := rgba.SubImage(image.Rect(3, 2, 29, 15)).(*image.RGBA)
	assertClose(t, "RGBA sub-image", boxReduce(sub, 3), reference(sub, 3), 0)

	gray := image.NewGray(image.Rect(0, 0, 30, 20))
	stddraw.Draw(gray, gray.Bounds(), rgba, image.Point{}, stddraw.Src)
	assertClose(t, "Gray", boxReduce(gray, 3), reference(gray, 3), 0)
}
