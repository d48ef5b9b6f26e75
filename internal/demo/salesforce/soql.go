package salesforce

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The SOQL the fake understands, which is what Bulk API 2.0 extracts need:
//
//	SELECT field, field, Parent.Field FROM Object [WHERE cond [AND cond ...]]
//
// where cond is field (=|!=|<>|<|<=|>|>=) literal and a literal is a datetime
// (2026-01-02T03:04:05Z, fraction and offset allowed), a date (2026-01-02), a 'string', a
// number, true, false or null. Anything else is a MALFORMED_QUERY error.

// query is a parsed SOQL query.
type query struct {
	object *sobject
	cols   []int // positions of the selected fields in object.fields
	where  []condition
}

// condition is one comparison of the WHERE clause.
type condition struct {
	col int
	f   field
	op  string
	lit literal
}

// literal is a typed SOQL literal.
type literal struct {
	null bool
	kind fieldKind
	s    string
	n    float64
	t    time.Time
	b    bool
}

// soqlError is a query the org rejects: errorCode and message as Salesforce sends them.
type soqlError struct{ code, msg string }

func (e *soqlError) Error() string { return e.code + ": " + e.msg }

func malformed(format string, args ...any) error {
	return &soqlError{"MALFORMED_QUERY", fmt.Sprintf(format, args...)}
}

type token struct {
	text string
	pos  int
	str  bool // a quoted string literal (text unquoted)
}

