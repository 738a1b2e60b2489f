package cluster_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/deco-go/deco"
	"github.com/deco-go/deco/cluster"
)

// long runs 2.5 s, noting each run, and returns x.
var long = deco.ConcurrentValue(func(x int) int {
	appendLine("long " + strconv.Itoa(x))
	time.Sleep(2500 * time.Millisecond)
	return x
}, deco.Name("test.long"))

func TestCallsLongerThanAckWaitAreHeartbeatNotRedelivered(t *testing.T) {
	// AckWait 1 s, calls of 2.5 s: without a heartbeat every 333 ms
	// each call would go to the other worker (and back) and run 3 times.
	// A beat may come up to 667 ms late before a call is redelivered: with
	// AckWait 300 ms (a 200 ms margin) the test failed now and then on
	// 2 cores busy with other tests (three failures seen, at load ~6).
	//
	// Alone, 2 calls, not 4: each worker has 2 slots, and a worker that
	// took 3 of 4 calls held the third in its iterator's prefetch, where
	// nothing beats it, so after AckWait it went to the other worker as
	// well and ran twice (a gap of its own, not of the running calls'
	// heartbeat this test is about). A pack is one message, beaten
	// whole from the moment it is taken.
	for _, c := range []struct {
		name  string
		pack  bool
		calls int
	}{{"alone", false, 2}, {"pack", true, 4}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv(envTestDir, dir)
			e := newLocal(t, 2, cluster.AckWait(time.Second), cluster.Pack(4))
			if err := e.Start(); err != nil {
				t.Fatal(err)
			}
			if c.pack {
				defer cluster.PackNext(4)()
			}
			f := long.With(deco.On(e), deco.Limit(4))
			for i := range c.calls {
				f.Go(i)
			}
			got, err := waitWithin(t, e, time.Minute, f.Wait)
			wantResults(t, got, err, func(i int) int { return i })
			if st := e.Stats(); (st.Packs == 1) != c.pack {
				t.Fatalf("Stats %+v: want packs %v", st, c.pack)
			}
			runs := map[string]int{}
			files, _ := filepath.Glob(filepath.Join(dir, "exec.*"))
			for _, p := range files {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range strings.Fields(strings.ReplaceAll(string(b), "long ", "long")) {
					runs[l]++
				}
			}
			for i := range c.calls {
				if n := runs["long"+strconv.Itoa(i)]; n != 1 {
					t.Errorf("call %d ran %d times, want once: %v", i, n, runs)
				}
			}
		})
	}
}
