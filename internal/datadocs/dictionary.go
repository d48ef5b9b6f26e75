// Package datadocs reads the data dictionary, docs/tables.md: per published table its grain,
// its key and its columns with their types and meanings. It is the one place column
// descriptions live: the DuckDB export writes them as COMMENT ON (so BI tools show them) and
// `segpipe docs` renders them, both from this reading.
package datadocs

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/segpipe/segpipe/docs"
)

// Column is one published column as the dictionary describes it.
type Column struct {
	Name string
	// Type is the DuckDB type as written (BIGINT, VARCHAR[], ...).
	Type string
	// Meaning is the description in markdown, as written in the row; Description is its
	// plain text.
	Meaning string
	// Line is the dictionary line of the column's row.
	Line int
}

// Description is the column's meaning as plain text (Plain), what COMMENT ON writes.
func (c Column) Description() string { return Plain(c.Meaning) }

// Table is one published table of the dictionary.
type Table struct {
	Name string
	// Section is the heading of the section that documents the table.
	Section string
	// Grain is the "Grain:" paragraph, without the word, in markdown.
	Grain string
	// Key are the columns of its "Key (<table>): `a`, `b`" line; Surrogate is set when the
	// line names `row_key` as its surrogate.
	Key       []string
	Surrogate bool
	Columns   []Column
	// Line is the dictionary line of the table's Key line.
	Line int
}

// Column returns the table's column called name.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Comment is the table's description as plain text, what COMMENT ON TABLE writes: its grain
// and its key.
func (t *Table) Comment() string {
	key := "Key: " + strings.Join(t.Key, ", ")
	if t.Surrogate {
		key += " (row_key is its surrogate)"
	}
	return "Grain: " + Plain(t.Grain) + " " + key + "."
}

// Dictionary is the reading of docs/tables.md.
type Dictionary struct {
	// Name is where the text came from, for messages.
	Name   string
	tables map[string]*Table
	names  []string
}

// Table returns the documented table called name.
func (d *Dictionary) Table(name string) (*Table, bool) {
	t, ok := d.tables[name]
	return t, ok
}

// Tables returns every documented table, in the order of the dictionary.
func (d *Dictionary) Tables() []*Table {
	out := make([]*Table, len(d.names))
	for i, n := range d.names {
		out[i] = d.tables[n]
	}
	return out
}

var (
	builtinOnce sync.Once
	builtin     *Dictionary
	builtinErr  error
)

// Builtin is the dictionary the binary embeds (docs.Tables), read once.
func Builtin() (*Dictionary, error) {
	builtinOnce.Do(func() { builtin, builtinErr = Parse(docs.TablesName, docs.Tables) })
	return builtin, builtinErr
}

var (
	heading    = regexp.MustCompile(`^#{1,6} +(.*)$`)
	keyLine    = regexp.MustCompile("^Key \\(([a-z][a-z0-9_]*)\\): (.*)$")
	keyColumns = regexp.MustCompile("^`[a-z_][a-z0-9_]*`(, `[a-z_][a-z0-9_]*`)*$")
	columnName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	// A DuckDB type: a name with an optional (precision, scale), or a STRUCT of named fields,
	// either as a list ([]) or a list of lists.
	columnType  = regexp.MustCompile(`^([A-Z][A-Z0-9_ ]*(\([0-9, ]+\))?|STRUCT\((("[a-z_]+"|[a-z_]+) [A-Z][A-Z0-9_ ]*(\[\])*(, )?)+\))(\[\])*$`)
	tableHeader = regexp.MustCompile(`^\|\s*column\s*\|\s*type\s*\|\s*meaning\s*\|$`)
	separator   = regexp.MustCompile(`^\|(\s*:?-+:?\s*\|)+$`)
)

// section is what one heading's section says, gathered until the next heading.
type section struct {
	heading string
	grain   string
	keys    []*Table
	columns []Column
	table   int // line of its column table's header, 0 when it has none
}

