// Command thumbnails is Python deco's blog post's thumbnail loop with deco: the 100
// thumbnails run on every core, and each task still records its own time
// in times[offset], now a deco.Map that tasks may write into. Compare it
// with ./serial: the map's type, two lines in run and the import change.
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

	"github.com/deco-go/deco"
	"golang.org/x/image/draw"
)

var photo = makePhoto(3000, 2000)

func slow(times *deco.Map[int, time.Duration], offset int) {
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
	times.Set(offset, time.Since(t0))
}

func run(times *deco.Map[int, time.Duration]) {
	slow, wait := deco.Concurrent(func(index int) { slow(times, index) }).Split()
	defer wait()
	for index := range 100 {
		slow(index)
	}
}

func main() {
	t0 := time.Now()
	var times deco.Map[int, time.Duration]
	run(&times)
	var sum time.Duration
	for _, d := range times.All() {
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
