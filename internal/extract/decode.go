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
	// cursor is the next cursor found at next_cursor_path; "" when absent, null or empty.
	cursor string
	// links are the response's Link header values.
	links []string
}

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
	default:
		err = decodeJSONPage(p, ent)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// decodeJSONPage finds the record array (the body, or the value at records_path) and the
// next cursor. A body that is not valid JSON is transient: it was most likely cut off.
func decodeJSONPage(p *page, ent *config.Entity) error {
	body := p.body
	if !json.Valid(body) {
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
	root := bytes.TrimSpace(body)
	arr := root
	if ent.RecordsPath != "" {
		v, ok := lookupPath(root, ent.RecordsPath)
		if !ok {
			return &permanentError{fmt.Errorf("records_path %q is not in the response body (a JSON %s)", ent.RecordsPath, jsonKind(root))}
		}
		arr = v
	}
	switch {
	case arr[0] == 'n': // null: no records
	case arr[0] != '[' && ent.RecordsPath != "":
		return &permanentError{fmt.Errorf("records_path %q is a JSON %s, not an array", ent.RecordsPath, jsonKind(arr))}
	case arr[0] != '[':
		return &permanentError{fmt.Errorf("response body is a JSON %s, not an array; set records_path to the dot path of the record array", jsonKind(arr))}
	default:
		eachElem(arr, func(elem []byte) {
			p.records = append(p.records, rawRecord{raw: elem})
		})
	}
	if ent.Pagination.Type == "cursor" {
		v, ok := lookupPath(root, ent.Pagination.NextCursorPath)
		if ok {
			switch v[0] {
			case 'n':
			case '"':
				s, err := jsonString(v)
				if err != nil {
					return &permanentError{fmt.Errorf("next_cursor_path %q: %w", ent.Pagination.NextCursorPath, err)}
				}
				p.cursor = s
			case '{', '[', 't', 'f':
				return &permanentError{fmt.Errorf("next_cursor_path %q is a JSON %s; a cursor is a string or a number", ent.Pagination.NextCursorPath, jsonKind(v))}
			default: // a number: sent as written
				p.cursor = string(v)
			}
		}
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

// The functions below walk JSON already checked by json.Valid, so they need no error paths.

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

// lookupPath returns the value at a dot path (a.b.c) of nested objects.
func lookupPath(root []byte, path string) ([]byte, bool) {
	cur := root
	for seg := range strings.SplitSeq(path, ".") {
		if len(cur) == 0 || cur[0] != '{' {
			return nil, false
		}
		var found []byte
		eachField(cur, func(key, val []byte) {
			if name, ok := keyName(key); ok && string(name) == seg {
				found = val // the last duplicate wins, as in encoding/json
			}
		})
		if found == nil {
			return nil, false
		}
		cur = found
	}
	return cur, true
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
