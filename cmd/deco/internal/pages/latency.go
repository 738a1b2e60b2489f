package pages

import (
	"math"
	"time"
)

// latencySigma is the log-normal shape: with 0.5 the middle 90% of pages
// answer between about 0.4 and 2 times the median.
const latencySigma = 0.5

// latencyCap bounds a page's latency to this many times the mean, so that
// one unlucky draw cannot dominate a run.
const latencyCap = 4

// Latency is how long the server started with [Start] waits before
// answering page with the given seed and mean latency: a draw from a
// log-normal distribution whose mean is mean (before the cap), capped at
// 4×mean. The result depends only on its arguments — each page always
// gets the same latency for a given seed, on every platform and Go
// release — and is 0 when mean is not positive.
//
// Cost: a few arithmetic operations; Latency never blocks.
func Latency(page int, seed int64, mean time.Duration) time.Duration {
	if mean <= 0 {
		return 0
	}
	// Box–Muller on two uniform draws derived from (seed, page).
	h1 := mix64(uint64(seed)*0x9e3779b97f4a7c15 + uint64(page) + 1)
	h2 := mix64(h1 ^ 0x6c6174656e6379)
	u1 := (float64(h1>>11) + 0.5) / (1 << 53) // in (0, 1)
	u2 := float64(h2>>11) / (1 << 53)
	z := math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
	f := math.Exp(latencySigma*z - latencySigma*latencySigma/2)
	d := time.Duration(float64(mean) * math.Min(f, latencyCap))
	return max(d, 0)
}

// mix64 is the splitmix64 finalizer: a cheap bijective scrambling of x.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
