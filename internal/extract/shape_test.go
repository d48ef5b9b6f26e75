package extract

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
)

// companiesEntity is a JSON entity whose columns are all required (none optional).
func companiesEntity(sizeField string) *config.Entity {
	return &config.Entity{
		Path: "/c", Format: "json", RecordsPath: "data", PrimaryKey: "id",
		Pagination: config.Pagination{Type: "page", PageParam: "page"},
		Columns: config.Columns{
			{Name: "id", Type: "string"},
			{Name: "name", Type: "string"},
			{Name: "employee_count", Type: "int64", Field: sizeField},
		},
	}
}

// shapeError asserts err is a *ShapeError and returns its problems.
func shapeError(t *testing.T, err error) []string {
	t.Helper()
	var se *ShapeError
	if !errors.As(err, &se) {
		t.Fatalf("want a ShapeError, got %v", err)
	}
	if se.Source != "src" || se.Entity != "ent" || se.Dt == "" {
		t.Errorf("ShapeError names %s/%s dt=%s", se.Source, se.Entity, se.Dt)
	}
	return se.Problems
}

// The source renames employee_count to employees from page 2: every record still converts,
// and without the check half the accounts would land with no size. The landing fails naming
// the column, the pages on each side and the field that took its place; nothing lands.
func TestRenamedFieldFromPage2FailsTheLanding(t *testing.T) {
	page := func(from, n int, field string) []string {
		var out []string
		for i := from; i < from+n; i++ {
			out = append(out, fmt.Sprintf(`{"id":"c%d","name":"Co %d","%s":%d}`, i, i, field, 10+i))
		}
		return out
	}
	srv := serve(t, pagedJSON(page(0, 3, "employee_count"), page(3, 3, "employees"), page(6, 2, "employees")))
	store := newStore(t)
	_, err := land(t, store, testSource(srv.URL), companiesEntity("employee_count"), testOptions(t, "r1"))
	problems := shapeError(t, err)
	want := []string{"column employee_count is in 3 of the 3 records of page 1 but in none of the 5 records of pages 2-3; those records have fields no column reads: employees"}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems\n%q\nwant\n%q", problems, want)
	}
	mustContain(t, err.Error(), "extract src/ent dt=2026-03-01", "nothing landed", "optional: true")
	assertNoManifest(t, store)
	if keys := lakeKeys(t, store); len(keys) != 0 {
		t.Errorf("a failed landing left %v", keys)
	}
}

// The same rename under a nested object (HubSpot's properties.numberofemployees), and a
// field the export never had: the message names the nested field and what is beside it.
func TestMissingNestedFieldNamesItsSiblings(t *testing.T) {
	var recs []string
	for i := range 5 {
		recs = append(recs, fmt.Sprintf(`{"name":"Co %d","employees":"%d","createdate":"2026-01-01T00:00:00Z"}`, i, 10+i))
	}
	srv := serve(t, hubspotObjects(recs, nil))
	ent := &config.Entity{
		Path: "/crm/v3/objects/companies", Format: "json", RecordsPath: "results", PrimaryKey: "id",
		Pagination: config.Pagination{Type: "cursor", LimitParam: "limit", CursorParam: "after", NextCursorPath: "paging.next.after"},
		Columns: config.Columns{
			{Name: "id", Type: "string"},
			{Name: "name", Type: "string", Field: "properties.name"},
			{Name: "employee_count", Type: "int64", Field: "properties.numberofemployees"},
			{Name: "owner", Type: "string", Field: "owner.id"},
		},
	}
	store := newStore(t)
	_, err := land(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	want := []string{
		"column employee_count (field properties.numberofemployees) is in none of the 5 records (pages 1-3); those records have fields no column reads: properties.employees, properties.createdate",
		"column owner (field owner.id) is in none of the 5 records (pages 1-3); those records have fields no column reads: archived",
	}
	if problems := shapeError(t, err); !reflect.DeepEqual(problems, want) {
		t.Errorf("problems\n%q\nwant\n%q", problems, want)
	}
	assertNoManifest(t, store)

	// Declared optional, the same export lands, and the manifest counts the absent values.
	ent.Columns[2].Optional, ent.Columns[3].Optional = true, true
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r2"))
	wantCounts := []lake.ColumnCount{{Name: "id"}, {Name: "name"}, {Name: "employee_count", Nulls: 5, Absent: 5}, {Name: "owner", Nulls: 5, Absent: 5}}
	if m.Rows != 5 || !reflect.DeepEqual(m.Columns, wantCounts) {
		t.Errorf("rows %d, columns %+v; want 5, %+v", m.Rows, m.Columns, wantCounts)
	}
}

// pagedCSV serves CSV pages, each with its own header, paged by ?page= with a Link header.
func pagedCSV(pages ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := 1
		fmt.Sscan(r.URL.Query().Get("page"), &n)
		if n < len(pages) {
			w.Header().Set("Link", fmt.Sprintf(`<%s?page=%d>; rel="next"`, r.URL.Path, n+1))
		}
		w.Header().Set("Content-Type", "text/csv")
		if n >= 1 && n <= len(pages) {
			fmt.Fprint(w, pages[n-1])
		}
	}
}

