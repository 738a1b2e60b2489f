package deco

import (
	"runtime"
	"strconv"
	"testing"
	"unsafe"
)

// TestMapShards: a Map has a power of two of shards, at least four per
// GOMAXPROCS up to the bound, each a cache line; keys spread over all of
// them, and each key is in exactly the shard it hashes to: integer keys of
// 8 and 4 bytes (a multiply picks their shard), and keys maphash hashes.
func TestMapShards(t *testing.T) {
	if size := unsafe.Sizeof(mapShard[int, int]{}); size != 64 {
		t.Errorf("a shard is %d bytes, want 64 (one cache line)", size)
	}
	t.Run("int", func(t *testing.T) { testMapShards(t, func(i int) int { return i }, 8) })
	t.Run("uint32", func(t *testing.T) { testMapShards(t, func(i int) uint32 { return uint32(i) * 65537 }, 4) })
	t.Run("string", func(t *testing.T) { testMapShards(t, strconv.Itoa, 0) })
	t.Run("int16", func(t *testing.T) { testMapShards(t, func(i int) int16 { return int16(i) }, 0) })
}

func testMapShards[K comparable](t *testing.T, key func(int) K, intKey uint8) {
	var m Map[K, int]
	const n = 10_000
	for i := range n {
		m.Set(key(i), i)
	}
	if m.Len() != n { // applies the shards' logs
		t.Fatalf("Len %d, want %d", m.Len(), n)
	}
	tab := m.tab.Load()
	if tab.intKey != intKey {
		t.Errorf("intKey %d, want %d", tab.intKey, intKey)
	}
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
				t.Fatalf("key %v is in shard %d, not the one it hashes to", k, i)
			}
		}
		total += len(s.m)
	}
	if total != n {
		t.Fatalf("the shards hold %d keys, want %d", total, n)
	}
}

// TestMapLogIsBounded: Sets wait in their shard's log only up to
// mapLogBytes: a key Set 200,000 times with no read between is logged
// at most that much (the Set that finds the log full applies it), and a
// read applies the log and lets its room go but for a small first chunk.
func TestMapLogIsBounded(t *testing.T) {
	const n = 200_000
	var m Map[int, int]
	most := logged[int, int](mapLogBytes)
	s := m.table().shard(7)
	for i := range n {
		m.Set(7, i)
		if s.logged > most {
			t.Fatalf("after %d Sets the shard logs %d, want at most %d", i+1, s.logged, most)
		}
	}
	if v, _ := m.Get(7); v != n-1 || m.Len() != 1 || m.Overwrites() != n-1 {
		t.Fatalf("Get = %d, Len %d, Overwrites %d; want %d, 1, %d", v, m.Len(), m.Overwrites(), n-1, n-1)
	}
	if s.logged != 0 || len(s.log) != 1 || len(s.log[0]) != 0 || cap(s.log[0]) > 8 {
		t.Fatalf("after a read the log holds %d Sets in %d chunks (first: %d of %d)", s.logged, len(s.log), len(s.log[0]), cap(s.log[0]))
	}
}
