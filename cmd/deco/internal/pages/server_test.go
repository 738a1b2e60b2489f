package pages_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deco-go/deco/cmd/deco/internal/pages"
)

// These tests talk to a real socket, which testing/synctest cannot fake,
// so they keep latencies at a millisecond and assert behaviour, never
// timing. Deadlines below only turn a hang into a failure.

// start starts a server on a free loopback port and closes it when the
// test ends.
func start(t *testing.T, n int, mean time.Duration) *pages.Server {
	t.Helper()
	s, err := pages.Start(context.Background(), "127.0.0.1:0", n, 1, mean)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// serverGoroutines returns the stacks of goroutines that belong to a page
// server: the serving loop, connection handlers and page handlers.
func serverGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var found []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "net/http.(*conn).serve") ||
			strings.Contains(g, "net/http.(*Server).Serve") ||
			strings.Contains(g, "internal/pages.(*Server)") ||
			strings.Contains(g, "internal/pages.Start") {
			found = append(found, g)
		}
	}
	return found
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestServerServesPages(t *testing.T) {
	s := start(t, 20, time.Millisecond)
	urls := s.URLs()
	if len(urls) != 20 {
		t.Fatalf("%d URLs, want 20", len(urls))
	}
	client := &http.Client{}
	t.Cleanup(client.CloseIdleConnections)
	bodies := map[string]bool{}
	for i, u := range urls {
		if want := "http://" + s.Addr() + "/page/" + strconv.Itoa(i); u != want {
			t.Errorf("URL %d = %q, want %q", i, u, want)
		}
		code, body := get(t, client, u)
		if code != http.StatusOK {
			t.Fatalf("GET %s: status %d", u, code)
		}
		if !strings.Contains(body, fmt.Sprintf("<h1>Page %d</h1>", i)) || len(body) < 2048 {
			t.Errorf("GET %s: %d bytes without the page's heading", u, len(body))
		}
		if _, again := get(t, client, u); again != body {
			t.Errorf("GET %s: a second request gave another body", u)
		}
		bodies[body] = true
	}
	if len(bodies) != 20 {
		t.Errorf("%d distinct bodies among 20 pages", len(bodies))
	}
}

func TestServerAddr(t *testing.T) {
	s := start(t, 1, 0)
	host, port, ok := strings.Cut(s.Addr(), ":")
	if !ok || host != "127.0.0.1" {
		t.Fatalf("Addr() = %q, want 127.0.0.1:port", s.Addr())
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 {
		t.Errorf("Addr() = %q: port is not a positive number", s.Addr())
	}
}

func TestServerNotFound(t *testing.T) {
	s := start(t, 10, time.Millisecond)
	client := &http.Client{}
	t.Cleanup(client.CloseIdleConnections)
	base := "http://" + s.Addr()
	for _, path := range []string{"/page/10", "/page/-1", "/page/abc", "/page/007", "/page/", "/page/1/x", "/", "/other"} {
		if code, _ := get(t, client, base+path); code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, code)
		}
	}
	resp, err := client.Post(base+"/page/1", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /page/1: status %d, want 405", resp.StatusCode)
	}
}

func TestStartErrors(t *testing.T) {
	taken := start(t, 1, 0)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		addr  string
		pages int
		mean  time.Duration
		want  string
	}{
		{"port taken", context.Background(), taken.Addr(), 5, 0, "listen on " + taken.Addr()},
		{"bad address", context.Background(), "not an address", 5, 0, "listen on not an address"},
		{"no pages", context.Background(), "127.0.0.1:0", 0, 0, "page count 0 must be positive"},
		{"negative latency", context.Background(), "127.0.0.1:0", 5, -time.Second, "mean latency -1s"},
		{"done context", cancelled, "127.0.0.1:0", 5, 0, "context canceled"},
	} {
		s, err := pages.Start(tc.ctx, tc.addr, tc.pages, 1, tc.mean)
		if err == nil {
			s.Close()
			t.Errorf("%s: Start succeeded", tc.name)
			continue
		}
		if s != nil {
			t.Errorf("%s: Start returned a server with its error", tc.name)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not contain %q", tc.name, err, tc.want)
		}
	}
}

