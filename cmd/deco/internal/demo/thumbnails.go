package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cmd/deco/internal/photo"
	"github.com/deco-go/deco/cmd/deco/internal/thumbnail"
	"github.com/deco-go/deco/timeline"
)

// photoQuality is the JPEG quality of the generated source photo, a
// camera's "fine" setting.
const photoQuality = 90

// thumbArgs are the arguments of one thumbnail call: the post's
// slow(times, offset), plus where the files are. The fields are exported so
// that the arguments can be gob-encoded for an executor in other processes,
// which replays the task's writes into Times.
type thumbArgs struct {
	Times  *deco.Map[int, time.Duration] // the post's times dict
	Offset int
	Photo  string // the large JPEG
	Dir    string // where thumbnails go
}

// makeThumbnail is the post's CPU-bound task, line for line:
//
//	def slow(times, offset):
//	    t0 = time.time()
//	    path = '9745e8.jpg'
//	    img = Image.open(path)
//	    size = (100 + offset * 20, 100 + offset * 20)
//	    img.thumbnail(size, Image.ANTIALIAS)
//	    img.save('thumbnails/{}.jpg'.format(offset), 'JPEG')
//	    t1 = time.time()
//	    times[offset] = t1 - t0
func makeThumbnail(a thumbArgs) error {
	t0 := time.Now()
	src, err := os.ReadFile(a.Photo)
	if err != nil {
		return err
	}
	size := thumbnailSize(a.Offset)
	if _, err := thumbnail.Make(src, size, thumbnailPath(a.Dir, a.Offset)); err != nil {
		return err
	}
	a.Times.Set(a.Offset, time.Since(t0))
	return nil
}

// thumbnailFunc is makeThumbnail decorated once, at package level and
// named, so that worker processes (-executor processes) find it by name;
// each run takes its limit, recorder and progress bar with With.
var thumbnailFunc = deco.ConcurrentErr(makeThumbnail, deco.Name("deco-demo/thumbnail"))

// runThumbnails is the post's "more realistic example": thumbnails of
// growing sizes of one large JPEG, serially, then with deco. Each task
// records its own time in times[offset]; the post's WOULD HAVE TAKEN is
// their sum.
func runThumbnails(ctx context.Context, e *env) (Result, error) {
	n, workers := e.cfg.Thumbnails, e.cfg.Workers
	res := Result{Experiment: Thumbnails, Calls: n, Workers: workers, Cores: e.cores}
	execOpts, closeExecutor, err := executorOptions(e.cfg.Executor, workers)
	if err != nil {
		return res, err
	}
	defer closeExecutor()
	e.printf("== thumbnails: %d thumbnails of sizes %d to %d px from a %.1f-megapixel JPEG (CPU-bound)\n",
		n, thumbnailSize(0), thumbnailSize(n-1), e.cfg.Megapixels)
	photoPath, err := e.makePhoto()
	if err != nil {
		return res, err
	}
	dir, err := e.out.mkdir("thumbnails")
	if err != nil {
		return res, err
	}
	for offset := range n {
		e.out.note(thumbnailPath(dir, offset))
	}

	// Without deco: a plain loop.
	var serialTimes deco.Map[int, time.Duration]
	serial, err := e.serial(ctx, Thumbnails, "thumbnail", n, true, func(offset int) error {
		return makeThumbnail(thumbArgs{Times: &serialTimes, Offset: offset, Photo: photoPath, Dir: dir})
	})
	if err != nil {
		return res, err
	}

	// With deco: the same function, decorated; by default one call per core.
	rec := new(deco.Recorder)
	bar := e.bar("thumbnails, concurrent", n)
	opts := append(execOpts, deco.Limit(workers), deco.Record(rec), showProgress(bar))
	thumb := thumbnailFunc.With(opts...)
	var times deco.Map[int, time.Duration]
	t0, cpu0 := time.Now(), cpuTime()
	for offset := range n {
		thumb.GoContext(ctx, thumbArgs{Times: &times, Offset: offset, Photo: photoPath, Dir: dir})
	}
	_, err = thumb.Wait()
	took, cpu := time.Since(t0), cpuTime()-cpu0
	bar.Finish()
	if err != nil {
		return res, condense(err)
	}
	if times.Len() != n || times.Overwrites() != 0 {
		return res, fmt.Errorf("times has %d keys and %d overwrites, want %d keys and none", times.Len(), times.Overwrites(), n)
	}

	res.Serial, res.SerialCPU, res.SerialSum = serial.took, serial.cpu, sum(&serialTimes)
	res.Concurrent, res.ConcurrentCPU, res.WouldHaveTaken, res.Stats = took, cpu, sum(&times), thumb.Stats()
	res.traces = []timeline.Trace{serial.trace, named(rec.Trace(e.concurrentTitle(Thumbnails, workers)), "thumbnail")}
	e.printRuns(res)
	e.printf("ideal       %dx: one thumbnail per core, on %d cores\n", min(workers, e.cores, n), e.cores)
	return res, nil
}

// makePhoto paints the large photo-like picture, saves it as a JPEG in the
// output folder and returns the file's path.
func (e *env) makePhoto() (string, error) {
	t0 := time.Now()
	w, h := e.cfg.photoSize()
	img, err := photo.Generate(w, h, e.cfg.Seed)
	if err != nil {
		return "", err
	}
	data, err := photo.EncodeJPEG(img, photoQuality)
	if err != nil {
		return "", err
	}
	path := e.out.path("photo.jpg")
	e.out.note(path)
	if err := writeFiles(file{path, data}); err != nil {
		return "", err
	}
	e.printf("photo       %s: %d×%d, %.1f MB, painted in %s\n", path, w, h, float64(len(data))/1e6, seconds(time.Since(t0)))
	return path, nil
}

// thumbnailPath is the post's 'thumbnails/{}.jpg'.format(offset).
func thumbnailPath(dir string, offset int) string {
	return filepath.Join(dir, strconv.Itoa(offset)+".jpg")
}

// sum is the post's sum(times.values()).
func sum[K comparable](times *deco.Map[K, time.Duration]) time.Duration {
	var total time.Duration
	for _, d := range times.All() {
		total += d
	}
	return total
}