var (
	reDateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$`)
	reDate     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == ',' || c == '(' || c == ')':
			out = append(out, token{text: string(c), pos: i})
			i++
		case c == '=' || c == '<' || c == '>' || c == '!':
			j := i + 1
			if j < len(s) && (s[j] == '=' || (c == '<' && s[j] == '>')) {
				j++
			}
			op := s[i:j]
			if op == "!" {
				return nil, malformed("unexpected token: '!' at column %d", i+1)
			}
			out = append(out, token{text: op, pos: i})
			i = j
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '\''; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, malformed("unterminated string literal at column %d", i+1)
			}
			out = append(out, token{text: b.String(), pos: i, str: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r,()=<>!'", rune(s[j])) {
				j++
			}
			out = append(out, token{text: s[i:j], pos: i})
			i = j
		}
	}
	return out, nil
}

// parseQuery parses q against the org's objects (keyed by lower-case name).
func parseQuery(q string, org map[string]*sobject) (*query, error) {
	toks, err := tokenize(q)
	if err != nil {
		return nil, err
	}
	p := 0
	next := func() (token, bool) {
		if p >= len(toks) {
			return token{}, false
		}
		p++
		return toks[p-1], true
	}
	keyword := func(t token, kw string) bool { return !t.str && strings.EqualFold(t.text, kw) }

	t, ok := next()
	if !ok || !keyword(t, "SELECT") {
		return nil, malformed("a query starts with SELECT")
	}
	var names []token
	for {
		t, ok := next()
		if !ok {
			return nil, malformed("unexpected end of query: expecting FROM")
		}
		if t.str || t.text == "," || t.text == "(" {
			return nil, malformed("unexpected token: '%s' at column %d", t.text, t.pos+1)
		}
		names = append(names, t)
		t, ok = next()
		if !ok {
			return nil, malformed("unexpected end of query: expecting FROM")
		}
		if keyword(t, "FROM") {
			break
		}
		if t.text != "," {
			return nil, malformed("unexpected token: '%s' at column %d", t.text, t.pos+1)
		}
	}
	t, ok = next()
	if !ok {
		return nil, malformed("unexpected end of query: expecting an object name after FROM")
	}
	obj, known := org[strings.ToLower(t.text)]
	if !known {
		return nil, &soqlError{"INVALID_TYPE", fmt.Sprintf("\n%s\n%s^\nERROR at Row:1:Column:%d\nsObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", q, strings.Repeat(" ", t.pos), t.pos+1, t.text)}
	}
	out := &query{object: obj}
	for _, n := range names {
		_, col, ok := obj.field(n.text)
		if !ok {
			return nil, noColumn(q, n, obj)
		}
		out.cols = append(out.cols, col)
	}
	t, ok = next()
	if !ok {
		return out, nil
	}
	if !keyword(t, "WHERE") {
		return nil, malformed("unexpected token: '%s' at column %d (the fake supports only SELECT ... FROM ... WHERE ... AND ...)", t.text, t.pos+1)
	}
	for {
		ft, ok1 := next()
		op, ok2 := next()
		lt, ok3 := next()
		if !ok1 || !ok2 || !ok3 {
			return nil, malformed("unexpected end of query in the WHERE clause")
		}
		f, col, ok := obj.field(ft.text)
		if !ok {
			return nil, noColumn(q, ft, obj)
		}
		switch op.text {
		case "=", "!=", "<>", "<", "<=", ">", ">=":
		default:
			return nil, malformed("unexpected token: '%s' at column %d: expecting a comparison operator", op.text, op.pos+1)
		}
		lit, err := parseLiteral(lt, f)
		if err != nil {
			return nil, err
		}
		if lit.null && op.text != "=" && op.text != "!=" && op.text != "<>" {
			return nil, malformed("null can only be compared with = or != (column %d)", lt.pos+1)
		}
		out.where = append(out.where, condition{col: col, f: f, op: op.text, lit: lit})
		t, ok := next()
		if !ok {
			return out, nil
		}
		if !keyword(t, "AND") {
			return nil, malformed("unexpected token: '%s' at column %d (the fake supports only AND between conditions)", t.text, t.pos+1)
		}
	}
}

func noColumn(q string, t token, obj *sobject) error {
	return &soqlError{"INVALID_FIELD", fmt.Sprintf("\n%s\n%s^\nERROR at Row:1:Column:%d\nNo such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", q, strings.Repeat(" ", t.pos), t.pos+1, t.text, obj.name)}
}

func parseLiteral(t token, f field) (literal, error) {
	wrongType := func() (literal, error) {
		return literal{}, &soqlError{"INVALID_FIELD", fmt.Sprintf("value of filter criterion for field '%s' must be of type %s and should not be enclosed in quotes", f.name, f.kind)}
	}
	if !t.str && strings.EqualFold(t.text, "null") {
		return literal{null: true, kind: f.kind}, nil
	}
	switch f.kind {
	case kindString:
		if !t.str {
			return literal{}, &soqlError{"MALFORMED_QUERY", fmt.Sprintf("value of filter criterion for field '%s' must be a string in single quotes, got %s", f.name, t.text)}
		}
		return literal{kind: kindString, s: t.text}, nil
	case kindBool:
		if t.str || (!strings.EqualFold(t.text, "true") && !strings.EqualFold(t.text, "false")) {
			return wrongType()
		}
		return literal{kind: kindBool, b: strings.EqualFold(t.text, "true")}, nil
	case kindNumber:
		n, err := strconv.ParseFloat(t.text, 64)
		if t.str || err != nil {
			return wrongType()
		}
		return literal{kind: kindNumber, n: n}, nil
	case kindDate:
		if t.str || !reDate.MatchString(t.text) {
			return wrongType()
		}
		d, err := time.Parse(dateLayout, t.text)
		if err != nil {
			return wrongType()
		}
		return literal{kind: kindDate, t: d}, nil
	default: // kindDateTime
		if t.str || !reDateTime.MatchString(t.text) {
			return wrongType()
		}
		d, err := time.Parse(time.RFC3339Nano, t.text)
		if err != nil {
			return wrongType()
		}
		return literal{kind: kindDateTime, t: d.UTC()}, nil
	}
}

// match reports whether a record satisfies every condition. A comparison with a null field
// is false, except field = null.
func (q *query) match(rec []string) bool {
	for _, c := range q.where {
		v := rec[c.col]
		if c.lit.null {
			isNull := v == ""
			if (c.op == "=") != isNull {
				return false
			}
			continue
		}
		if v == "" {
			return false
		}
		var cmp int
		switch c.lit.kind {
		case kindString:
			cmp = strings.Compare(strings.ToLower(v), strings.ToLower(c.lit.s))
		case kindBool:
			b := v == "true"
			switch {
			case b == c.lit.b:
				cmp = 0
			case b:
				cmp = 1
			default:
				cmp = -1
			}
		case kindNumber:
			n, _ := strconv.ParseFloat(v, 64)
			cmp = compareFloat(n, c.lit.n)
		case kindDate:
			d, _ := time.Parse(dateLayout, v)
			cmp = d.Compare(c.lit.t)
		default:
			d, _ := time.Parse(dateTimeLayout, v)
			cmp = d.Compare(c.lit.t)
		}
		ok := false
		switch c.op {
		case "=":
			ok = cmp == 0
		case "!=", "<>":
			ok = cmp != 0
		case "<":
			ok = cmp < 0
		case "<=":
			ok = cmp <= 0
		case ">":
			ok = cmp > 0
		case ">=":
			ok = cmp >= 0
		}
		if !ok {
			return false
		}
	}
	return true
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
