package pages_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco/cmd/deco/internal/pages"
)

func TestFetchReturnsBodySize(t *testing.T) {
	s := start(t, 5, time.Millisecond)
	for _, u := range s.URLs() {
		n, err := pages.Fetch(context.Background(), nil, u)
		if err != nil {
			t.Fatal(err)
		}
		_, body := get(t, http.DefaultClient, u)
		if n != len(body) {
			t.Errorf("Fetch(%s) = %d bytes, the body has %d", u, n, len(body))
		}
	}
}

func TestFetchStatusError(t *testing.T) {
	s := start(t, 5, 0)
	u := "http://" + s.Addr() + "/page/5"
	n, err := pages.Fetch(context.Background(), nil, u)
	if err == nil || n != 0 {
		t.Fatalf("Fetch of a missing page = %d, %v; want 0 and an error", n, err)
	}
	var se *pages.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusNotFound || se.URL != u {
		t.Fatalf("error %#v, want a *StatusError for 404 and %s", err, u)
	}
	if want := "pages: GET " + u + ": status 404 Not Found"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestFetchRequestErrors(t *testing.T) {
	s := start(t, 5, time.Millisecond)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	// A port nobody listens on: take one, then free it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/page/0"
	ln.Close()

	for _, tc := range []struct {
		name string
		ctx  context.Context
		url  string
		is   error
	}{
		{"bad URL", context.Background(), "http://[::1/page/0", nil},
		{"no scheme", context.Background(), "127.0.0.1/page/0", nil},
		{"connection refused", context.Background(), refused, nil},
		{"context done", cancelled, s.URLs()[0], context.Canceled},
	} {
		n, err := pages.Fetch(tc.ctx, nil, tc.url)
		if err == nil || n != 0 {
			t.Errorf("%s: Fetch = %d, %v; want 0 and an error", tc.name, n, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.url) {
			t.Errorf("%s: error %q does not name the URL", tc.name, err)
		}
		if strings.Count(err.Error(), tc.url) != 1 {
			t.Errorf("%s: error %q names the URL more than once", tc.name, err)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: error %q is not %v", tc.name, err, tc.is)
		}
	}
}

// A body that breaks off is an error, with the bytes read so far.
func TestFetchTruncatedBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
			return
		}
		fmt.Fprint(conn, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
	}()
	u := "http://" + ln.Addr().String() + "/page/0"
	n, err := pages.Fetch(context.Background(), &http.Client{}, u)
	<-served
	if err == nil || n != 10 {
		t.Fatalf("Fetch = %d, %v; want 10 and an error", n, err)
	}
	if !strings.Contains(err.Error(), u) || !strings.Contains(err.Error(), "after 10 bytes") {
		t.Errorf("error %q does not name the URL and the bytes read", err)
	}
}

func ExampleFetch() {
	ctx := context.Background()
	s, err := pages.Start(ctx, "127.0.0.1:0", 100, 1, time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	n, err := pages.Fetch(ctx, nil, s.URLs()[0])
	fmt.Println(n, err)

	_, err = pages.Fetch(ctx, nil, "http://"+s.Addr()+"/page/100")
	var se *pages.StatusError
	fmt.Println(errors.As(err, &se), se.Code)
	// Output:
	// 5304 <nil>
	// true 404
}
