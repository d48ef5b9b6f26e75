package extract

import (
	"strconv"
	"strings"
)

// jsonScan checks a JSON text as json.Valid does (encoding/json's v1 scanner: RFC 8259,
// bytes of any value, invalid UTF-8 included, accepted inside strings, at most
// maxJSONDepth nested arrays and objects) and, in the same pass, finds what a page decoder
// needs: the record array's elements and the root object's members. It replaces
// json.Valid followed by lookupPath and eachElem, which walked the body three times.
//
// The record array is the value at the dot path segs, as lookupPath finds it: a member of
// an object by its (unescaped) key, the last of duplicate keys winning; an element of an
// array by a segment of digits. With no segments it is the root value.
type jsonScan struct {
	segs []pathSeg // the records path; empty for the root

	// Results of the last scan of a valid text.
	root   []byte   // the top-level value, without the whitespace around it
	target []byte   // the value at segs; nil when there is none
	elems  [][]byte // target's elements, when it is an array
	top    []member // the root object's members, in order
}

// pathSeg is one segment of a dot path.
type pathSeg struct {
	name  string
	index int // the array index it names, -1 when it names none (lookupSeg's rule)
}

// member is an object member: its key as written (a JSON string, quotes included) and value.
type member struct{ key, val []byte }

// maxJSONDepth is encoding/json's maxNestingDepth: json.Valid rejects a text nesting
// arrays and objects deeper.
const maxJSONDepth = 10000

// newJSONScan readies a scanner for the record array at the dot path path ("" for the root).
func newJSONScan(path string) *jsonScan {
	s := &jsonScan{}
	if path != "" {
		for seg := range strings.SplitSeq(path, ".") {
			ps := pathSeg{name: seg, index: -1}
			if n, err := strconv.Atoi(seg); err == nil && n >= 0 && seg[0] != '+' {
				ps.index = n
			}
			s.segs = append(s.segs, ps)
		}
	}
	return s
}

// scanFrame is an open array or object.
type scanFrame struct {
	obj     bool
	on      bool // the container is on the records path (its depth's segments match)
	collect bool // the container is the record array: its elements are kept
	idx     int  // arrays: the index of the current element
	start   int  // where the container begins
	// objects: the current member's key
	keyStart, keyEnd int
	keyEsc           bool
}

// validJSON reports whether b is valid JSON, exactly as json.Valid does.
func validJSON(b []byte) bool { return scanJSON(b, nil) }

// scan checks b and, when it is valid, fills root, target, elems and top.
func (s *jsonScan) scan(b []byte) bool { return scanJSON(b, s) }

// scanJSON is the scanner; s is nil when only validity is asked.
func scanJSON(b []byte, s *jsonScan) bool {
	var (
		buf   [32]scanFrame
		st    = buf[:0]
		n     = len(b)
		i     int
		start int
		on    bool
		esc   bool
		f     *scanFrame
	)
	track := s != nil
	if track {
		s.root, s.target, s.elems, s.top = nil, nil, s.elems[:0], s.top[:0]
	}

value: // a value is expected at b[i:], after whitespace
	for i < n && isSpace(b[i]) {
		i++
	}
	if i >= n {
		return false
	}
	start = i
	if track {
		on = s.childOnPath(b, st)
		if on && len(st) <= len(s.segs) {
			// A member on the path came again: the last one is the one lookupPath finds.
			s.target, s.elems = nil, s.elems[:0]
		}
	}
	switch b[i] {
	case '{', '[':
		if len(st) >= maxJSONDepth {
			return false
		}
		obj := b[i] == '{'
		collect := track && on && !obj && len(st) == len(s.segs)
		st = append(st, scanFrame{obj: obj, on: on, collect: collect, start: i})
		i++
		for i < n && isSpace(b[i]) {
			i++
		}
		if i < n && (b[i] == '}' && obj || b[i] == ']' && !obj) {
			i++
			goto closed
		}
		if obj {
			goto key
		}
		goto value
	case '"':
		if i, _ = scanString(b, i); i < 0 {
			return false
		}
	case 't':
		if i+4 > n || b[i+1] != 'r' || b[i+2] != 'u' || b[i+3] != 'e' {
			return false
		}
		i += 4
	case 'f':
		if i+5 > n || b[i+1] != 'a' || b[i+2] != 'l' || b[i+3] != 's' || b[i+4] != 'e' {
			return false
		}
		i += 5
	case 'n':
		if i+4 > n || b[i+1] != 'u' || b[i+2] != 'l' || b[i+3] != 'l' {
			return false
		}
		i += 4
	default:
		if i = scanNumber(b, i); i < 0 {
			return false
		}
	}
	if track {
		s.ended(b, st, start, i, on)
	}
	goto next

closed: // the innermost container ended at b[i-1]
	if track {
		fr := st[len(st)-1]
		s.ended(b, st[:len(st)-1], fr.start, i, fr.on)
	}
	st = st[:len(st)-1]

next: // a value ended at b[i-1]
	for i < n && isSpace(b[i]) {
		i++
	}
	if len(st) == 0 {
		return i == n
	}
	if i >= n {
		return false
	}
	f = &st[len(st)-1]
	switch b[i] {
	case ',':
		i++
		if f.obj {
			goto key
		}
		f.idx++
		goto value
	case '}':
		if !f.obj {
			return false
		}
		i++
		goto closed
	case ']':
		if f.obj {
			return false
		}
		i++
		goto closed
	}
	return false

key: // an object member's key is expected at b[i:], after whitespace
	for i < n && isSpace(b[i]) {
		i++
	}
	if i >= n || b[i] != '"' {
		return false
	}
	f = &st[len(st)-1]
	f.keyStart = i
	if i, esc = scanString(b, i); i < 0 {
		return false
	}
	f.keyEnd, f.keyEsc = i, esc
	for i < n && isSpace(b[i]) {
		i++
	}
	if i >= n || b[i] != ':' {
		return false
	}
	i++
	goto value
}

