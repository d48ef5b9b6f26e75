package extract

import (
	"strconv"
	"testing"
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
