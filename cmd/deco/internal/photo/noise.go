package photo

// This file holds the deterministic randomness behind [Generate]: a
// splitmix64 mixer, a tiny seeded stream, and smooth value noise. They are
// written out here instead of taken from math/rand so that a given seed
// paints the same picture with every Go release.

// mix64 is the splitmix64 finalizer: a cheap bijective scrambling of x.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hash2 mixes a seed and a 2-D integer coordinate into 64 random bits.
func hash2(seed uint64, x, y int) uint64 {
	return mix64(mix64(seed+uint64(x)*0x9e3779b97f4a7c15) + uint64(y)*0xc2b2ae3d27d4eb4f)
}

// stream is a seeded splitmix64 sequence used to place the scene's shapes.
type stream struct{ s uint64 }

func (r *stream) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// float returns a uniform value in [0, 1).
func (r *stream) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// between returns a uniform value in [lo, hi).
func (r *stream) between(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }

// smooth is the smoothstep easing 3t²-2t³ for t in [0, 1].
func smooth(t float64) float64 { return t * t * (3 - 2*t) }

// smoothstep is 0 below e0, 1 above e1 and eases in between. e0 may be
// greater than e1 for a falling edge.
func smoothstep(e0, e1, x float64) float64 {
	t := (x - e0) / (e1 - e0)
	if t <= 0 {
		return 0
	}
	if t >= 1 {
		return 1
	}
	return smooth(t)
}

// lattice is 2-D value noise: random values in [-1, 1] on a grid of
// cellX×cellY pixel cells, smoothly interpolated in between.
type lattice struct {
	cellX, cellY float64
	gw, gh       int
	v            []float32
}

// newLattice covers a w×h pixel area with cells of cellX×cellY pixels,
// plus one cell of margin to the right and below.
func newLattice(w, h int, cellX, cellY float64, seed uint64) *lattice {
	gw := int(float64(w)/cellX) + 3
	gh := int(float64(h)/cellY) + 3
	l := &lattice{cellX: cellX, cellY: cellY, gw: gw, gh: gh, v: make([]float32, gw*gh)}
	for j := range gh {
		for i := range gw {
			l.v[j*gw+i] = float32(hash2(seed, i, j)>>40)/(1<<23) - 1
		}
	}
	return l
}

// at samples the noise at pixel (x, y), which must lie inside the area the
// lattice was made for or at most one cell beyond its right or bottom edge.
// The result is in [-1, 1].
func (l *lattice) at(x, y float64) float64 {
	fx, fy := x/l.cellX, y/l.cellY
	ix, iy := int(fx), int(fy)
	tx, ty := smooth(fx-float64(ix)), smooth(fy-float64(iy))
	row := iy*l.gw + ix
	a := float64(l.v[row])
	b := float64(l.v[row+1])
	c := float64(l.v[row+l.gw])
	d := float64(l.v[row+l.gw+1])
	top := a + (b-a)*tx
	bot := c + (d-c)*tx
	return top + (bot-top)*ty
}

// curve is 1-D value noise over [0, n) with unit cells, used for skylines.
type curve []float64

func newCurve(n int, seed uint64) curve {
	c := make(curve, n+2)
	for i := range c {
		c[i] = float64(hash2(seed, i, -1)>>11)/(1<<53)*2 - 1
	}
	return c
}

// at samples the curve at t in [0, n]. The result is in [-1, 1].
func (c curve) at(t float64) float64 {
	i := int(t)
	f := smooth(t - float64(i))
	return c[i] + (c[i+1]-c[i])*f
}
