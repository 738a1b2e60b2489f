package photo_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/deco-go/deco/cmd/deco/internal/photo"
)

func TestEncodeJPEGRoundTrip(t *testing.T) {
	src := mustGenerate(t, 320, 200, 9)
	data, err := photo.EncodeJPEG(src, 90)
	if err != nil {
		t.Fatal(err)
	}
	got, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decoding the result: %v", err)
	}
	if got.Bounds() != src.Bounds() {
		t.Fatalf("decoded bounds %v, want %v", got.Bounds(), src.Bounds())
	}
	var diff int
	for y := range 200 {
		for x := range 320 {
			r1, g1, b1, _ := src.At(x, y).RGBA()
			r2, g2, b2, _ := got.At(x, y).RGBA()
			diff += absDiff(uint8(r1>>8), uint8(r2>>8)) + absDiff(uint8(g1>>8), uint8(g2>>8)) + absDiff(uint8(b1>>8), uint8(b2>>8))
		}
	}
	if mean := float64(diff) / (3 * 320 * 200); mean > 6 {
		t.Errorf("mean channel error after quality 90 round trip = %.2f, want at most 6", mean)
	}
}

func TestEncodeJPEGQualityAndDetail(t *testing.T) {
	img := mustGenerate(t, 640, 480, 2)
	low, err := photo.EncodeJPEG(img, 30)
	if err != nil {
		t.Fatal(err)
	}
	high, err := photo.EncodeJPEG(img, 95)
	if err != nil {
		t.Fatal(err)
	}
	if len(high) <= len(low) {
		t.Errorf("quality 95 gave %d bytes, quality 30 %d: want more at 95", len(high), len(low))
	}
	// A flat image compresses to a few hundredths of a byte per pixel;
	// a photo to a good fraction of a byte.
	if bpp := float64(len(high)) / (640 * 480); bpp < 0.3 {
		t.Errorf("quality 95: %.2f bytes per pixel, want at least 0.3 for a detailed picture", bpp)
	}
}

func TestEncodeJPEGErrors(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for _, tc := range []struct {
		name    string
		img     image.Image
		quality int
		want    string
	}{
		{"nil image", nil, 80, "nil"},
		{"empty image", image.NewRGBA(image.Rectangle{}), 80, "empty"},
		{"quality 0", img, 0, "quality 0"},
		{"quality 101", img, 101, "quality 101"},
	} {
		data, err := photo.EncodeJPEG(tc.img, tc.quality)
		if err == nil || data != nil {
			t.Errorf("%s: got %d bytes and error %v, want an error", tc.name, len(data), err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.want)
		}
	}
}

func ExampleEncodeJPEG() {
	img, err := photo.Generate(320, 200, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	data, err := photo.EncodeJPEG(img, 90)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	fmt.Println(format, cfg.Width, cfg.Height, err)
	// Output: jpeg 320 200 <nil>
}
