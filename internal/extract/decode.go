package extract

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

// page is one decoded response: its records, each kept as its exact bytes, and what the
// paginator needs to find the next page.
type page struct {
	num       int
	url       *url.URL
	fetchedAt time.Time
	body      []byte
	records   []rawRecord
	// header is the CSV header row (csv only).
	header []string
	// cursor is the next cursor found at next_cursor_path or in next_cursor_header; "" when
	// absent, null, empty (or the header's literal "null").
	cursor string
	// nextURL is the next page's URL found at next_url_path; "" when absent, null or empty.
	nextURL string
	// more is what has_more_path says: moreUnknown when it is not configured or absent.
	more moreFlag
	// end is true when end_path holds true.
	end bool
	// links are the response's Link header values.
	links []string
}

// moreFlag is the tri-state value of has_more_path.
type moreFlag uint8

const (
	moreUnknown moreFlag = iota
	moreYes
	moreNo
)

// rawRecord is one record of a page.
type rawRecord struct {
	// raw is the record's original bytes: the JSON value, or the CSV row without its line
	// terminator. It points into the page body.
	raw []byte
	// fields are the CSV row's fields (csv only).
	fields []string
	// bad says why a CSV row could not be parsed ("" when it could).
	bad string
}

// readPage reads a 2xx response's body and splits it into records.
func readPage(resp *http.Response, ent *config.Entity) (*page, error) {
	p := &page{links: resp.Header.Values("Link")}
	if h := ent.Pagination.NextCursorHeader; h != "" && ent.Pagination.Type == "cursor" {
		if v := strings.TrimSpace(resp.Header.Get(h)); v != "null" {
			p.cursor = v
		}
	}
	if resp.StatusCode == http.StatusNoContent {
		return p, nil
	}
	body, err := readBody(resp)
	if err != nil {
		return nil, err
	}
	p.body = body
	switch ent.Format {
	case "csv":
		err = decodeCSVPage(p)
	case "ndjson":
		err = decodeNDJSONPage(p)
	default:
		err = decodeJSONPage(p, ent)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// decodeJSONPage finds the record array (the body, or the value at records_path) and the
// next cursor. A body that is not valid JSON is transient: it was most likely cut off. One
// pass of jsonScan checks the body as json.Valid does and splits out the records.
func decodeJSONPage(p *page, ent *config.Entity) error {
	body := p.body
	sc := newJSONScan(ent.RecordsPath)
	if !sc.scan(body) {
		var v json.RawMessage
		err := json.Unmarshal(body, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		if len(bytes.TrimSpace(body)) == 0 {
			err = errors.New("empty body")
		}
		return &transientError{fmt.Errorf("response body is not valid JSON (%d bytes): %w", len(body), err)}
	}
	root := sc.root
	arr := sc.target
	if arr == nil {
		return &permanentError{fmt.Errorf("records_path %q is not in the response body (a JSON %s)", ent.RecordsPath, jsonKind(root))}
	}
	switch {
	case arr[0] == 'n': // null: no records
	case arr[0] != '[' && ent.RecordsPath != "":
		return &permanentError{fmt.Errorf("records_path %q is a JSON %s, not an array", ent.RecordsPath, jsonKind(arr))}
	case arr[0] != '[':
		return &permanentError{fmt.Errorf("response body is a JSON %s, not an array; set records_path to the dot path of the record array", jsonKind(arr))}
	case len(sc.elems) > 0:
		p.records = make([]rawRecord, len(sc.elems))
		for i, e := range sc.elems {
			p.records[i].raw = e
		}
	}
	return decodeSignals(p, sc.lookup, ent.Pagination)
}

// decodeSignals reads what the body says about the next page: the cursor, the next URL
// and the has_more / end flags. lookup finds a dot path's value in the body (lookupPath).
func decodeSignals(p *page, lookup func(path string) ([]byte, bool), pg config.Pagination) error {
	if pg.Type == "cursor" && pg.NextCursorPath != "" {
		s, err := scalarAt(lookup, pg.NextCursorPath, "next_cursor_path", "a cursor")
		if err != nil {
			return err
		}
		p.cursor = s
	}
	if pg.Type == "next_url" && pg.NextURLPath != "" {
		s, err := scalarAt(lookup, pg.NextURLPath, "next_url_path", "a URL")
		if err != nil {
			return err
		}
		p.nextURL = s
	}
	if pg.HasMorePath != "" {
		b, ok, err := boolAt(lookup, pg.HasMorePath, "has_more_path")
		if err != nil {
			return err
		}
		if ok {
			p.more = moreNo
			if b {
				p.more = moreYes
			}
		}
	}
	if pg.EndPath != "" {
		b, _, err := boolAt(lookup, pg.EndPath, "end_path")
		if err != nil {
			return err
		}
		p.end = b
	}
	return nil
}

// scalarAt reads a string or number at a dot path; "" when absent, null or empty.
func scalarAt(lookup func(string) ([]byte, bool), path, key, what string) (string, error) {
	v, ok := lookup(path)
	if !ok {
		return "", nil
	}
	switch v[0] {
	case 'n':
		return "", nil
	case '"':
		s, err := jsonString(v)
		if err != nil {
			return "", &permanentError{fmt.Errorf("%s %q: %w", key, path, err)}
		}
		return s, nil
	case '{', '[', 't', 'f':
		return "", &permanentError{fmt.Errorf("%s %q is a JSON %s; %s is a string or a number", key, path, jsonKind(v), what)}
	default: // a number: used as written
		return string(v), nil
	}
}

// boolAt reads a boolean at a dot path (true/false, or the strings "true"/"false"); ok is
// false when it is absent or null.
func boolAt(lookup func(string) ([]byte, bool), path, key string) (val, ok bool, err error) {
	v, found := lookup(path)
	if !found {
		return false, false, nil
	}
	switch string(v) {
	case "null":
		return false, false, nil
	case "true", `"true"`:
		return true, true, nil
	case "false", `"false"`:
		return false, true, nil
	}
	return false, false, &permanentError{fmt.Errorf("%s %q is %s, not a boolean", key, path, snippet(string(v)))}
}

// decodeNDJSONPage splits an NDJSON body into one record per line. Blank lines are
// skipped; a line that is not valid JSON becomes a bad record for the quarantine, except a
// last line with no line end, which means the body was cut off (transient).
func decodeNDJSONPage(p *page) error {
	body := bytes.TrimPrefix(p.body, []byte("\uFEFF"))
	for off := 0; off < len(body); {
		end := bytes.IndexByte(body[off:], '\n')
		terminated := end >= 0
		if !terminated {
			end = len(body) - off
		}
		line := bytes.TrimRight(body[off:off+end], "\r")
		off += end + 1
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) == 0 {
			continue
		}
		if !validJSON(trimmed) {
			if !terminated {
				return &transientError{fmt.Errorf("NDJSON body ends in a line that is not valid JSON and has no line end (cut off?)")}
			}
			p.records = append(p.records, rawRecord{raw: line, bad: "line is not valid JSON"})
			continue
		}
		p.records = append(p.records, rawRecord{raw: trimmed})
	}
	return nil
}

// decodeCSVPage parses a CSV body: a header row, then records. Each record keeps the exact
// bytes of its row. A quoted field left open at the end of the body is transient (the body
// was cut off); other malformed rows are kept as bad records for the quarantine.
func decodeCSVPage(p *page) error {
	body := p.body
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	var prev int64
	for {
		fields, err := r.Read()
		off := r.InputOffset()
		if err == io.EOF {
			break
		}
		raw := csvRowBytes(body[prev:off])
		prev = off
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrQuote) && off >= int64(len(body)) {
				return &transientError{fmt.Errorf("CSV body ends inside a quoted field (cut off?): %w", err)}
			}
			if !errors.As(err, &pe) {
				return &permanentError{err}
			}
			if p.header == nil {
				return &permanentError{fmt.Errorf("CSV header row: %w", err)}
			}
			p.records = append(p.records, rawRecord{raw: raw, bad: "malformed CSV row: " + pe.Err.Error()})
			continue
		}
		if p.header == nil {
			if len(fields) > 0 {
				fields[0] = strings.TrimPrefix(fields[0], "\uFEFF")
			}
			p.header = fields
			continue
		}
		rec := rawRecord{raw: raw, fields: fields}
		if len(fields) != len(p.header) {
			if off >= int64(len(body)) && !bytes.HasSuffix(body, []byte("\n")) {
				// The last row is short and has no line end: the body was cut off.
				return &transientError{fmt.Errorf("CSV body ends in a row of %d fields (the header has %d) with no line end (cut off?)", len(fields), len(p.header))}
			}
			rec.bad = fmt.Sprintf("CSV row has %d fields, the header has %d", len(fields), len(p.header))
		}
		p.records = append(p.records, rec)
	}
	return nil
}

