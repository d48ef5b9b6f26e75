package sql_test

import (
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/warehouse"
	segsql "github.com/segpipe/segpipe/sql"
)

// docs/tables.md is where a BI user reads a published table: every mart (a table the segment
// job publishes) has a heading there, and every assertion is named in it, by name or by a
// prefix such as assert_tier_*. A new mart or assertion fails here until it is documented.
func TestTablesDocNamesEveryMartAndAssertion(t *testing.T) {
	doc, err := os.ReadFile("../docs/tables.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	headingWords := map[string]bool{}
	for _, h := range regexp.MustCompile(`(?m)^#{2,3} (.*)$`).FindAllStringSubmatch(text, -1) {
		for _, w := range regexp.MustCompile(`[a-z0-9_]+`).FindAllString(h[1], -1) {
			headingWords[w] = true
		}
	}
	var prefixes []string
	for _, m := range regexp.MustCompile(`\b(assert_[a-z0-9_]*)\*`).FindAllStringSubmatch(text, -1) {
		prefixes = append(prefixes, m[1])
	}
	named := func(name string) bool {
		if regexp.MustCompile(`\b` + name + `\b`).MatchString(text) {
			return true
		}
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	marts, err := fs.Glob(segsql.Files, "marts/*.sql")
	if err != nil || len(marts) < 10 {
		t.Fatalf("marts: %v %v", marts, err)
	}
	for _, f := range marts {
		if name := strings.TrimSuffix(path.Base(f), ".sql"); !headingWords[name] {
			t.Errorf("sql/%s: docs/tables.md has no heading for %s (its grain and columns)", f, name)
		}
	}
	tests, err := fs.Glob(segsql.Files, "tests/*.sql")
	if err != nil || len(tests) < 10 {
		t.Fatalf("assertions: %v %v", tests, err)
	}
	for _, f := range tests {
		if name := strings.TrimSuffix(path.Base(f), ".sql"); !named(name) {
			t.Errorf("sql/%s: docs/tables.md does not name %s (its rule)", f, name)
		}
	}
}

// Every published table has a key BI and reverse-ETL tools can use: each mart names its
// columns in a "-- key:" header (warehouse.KeyAssertion checks them at every run), and
// docs/tables.md states it in the table's section as "Key (t): `a`, `b`; `row_key` is its
// surrogate." (the surrogate when the key has more than one column, warehouse.RowKey).
func TestEveryMartHasAKey(t *testing.T) {
	doc, err := os.ReadFile("../docs/tables.md")
	if err != nil {
		t.Fatal(err)
	}
	marts, err := warehouse.ReadMarts(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range marts {
		if m.Layer != warehouse.Marts {
			continue
		}
		n++
		if len(m.Key) == 0 {
			t.Errorf("sql/%s has no -- key: header", m.Path)
			continue
		}
		quoted := make([]string, len(m.Key))
		for i, c := range m.Key {
			quoted[i] = "`" + c + "`"
		}
		want := "Key (" + m.Name + "): " + strings.Join(quoted, ", ") + "."
		if len(m.Key) > 1 {
			want = strings.TrimSuffix(want, ".") + "; `row_key` is its surrogate."
		}
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/tables.md does not say %q", want)
		}
	}
	if n < 19 {
		t.Errorf("read only %d marts", n)
	}
}
