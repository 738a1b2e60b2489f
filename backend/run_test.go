package backend_test

import (
	"context"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/backend"
)

// reporter reports run for every call, after running it here.
type reporter struct{ run backend.Run }

func (r reporter) Execute(ctx context.Context, name string, arg []byte) ([]byte, error) {
	out, err := backend.Invoke(ctx, name, arg)
	backend.Ran(ctx, r.run)
	return out, err
}

func TestRanKeepsTheWorkerAndDropsBadTimes(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name    string
		run     backend.Run
		workers int
		ran     time.Duration
	}{
		{"times", backend.Run{Worker: "h:1", Start: now, End: now.Add(time.Second)}, 1, time.Second},
		{"no times", backend.Run{Worker: "h:1"}, 1, 0},
		{"end before start", backend.Run{Worker: "h:1", Start: now, End: now.Add(-time.Second)}, 1, 0},
		{"no start", backend.Run{Worker: "h:1", End: now}, 1, 0},
		{"no worker", backend.Run{Start: now, End: now.Add(time.Second)}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := deco.Concurrent(func(int) {}, deco.Name("TestRanKeepsTheWorkerAndDropsBadTimes/"+tc.name), deco.On(reporter{tc.run}))
			f.Go(1)
			f.Go(2)
			if _, err := f.Wait(); err != nil {
				t.Fatal(err)
			}
			ws := f.Stats().Workers
			if len(ws) != tc.workers {
				t.Fatalf("workers %+v, want %d", ws, tc.workers)
			}
			if tc.workers == 1 && (ws[0].Worker != "h:1" || ws[0].Calls != 2 || ws[0].Ran != 2*tc.ran) {
				t.Fatalf("worker %+v, want h:1 with 2 calls that ran %v", ws[0], 2*tc.ran)
			}
		})
	}
}

func TestRanOutsideACallDoesNothing(t *testing.T) {
	backend.Ran(context.Background(), backend.Run{Worker: "h:1"})
	backend.Ran(nil, backend.Run{Worker: "h:1"}) // a nil context must not crash either
}
