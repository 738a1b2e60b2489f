package pages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// drainLimit is how much of a non-200 body Fetch reads so that the
// connection can be reused.
const drainLimit = 64 << 10

// StatusError is the error [Fetch] returns for a response whose status is
// not 200 OK.
type StatusError struct {
	URL    string
	Status string // as in the response, such as "404 Not Found"
	Code   int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("pages: GET %s: status %s", e.URL, e.Status)
}

// Fetch downloads rawURL with a GET through client (http.DefaultClient if
// nil), reads the body to the end, and returns the number of body bytes
// read.
//
// Cost: one HTTP round trip plus the body; Fetch blocks until the body
// has been read, ctx is done, or the client's timeout passes. It closes
// the response body; the connection goes back to the client's pool.
//
// Errors name the URL: a URL that does not parse, a request that fails
// (connection refused, ctx done — errors.Is finds ctx's error), a body
// that breaks off (returned with the bytes read so far), and any status
// other than 200, as a *[StatusError] with 0 bytes.
func Fetch(ctx context.Context, client *http.Client, rawURL string) (int, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, fmt.Errorf("pages: GET %s: %w", rawURL, unwrapURLError(err))
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("pages: GET %s: %w", rawURL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
		return 0, &StatusError{URL: rawURL, Status: resp.Status, Code: resp.StatusCode}
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return int(n), fmt.Errorf("pages: GET %s: read body after %d bytes: %w", rawURL, n, err)
	}
	return int(n), nil
}

// unwrapURLError strips a *url.Error, which would name the operation and
// the URL a second time in Fetch's error.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
