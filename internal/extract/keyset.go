package extract

import "hash/maphash"

// keySet remembers the primary keys of one landing, to catch duplicates. It keeps a 64-bit
// hash per key, not the key, in an open-addressing table (linear probing) of 8-byte slots
// kept at most 3/4 full: 10.7 to 21 bytes a key whatever the keys' length, and no pointers
// for the garbage collector to scan.
//
// Two distinct keys share a hash with probability about n²/2⁶⁵ over a landing of n keys
// (3·10⁻⁸ at a million keys, 3·10⁻⁶ at ten million). The later record is then quarantined
// as a duplicate, with its reason and raw text: visible, never silently dropped.
type keySet struct {
	slots []uint64 // 0 marks an empty slot
	n     int
}

var keySeed = maphash.MakeSeed()

const keySetMinSlots = 1 << 10

func newKeySet() *keySet { return &keySet{slots: make([]uint64, keySetMinSlots)} }

// add records key and reports whether it was new.
func (s *keySet) add(key []byte) bool {
	h := maphash.Bytes(keySeed, key)
	if h == 0 {
		h = 1
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	if !s.insert(h) {
		return false
	}
	s.n++
	return true
}

// insert puts h in its slot; false when it is there already.
func (s *keySet) insert(h uint64) bool {
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = h
			return true
		case h:
			return false
		}
	}
}

// grow doubles the table.
func (s *keySet) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	for _, h := range old {
		if h != 0 {
			s.insert(h)
		}
	}
}

// bytes is the table's size.
func (s *keySet) bytes() int { return 8 * len(s.slots) }