// csvRowBytes trims the blank lines csv.Reader skipped before a row and the row's line
// terminator, leaving the row's own bytes.
func csvRowBytes(b []byte) []byte {
	b = bytes.TrimLeft(b, "\r\n")
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return b
}

// The functions below walk JSON already checked (by jsonScan or json.Valid), so they need
// no error paths.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b)
		}
		j += k
		n := 0
		for m := j - 1; m > i && b[m] == '\\'; m-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}

// valueEnd returns the index just past the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

// eachElem calls fn with every element of the JSON array arr.
func eachElem(arr []byte, fn func(elem []byte)) {
	i := skipSpace(arr, 1)
	if i >= len(arr) || arr[i] == ']' {
		return
	}
	for i < len(arr) {
		i = skipSpace(arr, i)
		e := valueEnd(arr, i)
		fn(arr[i:e])
		i = skipSpace(arr, e)
		if i >= len(arr) || arr[i] != ',' {
			return
		}
		i++
	}
}

// eachField calls fn with the key (a JSON string, quotes included) and value of every
// member of the JSON object obj.
func eachField(obj []byte, fn func(key, val []byte)) {
	i := skipSpace(obj, 1)
	if i >= len(obj) || obj[i] == '}' {
		return
	}
	for i < len(obj) {
		i = skipSpace(obj, i)
		ke := stringEnd(obj, i)
		key := obj[i:ke]
		i = skipSpace(obj, ke) + 1 // ':'
		i = skipSpace(obj, i)
		ve := valueEnd(obj, i)
		fn(key, obj[i:ve])
		i = skipSpace(obj, ve)
		if i >= len(obj) || obj[i] != ',' {
			return
		}
		i++
	}
}

