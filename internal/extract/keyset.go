package extract

import "hash/maphash"

// keySet remembers the primary keys of one landing, to catch duplicates. It keeps a 64-bit
// hash per key, not the key, in open-addressing tables (linear probing) of 8-byte slots
// kept at most 3/4 full: 10.7 to 21 bytes a key whatever the keys' length, and no pointers
// for the garbage collector to scan. The hash's top bits pick one of keyShards tables, each
// doubling on its own, so growing never holds an old and a new copy of the whole set at
// once: at 30 million keys one table of 512 MiB would briefly need 768 MiB.
//
// Two distinct keys share a hash with probability about n²/2⁶⁵ over a landing of n keys
// (3·10⁻⁸ at a million keys, 3·10⁻⁶ at ten million). The later record is then taken for a
// repeat of the earlier one (repeats.go): landed as another version when its cursor differs,
// quarantined with its reason and raw text when it cannot be ordered, dropped only if it
// also matches the earlier record's text hash.
type keySet struct {
	shards [keyShards]keyShard
	n      int
	sink   uint64 // keeps addBatch's early loads
}

// keyShard is one open-addressing table of a keySet.
type keyShard struct {
	slots []uint64 // 0 marks an empty slot
	n     int
}

const (
	keyShardBits     = 8
	keyShards        = 1 << keyShardBits
	keyShardMinSlots = 1 << 6
)

var keySeed = maphash.MakeSeed()

func newKeySet() *keySet {
	s := &keySet{}
	for i := range s.shards {
		s.shards[i].slots = make([]uint64, keyShardMinSlots)
	}
	return s
}

// add records key and reports whether it was new.
func (s *keySet) add(key []byte) bool { return s.addHash(keyHash(key)) }

// keyHash is the hash a keySet keeps for key; never 0.
func keyHash(key []byte) uint64 {
	h := maphash.Bytes(keySeed, key)
	if h == 0 {
		h = 1
	}
	return h
}

// addHash records a key by its keyHash and reports whether it was new.
func (s *keySet) addHash(h uint64) bool {
	sh := &s.shards[h>>(64-keyShardBits)]
	if (sh.n+1)*4 > len(sh.slots)*3 {
		sh.grow()
	}
	if !sh.insert(h) {
		return false
	}
	sh.n++
	s.n++
	return true
}

// addBatch is addHash for each of hs in order; fresh[i] says whether hs[i] was new. At
// tens of millions of keys the set is hundreds of MiB, and a key's slot is a cache miss
// (hundreds of ns). addBatch first reads every key's home slot, loads that wait on nothing
// but the hash, so the processor overlaps their misses; then it inserts one by one, into
// lines now in cache, exactly as addHash would.
func (s *keySet) addBatch(hs []uint64, fresh []bool) {
	var x uint64
	for _, h := range hs {
		sh := &s.shards[h>>(64-keyShardBits)]
		x += sh.slots[h&uint64(len(sh.slots)-1)]
	}
	s.sink += x
	for i, h := range hs {
		fresh[i] = s.addHash(h)
	}
}

// insert puts h in its slot; false when it is there already. The slot is chosen by the
// hash's low bits (the top bits chose the shard).
func (sh *keyShard) insert(h uint64) bool {
	mask := uint64(len(sh.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch sh.slots[i] {
		case 0:
			sh.slots[i] = h
			return true
		case h:
			return false
		}
	}
}

// grow doubles the shard's table.
func (sh *keyShard) grow() {
	old := sh.slots
	sh.slots = make([]uint64, 2*len(old))
	for _, h := range old {
		if h != 0 {
			sh.insert(h)
		}
	}
}

// bytes is the tables' size.
func (s *keySet) bytes() int {
	n := 0
	for i := range s.shards {
		n += 8 * len(s.shards[i].slots)
	}
	return n
}
