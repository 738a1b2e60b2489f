// Package demo is `deco demo`: it reproduces the experiments of the 2016
// blog post that introduced Python's deco ("Decorated Concurrency") with
// the Go library, on the machine it runs on, with nothing to download.
//
// Four experiments follow the post, each run serially (the post's
// "before", a plain loop) and then concurrently (the post's "after", the
// same function decorated with deco):
//
//   - sleep: slow(index) sleeps; 3 sleeps of 5 s took 15 s before and 5 s
//     after. Run with [deco.Synchronized], the post's @synchronized.
//   - order: calls finish in any order, yet [deco.Func.Wait] returns their
//     results in call order.
//   - thumbnails: CPU-bound and real. A large photo-like JPEG made by the
//     program is decoded, resampled and encoded into thumbnails of growing
//     sizes; every task records times[offset] in a [deco.Map] as the post's
//     did. Run with [deco.Func.Go] and [deco.Func.Wait], the post's .wait().
//   - downloads: I/O-bound and real. A local HTTP server with seeded
//     latencies serves the pages that net/http downloads, every task
//     recording data[url].
//
// Each experiment prints the post's TOOK and WOULD HAVE TAKEN, draws a
// progress bar, and adds its two runs to a timeline written as Chrome
// trace-event JSON and as an SVG picture. [Run] ends with one summary
// table, or JSON with Config.JSON.
//
// The code of the experiments is deliberately written the way a user of
// deco would write it: it is the library's showcase.
package demo
