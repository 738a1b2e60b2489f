package pages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// shutdownGrace bounds how long Close waits for open connections to go
// idle before it closes them outright. Handlers stop waiting as soon as
// Close starts, so this is only reached when a client stops reading.
const shutdownGrace = 5 * time.Second

// Server is a running page server made by [Start]. Its methods are safe
// for concurrent use.
type Server struct {
	ln    net.Listener
	srv   *http.Server
	pages int
	seed  int64
	mean  time.Duration

	stopHandlers context.CancelFunc // ends the handlers' waits
	stopWatch    func() bool        // unregisters the Start context's watch
	serveDone    chan struct{}      // closed when Serve has returned
	serveErr     error              // Serve's error, other than ErrServerClosed

	closeOnce sync.Once
	closeErr  error
}

// Start listens on addr (host:port; "127.0.0.1:0" picks a free port) and
// serves, on a goroutine of its own, pages /page/0 to /page/{pages-1} with
// GET (and HEAD). Page i answers 200 with its HTML (2–6 KB, deterministic
// for the seed) after waiting [Latency](i, seed, meanLatency); any other
// path answers 404 at once. Each request runs on its own goroutine, so
// concurrent downloads overlap their waits.
//
// Start returns once the server is accepting connections. ctx bounds the
// server's life: when it is done the server closes as by [Server.Close].
// Call Close when finished either way.
//
// Errors name the problem: pages not positive, meanLatency negative, ctx
// already done, or addr that cannot be listened on (for example a port
// already taken).
func Start(ctx context.Context, addr string, pages int, seed int64, meanLatency time.Duration) (*Server, error) {
	if pages <= 0 {
		return nil, fmt.Errorf("pages: page count %d must be positive", pages)
	}
	if meanLatency < 0 {
		return nil, fmt.Errorf("pages: mean latency %v must not be negative", meanLatency)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pages: start server on %s: %w", addr, err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pages: listen on %s: %w", addr, err)
	}

	handlerCtx, stopHandlers := context.WithCancel(context.WithoutCancel(ctx))
	s := &Server{
		ln:           ln,
		pages:        pages,
		seed:         seed,
		mean:         meanLatency,
		stopHandlers: stopHandlers,
		serveDone:    make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page/{i}", s.servePage)
	s.srv = &http.Server{
		Handler:           mux,
		BaseContext:       func(net.Listener) context.Context { return handlerCtx },
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(s.serveDone)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = err
		}
	}()
	s.stopWatch = context.AfterFunc(ctx, func() { _ = s.Close() })
	return s, nil
}

// Addr is the address the server listens on, host:port with the actual
// port, such as "127.0.0.1:41234".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URLs lists the full URL of every page, in page order:
// http://{Addr}/page/0 and on. It allocates a new slice on each call.
func (s *Server) URLs() []string {
	base := "http://" + s.Addr() + "/page/"
	urls := make([]string, s.pages)
	for i := range urls {
		urls[i] = base + strconv.Itoa(i)
	}
	return urls
}

// Close stops the server: it stops accepting connections, cuts short the
// latency waits of requests in flight (they answer 503), closes every
// connection, and returns once the serving goroutine and the request
// handlers have finished, so that the server leaves no goroutine behind.
// It blocks for at most about five seconds, for clients that stop
// reading. Close is idempotent: later calls wait for the first to finish
// and return its result. It returns an error only if serving had failed.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.stopWatch()
		s.stopHandlers()
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			_ = s.srv.Close()
		}
		<-s.serveDone
		if s.serveErr != nil {
			s.closeErr = fmt.Errorf("pages: serving on %s: %w", s.Addr(), s.serveErr)
		}
	})
	return s.closeErr
}

// servePage answers GET /page/{i}.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	text := r.PathValue("i")
	i, err := strconv.Atoi(text)
	if err != nil || i < 0 || i >= s.pages || strconv.Itoa(i) != text {
		http.NotFound(w, r)
		return
	}
	if d := Latency(i, s.seed, s.mean); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			http.Error(w, "server closing", http.StatusServiceUnavailable)
			return
		}
	}
	body := pageBody(i, s.seed)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