// Parse reads a dictionary in the form of docs/tables.md. A section (the text under a
// heading) documents a table with a "Key (<table>): `a`, `b`." line; it must also have a
// "Grain:" paragraph and one column table (header "| column | type | meaning |"), which
// describes every table whose Key line the section holds. A row may list several columns
// ("| tier, tier_name | INTEGER, VARCHAR | ... |": one type for all of them, or one each).
// A column table of a section without a Key line (an internal model) is checked the same way
// but describes no published table. Errors name the line.
func Parse(name, text string) (*Dictionary, error) {
	d := &Dictionary{Name: name, tables: map[string]*Table{}}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var sec section
	inGrain := false
	end := func() error {
		if len(sec.keys) == 0 {
			return nil
		}
		first := sec.keys[0]
		if sec.table == 0 {
			return fmt.Errorf("%s:%d: Key (%s) is in section %q, which has no column table (| column | type | meaning |)", name, first.Line, first.Name, sec.heading)
		}
		if sec.grain == "" {
			return fmt.Errorf("%s:%d: Key (%s) is in section %q, which has no \"Grain:\" paragraph", name, first.Line, first.Name, sec.heading)
		}
		for _, t := range sec.keys {
			t.Section, t.Grain, t.Columns = sec.heading, sec.grain, slices.Clone(sec.columns)
			for _, k := range t.Key {
				if _, ok := t.Column(k); !ok {
					return fmt.Errorf("%s:%d: Key (%s) names %s, which the column table of line %d has no row for", name, t.Line, t.Name, k, sec.table)
				}
			}
			if _, ok := t.Column("row_key"); t.Surrogate && !ok {
				return fmt.Errorf("%s:%d: Key (%s) names row_key its surrogate, which the column table of line %d has no row for", name, t.Line, t.Name, sec.table)
			}
		}
		return nil
	}
	for i := 0; i < len(lines); i++ {
		line, n := strings.TrimRight(lines[i], " \t"), i+1
		if m := heading.FindStringSubmatch(line); m != nil {
			if err := end(); err != nil {
				return nil, err
			}
			sec, inGrain = section{heading: strings.TrimSpace(m[1])}, false
			continue
		}
		if line == "" || strings.HasPrefix(line, "|") || strings.HasPrefix(line, "Key (") {
			inGrain = false
		}
		switch {
		case strings.HasPrefix(line, "Grain:"):
			if sec.grain != "" {
				return nil, fmt.Errorf("%s:%d: a second \"Grain:\" paragraph in section %q", name, n, sec.heading)
			}
			sec.grain, inGrain = strings.TrimSpace(strings.TrimPrefix(line, "Grain:")), true
		case inGrain:
			sec.grain += " " + strings.TrimSpace(line)
		case strings.HasPrefix(line, "Key ("):
			t, err := parseKey(name, n, line)
			if err != nil {
				return nil, err
			}
			if other, dup := d.tables[t.Name]; dup {
				return nil, fmt.Errorf("%s:%d: Key (%s) again (first on line %d)", name, n, t.Name, other.Line)
			}
			d.tables[t.Name] = t
			d.names = append(d.names, t.Name)
			sec.keys = append(sec.keys, t)
		case tableHeader.MatchString(line):
			if sec.table != 0 {
				return nil, fmt.Errorf("%s:%d: a second column table in section %q (the first is on line %d): one table of columns a section", name, n, sec.heading, sec.table)
			}
			sec.table = n
			if i+1 >= len(lines) || !separator.MatchString(strings.TrimSpace(lines[i+1])) {
				return nil, fmt.Errorf("%s:%d: the column table's header is not followed by a |---|---|---| line", name, n)
			}
			i++
			seen := map[string]int{}
			for i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i+1]), "|") {
				i++
				cols, err := parseRow(name, i+1, strings.TrimSpace(lines[i]))
				if err != nil {
					return nil, err
				}
				for _, c := range cols {
					if l, dup := seen[c.Name]; dup {
						return nil, fmt.Errorf("%s:%d: column %s has a row already (line %d)", name, c.Line, c.Name, l)
					}
					seen[c.Name] = c.Line
					sec.columns = append(sec.columns, c)
				}
			}
		}
	}
	if err := end(); err != nil {
		return nil, err
	}
	return d, nil
}

