// Package thumbnail turns one JPEG into a smaller JPEG file: the unit of
// work of the demo's CPU-bound experiment, the Go counterpart of the 2016
// deco blog post's PIL thumbnail task.
//
// [Make] does the whole job serially on the calling goroutine — decode,
// resample, encode, write — so that the demo can time it one item at a
// time or run many at once. [Fit] is the size arithmetic on its own.
// Nothing here keeps state; everything is safe for concurrent use as long
// as concurrent calls write to different paths.
package thumbnail
