package pages_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/deco-go/deco/cmd/deco/internal/pages"
)

func TestLatencyDeterministic(t *testing.T) {
	const mean = 350 * time.Millisecond
	same, differ := 0, 0
	for i := range 200 {
		a := pages.Latency(i, 1, mean)
		if b := pages.Latency(i, 1, mean); a != b {
			t.Fatalf("page %d: %v then %v for the same seed", i, a, b)
		}
		if pages.Latency(i, 2, mean) == a {
			same++
		}
		if i > 0 && pages.Latency(i-1, 1, mean) != a {
			differ++
		}
	}
	if same > 2 {
		t.Errorf("%d of 200 pages have the same latency under seeds 1 and 2", same)
	}
	if differ < 195 {
		t.Errorf("only %d of 199 neighbouring pages have different latencies", differ)
	}
}

func TestLatencyNonPositiveMean(t *testing.T) {
	for _, mean := range []time.Duration{0, -time.Second} {
		if got := pages.Latency(3, 1, mean); got != 0 {
			t.Errorf("Latency(3, 1, %v) = %v, want 0", mean, got)
		}
	}
}

// The distribution is log-normal with σ = 0.5 around the requested mean,
// capped at four times the mean. Fixed seeds make this exact, not flaky.
func TestLatencyDistribution(t *testing.T) {
	const mean = 100 * time.Millisecond
	const n = 20000
	for _, seed := range []int64{1, -7, 1 << 40} {
		ds := make([]time.Duration, n)
		var sum time.Duration
		for i := range ds {
			ds[i] = pages.Latency(i, seed, mean)
			sum += ds[i]
		}
		slices.Sort(ds)
		if ds[0] <= 0 || ds[n-1] > 4*mean {
			t.Errorf("seed %d: latencies span [%v, %v], want within (0, %v]", seed, ds[0], ds[n-1], 4*mean)
		}
		if got := sum / n; math.Abs(float64(got-mean)) > 0.03*float64(mean) {
			t.Errorf("seed %d: mean %v, want %v within 3%%", seed, got, mean)
		}
		// Median of a log-normal: mean·exp(-σ²/2) ≈ 0.8825·mean.
		if med := ds[n/2]; math.Abs(float64(med)-0.8825*float64(mean)) > 0.03*float64(mean) {
			t.Errorf("seed %d: median %v, want about %v", seed, med, time.Duration(0.8825*float64(mean)))
		}
		// 5th and 95th percentiles: exp(±1.645σ) around the median.
		p5, p95 := ds[n/20], ds[n-n/20]
		if r := float64(p95) / float64(p5); r < 4.5 || r > 5.8 {
			t.Errorf("seed %d: p95/p5 = %.2f, want about 5.2", seed, r)
		}
	}
}

func ExampleLatency() {
	// Each page always gets the same latency for a given seed.
	for page := range 5 {
		fmt.Println(page, pages.Latency(page, 1, 350*time.Millisecond).Round(time.Millisecond))
	}
	fmt.Println(pages.Latency(0, 1, 0))
	// Output:
	// 0 525ms
	// 1 450ms
	// 2 109ms
	// 3 264ms
	// 4 176ms
	// 0s
}