// Close leaves no goroutine behind, even with connections open, and may
// be called again.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	waitFor(t, "other tests' servers to end", func() bool { return len(serverGoroutines()) == 0 })
	s, err := pages.Start(context.Background(), "127.0.0.1:0", 10, 1, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{} // keeps its connections open after use
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	for _, u := range s.URLs() {
		wg.Go(func() {
			if _, err := pages.Fetch(context.Background(), client, u); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(serverGoroutines()) == 0 {
		t.Fatal("found no server goroutine while serving: the check below could not fail")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitFor(t, "no server goroutine", func() bool { return len(serverGoroutines()) == 0 })
	if _, err := pages.Fetch(context.Background(), client, s.URLs()[0]); err == nil {
		t.Error("Fetch after Close succeeded")
	}
}

// Close cuts short the latency wait of a request in flight.
func TestCloseDuringRequest(t *testing.T) {
	s, err := pages.Start(context.Background(), "127.0.0.1:0", 1, 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	fetched := make(chan error, 1)
	go func() {
		_, err := pages.Fetch(context.Background(), &http.Client{}, s.URLs()[0])
		fetched <- err
	}()
	waitFor(t, "the request to reach the handler", func() bool {
		for _, g := range serverGoroutines() {
			if strings.Contains(g, "servePage") {
				return true
			}
		}
		return false
	})
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with a request waiting")
	}
	select {
	case err := <-fetched:
		// The handler stops waiting and answers, rather than being cut
		// off when the connection closes.
		var se *pages.StatusError
		if !errors.As(err, &se) || se.Code != http.StatusServiceUnavailable {
			t.Fatalf("Fetch of a page cut short by Close: %v, want status 503", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Fetch did not return after Close")
	}
	waitFor(t, "no server goroutine", func() bool { return len(serverGoroutines()) == 0 })
}

// The context passed to Start bounds the server's life.
func TestStartContextCancelCloses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := pages.Start(ctx, "127.0.0.1:0", 3, 1, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := pages.Fetch(context.Background(), client, s.URLs()[2]); err != nil {
		t.Fatal(err)
	}
	cancel()
	waitFor(t, "the server to stop", func() bool {
		_, err := pages.Fetch(context.Background(), client, s.URLs()[2])
		return err != nil
	})
	waitFor(t, "no server goroutine", func() bool { return len(serverGoroutines()) == 0 })
	if err := s.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
}

// Many concurrent downloads all succeed (and race-free under -race).
func TestServerConcurrentFetches(t *testing.T) {
	s := start(t, 50, time.Millisecond)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 50}}
	t.Cleanup(client.CloseIdleConnections)
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for _, u := range s.URLs() {
		wg.Go(func() {
			n, err := pages.Fetch(context.Background(), client, u)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got[u] = n
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(got) != 50 {
		t.Errorf("%d of 50 fetches succeeded", len(got))
	}
}

func ExampleStart() {
	ctx := context.Background()
	s, err := pages.Start(ctx, "127.0.0.1:0", 100, 1, time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	// A second server cannot take the same address.
	_, err = pages.Start(ctx, s.Addr(), 100, 1, time.Millisecond)
	fmt.Println(err != nil && strings.Contains(err.Error(), s.Addr()))
	// Output: true
}

func ExampleServer_URLs() {
	s, err := pages.Start(context.Background(), "127.0.0.1:0", 100, 1, time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	urls := s.URLs()
	fmt.Println(len(urls))
	fmt.Println(strings.TrimPrefix(urls[0], "http://"+s.Addr()))
	fmt.Println(strings.TrimPrefix(urls[99], "http://"+s.Addr()))
	// Output:
	// 100
	// /page/0
	// /page/99
}

func ExampleServer_Addr() {
	s, err := pages.Start(context.Background(), "127.0.0.1:0", 1, 1, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	host, port, _ := strings.Cut(s.Addr(), ":")
	fmt.Println(host, port != "0")
	// Output: 127.0.0.1 true
}

func ExampleServer_Close() {
	s, err := pages.Start(context.Background(), "127.0.0.1:0", 1, 1, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Close())
	fmt.Println(s.Close()) // idempotent

	_, err = pages.Fetch(context.Background(), nil, s.URLs()[0])
	fmt.Println(err != nil) // nothing listens any more
	// Output:
	// <nil>
	// <nil>
	// true
}
