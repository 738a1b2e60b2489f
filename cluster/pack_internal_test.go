package cluster

import (
	"slices"
	"testing"
)

func TestAQueueGoesInPacksOfAWorkersShare(t *testing.T) {
	// 2 local workers of 2 slots, packs of at most 16: a queue of 95
	// calls goes in packs of half the calls still queued (a worker runs a
	// pack on both its slots), not a quarter, which made packs of 1 for
	// each of a batch's last 3 calls.
	for _, c := range []struct {
		workers, slots, queued int
		want                   []int
	}{
		{2, 2, 95, []int{16, 16, 16, 16, 16, 8, 4, 2, 1}},
		{2, 2, 3, []int{2, 1}},
		{4, 1, 10, []int{3, 2, 2, 1, 1, 1}},
		{1, 8, 20, []int{16, 4}},
		{0, 2, 40, []int{16, 16, 8}}, // URL: the workers unknown, Pack's n
	} {
		cfg, err := newConfig([]Option{Workers(c.workers), Slots(c.slots), Pack(16)})
		if c.workers == 0 {
			cfg, err = newConfig([]Option{URL("nats://127.0.0.1:4222"), Slots(c.slots), Pack(16)})
		}
		if err != nil {
			t.Fatal(err)
		}
		s := &session{cfg: &cfg}
		var got []int
		for q := c.queued; q > 0; {
			n := min(s.packSize(q, false), q)
			got = append(got, n)
			q -= n
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%d workers of %d slots, %d calls queued: packs %v, want %v", c.workers, c.slots, c.queued, got, c.want)
		}
	}
}
