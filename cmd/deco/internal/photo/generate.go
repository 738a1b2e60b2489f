package photo

import (
	"fmt"
	"image"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// MaxPixels is the largest image, in pixels, that [Generate] agrees to
// paint: 100 megapixels, 400 MB of RGBA.
const MaxPixels = 100_000_000

// bandRows is the height of the row bands that Generate's workers take
// one at a time.
const bandRows = 32

// Generate paints a deterministic, photo-like landscape of width×height
// pixels: a sky gradient with a sun glow and clouds, hazy distant hills, a
// textured ground, a lake, rocks and trees with soft edges and shading, and
// fine film grain over everything. The same arguments always give the same
// pixels, on every platform and Go release; another seed gives another
// picture.
//
// Cost: the work is proportional to width×height (a few tens of
// nanoseconds of arithmetic per pixel) and is spread over GOMAXPROCS
// goroutines working on row bands; about 0.2 s for 8 megapixels on this
// project's 2-core machines. Memory is the 4×width×height bytes of the
// result. Generate blocks until the whole image is painted and leaves no
// goroutine behind.
//
// It returns an error, and no image, if width or height is not positive
// or if width×height exceeds [MaxPixels].
func Generate(width, height int, seed int64) (*image.RGBA, error) {
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("photo: size %dx%d: width and height must be positive", width, height)
	}
	if width > MaxPixels/height {
		return nil, fmt.Errorf("photo: size %dx%d: more than the %d pixels allowed (MaxPixels)", width, height, MaxPixels)
	}
	sc := newScene(width, height, uint64(seed))
	img := image.NewRGBA(image.Rect(0, 0, width, height))

	bands := (height + bandRows - 1) / bandRows
	workers := min(runtime.GOMAXPROCS(0), bands)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				b := int(next.Add(1)) - 1
				if b >= bands {
					return
				}
				y0 := b * bandRows
				sc.paint(img, y0, min(y0+bandRows, height))
			}
		})
	}
	wg.Wait()
	return img, nil
}

// rgb is a color with float channels on the 0–255 scale.
type rgb struct{ r, g, b float64 }

func (a rgb) lerp(b rgb, t float64) rgb {
	return rgb{a.r + (b.r-a.r)*t, a.g + (b.g-a.g)*t, a.b + (b.b-a.b)*t}
}

func (a rgb) scale(k float64) rgb { return rgb{a.r * k, a.g * k, a.b * k} }

func (a rgb) add(d float64) rgb { return rgb{a.r + d, a.g + d, a.b + d} }

// Palette of the scene.
var (
	skyTop     = rgb{38, 86, 160}
	skyLow     = rgb{178, 206, 230}
	sunColor   = rgb{255, 246, 220}
	glowColor  = rgb{255, 222, 170}
	cloudLight = rgb{248, 248, 252}
	cloudDark  = rgb{168, 176, 192}
	hillTop    = rgb{112, 132, 158}
	hillFoot   = rgb{96, 124, 110}
	fieldFar   = rgb{150, 162, 96}
	fieldNear  = rgb{64, 92, 38}
)

// shape is one soft-edged, shaded ellipse of the foreground.
type shape struct {
	cx, cy, rx, ry float64
	edge           float64 // soft edge width, in units of the radius
	col            rgb
	opacity        float64
	light          float64 // strength of the top-left lighting
	texture        float64 // strength of the noise texture
	ripples        bool    // horizontal ripples, for water
}

// scene holds everything about the picture that is not per pixel.
type scene struct {
	w, h         int
	seed         uint64
	hills        []float64 // per column: top of the distant hills
	ground       []float64 // per column: where the fields start
	groundMean   float64
	sunX, sunY   float64
	sunR         float64
	cloudCoarse  *lattice
	cloudFine    *lattice
	texture      *lattice
	fine         *lattice
	ripple       *lattice
	shapes       []shape
	grainSeed    uint64
	skyRowColors []rgb // per row: the plain sky gradient
}

