package pages

import (
	"bytes"
	"fmt"
	"testing"
)

func TestPageBody(t *testing.T) {
	sizes := map[int]bool{}
	for i := range 100 {
		b := pageBody(i, 1)
		if !bytes.Equal(b, pageBody(i, 1)) {
			t.Fatalf("page %d: two different bodies for the same seed", i)
		}
		if bytes.Equal(b, pageBody(i, 2)) {
			t.Errorf("page %d: seeds 1 and 2 give the same body", i)
		}
		if len(b) < 2048 || len(b) > 7000 {
			t.Errorf("page %d: %d bytes, want 2–7 KB", i, len(b))
		}
		sizes[len(b)] = true
		for _, want := range []string{
			"<!DOCTYPE html>\n",
			fmt.Sprintf("<title>Page %d</title>", i),
			fmt.Sprintf("<h1>Page %d</h1>", i),
			fmt.Sprintf(`<a href="/page/%d">next</a>`, i+1),
		} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("page %d: body lacks %q", i, want)
			}
		}
		if !bytes.HasSuffix(b, []byte("</html>\n")) {
			t.Errorf("page %d: body does not end with </html>", i)
		}
		if n, m := bytes.Count(b, []byte("<p>")), bytes.Count(b, []byte("</p>")); n != m || n < 2 {
			t.Errorf("page %d: %d <p> and %d </p>", i, n, m)
		}
	}
	if len(sizes) < 50 {
		t.Errorf("only %d distinct body sizes among 100 pages", len(sizes))
	}
}
