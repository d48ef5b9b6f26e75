package warehouse

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// BuildAudited gives Build's marts and RunAssertions' results, while every table that is not
// kept is dropped right after the last model or assertion that reads it.
func TestBuildAuditedDropsWhatNothingLeftReads(t *testing.T) {
	ctx := context.Background()
	fsys := fstest.MapFS{
		"prelude.sql":            {Data: []byte("create or replace macro twice(x) as 2 * x")},
		"intermediate/int_a.sql": {Data: []byte("select range as n from range(10)")},
		"intermediate/int_b.sql": {Data: []byte("select twice(n) as m from int_a")},
		"intermediate/int_c.sql": {Data: []byte("select sum(m) as total from int_b")},
		"marts/m1.sql":           {Data: []byte("select total from int_c")},
		"marts/m2.sql":           {Data: []byte("select count(*) as k from int_a")},
	}
	models, err := LoadModels(fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	models = slices.DeleteFunc(models, func(m Model) bool { return m.Empty })
	if got := names(models); got != "int_a int_b int_c m1 m2" {
		t.Fatalf("order %s", got)
	}
	assertions := []Assertion{
		{Name: "assert_odd", SQL: "select * from int_b where m % 2 = 1"},
		{Name: "assert_total", SQL: "select * from int_a, int_c where total <> 90 and n = 0"},
		{Name: "assert_m1_empty", SQL: "select * from m1 where total > 0"}, // fails: 1 row
		{Name: "assert_nothing", SQL: "select 1 where false"},
		{Name: "assert_counted", SQL: "select * from int_b where m > 16", Population: "int_a", Rule: Rule{Severity: "warn"}},
	}
	keep := func(t string) bool { return t == "m1" || t == "m2" }

	want := map[string]AssertionResult{}
	ref, err := Open(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	if _, err := ref.Build(ctx, fsys, models, nil); err != nil {
		t.Fatal(err)
	}
	refResults, refErr := ref.RunAssertions(ctx, assertions)
	for _, r := range refResults {
		want[r.Name] = r
	}

	s, err := Open(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var steps []string
	s.OnModel(func(n, total int, r ModelRun) { steps = append(steps, r.Name) })
	got, err := s.BuildAudited(ctx, fsys, models, nil, assertions, keep)
	if !errors.Is(err, ErrAssertionsFailed) || refErr == nil || err.Error() != refErr.Error() {
		t.Fatalf("error %v, want RunAssertions' %v", err, refErr)
	}
	if strings.Join(steps, " ") != "int_a int_b int_c m1 m2" || len(got.Models) != 5 || got.Models[4].Rows != 1 {
		t.Fatalf("models %v (%+v): every model is built though an assertion failed", steps, got.Models)
	}
	if d := strings.Join(got.Dropped, " "); d != "int_b int_c int_a" {
		t.Errorf("dropped %q, want int_b after int_c (its last reader), int_c after m1, int_a after m2", d)
	}
	var order []string
	for _, r := range got.Assertions {
		order = append(order, r.Name)
		w := want[r.Name]
		if r.Outcome != w.Outcome || r.Failures != w.Failures || r.Population != w.Population || strings.Join(r.Sample, "|") != strings.Join(w.Sample, "|") {
			t.Errorf("%s: %+v, RunAssertions gave %+v", r.Name, r, w)
		}
	}
	// Each assertion runs right after the last model it reads; one reading none at the end.
	if o := strings.Join(order, " "); o != "assert_odd assert_counted assert_total assert_m1_empty assert_nothing" {
		t.Errorf("assertions ran in the order %s", o)
	}
	if got.Assertions[1].Population != 10 || got.Assertions[1].Failures != 1 || got.Assertions[1].Outcome != Warned {
		t.Errorf("population assertion: %+v", got.Assertions[1])
	}
	tables, err := s.Query(ctx, "select table_name from information_schema.tables where table_name not in ('staging_drops') order by 1")
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, r := range tables {
		left = append(left, r.String())
	}
	if l := strings.Join(left, " "); l != "table_name=m1 table_name=m2" {
		t.Errorf("tables left: %s", l)
	}
	for _, q := range []string{"select total from m1", "select k from m2"} {
		a, _ := s.Query(ctx, q)
		b, _ := ref.Query(ctx, q)
		if len(a) != 1 || len(b) != 1 || a[0].String() != b[0].String() {
			t.Errorf("%s: %v, Build gave %v", q, a, b)
		}
	}
}

// An assertion reading staging_drops waits for the last staging model; a population table
// is read as the assertion's SQL is.
func TestAuditSchedule(t *testing.T) {
	models := []Model{
		{Name: "stg_a", Layer: Staging},
		{Name: "stg_b", Layer: Staging},
		{Name: "int_x", Layer: Intermediate, Refs: []string{"stg_a"}},
		{Name: "int_y", Layer: Intermediate, Refs: []string{"int_x"}},
	}
	after, lastUse := auditSchedule(models, []Assertion{
		{Name: "assert_drops", SQL: "select * from staging_drops where dropped > 0"},
		{Name: "assert_a_drops", SQL: "select * from stg_a join staging_drops on true"},
		{Name: "assert_pop", SQL: "select * from int_x where false", Population: "stg_a"},
		{Name: "assert_a", SQL: "select * from stg_a -- int_y in a comment is not read"},
	})
	at := func(i int) string {
		var n []string
		for _, a := range after[i] {
			n = append(n, a.Name)
		}
		return strings.Join(n, " ")
	}
	if at(0) != "assert_a" || at(1) != "assert_drops assert_a_drops" || at(2) != "assert_pop" || at(3) != "" {
		t.Errorf("after: 0 %q, 1 %q, 2 %q, 3 %q", at(0), at(1), at(2), at(3))
	}
	if lastUse["stg_a"] != 2 || lastUse["stg_b"] != 1 || lastUse["int_x"] != 3 || lastUse["int_y"] != 3 {
		t.Errorf("last use %v", lastUse)
	}
}

// Without models every assertion still runs, and a failing one fails the build.
func TestBuildAuditedWithoutModels(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fsys := fstest.MapFS{"prelude.sql": {Data: []byte("select 1")}}
	got, err := s.BuildAudited(ctx, fsys, nil, nil, []Assertion{
		{Name: "assert_none", SQL: "select 1 where false"},
		{Name: "assert_one", SQL: "select 42 as answer"},
	}, func(string) bool { return false })
	if !errors.Is(err, ErrAssertionsFailed) || !strings.Contains(err.Error(), "assert_one: 1 rows, e.g. answer=42") {
		t.Fatalf("error %v", err)
	}
	if len(got.Assertions) != 2 || got.Assertions[0].Outcome != Passed || got.Assertions[1].Outcome != Failed {
		t.Fatalf("assertions %+v", got.Assertions)
	}
}