func newScene(w, h int, seed uint64) *scene {
	r := &stream{s: seed}
	fw, fh := float64(w), float64(h)
	size := math.Min(fw, fh)
	sc := &scene{w: w, h: h, seed: seed, grainSeed: mix64(seed ^ 0x6772616e)}

	// Skylines: two 1-D noise curves each, coarse and fine.
	hillBase := fh * r.between(0.40, 0.48)
	groundBase := fh * r.between(0.56, 0.62)
	hc1, hc2 := newCurve(6, r.next()), newCurve(40, r.next())
	gc1, gc2 := newCurve(4, r.next()), newCurve(24, r.next())
	sc.hills = make([]float64, w)
	sc.ground = make([]float64, w)
	for x := range w {
		u := (float64(x) + 0.5) / fw
		sc.hills[x] = hillBase + fh*(0.07*hc1.at(u*6)+0.012*hc2.at(u*40))
		sc.ground[x] = groundBase + fh*(0.025*gc1.at(u*4)+0.004*gc2.at(u*24))
		sc.groundMean += sc.ground[x]
	}
	sc.groundMean /= fw

	sc.sunX = fw * r.between(0.15, 0.85)
	sc.sunY = fh * r.between(0.08, 0.25)
	sc.sunR = size * 0.035

	sc.cloudCoarse = newLattice(w, h, size*0.45, size*0.12, r.next())
	sc.cloudFine = newLattice(w, h, size*0.09, size*0.03, r.next())
	sc.texture = newLattice(w, h, size*0.06, size*0.04, r.next())
	sc.fine = newLattice(w, h, size*0.008+1, size*0.006+1, r.next())
	sc.ripple = newLattice(w, h, size*0.05+1, size*0.003+1, r.next())

	sc.skyRowColors = make([]rgb, h)
	for y := range h {
		t := math.Min((float64(y)+0.5)/sc.groundMean, 1)
		sc.skyRowColors[y] = skyTop.lerp(skyLow, math.Pow(t, 0.8))
	}

	sc.shapes = foreground(r, fw, fh, sc.groundMean)
	return sc
}

// foreground places a lake, rocks and trees on the ground, far ones first
// so that near ones cover them.
func foreground(r *stream, fw, fh, horizon float64) []shape {
	size := math.Min(fw, fh)
	soft := 1.5 + size*0.003 // soft edge width in pixels
	depthRange := fh - horizon

	type object struct {
		base   float64 // where it touches the ground; orders drawing
		shapes []shape
	}
	var objs []object

	// The lake lies flat just below the horizon.
	lake := shape{
		cx: fw * r.between(0.3, 0.7), cy: horizon + depthRange*r.between(0.18, 0.28),
		rx: fw * r.between(0.16, 0.26), ry: depthRange * r.between(0.05, 0.08),
		col: rgb{118, 156, 196}, opacity: 1, light: 0.1, texture: 0.05, ripples: true,
	}
	lake.edge = soft * 2 / lake.ry
	objs = append(objs, object{base: horizon, shapes: []shape{lake}})

	rocks := 3 + int(r.next()%3)
	for range rocks {
		p := r.between(0.15, 0.95) // depth: 0 at the horizon, 1 at the bottom
		base := horizon + depthRange*p
		rad := size * (0.015 + 0.05*p) * r.between(0.7, 1.3)
		grey := r.between(100, 150)
		rock := shape{
			cx: fw * r.float(), cy: base - rad*0.4, rx: rad, ry: rad * r.between(0.45, 0.7),
			col: rgb{grey, grey * 0.96, grey * 0.9}, opacity: 1, light: 0.45, texture: 0.18,
		}
		rock.edge = soft / rock.ry
		objs = append(objs, object{base: base, shapes: []shape{rock}})
	}

	trees := 6 + int(r.next()%5)
	for range trees {
		p := r.between(0.08, 0.9)
		base := horizon + depthRange*p
		height := size * (0.06 + 0.3*p) * r.between(0.8, 1.2)
		x := fw * r.float()
		green := rgb{r.between(30, 60), r.between(60, 95), r.between(25, 45)}
		trunkW := height * 0.05
		shadow := shape{
			cx: x + height*0.25, cy: base, rx: height * 0.35, ry: height * 0.06,
			col: rgb{30, 42, 20}, opacity: 0.45,
		}
		shadow.edge = (soft + height*0.04) / shadow.ry
		trunk := shape{
			cx: x, cy: base - height*0.2, rx: trunkW, ry: height * 0.22,
			col: rgb{84, 62, 40}, opacity: 1, light: 0.5, texture: 0.1,
		}
		trunk.edge = soft / trunk.rx
		canopy := shape{
			cx: x, cy: base - height*0.62, rx: height * r.between(0.22, 0.32), ry: height * 0.4,
			col: green, opacity: 1, light: 0.55, texture: 0.35,
		}
		canopy.edge = (soft + height*0.01) / canopy.rx
		objs = append(objs, object{base: base, shapes: []shape{shadow, trunk, canopy}})
	}

	slices.SortStableFunc(objs, func(a, b object) int {
		switch {
		case a.base < b.base:
			return -1
		case a.base > b.base:
			return 1
		}
		return 0
	})
	var out []shape
	for _, o := range objs {
		out = append(out, o.shapes...)
	}
	return out
}

// paint fills rows [y0, y1) of img: the background first, then the parts
// of the foreground shapes that fall in those rows.
func (sc *scene) paint(img *image.RGBA, y0, y1 int) {
	for y := y0; y < y1; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+4*sc.w]
		fy := float64(y) + 0.5
		for x := range sc.w {
			c := sc.background(float64(x)+0.5, fy, x, y).add(sc.grain(x, y))
			row[4*x+0] = clamp8(c.r)
			row[4*x+1] = clamp8(c.g)
			row[4*x+2] = clamp8(c.b)
			row[4*x+3] = 255
		}
	}
	for i := range sc.shapes {
		sc.drawShape(img, &sc.shapes[i], y0, y1)
	}
}