// keyName returns a member key's text; it allocates only for keys with escapes.
func keyName(key []byte) ([]byte, bool) {
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	var s string
	if json.Unmarshal(key, &s) != nil {
		return nil, false
	}
	return []byte(s), true
}

// lookupPath returns the value at a dot path (a.b.c) of nested objects; a segment of
// digits indexes an array (lines.data.0.amount).
func lookupPath(root []byte, path string) ([]byte, bool) {
	cur := root
	for seg := range strings.SplitSeq(path, ".") {
		cur = lookupSeg(cur, seg)
		if cur == nil {
			return nil, false
		}
	}
	return cur, true
}

// lookupSegs is lookupPath with the path already split; nil when a segment is missing.
func lookupSegs(root []byte, segs []string) []byte {
	cur := root
	for _, seg := range segs {
		cur = lookupSeg(cur, seg)
		if cur == nil {
			return nil
		}
	}
	return cur
}

// lookupField is lookupSegs that also says whether the field is absent: a member missing
// from an object on the path. Reaching null, a scalar or the end of an array on the way is a
// null value of a field that is there (a null parent, an empty list), not an absent one.
func lookupField(root []byte, segs []string) (val []byte, absent bool) {
	cur := root
	for _, seg := range segs {
		next := lookupSeg(cur, seg)
		if next == nil {
			return nil, len(cur) > 0 && cur[0] == '{'
		}
		cur = next
	}
	return cur, false
}

// lookupSeg returns the member seg of the object v, or the element seg (digits) of the
// array v; nil when there is none.
func lookupSeg(v []byte, seg string) []byte {
	if len(v) == 0 {
		return nil
	}
	switch v[0] {
	case '{':
		var found []byte
		eachField(v, func(key, val []byte) {
			if name, ok := keyName(key); ok && string(name) == seg {
				found = val // the last duplicate wins, as in encoding/json
			}
		})
		return found
	case '[':
		n, err := strconv.Atoi(seg)
		if err != nil || n < 0 || seg[0] == '+' {
			return nil
		}
		var found []byte
		i := 0
		eachElem(v, func(elem []byte) {
			if i == n {
				found = elem
			}
			i++
		})
		return found
	}
	return nil
}

// jsonString decodes a JSON string value.
func jsonString(v []byte) (string, error) {
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

// jsonKind names the kind of a JSON value for messages.
func jsonKind(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	default:
		return "number"
	}
}