// A CSV export whose header changes between pages (csat becomes satisfaction_score), and one
// whose only header lacks a declared column.
func TestRenamedCSVColumn(t *testing.T) {
	ent := &config.Entity{
		Path: "/t.csv", Format: "csv", PrimaryKey: "ticket_id", Pagination: config.Pagination{Type: "link"},
		Columns: config.Columns{
			{Name: "ticket_id", Type: "string"},
			{Name: "subject", Type: "string"},
			{Name: "csat", Type: "int64"},
		},
	}
	srv := serve(t, pagedCSV(
		"ticket_id,subject,csat\nt1,Help,5\nt2,Login,\n",
		"ticket_id,subject,satisfaction_score\nt3,Bill,4\nt4,Bug,2\nt5,Other,1\n",
		"ticket_id,subject,satisfaction_score\nt6,Bill,3\n",
	))
	store := newStore(t)
	_, err := land(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	want := []string{"column csat is in 2 of the 2 records of page 1 but in none of the 4 records of pages 2-3; those records have fields no column reads: satisfaction_score"}
	if problems := shapeError(t, err); !reflect.DeepEqual(problems, want) {
		t.Errorf("problems\n%q\nwant\n%q", problems, want)
	}
	assertNoManifest(t, store)

	// An empty cell is a null value of a column that is there, not a missing column.
	srv = serve(t, pagedCSV("ticket_id,Subject Line,csat\nt1,Help,\nt2,Login,\n"))
	_, err = land(t, store, testSource(srv.URL), ent, testOptions(t, "r2"))
	want = []string{"column subject is in none of the 2 records (page 1); those records have fields no column reads: Subject Line"}
	if problems := shapeError(t, err); !reflect.DeepEqual(problems, want) {
		t.Errorf("problems\n%q\nwant\n%q", problems, want)
	}
}

// A field the vendor leaves out when it is empty is missing from some records of every
// page, and may by chance be missing from a short page: that is not a change of shape. The
// same field missing from a page of 60 records, when the other pages have it in half their
// records, cannot be chance (0.5^60 is about 1e-18).
func TestSparseFieldIsNotAShapeChange(t *testing.T) {
	rec := func(i int, with bool) string {
		if with {
			return fmt.Sprintf(`{"id":"c%d","name":"Co","employee_count":%d}`, i, i)
		}
		return fmt.Sprintf(`{"id":"c%d","name":"Co"}`, i)
	}
	alternate := func(from, n int) []string {
		var out []string
		for i := from; i < from+n; i++ {
			out = append(out, rec(i, i%2 == 0))
		}
		return out
	}
	without := func(from, n int) []string {
		var out []string
		for i := from; i < from+n; i++ {
			out = append(out, rec(i, false))
		}
		return out
	}
	// Pages 1-2 have the field in 20 of 40 records; page 3's 3 records lack it: 0.5^3 = 1/8.
	srv := serve(t, pagedJSON(alternate(0, 20), alternate(20, 20), without(40, 3)))
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), companiesEntity("employee_count"), testOptions(t, "r1"))
	if m.Rows != 43 || m.Columns[2] != (lake.ColumnCount{Name: "employee_count", Nulls: 23, Absent: 23}) {
		t.Errorf("rows %d, counts %+v", m.Rows, m.Columns)
	}

	srv = serve(t, pagedJSON(alternate(0, 20), without(20, 60), alternate(80, 20)))
	_, err := land(t, store, testSource(srv.URL), companiesEntity("employee_count"), testOptions(t, "r2"))
	want := []string{"column employee_count is in 20 of the 40 records of pages 1, 3 but in none of the 60 records of page 2"}
	if problems := shapeError(t, err); !reflect.DeepEqual(problems, want) {
		t.Errorf("problems\n%q\nwant\n%q", problems, want)
	}
}

