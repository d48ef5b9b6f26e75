package extract

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/segpipe/segpipe/internal/config"
)

// The lineage columns every landed dataset carries after its configured columns.
const (
	// RawColumn holds the record's original text: the JSON object or the CSV row.
	RawColumn = "_raw"
	// PageColumn is the 1-based number of the page the record came on, in request order.
	PageColumn = "_page"
	// RunIDColumn is the id of the run that landed the record.
	RunIDColumn = "_run_id"
	// ExtractedAtColumn is when the record's page was received (UTC).
	ExtractedAtColumn = "_extracted_at"
)

// colKind is a configured column type.
type colKind uint8

const (
	kindString colKind = iota
	kindInt64
	kindFloat64
	kindBool
	kindTimestamp
	kindDate
)

var kindNames = [...]string{"string", "int64", "float64", "bool", "timestamp", "date"}

func (k colKind) String() string { return kindNames[k] }

// notA is the end of a reason: "is not an int64".
func (k colKind) notA() string {
	switch k {
	case kindInt64:
		return "is not an int64"
	default:
		return "is not a " + k.String()
	}
}

func kindOf(t string) (colKind, bool) {
	for i, n := range kindNames {
		if n == t {
			return colKind(i), true
		}
	}
	return 0, false
}

// timestampUTC is the Arrow type of timestamp columns: microseconds, UTC.
var timestampUTC = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

func (k colKind) arrowType() arrow.DataType {
	switch k {
	case kindInt64:
		return arrow.PrimitiveTypes.Int64
	case kindFloat64:
		return arrow.PrimitiveTypes.Float64
	case kindBool:
		return arrow.FixedWidthTypes.Boolean
	case kindTimestamp:
		return timestampUTC
	case kindDate:
		return arrow.FixedWidthTypes.Date32
	default:
		return arrow.BinaryTypes.String
	}
}

// LandedSchema is the Arrow schema an entity lands with: its configured columns in order
// (string→utf8, int64, float64, bool, timestamp→timestamp[us, UTC], date→date32), then
// _raw (utf8), _page (int32), _run_id (utf8) and _extracted_at (timestamp[us, UTC]).
// Every field is nullable.
func LandedSchema(ent *config.Entity) (*arrow.Schema, error) {
	fields := make([]arrow.Field, 0, len(ent.Columns)+4)
	for _, c := range ent.Columns {
		k, ok := kindOf(c.Type)
		if !ok {
			return nil, fmt.Errorf("column %s: unknown type %q (types: %s)", c.Name, c.Type, strings.Join(config.ColumnTypes, ", "))
		}
		if strings.HasPrefix(c.Name, "_") {
			return nil, fmt.Errorf("column %s: names starting with _ are reserved for lineage columns", c.Name)
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: k.arrowType(), Nullable: true})
	}
	fields = append(fields,
		arrow.Field{Name: RawColumn, Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: PageColumn, Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: RunIDColumn, Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: ExtractedAtColumn, Type: timestampUTC, Nullable: true},
	)
	return arrow.NewSchema(fields, nil), nil
}

// cell is one converted value waiting to be appended to its column.
type cell struct {
	null bool
	i    int64   // int64; bool as 0/1; timestamp as µs since the epoch; date as days
	f    float64 // float64
	b    []byte  // string, when it points into the page
	s    string  // string, when decoded (isS)
	isS  bool
}

func nullCell() cell { return cell{null: true} }

func (c cell) text() string {
	if c.isS {
		return c.s
	}
	return string(c.b)
}

// fromJSON converts a JSON value (nil when the member is absent) to a column value, or
// says why it does not fit ("is not an int64 (it has a fraction)").
func fromJSON(k colKind, v []byte) (cell, string) {
	if len(v) == 0 || v[0] == 'n' {
		return nullCell(), ""
	}
	switch v[0] {
	case '"':
		if k == kindString {
			if inner := v[1 : len(v)-1]; bytes.IndexByte(inner, '\\') < 0 {
				return cell{b: inner}, ""
			}
		}
		s, err := jsonString(v)
		if err != nil {
			return cell{}, k.notA() + " (bad string escape)"
		}
		return fromText(k, s)
	case 't', 'f':
		switch k {
		case kindBool:
			if v[0] == 't' {
				return cell{i: 1}, ""
			}
			return cell{i: 0}, ""
		case kindString:
			return cell{b: v}, ""
		}
		return cell{}, k.notA()
	case '{', '[':
		return cell{}, k.notA() + " (it is a JSON " + jsonKind(v) + ")"
	}
	// A number.
	switch k {
	case kindString:
		return cell{b: v}, ""
	case kindInt64:
		n, p := parseInt64(string(v))
		if p != "" {
			return cell{}, p
		}
		return cell{i: n}, ""
	case kindFloat64:
		f, p := parseFloat64(string(v))
		if p != "" {
			return cell{}, p
		}
		return cell{f: f}, ""
	case kindTimestamp:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return cell{}, "is not a timestamp (a number must be whole Unix seconds)"
		}
		if n > math.MaxInt64/1_000_000 || n < math.MinInt64/1_000_000 {
			return cell{}, "is not a timestamp (Unix seconds out of range)"
		}
		return cell{i: n * 1_000_000}, ""
	}
	return cell{}, k.notA()
}

