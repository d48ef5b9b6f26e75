package warehouse

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	segsql "github.com/segpipe/segpipe/sql"
)

// names lists the models but the contract's empty tables of canonical tables nobody provides.
func names(ms []Model) string {
	var out []string
	for _, m := range ms {
		if m.Empty && strings.HasPrefix(m.Origin, "the contract's empty table") {
			continue
		}
		out = append(out, m.Name)
	}
	return strings.Join(out, " ")
}

func landedSet(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func TestModelsRunAfterWhatTheyRead(t *testing.T) {
	fsys := fstest.MapFS{
		"staging/demo/stg_b.sql": {Data: []byte("select x from raw_demo__b -- reads the landed b")},
		"staging/demo/stg_a.sql": {Data: []byte("select * from stg_b join raw_demo__a using (x)")},
		"intermediate/int_z.sql": {Data: []byte("select * from stg_a")},
		"intermediate/int_y.sql": {Data: []byte("select * from int_z join stg_b using (x)")},
		"marts/m.sql":            {Data: []byte("/* int_nothing */ select * from int_y;")},
	}
	ms, err := LoadModels(fsys, landedSet("raw_demo__a", "raw_demo__b"))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(ms); got != "stg_b stg_a int_z int_y m" {
		t.Fatalf("order = %s", got)
	}
	ms = slices.DeleteFunc(ms, func(m Model) bool { return m.Empty })
	if ms[4].SQL != "/* int_nothing */ select * from int_y" || strings.Join(ms[3].Refs, ",") != "int_z,stg_b" {
		t.Fatalf("model body or refs wrong: %+v", ms[3:])
	}
}

// Staging comes from the vendors whose raw views are landed; defaults fill optional tables.
func TestStagingFollowsLandedVendors(t *testing.T) {
	fsys := fstest.MapFS{
		"staging/demo/stg_accounts.sql":    {Data: []byte("select * from raw_demo__accounts")},
		"staging/demo/stg_invoices.sql":    {Data: []byte("select * from raw_demo__invoices")},
		"staging/demo/stg_usage.sql":       {Data: []byte("select * from raw_demo__usage")},
		"staging/hubspot/stg_accounts.sql": {Data: []byte("select * from raw_hubspot__companies")},
		"staging/stripe/stg_invoices.sql":  {Data: []byte("select * from raw_stripe__invoices join raw_stripe__customers using (id)")},
		"staging/defaults/stg_usage.sql":   {Data: []byte("select 1 where false")},
		"marts/m.sql":                      {Data: []byte("select * from stg_accounts, stg_invoices, stg_usage")},
	}
	ms, err := LoadModels(fsys, landedSet("raw_hubspot__companies", "raw_stripe__invoices", "raw_stripe__customers"))
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, m := range ms {
		paths[m.Name] = m.Path
	}
	want := map[string]string{"stg_accounts": "staging/hubspot/stg_accounts.sql", "stg_invoices": "staging/stripe/stg_invoices.sql",
		"stg_usage": "staging/defaults/stg_usage.sql", "m": "marts/m.sql"}
	for name, p := range want {
		if paths[name] != p {
			t.Errorf("%s from %s, want %s", name, paths[name], p)
		}
	}
	if names(ms) != "stg_accounts stg_invoices stg_usage m" {
		t.Errorf("models %s", names(ms))
	}
	// The demo vendor's usage wins over the default when it is landed.
	ms, err = LoadModels(fsys, landedSet("raw_demo__accounts", "raw_demo__invoices", "raw_demo__usage"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Name == "stg_usage" && m.Path != "staging/demo/stg_usage.sql" {
			t.Errorf("stg_usage from %s", m.Path)
		}
	}

	for name, c := range map[string]struct {
		landed map[string]bool
		want   string
	}{
		"two vendors for one table": {landedSet("raw_demo__accounts", "raw_hubspot__companies", "raw_demo__invoices"),
			"stg_accounts is provided twice, by sql/staging/demo/stg_accounts.sql and sql/staging/hubspot/stg_accounts.sql"},
		"half a vendor": {landedSet("raw_demo__accounts", "raw_stripe__invoices"),
			"reads raw_stripe__customers, which no configured source lands"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadModels(fsys, c.landed)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// A model whose inputs no source provides is left out, with what it needs; so is every model
// that reads it. A model built without an input (its optional inputs) reads the contract's
// empty table, and so do the models it reads.
func TestModelsWithoutTheirInputsAreLeftOut(t *testing.T) {
	fsys := fstest.MapFS{
		"staging/demo/stg_accounts.sql":  {Data: []byte("select * from raw_demo__accounts")},
		"staging/demo/stg_invoices.sql":  {Data: []byte("select * from raw_demo__invoices")},
		"intermediate/int_customers.sql": {Data: []byte("select * from stg_invoices")},
		"intermediate/int_support.sql":   {Data: []byte("-- optional inputs: stg_tickets\nselect * from int_customers, stg_tickets")},
		"marts/by_account.sql":           {Data: []byte("-- optional inputs: stg_invoices\nselect * from stg_accounts, int_customers")},
		"marts/mrr.sql":                  {Data: []byte("select * from int_customers")},
		"marts/ltv.sql":                  {Data: []byte("select * from mrr, stg_usage")},
		"marts/support.sql":              {Data: []byte("select * from int_support")},
		"marts/tickets.sql":              {Data: []byte("select * from stg_tickets, stg_accounts")},
		// A mart that reads another mart (mrr, which needs billing) as an optional input.
		"marts/validation.sql": {Data: []byte("-- optional inputs: stg_invoices\nselect * from stg_accounts, mrr")},
	}
	p, err := PlanModels(fsys, landedSet("raw_demo__accounts"))
	if err != nil {
		t.Fatal(err)
	}
	// mrr is built (from the empty stg_invoices) because validation reads it, as its input
	// only: not published, and listed as not built.
	if got := names(p.Models); got != "stg_accounts int_customers by_account mrr validation" { // and the empty stg_invoices
		t.Errorf("CRM only builds %s", got)
	}
	if strings.Join(p.Unpublished, ",") != "mrr" || p.Published("mrr") || !p.Published("validation") || !p.Published("by_account") {
		t.Errorf("unpublished %v", p.Unpublished)
	}
	for _, m := range p.Models {
		if m.Name == "stg_invoices" && (!m.Empty || !strings.Contains(m.SQL, "cast(null as DOUBLE) as amount_original")) {
			t.Errorf("stg_invoices is not the contract's empty table: %+v", m)
		}
	}
	got, _ := json.Marshal(p.NotBuilt)
	want := `[{"name":"int_support","layer":"intermediate","needs":["stg_invoices"]},{"name":"mrr","layer":"marts","needs":["stg_invoices"]},{"name":"ltv","layer":"marts","needs":["stg_invoices"]},{"name":"support","layer":"marts","needs":["stg_invoices"]},{"name":"tickets","layer":"marts","needs":["stg_tickets"]}]`
	// (mrr is listed once: where it is built, as an input only.)
	if string(got) != want {
		t.Errorf("not built %s\nwant %s", got, want)
	}
	if strings.Join(p.Provided, ",") != "stg_accounts" {
		t.Errorf("provided %v", p.Provided)
	}
	asserts := []Assertion{{Name: "assert_mrr", SQL: "select * from mrr"}, {Name: "assert_acc", SQL: "select * from by_account"},
		{Name: "assert_inv", SQL: "select * from stg_invoices"}, {Name: "assert_inv_opt", SQL: "select * from stg_invoices", Optional: []string{"stg_invoices"}}}
	run, skipped := p.PlanAssertions(asserts)
	if len(run) != 2 || run[0].Name != "assert_acc" || run[1].Name != "assert_inv_opt" || len(skipped) != 2 || skipped[0].Name != "assert_mrr" || skipped[1].Needs[0] != "stg_invoices" {
		t.Errorf("assertions run %+v, skipped %+v", run, skipped)
	}
	// With billing landed too, everything but what reads tickets is built.
	p, err = PlanModels(fsys, landedSet("raw_demo__accounts", "raw_demo__invoices"))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p.Models); got != "stg_accounts stg_invoices int_customers int_support by_account mrr ltv support validation" {
		t.Errorf("CRM and billing build %s", got)
	}
	if len(p.Unpublished) != 0 {
		t.Errorf("unpublished %v with every input provided", p.Unpublished)
	}
}

func TestModelErrors(t *testing.T) {
	cases := map[string]struct {
		fs   fstest.MapFS
		want string
	}{
		"cycle": {fstest.MapFS{
			"intermediate/int_a.sql": {Data: []byte("select * from int_b")},
			"intermediate/int_b.sql": {Data: []byte("select * from int_a")},
		}, "cycle: int_a, int_b"},
		"reads a later layer": {fstest.MapFS{
			"staging/demo/stg_a.sql": {Data: []byte("select * from int_b, raw_demo__a")},
			"intermediate/int_b.sql": {Data: []byte("select 1")},
		}, "staging/demo/stg_a.sql (staging) reads int_b from the later layer intermediate"},
		"empty": {fstest.MapFS{"marts/m.sql": {Data: []byte("-- nothing\n")}}, "marts/m.sql is empty"},
		"duplicate": {fstest.MapFS{
			"intermediate/x.sql": {Data: []byte("select 1")},
			"marts/x.sql":        {Data: []byte("select 1")},
		}, "a model named x already exists"},
		"bad name": {fstest.MapFS{"marts/Bad-Name.sql": {Data: []byte("select 1")}}, "lower-case identifiers"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := LoadModels(c.fs, landedSet("raw_demo__a"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestEmbeddedModelsLoad(t *testing.T) {
	demoLanded := landedSet("raw_demo__accounts", "raw_demo__opportunities", "raw_demo__subscriptions",
		"raw_demo__invoices", "raw_demo__tickets", "raw_demo__usage")
	ms, err := LoadModels(segsql.Files, demoLanded)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i, m := range ms {
		seen[m.Name] = i
	}
	for _, mart := range []string{"account_segments", "ltv_quintiles", "segment_metrics"} {
		if _, ok := seen[mart]; !ok {
			t.Errorf("mart %s missing", mart)
		}
	}
	if seen["ltv_quintiles"] < seen["account_segments"] {
		t.Error("ltv_quintiles must run after account_segments, which it reads")
	}
}

func TestRegisterParquetAndExport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{Threads: 1, MemoryLimit: "512MB", TempDir: filepath.Join(dir, "spill")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Two files written by DuckDB, one with an extra column: union_by_name keeps both.
	a, b := filepath.Join(dir, "it's a.parquet"), filepath.Join(dir, "b.parquet")
	if err := s.Exec(ctx, "CREATE TABLE t AS SELECT 1 AS id, 'x' AS v"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExportParquet(ctx, "t", a); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "CREATE OR REPLACE TABLE t AS SELECT 2 AS id, 'y' AS v, true AS extra"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ExportParquet(ctx, "t", b); err != nil || n != 1 {
		t.Fatalf("export: %d, %v", n, err)
	}
	if err := s.RegisterParquet(ctx, "raw_x__y", []string{a, b}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Query(ctx, "SELECT id, v, extra FROM raw_x__y ORDER BY id")
	if err != nil || len(rows) != 2 || rows[0].Get("extra") != nil || rows[1].Get("extra") != true {
		t.Fatalf("read back %v, %v", rows, err)
	}
	if err := s.RegisterParquet(ctx, "bad name; drop", []string{a}); err == nil {
		t.Fatal("an invalid view name was accepted")
	}
	db := filepath.Join(dir, "out.duckdb")
	if err := s.ExportDatabase(ctx, []string{"t"}, db); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Exec(ctx, "ATTACH '"+db+"' AS o (READ_ONLY)"); err != nil {
		t.Fatal(err)
	}
	rows, err = s2.Query(ctx, "SELECT id, extra FROM o.t")
	if err != nil || len(rows) != 1 || rows[0].Get("extra") != true {
		t.Fatalf("exported database: %v, %v", rows, err)
	}
}

func TestRowEqualToleratesLastBits(t *testing.T) {
	a := Row{Columns: []string{"k", "v", "n"}, Values: []any{"x", 0.1 + 0.2, nil}}
	b := Row{Columns: []string{"k", "v", "n"}, Values: []any{"x", 0.3, nil}}
	if !a.Equal(b, 1e-9) {
		t.Error("0.1+0.2 and 0.3 differ only in the last bits")
	}
	c := Row{Columns: []string{"k", "v", "n"}, Values: []any{"x", 0.3001, nil}}
	if a.Equal(c, 1e-9) {
		t.Error("0.3 and 0.3001 are different numbers")
	}
	d := Row{Columns: []string{"k", "w", "n"}, Values: []any{"x", 0.3, nil}}
	if b.Equal(d, 1e-9) {
		t.Error("different column names")
	}
	e := Row{Columns: []string{"k", "v", "n"}, Values: []any{"y", 0.3, nil}}
	if b.Equal(e, 1e-9) {
		t.Error("different text values")
	}
}

// TestProfileDirGetsOneProfilePerModel: with Options.ProfileDir, RunModels leaves DuckDB's
// JSON profile of each model's build, and profiling is off again for other statements.
func TestProfileDirGetsOneProfilePerModel(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, Options{ProfileDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	models := []Model{
		{Name: "int_numbers", Layer: "intermediate", SQL: "select range as n from range(1000)"},
		{Name: "int_sum", Layer: "intermediate", SQL: "select sum(n) as total from int_numbers"},
	}
	runs, err := s.RunModels(ctx, models)
	if err != nil || len(runs) != 2 || runs[0].Rows != 1000 || runs[1].Rows != 1 {
		t.Fatalf("runs %+v, err %v", runs, err)
	}
	for _, m := range models {
		b, err := os.ReadFile(filepath.Join(dir, m.Name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var prof struct {
			Latency  float64           `json:"latency"`
			Children []json.RawMessage `json:"children"`
		}
		if err := json.Unmarshal(b, &prof); err != nil || len(prof.Children) == 0 {
			t.Fatalf("%s.json is not a DuckDB profile (%v): %.200s", m.Name, err, b)
		}
		if !strings.Contains(string(b), "CREATE_TABLE_AS") {
			t.Errorf("%s.json does not profile the model's CREATE TABLE AS: %.300s", m.Name, b)
		}
	}
	if _, err := s.Query(ctx, "select 1"); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files in the profile dir, want the 2 models' only", len(entries))
	}
}

// TestDedupRunsAsAWindow: the staging models' dedup (qualify row_number() ... = 1) must run
// as a window, which spills to disk, not as DuckDB's arg_max rewrite, whose aggregate does
// not: at 24M invoices the rewrite ran out of a 2GB memory_limit (docs/performance.md).
func TestDedupRunsAsAWindow(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Query(ctx, "create table raw as select range::varchar as id, range as v, now() as _extracted_at from range(100)"); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Query(ctx, "explain select id, v from raw qualify row_number() over (partition by id order by _extracted_at desc) = 1")
	if err != nil || len(rows) == 0 {
		t.Fatalf("explain: %v", err)
	}
	plan := strings.ToLower(rows[0].String())
	if !strings.Contains(plan, "window") || strings.Contains(plan, "arg_max") {
		t.Errorf("the dedup does not run as a window:\n%s", plan)
	}
}

// A mart's "-- key:" header becomes an assertion that names each key with a NULL part and each
// key on more than one row, with the rows it counts; a bad header is refused with the file.
func TestKeyAssertion(t *testing.T) {
	fsys := fstest.MapFS{
		"marts/m.sql":        {Data: []byte("-- m: one row per a and b\n-- key: a, b\nselect 1 as a, 'x' as b")},
		"marts/n.sql":        {Data: []byte("select 1 as x")},
		"tests/assert_t.sql": {Data: []byte("select 1 as problem where false")},
	}
	as, err := LoadAssertions(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].Name != "assert_t" || as[1].Name != "assert_m_key" || as[1].Population != "m" || as[1].Path != "marts/m.sql" {
		t.Fatalf("assertions %+v", as)
	}
	ctx := t.Context()
	s, err := Open(ctx, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Exec(ctx, `create table m as select * from (values (1, 'x'), (2, 'y'), (2, 'y'), (3, null), (null, 'z')) v(a, b)`); err != nil {
		t.Fatal(err)
	}
	res, err := s.RunAssertions(ctx, as[1:])
	if !errors.Is(err, ErrAssertionsFailed) || len(res) != 1 {
		t.Fatalf("res %+v, err %v", res, err)
	}
	r := res[0]
	// (3, NULL) and (NULL, 'z') have a NULL part; (2, 'y') is on two rows: 3 rows of 5.
	if r.Failures != 3 || r.Population != 5 {
		t.Errorf("failures %d of %d, want 3 of 5", r.Failures, r.Population)
	}
	sample := strings.Join(r.Sample, " / ")
	for _, want := range []string{"key=3 | NULL", "key=NULL | z", "the key (a, b) is on 2 rows", "key=2 | y", "is NULL"} {
		if !strings.Contains(sample, want) && !strings.Contains(err.Error(), want) {
			t.Errorf("sample %q lacks %q", sample, want)
		}
	}
	if err := s.Exec(ctx, `create or replace table m as select * from (values (1, 'x'), (1, 'y')) v(a, b)`); err != nil {
		t.Fatal(err)
	}
	if res, err := s.RunAssertions(ctx, as[1:]); err != nil || res[0].Failures != 0 {
		t.Errorf("a table that keeps its key: %+v %v", res, err)
	}

	for body, want := range map[string]string{
		"-- key: a, a\nselect 1 as a":         "give the key columns once each",
		"-- key: A-b\nselect 1 as a":          "give the key columns once each",
		"-- key: a\n-- key: b\nselect 1 as a": "more than one -- key: header",
	} {
		_, err := LoadAssertions(fstest.MapFS{"marts/m.sql": {Data: []byte(body)}})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "marts/m.sql") {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}
