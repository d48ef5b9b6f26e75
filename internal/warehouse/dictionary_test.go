package warehouse

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/datadocs"
	segsql "github.com/segpipe/segpipe/sql"
)

// builtMarts builds the basic fixture and returns the session with every built-in mart.
func builtMarts(t *testing.T) (*Session, []Model) {
	t.Helper()
	s := buildFixture(t, "basic", "2025-06-30", nil)
	marts, err := ReadMarts(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	if len(marts) < 19 {
		t.Fatalf("read %d marts", len(marts))
	}
	return s, marts
}

// martColumns lists table's columns as built, in order, with their DuckDB types.
func martColumns(t testing.TB, s *Session, database, table string) (names []string, types map[string]string) {
	t.Helper()
	rows, err := s.Query(context.Background(), "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND table_name = ? ORDER BY column_index", database, table)
	if err != nil {
		t.Fatal(err)
	}
	types = map[string]string{}
	for _, r := range rows {
		n := fmt.Sprint(r.Values[0])
		names = append(names, n)
		types[n] = fmt.Sprint(r.Values[1])
	}
	return names, types
}

// docs/tables.md is the one place a published column is described: every column of every
// mart, as DuckDB builds it, has one row there with its DuckDB type and a meaning, and the
// table's key is the mart's -- key: header; no row names a column the mart does not have.
func TestTablesDocDescribesEveryMartColumn(t *testing.T) {
	dict, err := datadocs.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s, marts := builtMarts(t)
	for _, m := range marts {
		checkDocumented(t, dict, s, m)
	}
}

func checkDocumented(t testing.TB, dict *datadocs.Dictionary, s *Session, m Model) {
	t.Helper()
	doc, ok := dict.Table(m.Name)
	if !ok {
		t.Errorf("sql/%s: %s has no section with a \"Key (%s): ...\" line and a column table", m.Path, dict.Name, m.Name)
		return
	}
	if !slices.Equal(doc.Key, m.Key) {
		t.Errorf("%s:%d: Key (%s) is %v, sql/%s's -- key: header %v", dict.Name, doc.Line, m.Name, doc.Key, m.Path, m.Key)
	}
	names, types := martColumns(t, s, "memory", m.Name)
	if len(names) == 0 {
		t.Errorf("%s was not built", m.Name)
		return
	}
	for _, n := range names {
		c, ok := doc.Column(n)
		switch {
		case !ok:
			t.Errorf("%s: %s.%s (%s) has no row in the column table of section %q", dict.Name, m.Name, n, types[n], doc.Section)
		case c.Description() == "":
			t.Errorf("%s:%d: %s.%s has no meaning", dict.Name, c.Line, m.Name, n)
		case c.Type != types[n]:
			t.Errorf("%s:%d: %s.%s is documented as %s, DuckDB builds %s", dict.Name, c.Line, m.Name, n, c.Type, types[n])
		}
	}
	for _, c := range doc.Columns {
		if _, ok := types[c.Name]; !ok {
			t.Errorf("%s:%d: %s has no column %s (it has %s)", dict.Name, c.Line, m.Name, c.Name, strings.Join(names, ", "))
		}
	}
}

// The check fails on a column without a meaning and on a row of a column the mart lacks.
func TestTablesDocCheckFailsOnAMissingMeaning(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Exec(ctx, "CREATE TABLE m AS SELECT 1 AS a, 'x' AS b"); err != nil {
		t.Fatal(err)
	}
	dict, err := datadocs.Parse("t.md", "## m\n\nGrain: g.\nKey (m): `a`.\n\n| column | type | meaning |\n|---|---|---|\n| a | INTEGER | the a |\n| b | VARCHAR | |\n| c | DATE | gone |\n")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{TB: t}
	checkDocumented(rec, dict, s, Model{Name: "m", Path: "marts/m.sql", Key: []string{"a"}})
	want := []string{"t.md:9: m.b has no meaning", "t.md:10: m has no column c (it has a, b)"}
	if !slices.Equal(rec.errors, want) {
		t.Errorf("errors %q, want %q", rec.errors, want)
	}
}

// recorder is a testing.TB that keeps the errors instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Helper() {}

// The exported segments.duckdb carries the dictionary as comments: each mart's COMMENT is its
// grain and key, each column's its meaning as plain text, exactly as docs/tables.md says.
func TestExportDatabaseCommentsFromTheDictionary(t *testing.T) {
	ctx := context.Background()
	dict, err := datadocs.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	s, marts := builtMarts(t)
	var names []string
	for _, m := range marts {
		names = append(names, m.Name)
	}
	file := filepath.Join(t.TempDir(), "segments.duckdb")
	if err := s.ExportDatabase(ctx, names, file); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Exec(ctx, "ATTACH "+quotePath(file)+" AS bi (READ_ONLY)"); err != nil {
		t.Fatal(err)
	}
	tables := rowsBy(t, r, "SELECT table_name, comment FROM duckdb_tables() WHERE database_name = 'bi'")
	columns := rowsBy(t, r, "SELECT table_name || '.' || column_name, comment FROM duckdb_columns() WHERE database_name = 'bi'")
	if len(tables) != len(marts) {
		t.Errorf("exported %d tables, want %d", len(tables), len(marts))
	}
	n := 0
	for _, m := range marts {
		doc, ok := dict.Table(m.Name)
		if !ok {
			t.Errorf("%s: not documented", m.Name)
			continue
		}
		if got := tables[m.Name].Get("comment"); got != doc.Comment() {
			t.Errorf("COMMENT ON TABLE %s = %q, want %q", m.Name, got, doc.Comment())
		}
		for _, c := range doc.Columns {
			n++
			if got := columns[m.Name+"."+c.Name].Get("comment"); got != c.Description() {
				t.Errorf("COMMENT ON COLUMN %s.%s = %q, want %q (%s:%d)", m.Name, c.Name, got, c.Description(), dict.Name, c.Line)
			}
		}
	}
	if n != len(columns) {
		t.Errorf("%d documented columns, %d exported", n, len(columns))
	}
	if c := columns["tier_summary.tier_name"].Get("comment"); c == nil || strings.ContainsAny(fmt.Sprint(c), "`*") {
		t.Errorf("tier_summary.tier_name comment %q: want plain text", c)
	}
}
