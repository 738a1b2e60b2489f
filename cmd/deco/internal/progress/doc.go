// Package progress shows how far a batch of tasks has got: a live bar on
// a terminal, a few plain lines anywhere else (a pipe, a log file, a test
// buffer).
//
// The demo runs 100 thumbnails or 100 downloads, serially and then
// concurrently, and reports progress from whichever goroutine finishes an
// item. A [Bar] takes those reports from any number of goroutines.
package progress