// The manifest counts each column's null landed rows, and of them those whose record lacked
// the field. A null parent object or an empty list is a null value, not an absent field.
func TestManifestColumnCounts(t *testing.T) {
	body := `{"data":[
	  {"id":"1","plan":{"name":"Pro"},"tags":["a"],"n":1},
	  {"id":"2","plan":null,"tags":[],"n":null},
	  {"id":"3","plan":{},"n":3},
	  {"id":"4","plan":{"name":null},"tags":["b"]},
	  {"id":"5","plan":{"name":"Team"},"tags":["c"],"n":""}
	]}`
	ent := &config.Entity{
		Path: "/x", Format: "json", RecordsPath: "data", PrimaryKey: "id", Pagination: config.Pagination{Type: "none"},
		Columns: config.Columns{
			{Name: "id", Type: "string"},
			{Name: "plan", Type: "string", Field: "plan.name"},
			{Name: "first_tag", Type: "string", Field: "tags.0"},
			{Name: "n", Type: "int64"},
		},
	}
	srv := serve(t, jsonBody(body))
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	// plan: null in 2 (plan null), 3 (plan {} lacks name: absent), 4 (name null).
	// first_tag: null in 2 (empty list), 3 (no tags: absent). n: null in 2, 4 (absent), 5 ("").
	want := []lake.ColumnCount{
		{Name: "id"},
		{Name: "plan", Nulls: 3, Absent: 1},
		{Name: "first_tag", Nulls: 2, Absent: 1},
		{Name: "n", Nulls: 3, Absent: 1},
	}
	if m.Rows != 5 || !reflect.DeepEqual(m.Columns, want) {
		t.Errorf("rows %d quarantined %d, columns %+v; want %+v", m.Rows, m.Quarantined, m.Columns, want)
	}
	got, err := lake.ReadManifest(t.Context(), store, "src", "ent", testDt)
	if err != nil || !reflect.DeepEqual(got.Columns, want) {
		t.Errorf("stored manifest columns %+v (%v)", got.Columns, err)
	}
}

