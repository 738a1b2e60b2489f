package deco

import (
	"runtime"
	"testing"
	"unsafe"
)

// TestMapShards: a Map has a power of two of shards, at least four per
// GOMAXPROCS up to the bound, each a cache line; keys spread over all of
// them, and each key is in exactly the shard it hashes to.
func TestMapShards(t *testing.T) {
	if size := unsafe.Sizeof(mapShard[int, int]{}); size != 64 {
		t.Errorf("a shard is %d bytes, want 64 (one cache line)", size)
	}
	var m Map[int, int]
	const n = 10_000
	for i := range n {
		m.Set(i, i)
	}
	tab := m.tab.Load()
	shards := len(tab.shards)
	if shards&(shards-1) != 0 || uint64(shards-1) != tab.mask || shards < min(4*runtime.GOMAXPROCS(0), maxMapShards) || shards > maxMapShards {
		t.Fatalf("%d shards (mask %#x) at GOMAXPROCS %d", shards, tab.mask, runtime.GOMAXPROCS(0))
	}
	total := 0
	for i := range tab.shards {
		s := &tab.shards[i]
		if len(s.m) < n/shards/2 {
			t.Errorf("shard %d holds %d keys of %d over %d shards", i, len(s.m), n, shards)
		}
		for k := range s.m {
			if tab.shard(k) != s {
				t.Fatalf("key %d is in shard %d, not the one it hashes to", k, i)
			}
		}
		total += len(s.m)
	}
	if total != n {
		t.Fatalf("the shards hold %d keys, want %d", total, n)
	}
}