// parseKey reads "Key (t): `a`, `b`; `row_key` is its surrogate." or "Key (t): `a`.".
func parseKey(name string, n int, line string) (*Table, error) {
	m := keyLine.FindStringSubmatch(line)
	if m == nil {
		return nil, fmt.Errorf("%s:%d: %q: a key line reads \"Key (<table>): `a`, `b`.\"", name, n, line)
	}
	t := &Table{Name: m[1], Line: n}
	rest := m[2]
	if r, ok := strings.CutSuffix(rest, "; `row_key` is its surrogate."); ok {
		rest, t.Surrogate = r, true
	} else if r, ok := strings.CutSuffix(rest, "."); ok {
		rest = r
	} else {
		return nil, fmt.Errorf("%s:%d: Key (%s): the line ends with \".\" or \"; `row_key` is its surrogate.\"", name, n, t.Name)
	}
	if !keyColumns.MatchString(rest) {
		return nil, fmt.Errorf("%s:%d: Key (%s): %q: give the key columns in backquotes, comma-separated", name, n, t.Name, rest)
	}
	for _, c := range strings.Split(rest, ", ") {
		t.Key = append(t.Key, strings.Trim(c, "`"))
	}
	if t.Surrogate != (len(t.Key) > 1) {
		return nil, fmt.Errorf("%s:%d: Key (%s): a key of several columns has `row_key` as its surrogate, a key of one column none", name, n, t.Name)
	}
	return t, nil
}

// parseRow reads one row of a column table: names, types and the meaning.
func parseRow(name string, n int, row string) ([]Column, error) {
	if !strings.HasSuffix(row, "|") || len(row) < 2 {
		return nil, fmt.Errorf("%s:%d: a column row starts and ends with |", name, n)
	}
	cells := strings.Split(strings.ReplaceAll(row[1:len(row)-1], `\|`, "\x00"), "|")
	for i := range cells {
		cells[i] = strings.ReplaceAll(cells[i], "\x00", `\|`)
	}
	if len(cells) != 3 {
		return nil, fmt.Errorf("%s:%d: a column row has three cells (column | type | meaning), this one %d (a | inside a meaning? write it as \\|)", name, n, len(cells))
	}
	names := splitList(cells[0])
	types := splitList(cells[1])
	meaning := strings.TrimSpace(cells[2])
	for _, c := range names {
		if !columnName.MatchString(c) {
			return nil, fmt.Errorf("%s:%d: %q is not a column name (lower-case, comma-separated)", name, n, c)
		}
	}
	for _, t := range types {
		if !columnType.MatchString(t) {
			return nil, fmt.Errorf("%s:%d: %q is not a DuckDB type (BIGINT, DOUBLE, VARCHAR[], ...)", name, n, t)
		}
	}
	if len(names) == 0 || (len(types) != 1 && len(types) != len(names)) {
		return nil, fmt.Errorf("%s:%d: %d columns and %d types: give one type for all of them or one each", name, n, len(names), len(types))
	}
	out := make([]Column, len(names))
	for i, c := range names {
		typ := types[0]
		if len(types) > 1 {
			typ = types[i]
		}
		out[i] = Column{Name: c, Type: typ, Meaning: meaning, Line: n}
	}
	return out, nil
}

// splitList splits a cell at its commas outside parentheses (DECIMAL(38, 6) is one type).
func splitList(cell string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range cell {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(cell[start:i]))
				start = i + 1
			}
		}
	}
	if s := strings.TrimSpace(cell[start:]); s != "" || len(out) > 0 {
		out = append(out, s)
	}
	return out
}

var (
	link     = regexp.MustCompile(`\[([^\]]+)\]\([^)]*\)`)
	emphasis = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

// Plain is markdown text as plain text, for a database comment: a link becomes its text,
// backquotes and emphasis marks go, "\|" becomes "|"; the words stay as written.
func Plain(md string) string {
	s := link.ReplaceAllString(md, "$1")
	s = emphasis.ReplaceAllString(s, "$1")
	s = strings.ReplaceAll(s, "`", "")
	s = strings.ReplaceAll(s, `\|`, "|")
	return strings.Join(strings.Fields(s), " ")
}