// childOnPath reports whether the value starting now, a child of the innermost open
// container of st (the root when st is empty), is on the records path.
func (s *jsonScan) childOnPath(b []byte, st []scanFrame) bool {
	d := len(st)
	if d == 0 {
		return true
	}
	p := &st[d-1]
	if !p.on || d > len(s.segs) {
		return false
	}
	seg := &s.segs[d-1]
	if !p.obj {
		return seg.index >= 0 && p.idx == seg.index
	}
	k := b[p.keyStart:p.keyEnd]
	if !p.keyEsc {
		return string(k[1:len(k)-1]) == seg.name
	}
	name, ok := keyName(k)
	return ok && string(name) == seg.name
}

// ended notes the value b[start:end], a child of the innermost container of st (the root
// when st is empty); on says it is on the records path.
func (s *jsonScan) ended(b []byte, st []scanFrame, start, end int, on bool) {
	d := len(st)
	if on && d == len(s.segs) {
		s.target = b[start:end]
	}
	if d == 0 {
		s.root = b[start:end]
		return
	}
	p := &st[d-1]
	if p.collect {
		s.elems = append(s.elems, b[start:end])
	}
	if d == 1 && p.obj {
		s.top = append(s.top, member{key: b[p.keyStart:p.keyEnd], val: b[start:end]})
	}
}

// lookup is lookupPath(s.root, path), the first segment found among the root's members.
func (s *jsonScan) lookup(path string) ([]byte, bool) {
	if len(s.root) == 0 || s.root[0] != '{' {
		return lookupPath(s.root, path)
	}
	first, rest, nested := strings.Cut(path, ".")
	var v []byte
	for _, m := range s.top {
		if name, ok := keyName(m.key); ok && string(name) == first {
			v = m.val // the last duplicate wins, as in encoding/json
		}
	}
	if v == nil {
		return nil, false
	}
	if !nested {
		return v, true
	}
	return lookupPath(v, rest)
}

// strPlain marks the bytes a JSON string holds as they are: not '"', '\\' or a control
// character. Bytes from 0x80 are accepted whatever they spell, as json.Valid does.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// hexDigit marks the hexadecimal digits.
var hexDigit = func() (t [256]bool) {
	for _, c := range "0123456789abcdefABCDEF" {
		t[c] = true
	}
	return t
}()

// scanString checks the JSON string starting at b[i] (a '"') and returns the index just
// past it, and whether it has escapes; -1 when it is not a valid string.
func scanString(b []byte, i int) (int, bool) {
	n := len(b)
	esc := false
	i++
	for {
		for i+4 <= n && strPlain[b[i]] && strPlain[b[i+1]] && strPlain[b[i+2]] && strPlain[b[i+3]] {
			i += 4
		}
		for i < n && strPlain[b[i]] {
			i++
		}
		if i >= n {
			return -1, esc
		}
		switch b[i] {
		case '"':
			return i + 1, esc
		case '\\':
			esc = true
			if i+1 >= n {
				return -1, esc
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > n || !hexDigit[b[i+2]] || !hexDigit[b[i+3]] || !hexDigit[b[i+4]] || !hexDigit[b[i+5]] {
					return -1, esc
				}
				i += 6
			default:
				return -1, esc
			}
		default: // a control character
			return -1, esc
		}
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber checks the JSON number starting at b[i] and returns the index just past it;
// -1 when there is none. What follows it is the caller's to check.
func scanNumber(b []byte, i int) int {
	n := len(b)
	if b[i] == '-' {
		i++
		if i >= n {
			return -1
		}
	}
	switch {
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i++
		for i < n && isDigit(b[i]) {
			i++
		}
	default:
		return -1
	}
	if i < n && b[i] == '.' {
		i++
		if i >= n || !isDigit(b[i]) {
			return -1
		}
		for i < n && isDigit(b[i]) {
			i++
		}
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= n || !isDigit(b[i]) {
			return -1
		}
		for i < n && isDigit(b[i]) {
			i++
		}
	}
	return i
}
