// Command serial is Python deco's blog post's thumbnail loop without deco: it makes 100
// thumbnails of growing sizes of one large photo, one after the other, and
// records how long each took in times[offset]. Compare it with ../main.go.
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/image/draw"
)

var photo = makePhoto(3000, 2000)

func slow(times map[int]time.Duration, offset int) {
	t0 := time.Now()
	img, err := jpeg.Decode(bytes.NewReader(photo))
	if err != nil {
		panic(err)
	}
	size := 100 + offset*20
	b := img.Bounds()
	w, h := size, size*b.Dy()/b.Dx()
	thumb := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(thumb, thumb.Bounds(), img, b, draw.Src, nil)
	out, err := os.Create(filepath.Join(os.TempDir(), fmt.Sprintf("deco-thumb-%d.jpg", offset)))
	if err != nil {
		panic(err)
	}
	defer out.Close()
	if err := jpeg.Encode(out, thumb, nil); err != nil {
		panic(err)
	}
	times[offset] = time.Since(t0)
}

func run(times map[int]time.Duration) {
	for index := range 100 {
		slow(times, index)
	}
}

func main() {
	t0 := time.Now()
	times := map[int]time.Duration{}
	run(times)
	var sum time.Duration
	for _, d := range times {
		sum += d
	}
	fmt.Println("TOOK", time.Since(t0).Round(time.Millisecond))
	fmt.Println("WOULD HAVE TAKEN", sum.Round(time.Millisecond))
}

// makePhoto draws a smooth, textured picture and returns it as a JPEG.
func makePhoto(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := uint8((x*7 + y*13 + x*y/97) % 32)
			img.Set(x, y, color.RGBA{uint8(x * 200 / w), uint8(y * 200 / h), 120 + n, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
