package datadocs

import (
	"strings"
	"testing"
)

// The built-in dictionary reads: every table has a grain, a key and columns.
func TestBuiltinReads(t *testing.T) {
	d, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.Tables()); n < 19 {
		t.Fatalf("read %d tables from docs/tables.md, want the 19 marts at least", n)
	}
	for _, tb := range d.Tables() {
		if tb.Grain == "" || len(tb.Key) == 0 || len(tb.Columns) == 0 {
			t.Errorf("%s: grain %q, key %v, %d columns", tb.Name, tb.Grain, tb.Key, len(tb.Columns))
		}
	}
}

func TestParse(t *testing.T) {
	const doc = "# T\n\n## a and b\n\nGrain: one row per\n**thing**.\nKey (a): `x`, `y`; `row_key` is its surrogate.\nKey (b): `x`, `y`; `row_key` is its surrogate.\n\n" +
		"| column | type | meaning |\n|---|---|---|\n| row_key | VARCHAR | the key |\n| x, y | INTEGER, VARCHAR[] | see [here](h.md#x) and `z` \\| w |\n| d | DECIMAL(38, 6) | money |\n\n## internal\n\n| column | type | meaning |\n|---|---|---|\n| q | BIGINT | checked, not a published table |\n"
	d, err := Parse("t.md", doc)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := d.Table("a")
	if !ok || len(d.Tables()) != 2 {
		t.Fatalf("tables %v", d.Tables())
	}
	if a.Grain != "one row per **thing**." || a.Comment() != "Grain: one row per thing. Key: x, y (row_key is its surrogate)." {
		t.Errorf("grain %q comment %q", a.Grain, a.Comment())
	}
	y, _ := a.Column("y")
	if y.Type != "VARCHAR[]" || y.Description() != "see here and z | w" || y.Line != 13 {
		t.Errorf("y = %+v, description %q", y, y.Description())
	}
	if c, _ := a.Column("d"); c.Type != "DECIMAL(38, 6)" {
		t.Errorf("d = %+v", c)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	head := "## a\n\nGrain: g.\nKey (a): `x`.\n\n| column | type | meaning |\n|---|---|---|\n"
	for _, c := range []struct{ doc, want string }{
		{head + "| x | INTEGER |\n", "t.md:8: a column row has three cells"},
		{head + "| x, y | INTEGER, VARCHAR, DATE | m |\n", "t.md:8: 2 columns and 3 types"},
		{head + "| x | integer | m |\n", `t.md:8: "integer" is not a DuckDB type`},
		{head + "| x | INTEGER | m |\n| x | INTEGER | m |\n", "t.md:9: column x has a row already (line 8)"},
		{head + "| X | INTEGER | m |\n", `t.md:8: "X" is not a column name`},
		{head + "| y | INTEGER | m |\n", "t.md:4: Key (a) names x, which the column table of line 6 has no row for"},
		{"## a\n\nGrain: g.\nKey (a): `x`.\n", "t.md:4: Key (a) is in section \"a\", which has no column table"},
		{"## a\n\nKey (a): `x`.\n\n| column | type | meaning |\n|---|---|---|\n| x | INTEGER | m |\n", "has no \"Grain:\" paragraph"},
		{"## a\n\nGrain: g.\nKey (a): x.\n", "t.md:4: Key (a): \"x\": give the key columns in backquotes"},
		{"## a\n\nGrain: g.\nKey (a): `x`, `y`.\n", "t.md:4: Key (a): a key of several columns has `row_key`"},
		{"## a\n\nGrain: g.\nKey (a): `x`\n", "t.md:4: Key (a): the line ends with"},
		{"## a\n\nGrain: g.\nKey (a): `x`.\n\n| column | type | meaning |\n| x | INTEGER | m |\n", "t.md:6: the column table's header is not followed by"},
	} {
		_, err := Parse("t.md", c.doc)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", c.doc, err, c.want)
		}
	}
}

// Render names a dependency on a model the site does not have instead of drawing half an edge.
func TestRenderNamesAMissingModel(t *testing.T) {
	var b strings.Builder
	err := Render(&b, Site{Models: []Model{{Name: "m", Layer: "marts", Refs: []string{"gone"}}}})
	if err == nil || !strings.Contains(err.Error(), "m reads gone, which is not a model of the run") {
		t.Errorf("Render = %v", err)
	}
	b.Reset()
	if err := Render(&b, Site{Models: []Model{{Name: "s", Layer: "staging"}, {Name: "m", Layer: "marts", Refs: []string{"s"}}},
		Assertions: []Assertion{{Name: "assert_m", Reads: []string{"m"}}}}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), `<path class="edge"`); n != 2 {
		t.Errorf("%d edges, want 2", n)
	}
	if !strings.Contains(b.String(), "Not described in docs/tables.md") {
		t.Error("a mart without a dictionary is not said to be undescribed")
	}
}