// background is the scene without the foreground shapes at pixel centre
// (fx, fy) of column x and row y.
func (sc *scene) background(fx, fy float64, x, y int) rgb {
	hill, ground := sc.hills[x], sc.ground[x]
	var sky rgb
	if fy < hill+1 {
		sky = sc.skyAt(fx, fy, y)
		if fy < hill-1 {
			return sky
		}
	}
	var land rgb
	if fy < ground+1 {
		// Distant hills: hazy, lighter at the top, faintly textured.
		t := (fy - hill) / (ground - hill + 1)
		land = hillTop.lerp(hillFoot, math.Max(0, math.Min(t, 1)))
		land = land.scale(1 + 0.06*sc.texture.at(fx, fy) + 0.03*sc.fine.at(fx, fy))
		if fy > ground-1 {
			land = land.lerp(sc.fieldAt(fx, fy, ground), smoothstep(ground-1, ground+1, fy))
		}
	} else {
		land = sc.fieldAt(fx, fy, ground)
	}
	if fy < hill+1 {
		return sky.lerp(land, smoothstep(hill-1, hill+1, fy))
	}
	return land
}

// skyAt is the sky with sun, glow and clouds.
func (sc *scene) skyAt(fx, fy float64, y int) rgb {
	c := sc.skyRowColors[y]
	dx, dy := fx-sc.sunX, fy-sc.sunY
	d2 := dx*dx + dy*dy
	r2 := sc.sunR * sc.sunR
	c = c.lerp(glowColor, 0.55*r2*4/(d2+r2*4))
	if d2 < r2*1.3 {
		c = c.lerp(sunColor, smoothstep(sc.sunR*1.08, sc.sunR*0.96, math.Sqrt(d2)))
	}
	n := 0.7*sc.cloudCoarse.at(fx, fy) + 0.3*sc.cloudFine.at(fx, fy)
	a := smoothstep(0.05, 0.5, n) * smoothstep(sc.groundMean, sc.groundMean*0.55, fy)
	if a > 0 {
		// Lit from above: darker where the cloud goes on below.
		shade := smoothstep(0.6, -0.6, sc.cloudFine.at(fx, fy+sc.cloudFine.cellY/2))
		c = c.lerp(cloudLight.lerp(cloudDark, shade*0.7), a*0.92)
	}
	return c
}

// fieldAt is the textured ground, lighter and flatter in the distance.
func (sc *scene) fieldAt(fx, fy, ground float64) rgb {
	t := math.Max(0, math.Min((fy-ground)/(float64(sc.h)-ground), 1))
	c := fieldFar.lerp(fieldNear, t)
	n := 0.6*sc.texture.at(fx, fy) + 0.4*sc.fine.at(fx, fy)
	return c.scale(1 + (0.12+0.14*t)*n)
}

// drawShape blends the rows [y0, y1) of one shape over img.
func (sc *scene) drawShape(img *image.RGBA, s *shape, y0, y1 int) {
	reach := 1 + s.edge
	top := max(y0, int(s.cy-s.ry*reach))
	bot := min(y1, int(s.cy+s.ry*reach)+1)
	left := max(0, int(s.cx-s.rx*reach))
	right := min(sc.w, int(s.cx+s.rx*reach)+1)
	for y := top; y < bot; y++ {
		fy := float64(y) + 0.5
		dy := (fy - s.cy) / s.ry
		row := img.Pix[y*img.Stride:]
		for x := left; x < right; x++ {
			fx := float64(x) + 0.5
			dx := (fx - s.cx) / s.rx
			d2 := dx*dx + dy*dy
			if d2 >= reach*reach {
				continue
			}
			a := s.opacity * smoothstep(reach, 1-s.edge, math.Sqrt(d2))
			if a <= 0 {
				continue
			}
			k := 1 + s.light*(-0.35*dx-0.6*dy)
			if s.texture > 0 {
				k += s.texture * (0.6*sc.fine.at(fx, fy) + 0.4*sc.texture.at(fx, fy))
			}
			c := s.col.scale(k).add(sc.grain(x, y))
			if s.ripples {
				c = c.add(22 * sc.ripple.at(fx, fy))
			}
			p := row[4*x : 4*x+3 : 4*x+3]
			p[0] = clamp8(float64(p[0]) + (c.r-float64(p[0]))*a)
			p[1] = clamp8(float64(p[1]) + (c.g-float64(p[1]))*a)
			p[2] = clamp8(float64(p[2]) + (c.b-float64(p[2]))*a)
		}
	}
}

// grain is the film grain of pixel (x, y): a few levels up or down.
func (sc *scene) grain(x, y int) float64 {
	return (float64(hash2(sc.grainSeed, x, y)>>59) - 15.5) * 0.4
}

// clamp8 rounds v to the nearest byte value.
func clamp8(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
