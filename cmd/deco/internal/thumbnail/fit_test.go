package thumbnail_test

import (
	"fmt"
	"testing"

	"github.com/deco-go/deco/cmd/deco/internal/thumbnail"
)

func TestFit(t *testing.T) {
	for _, tc := range []struct{ srcW, srcH, size, w, h int }{
		{3464, 2309, 100, 100, 67},     // landscape: 66.66 rounds up
		{2309, 3464, 100, 67, 100},     // portrait
		{3464, 2309, 2080, 2080, 1386}, // 1386.47 rounds down
		{1000, 1000, 300, 300, 300},    // square
		{3000, 2000, 101, 101, 67},     // 67.33 rounds down
		{50, 40, 100, 50, 40},          // already fits: never enlarged
		{100, 40, 100, 100, 40},        // exactly fits
		{10000, 1, 100, 100, 1},        // short side at least 1
		{1, 10000, 100, 1, 100},
		{0, 10, 10, 0, 0},
		{10, -1, 10, 0, 0},
		{10, 10, 0, 0, 0},
	} {
		w, h := thumbnail.Fit(tc.srcW, tc.srcH, tc.size)
		if w != tc.w || h != tc.h {
			t.Errorf("Fit(%d, %d, %d) = %d, %d; want %d, %d", tc.srcW, tc.srcH, tc.size, w, h, tc.w, tc.h)
		}
	}
}

func TestFitLargeNoOverflow(t *testing.T) {
	w, h := thumbnail.Fit(1<<30, 1<<29, 1<<20)
	if w != 1<<20 || h != 1<<19 {
		t.Errorf("Fit(2^30, 2^29, 2^20) = %d, %d", w, h)
	}
}

func ExampleFit() {
	// The sizes of the demo's first and last thumbnails of a 3464×2309
	// photo, and of a small image that already fits.
	fmt.Println(thumbnail.Fit(3464, 2309, 100))
	fmt.Println(thumbnail.Fit(3464, 2309, 100+99*20))
	fmt.Println(thumbnail.Fit(80, 60, 100))
	// Output:
	// 100 67
	// 2080 1386
	// 80 60
}
