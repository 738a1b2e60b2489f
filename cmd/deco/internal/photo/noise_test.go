package photo

import (
	"math"
	"testing"
)

func TestHash2(t *testing.T) {
	seen := map[uint64]bool{}
	for x := -20; x < 20; x++ {
		for y := -20; y < 20; y++ {
			h := hash2(1, x, y)
			if seen[h] {
				t.Fatalf("hash2(1, %d, %d) repeats an earlier value", x, y)
			}
			seen[h] = true
		}
	}
	if hash2(1, 3, 5) == hash2(1, 5, 3) {
		t.Error("hash2 is symmetric in x and y")
	}
	if hash2(1, 3, 5) == hash2(2, 3, 5) {
		t.Error("hash2 ignores the seed")
	}
}

func TestStream(t *testing.T) {
	a, b := stream{s: 9}, stream{s: 9}
	for range 100 {
		if a.next() != b.next() {
			t.Fatal("equal seeds gave different streams")
		}
	}
	var sum float64
	for range 10000 {
		f := a.between(2, 5)
		if f < 2 || f >= 5 {
			t.Fatalf("between(2, 5) = %v", f)
		}
		sum += f
	}
	if mean := sum / 10000; math.Abs(mean-3.5) > 0.05 {
		t.Errorf("mean of between(2, 5) = %.3f, want about 3.5", mean)
	}
}

func TestSmoothstep(t *testing.T) {
	for _, tc := range []struct{ e0, e1, x, want float64 }{
		{0, 1, -1, 0}, {0, 1, 0, 0}, {0, 1, 0.5, 0.5}, {0, 1, 1, 1}, {0, 1, 2, 1},
		{1, 0, 2, 0}, {1, 0, 0.5, 0.5}, {1, 0, -1, 1}, // falling edge
		{2, 4, 3, 0.5},
	} {
		if got := smoothstep(tc.e0, tc.e1, tc.x); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("smoothstep(%v, %v, %v) = %v, want %v", tc.e0, tc.e1, tc.x, got, tc.want)
		}
	}
}

func TestLatticeRangeAndContinuity(t *testing.T) {
	const w, h = 500, 300
	l := newLattice(w, h, 37, 23, 5)
	lo, hi := 1.0, -1.0
	// Sample the whole area and one cell beyond the right and bottom
	// edges, as the cloud shading does.
	for y := 0.0; y < h+23; y += 0.5 {
		prev := l.at(0, y)
		for x := 0.0; x < w+37; x += 0.5 {
			v := l.at(x, y)
			if v < -1 || v > 1 {
				t.Fatalf("at(%v, %v) = %v, outside [-1, 1]", x, y, v)
			}
			if math.Abs(v-prev) > 0.1 {
				t.Fatalf("at jumps by %.3f between x=%v and x=%v", v-prev, x-0.5, x)
			}
			prev = v
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi-lo < 1 {
		t.Errorf("noise spans only [%.2f, %.2f]", lo, hi)
	}
}

func TestCurve(t *testing.T) {
	c := newCurve(10, 3)
	for i := range 10 {
		if got, want := c.at(float64(i)), c[i]; got != want {
			t.Errorf("at(%d) = %v, want the lattice value %v", i, got, want)
		}
	}
	if v := c.at(10); v < -1 || v > 1 {
		t.Errorf("at(10) = %v", v)
	}
}