// A field the vendor keeps sending but stops filling (a CRM property superseded by another)
// shows as a jump of its null share against the previous landing in the same mode.
func TestNullShareJumpFailsTheLanding(t *testing.T) {
	// records returns n records of which the first nulls have a null employee_count.
	records := func(n, nulls int) []string {
		out := make([]string, n)
		for i := range out {
			v := "null"
			if i >= nulls {
				v = fmt.Sprint(10 + i)
			}
			out[i] = fmt.Sprintf(`{"id":"c%d","name":"Co %d","employee_count":%s}`, i, i, v)
		}
		return out
	}
	var current []string
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data":[%s]}`, strings.Join(current, ","))
	}))
	ent := companiesEntity("employee_count")
	ent.Pagination = config.Pagination{Type: "none"}
	src := testSource(srv.URL)
	src.MaxNullShareIncrease = 0.2
	store := newStore(t)
	landAt := func(dt, run string, recs []string) (*lake.Manifest, error) {
		current = recs
		opts := testOptions(t, run)
		opts.Dt = dt
		return land(t, store, src, ent, opts)
	}
	// 20 of 200 null: 10%.
	if _, err := landAt("2026-03-01", "r1", records(200, 20)); err != nil {
		t.Fatal(err)
	}
	// 100 of 200 null: 50%, up 40 points.
	_, err := landAt("2026-03-02", "r2", records(200, 100))
	want := []string{"column employee_count is null in 50.0% of the 200 landed rows against 10.0% of 200 in the full landing of dt=2026-03-01 (run r1): up 40.0%, over max_null_share_increase 20%"}
	if problems := shapeError(t, err); !reflect.DeepEqual(problems, want) {
		t.Errorf("problems\n%q\nwant\n%q", problems, want)
	}
	if _, err := lake.ReadManifest(t.Context(), store, "src", "ent", "2026-03-02"); !errors.Is(err, lake.ErrNotExist) {
		t.Errorf("the failed landing wrote a manifest: %v", err)
	}
	// 60 of 200: up 20 points, not over the bound; it becomes the landing to compare with.
	if _, err := landAt("2026-03-02", "r3", records(200, 60)); err != nil {
		t.Fatal(err)
	}
	// 100 of 200 against 30%: up 20 points again, lands.
	if _, err := landAt("2026-03-03", "r4", records(200, 100)); err != nil {
		t.Fatal(err)
	}
	// Fewer than 100 rows: a share of a handful of records says nothing.
	if _, err := landAt("2026-03-04", "r5", records(99, 99)); err != nil {
		t.Fatal(err)
	}
	// Nor does it become the baseline: dt=2026-03-05 is compared with dt=2026-03-03 (50%).
	_, err = landAt("2026-03-05", "r6", records(200, 200))
	want = []string{"column employee_count is null in 100.0% of the 200 landed rows against 50.0% of 200 in the full landing of dt=2026-03-03 (run r4): up 50.0%, over max_null_share_increase 20%"}
	if problems := shapeError(t, err); !reflect.DeepEqual(problems, want) {
		t.Errorf("problems\n%q\nwant\n%q", problems, want)
	}
	if _, err := landAt("2026-03-05", "r6b", records(200, 100)); err != nil {
		t.Fatal(err)
	}
	// An optional column is not compared; 1 turns the check off for the source.
	ent.Columns[2].Optional = true
	if _, err := landAt("2026-03-06", "r7", records(200, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := landAt("2026-03-07", "r8", records(200, 200)); err != nil {
		t.Errorf("optional column: %v", err)
	}
	ent.Columns[2].Optional = false
	if _, err := landAt("2026-03-08", "r9", records(200, 0)); err != nil {
		t.Fatal(err)
	}
	src.MaxNullShareIncrease = 1
	if _, err := landAt("2026-03-09", "r10", records(200, 200)); err != nil {
		t.Errorf("max_null_share_increase 1: %v", err)
	}
}

// An incremental landing is compared with the previous incremental one, never with a full
// landing: the records that changed since yesterday are not a sample of all records.
func TestNullShareComparesLandingsOfOneMode(t *testing.T) {
	var current []string
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"data":[%s]}`, strings.Join(current, ","))
	}))
	records := func(n, nulls int) []string {
		out := make([]string, n)
		for i := range out {
			v := `"2026-02-20T00:00:00Z"`
			if i < nulls {
				v = "null"
			}
			out[i] = fmt.Sprintf(`{"id":"c%d","name":"Co","employee_count":5,"closed_at":%s,"updated_at":"2026-03-01T0%d:00:00Z"}`, i, v, i%10)
		}
		return out
	}
	ent := companiesEntity("employee_count")
	ent.Pagination = config.Pagination{Type: "none"}
	ent.Columns = append(ent.Columns, config.Column{Name: "closed_at", Type: "timestamp"}, config.Column{Name: "updated_at", Type: "timestamp"})
	ent.Incremental = &config.Incremental{CursorColumn: "updated_at", Param: "since"}
	src := testSource(srv.URL)
	src.MaxNullShareIncrease = 0.2
	store := newStore(t)
	since := time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)
	landAt := func(dt, run string, incremental bool, recs []string) error {
		current = recs
		opts := testOptions(t, run)
		opts.Dt = dt
		if incremental {
			opts.Since = &since
		}
		_, err := land(t, store, src, ent, opts)
		return err
	}
	if err := landAt("2026-03-01", "r1", false, records(300, 30)); err != nil { // full, 10% open
		t.Fatal(err)
	}
	if err := landAt("2026-03-02", "r2", true, records(150, 120)); err != nil { // incremental, 80%: no earlier incremental
		t.Fatal(err)
	}
	if err := landAt("2026-03-03", "r3", true, records(150, 150)); err != nil { // 100% against 80%
		t.Fatal(err)
	}
	if err := landAt("2026-03-04", "r4", false, records(300, 60)); err != nil { // full: 20% against 10%
		t.Fatal(err)
	}
	err := landAt("2026-03-05", "r5", false, records(300, 150)) // full: 50% against 20%
	want := []string{"column closed_at is null in 50.0% of the 300 landed rows against 20.0% of 300 in the full landing of dt=2026-03-04 (run r4): up 30.0%, over max_null_share_increase 20%"}
	if problems := shapeError(t, err); !reflect.DeepEqual(problems, want) {
		t.Errorf("problems\n%q\nwant\n%q", problems, want)
	}
}

func TestPageRangesString(t *testing.T) {
	for _, c := range []struct {
		pages []int
		want  string
	}{
		{[]int{3}, "page 3"},
		{[]int{2, 3, 4}, "pages 2-4"},
		{[]int{1, 3, 4, 7}, "pages 1, 3-4, 7"},
		{[]int{1, 3, 5, 7, 9, 11, 12, 13}, "pages 1, 3, 5, 7, 9 and 1 more ranges (8 pages in all)"},
	} {
		var p pageRanges
		for _, n := range c.pages {
			p.add(n)
		}
		if got := p.String(); got != c.want {
			t.Errorf("%v: %q, want %q", c.pages, got, c.want)
		}
	}
}
