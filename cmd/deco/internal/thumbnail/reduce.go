package thumbnail

import (
	"image"
	"image/color"
	stddraw "image/draw"
)

// reducingGap is how much larger than the thumbnail an image must stay
// after the cheap box reduction that comes before the Catmull-Rom filter.
// PIL's Image.thumbnail uses the same two-step scheme with the same gap:
// the box filter does the bulk of a large reduction at a fraction of the
// cost, and the high-quality filter still has twice the output's
// resolution to work from, so the result is indistinguishable.
const reducingGap = 2

// reduceFactor is the integer box-reduction factor for scaling a srcW×srcH
// image to w×h, or 1 when the image is not large enough for one.
func reduceFactor(srcW, srcH, w, h int) int {
	return max(1, min(srcW/(w*reducingGap), srcH/(h*reducingGap)))
}

// boxReduce shrinks img by the integer factor k (at least 2): each output
// pixel is the mean of a k×k block of input pixels, and the blocks at the
// right and bottom edges may be partial. The output is
// ceil(width/k)×ceil(height/k) and its origin is (0, 0). One pass over the
// input; JPEG's usual YCbCr layouts are read directly, anything else is
// converted to RGBA first.
func boxReduce(img image.Image, k int) *image.RGBA {
	if ycc, ok := img.(*image.YCbCr); ok && ycc.Rect.Min.X >= 0 && ycc.Rect.Min.Y >= 0 {
		if hs, vs, ok := chromaShift(ycc.SubsampleRatio); ok {
			return reduceYCbCr(ycc, k, hs, vs)
		}
	}
	b := img.Bounds()
	rgba, ok := img.(*image.RGBA)
	if !ok {
		rgba = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		stddraw.Draw(rgba, rgba.Bounds(), img, b.Min, stddraw.Src)
	}
	return reduceRGBA(rgba, k)
}

// chromaShift gives the horizontal and vertical chroma subsampling of r
// as shifts, and false for layouts boxReduce does not read directly.
func chromaShift(r image.YCbCrSubsampleRatio) (hs, vs uint, ok bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return 0, 0, true
	case image.YCbCrSubsampleRatio422:
		return 1, 0, true
	case image.YCbCrSubsampleRatio420:
		return 1, 1, true
	case image.YCbCrSubsampleRatio440:
		return 0, 1, true
	}
	return 0, 0, false
}

// reduceYCbCr averages Y, Cb and Cr over each block and converts the mean
// to RGB once per output pixel. Because the YCbCr to RGB conversion is
// affine, this equals averaging in RGB up to rounding and clamping.
func reduceYCbCr(src *image.YCbCr, k int, hs, vs uint) *image.RGBA {
	b := src.Rect
	sw, sh := b.Dx(), b.Dy()
	ow, oh := (sw+k-1)/k, (sh+k-1)/k
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	sums := make([]uint32, 3*ow)
	// Chroma sample coordinates are relative to the rectangle's origin
	// rounded down to the subsampling grid, as image.YCbCr.COffset does
	// (shifts equal its divisions because boxReduce only sends
	// rectangles with a non-negative origin here).
	cx0, cy0 := b.Min.X>>hs, b.Min.Y>>vs
	for oy := range oh {
		clear(sums)
		y0, y1 := oy*k, min(oy*k+k, sh)
		for y := y0; y < y1; y++ {
			sy := b.Min.Y + y
			yRow := src.Y[(sy-b.Min.Y)*src.YStride:]
			cRow := (sy>>vs - cy0) * src.CStride
			cb, cr := src.Cb[cRow:], src.Cr[cRow:]
			for ox := range ow {
				x0, x1 := ox*k, min(ox*k+k, sw)
				var sY, sCb, sCr uint32
				for x := x0; x < x1; x++ {
					ci := (b.Min.X+x)>>hs - cx0
					sY += uint32(yRow[x])
					sCb += uint32(cb[ci])
					sCr += uint32(cr[ci])
				}
				sums[3*ox] += sY
				sums[3*ox+1] += sCb
				sums[3*ox+2] += sCr
			}
		}
		rows := uint32(y1 - y0)
		out := dst.Pix[oy*dst.Stride:]
		for ox := range ow {
			n := rows * uint32(min(ox*k+k, sw)-ox*k)
			r, g, bl := color.YCbCrToRGB(
				uint8((sums[3*ox]+n/2)/n),
				uint8((sums[3*ox+1]+n/2)/n),
				uint8((sums[3*ox+2]+n/2)/n))
			out[4*ox], out[4*ox+1], out[4*ox+2], out[4*ox+3] = r, g, bl, 255
		}
	}
	return dst
}

// reduceRGBA averages each channel, alpha included, over each block.
func reduceRGBA(src *image.RGBA, k int) *image.RGBA {
	b := src.Rect
	sw, sh := b.Dx(), b.Dy()
	ow, oh := (sw+k-1)/k, (sh+k-1)/k
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	sums := make([]uint32, 4*ow)
	for oy := range oh {
		clear(sums)
		y0, y1 := oy*k, min(oy*k+k, sh)
		for y := y0; y < y1; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range sw {
				s := sums[4*(x/k):]
				p := row[4*x:]
				s[0] += uint32(p[0])
				s[1] += uint32(p[1])
				s[2] += uint32(p[2])
				s[3] += uint32(p[3])
			}
		}
		rows := uint32(y1 - y0)
		out := dst.Pix[oy*dst.Stride:]
		for i := range sums {
			ox := i / 4
			n := rows * uint32(min(ox*k+k, sw)-ox*k)
			out[i] = uint8((sums[i] + n/2) / n)
		}
	}
	return dst
}
