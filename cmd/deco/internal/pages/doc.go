// Package pages is the "web" of the demo's I/O-bound experiment: a local
// HTTP server of deterministic pages with realistic, seeded response
// times, and the client side that downloads one page.
//
// The 2016 deco blog post timed 100 downloads of real web pages. This
// machine has no internet, so [Start] serves /page/{i} on a loopback
// address, each page answering after its own [Latency] — a log-normal
// draw around a chosen mean, the same for a given seed every time — with a
// few kilobytes of HTML. [Fetch] is the unit of work: one GET, body read
// to the end.
//
// Everything here is safe for concurrent use. The server handles each
// request on its own goroutine, so many downloads overlap their waits.
package pages
