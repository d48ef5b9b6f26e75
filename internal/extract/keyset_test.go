package extract

import (
	"flag"
	"strconv"
	"testing"
	"time"
)

func TestKeySet(t *testing.T) {
	s := newKeySet()
	const n = 200_000
	for i := range n {
		if !s.add([]byte("key-" + strconv.Itoa(i))) {
			t.Fatalf("key %d reported as a duplicate", i)
		}
	}
	for i := 0; i < n; i += 997 {
		if s.add([]byte("key-" + strconv.Itoa(i))) {
			t.Fatalf("key %d not recognised as a duplicate", i)
		}
	}
	if s.n != n {
		t.Errorf("n = %d", s.n)
	}
	// Each shard at most 3/4 full, at least 3/8 after its last doubling: 10.7 to 21.3
	// bytes a key. The shards fill evenly: none holds twice its share.
	if per := float64(s.bytes()) / n; per < 10.6 || per > 21.4 {
		t.Errorf("%.1f bytes a key", per)
	}
	for i := range s.shards {
		if got := s.shards[i].n; got > 2*n/keyShards || got < n/keyShards/2 {
			t.Errorf("shard %d holds %d keys of %d", i, got, n)
		}
	}
	if s.add(nil) != true || s.add([]byte{}) != false {
		t.Error("the empty key is a key like any other")
	}
}

var benchKeys = flag.Int("keyset-keys", 4_000_000, "keys BenchmarkKeySet inserts (the 1M-account bench's largest landing has 30.6M)")

// BenchmarkKeySet inserts -keyset-keys distinct keys (hashed beforehand) into a fresh key
// set, one at a time and in runs of keyBatch; ns/key is the figure to read. At millions of
// keys the set outgrows the caches and each insert is a cache miss.
func BenchmarkKeySet(b *testing.B) {
	hs := make([]uint64, *benchKeys)
	for i := range hs {
		hs[i] = keyHash([]byte("acct-" + strconv.Itoa(i)))
	}
	for _, bc := range []struct {
		name  string
		batch int
	}{{"one", 1}, {"batch16", keyBatch}} {
		b.Run(bc.name, func(b *testing.B) {
			fresh := make([]bool, bc.batch)
			var ns int64
			for b.Loop() {
				s := newKeySet()
				start := time.Now()
				if bc.batch == 1 {
					for _, h := range hs {
						s.addHash(h)
					}
				} else {
					for lo := 0; lo < len(hs); lo += bc.batch {
						hi := min(lo+bc.batch, len(hs))
						s.addBatch(hs[lo:hi], fresh[:hi-lo])
					}
				}
				ns += time.Since(start).Nanoseconds()
				if s.n != len(hs) {
					b.Fatalf("%d keys of %d", s.n, len(hs))
				}
			}
			b.ReportMetric(float64(ns)/float64(b.N)/float64(len(hs)), "ns/key")
			b.ReportMetric(float64(len(hs)), "keys")
		})
	}
}