// fromText converts text (a CSV field, or a JSON string for a non-string column) to a
// column value. Empty text is null, except that a JSON "" stays "" in a string column.
func fromText(k colKind, s string) (cell, string) {
	if k == kindString {
		return cell{s: s, isS: true}, ""
	}
	t := strings.TrimSpace(s)
	if t == "" {
		return nullCell(), ""
	}
	switch k {
	case kindInt64:
		n, p := parseInt64(t)
		if p != "" {
			return cell{}, p
		}
		return cell{i: n}, ""
	case kindFloat64:
		f, p := parseFloat64(t)
		if p != "" {
			return cell{}, p
		}
		return cell{f: f}, ""
	case kindBool:
		switch {
		case strings.EqualFold(t, "true") || t == "1":
			return cell{i: 1}, ""
		case strings.EqualFold(t, "false") || t == "0":
			return cell{i: 0}, ""
		}
		return cell{}, "is not a bool (true, false, 1 or 0)"
	case kindTimestamp:
		tm, ok := parseTime(t)
		if !ok {
			return cell{}, "is not a timestamp (RFC 3339 or YYYY-MM-DD)"
		}
		return cell{i: tm.UnixMicro()}, ""
	case kindDate:
		tm, ok := parseTime(t)
		if !ok {
			return cell{}, "is not a date (YYYY-MM-DD or RFC 3339)"
		}
		return cell{i: floorDiv(tm.Unix(), 86400)}, ""
	}
	return cell{}, k.notA()
}

// parseTime reads RFC 3339 (fraction optional, Z or an offset; a space may stand for the
// T) as UTC, or a YYYY-MM-DD date as midnight UTC.
func parseTime(t string) (time.Time, bool) {
	if len(t) == 10 {
		d, err := time.Parse(time.DateOnly, t)
		return d, err == nil
	}
	if len(t) > 10 && t[10] == ' ' {
		t = t[:10] + "T" + t[11:]
	}
	tm, err := time.Parse(time.RFC3339Nano, t)
	if err != nil {
		return time.Time{}, false
	}
	return tm.UTC(), true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// parseInt64 reads a decimal integer. A decimal point or exponent is accepted only when
// the value is whole and exactly representable (12.0, 1e3).
func parseInt64(t string) (int64, string) {
	n, err := strconv.ParseInt(t, 10, 64)
	if err == nil {
		return n, ""
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, "is not an int64 (out of range)"
	}
	if !isDecimal(t) {
		return 0, "is not an int64"
	}
	if i := strings.IndexByte(t, '.'); i >= 0 && !strings.ContainsAny(t, "eE") {
		if strings.Trim(t[i+1:], "0") != "" {
			return 0, "is not an int64 (it has a fraction)"
		}
		n, err := strconv.ParseInt(t[:i], 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return 0, "is not an int64 (out of range)"
		}
		if err == nil {
			return n, ""
		}
		if d := strings.TrimLeft(t[:i], "+-"); d == "" { // ".0", "-.0"
			return 0, ""
		}
		return 0, "is not an int64"
	}
	f, err := strconv.ParseFloat(t, 64)
	switch {
	case err != nil || math.IsInf(f, 0):
		return 0, "is not an int64 (out of range)"
	case f != math.Trunc(f):
		return 0, "is not an int64 (it has a fraction)"
	case math.Abs(f) > 1<<53:
		return 0, "is not an int64 (too large to be exact in exponent form)"
	}
	return int64(f), ""
}

// parseFloat64 reads a finite decimal number (no NaN, Inf or hex forms).
func parseFloat64(t string) (float64, string) {
	if !isDecimal(t) {
		return 0, "is not a float64"
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, "is not a float64 (out of range)"
	}
	return f, ""
}

// isDecimal reports whether t is [+-]digits[.digits][(e|E)[+-]digits] with a digit in the
// mantissa.
func isDecimal(t string) bool {
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	digits := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
		digits++
	}
	if i < len(t) && t[i] == '.' {
		i++
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		exp := 0
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(t)
}

// snippet shortens a value for a quarantine reason.
func snippet(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
