package extract

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
)

// jsonBody serves a fixed body at every path.
func jsonBody(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}
}

func TestJSONShapesAndValues(t *testing.T) {
	records := `[
	  {"id": "a1", "name": "Acme \"Rockets\" \u00e9", "employees": 250, "revenue": 1.5e6, "active": true,
	   "created_at": "2024-03-01T10:20:30.123456Z", "signup": "2024-03-01", "ignored": {"nested": [1, 2]}},
	  {"id":"a2","name":null,"employees":"42","revenue":3,"active":"FALSE","created_at":"2024-03-01T12:20:30+02:00","signup":"2024-03-01T23:30:00-02:00"},
	  {"id":"a3","employees":12.0,"created_at":1709288430,"signup":"","name":7.50,"active":false},
	  {"id":"a4","name":true,"revenue":"-0.25","created_at":"2024-03-01","signup":null, "id": "a4-last-wins"}
	]`
	want := []row{
		{"id": "a1", "name": `Acme "Rockets" é`, "employees": int64(250), "revenue": 1.5e6, "active": true,
			"created_at": time.Date(2024, 3, 1, 10, 20, 30, 123456000, time.UTC), "signup": "2024-03-01"},
		{"id": "a2", "name": nil, "employees": int64(42), "revenue": 3.0, "active": false,
			"created_at": time.Date(2024, 3, 1, 10, 20, 30, 0, time.UTC), "signup": "2024-03-02"},
		{"id": "a3", "name": "7.50", "employees": int64(12), "revenue": nil, "active": false,
			"created_at": time.Unix(1709288430, 0).UTC(), "signup": nil},
		{"id": "a4-last-wins", "name": "true", "employees": nil, "revenue": -0.25, "active": nil,
			"created_at": time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), "signup": nil},
	}
	for _, tc := range []struct {
		name, recordsPath, body string
	}{
		{"array", "", records},
		{"envelope", "data", `{"meta": {"count": 4, "data": "not this one"}, "data": ` + records + `}`},
		{"nested envelope", "result.items", `{"result": {"items": ` + records + `, "next": null}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, jsonBody(tc.body))
			store := newStore(t)
			opts := testOptions(t, "run-7")
			m := mustLand(t, store, testSource(srv.URL), accountsJSON("/a", tc.recordsPath, config.Pagination{Type: "none"}), opts)
			if m.Quarantined != 0 {
				t.Fatalf("quarantined %d: %+v", m.Quarantined, quarantined(t, store, m.QuarantineKey))
			}
			rows := landedRows(t, store, m)
			if len(rows) != len(want) {
				t.Fatalf("%d rows", len(rows))
			}
			for i, r := range rows {
				for k, v := range want[i] {
					if !reflect.DeepEqual(r[k], v) {
						t.Errorf("row %d %s = %#v, want %#v", i, k, r[k], v)
					}
				}
				if r["_run_id"] != "run-7" || r["_page"] != int32(1) {
					t.Errorf("row %d lineage: %v %v", i, r["_run_id"], r["_page"])
				}
				if ts, ok := r["_extracted_at"].(time.Time); !ok || time.Since(ts) > time.Minute {
					t.Errorf("row %d _extracted_at = %v", i, r["_extracted_at"])
				}
			}
			// _raw is each record's exact text, whitespace and escapes included.
			if !strings.HasPrefix(rows[0]["_raw"].(string), `{"id": "a1", "name": "Acme \"Rockets\" \u00e9", "employees": 250,`) ||
				!strings.HasSuffix(rows[0]["_raw"].(string), `"ignored": {"nested": [1, 2]}}`) {
				t.Errorf("_raw = %q", rows[0]["_raw"])
			}
			if rows[3]["_raw"] != `{"id":"a4","name":true,"revenue":"-0.25","created_at":"2024-03-01","signup":null, "id": "a4-last-wins"}` {
				t.Errorf("_raw = %q", rows[3]["_raw"])
			}
		})
	}
}

func TestLandedSchemaAndManifest(t *testing.T) {
	srv := serve(t, cursorAPI(t, jsonRecords(3), nil))
	store := newStore(t)
	before := time.Now().UTC().Add(-time.Second)
	m := mustLand(t, store, testSource(srv.URL), accountsJSON("/a", "data", cursorPaging), testOptions(t, "r1"))
	schema, _ := readParquet(t, store.LocalPath(m.Files[0].Key))
	want := []string{
		"id: utf8", "name: utf8", "employees: int64", "revenue: float64", "active: bool",
		"created_at: timestamp[us, tz=UTC]", "signup: date32",
		"_raw: utf8", "_page: int32", "_run_id: utf8", "_extracted_at: timestamp[us, tz=UTC]",
	}
	var got, fromManifest []string
	for _, f := range schema.Fields() {
		got = append(got, f.Name+": "+f.Type.String())
		if !f.Nullable {
			t.Errorf("%s is not nullable", f.Name)
		}
	}
	for _, c := range m.Schema {
		fromManifest = append(fromManifest, c.Name+": "+c.Type)
	}
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(fromManifest, want) {
		t.Errorf("schema\n got %v\nmanifest %v\nwant %v", got, fromManifest, want)
	}
	if ts := schema.Field(5).Type.(*arrow.TimestampType); ts.TimeZone != "UTC" || ts.Unit != arrow.Microsecond {
		t.Errorf("timestamp type %v", ts)
	}
	if m.Source != "src" || m.Entity != "ent" || m.Dt != testDt || m.RunID != "r1" || m.Pages != 2 || m.Rows != 3 ||
		m.ExtractedAt.Before(before) || m.Bytes != m.Files[0].Bytes || m.QuarantineKey != "" {
		t.Errorf("manifest %+v", m)
	}
	if m.Files[0].Key != "raw/src/ent/dt=2026-03-01/part-r1-00000.parquet" {
		t.Errorf("part key %s", m.Files[0].Key)
	}
	// The manifest on disk is the one returned.
	disk, err := readManifest(store)
	if err != nil || !reflect.DeepEqual(disk.Files, m.Files) || disk.Rows != m.Rows {
		t.Errorf("manifest on disk %+v, %v", disk, err)
	}
}

func TestPartsRollOver(t *testing.T) {
	srv := serve(t, cursorAPI(t, jsonRecords(11), nil))
	store := newStore(t)
	opts := testOptions(t, "r1")
	opts.RowsPerFile = 4
	opts.BatchRows = 3
	src := testSource(srv.URL)
	src.PageSize = 5
	m := mustLand(t, store, src, accountsJSON("/a", "data", cursorPaging), opts)
	var sizes []int64
	for i, f := range m.Files {
		sizes = append(sizes, f.Rows)
		if want := fmt.Sprintf("raw/src/ent/dt=%s/part-r1-%05d.parquet", testDt, i); f.Key != want {
			t.Errorf("file %d key %s, want %s", i, f.Key, want)
		}
	}
	if !reflect.DeepEqual(sizes, []int64{4, 4, 3}) {
		t.Errorf("part sizes %v, want [4 4 3]", sizes)
	}
	rows := landedRows(t, store, m)
	for i, r := range rows {
		if r["id"] != fmt.Sprintf("a%d", i) {
			t.Errorf("row %d id %v: order not kept", i, r["id"])
		}
	}
	if entries := tempFiles(t, opts.TempDir); len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestQuarantineReasonsJSON(t *testing.T) {
	body := "[\n" + strings.Join([]string{
		`{"id":"ok1","employees":1}`,
		`{"id":"b1","employees":"n/a"}`,
		`{"id":"b2","employees":2.5}`,
		`{"id":"b3","employees":9223372036854775808}`,
		`{"id":"b4","revenue":"lots"}`,
		`{"id":"b5","active":"yes"}`,
		`{"id":"b6","created_at":"yesterday"}`,
		`{"id":"b7","created_at":1.5}`,
		`{"id":"b8","signup":"2024-02-30"}`,
		`{"id":"b9","name":{"first":"A"}}`,
		`{"id":"b10","employees":[1],"revenue":"NaN"}`,
		`{"name":"no id"}`,
		`{"id":null}`,
		`{"id":""}`,
		`{"id":"  "}`,
		`{"id":"ok1","name":"dup"}`,
		`["not","an","object"]`,
		`"a string"`,
		`42`,
		"{\"id\":\"bad-utf8\",\"name\":\"\xff\xfe\"}",
		`{"id":"ok2","employees":-9223372036854775808}`,
	}, ",\n") + "\n]"
	srv := serve(t, jsonBody(body))
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), accountsJSON("/a", "", config.Pagination{Type: "none"}), testOptions(t, "r1"))
	if m.Rows != 2 || m.Quarantined != 19 {
		t.Errorf("rows %d quarantined %d, want 2 and 19", m.Rows, m.Quarantined)
	}
	if m.QuarantineKey != "quarantine/src/ent/dt=2026-03-01/part-r1.ndjson" {
		t.Errorf("quarantine key %s", m.QuarantineKey)
	}
	want := []string{
		`column employees: "n/a" is not an int64`,
		`column employees: 2.5 is not an int64 (it has a fraction)`,
		`column employees: 9223372036854775808 is not an int64 (out of range)`,
		`column revenue: "lots" is not a float64`,
		`column active: "yes" is not a bool (true, false, 1 or 0)`,
		`column created_at: "yesterday" is not a timestamp (RFC 3339 or YYYY-MM-DD)`,
		`column created_at: 1.5 is not a timestamp (a number must be whole Unix seconds)`,
		`column signup: "2024-02-30" is not a date (YYYY-MM-DD or RFC 3339)`,
		`column name: {"first":"A"} is not a string (it is a JSON object)`,
		`column employees: [1] is not an int64 (it is a JSON array); column revenue: "NaN" is not a float64`,
		`primary key id is missing`,
		`primary key id is null or empty`,
		`primary key id is empty`,
		`primary key id is empty`,
		`repeated primary key id "ok1" with other content: an earlier record in this landing has it, and the entity has no incremental cursor_column to tell which is newer`,
		`record is not a JSON object (it is a JSON array)`,
		`record is not a JSON object (it is a JSON string)`,
		`record is not a JSON object (it is a JSON number)`,
		`record is not valid UTF-8`,
	}
	q := quarantined(t, store, m.QuarantineKey)
	if len(q) != len(want) {
		t.Fatalf("%d quarantined records, want %d: %+v", len(q), len(want), q)
	}
	for i, r := range q {
		if r.Reason != want[i] {
			t.Errorf("record %d reason\n got %s\nwant %s", r.Index, r.Reason, want[i])
		}
		if r.Source != "src" || r.Entity != "ent" || r.Page != 1 || r.Index != i+1 {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	if q[0].Raw != `{"id":"b1","employees":"n/a"}` || q[15].Raw != `["not","an","object"]` {
		t.Errorf("raw not kept: %q %q", q[0].Raw, q[15].Raw)
	}
	rows := landedRows(t, store, m)
	if got := column(rows, "id"); !reflect.DeepEqual(got, []any{"ok1", "ok2"}) {
		t.Errorf("landed ids %v", got)
	}
}

func TestQuarantineReasonsCSV(t *testing.T) {
	body := "\uFEFFticket_id,subject,created_at,csat,escalated\n" +
		"t1,fine,2026-01-01T00:00:00Z,5,true\n" +
		"t2,bad csat,,n/a,\n" +
		"t3,too,many,fields,here,!\n" +
		"t4,short\n" +
		",no id,,,\n" +
		"t1,duplicate,,,\n" +
		"t5,\"bad \"quote\",,,\n" +
		"t6,\xff\xfe,,,\n" +
		"t7,bad bool and time,2026-13-01,,maybe\n" +
		"t8,\"ok, \"\"quoted\"\"\",,1,0\n"
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
	store := newStore(t)
	ent := ticketsCSV("/t.csv")
	ent.Pagination = config.Pagination{Type: "none"}
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	want := []struct {
		index  int
		reason string
		raw    string
	}{
		{1, `column csat: "n/a" is not an int64`, "t2,bad csat,,n/a,"},
		{2, `CSV row has 6 fields, the header has 5`, "t3,too,many,fields,here,!"},
		{3, `CSV row has 2 fields, the header has 5`, "t4,short"},
		{4, `primary key ticket_id is empty`, ",no id,,,"},
		{5, `repeated primary key ticket_id "t1" with other content: an earlier record in this landing has it, and the entity has no incremental cursor_column to tell which is newer`, "t1,duplicate,,,"},
		{6, `malformed CSV row: extraneous or missing " in quoted-field`, `t5,"bad "quote",,,`},
		{7, `record is not valid UTF-8`, "t6,\ufffd\ufffd,,,"},
		{8, `column created_at: "2026-13-01" is not a timestamp (RFC 3339 or YYYY-MM-DD); column escalated: "maybe" is not a bool (true, false, 1 or 0)`, "t7,bad bool and time,2026-13-01,,maybe"},
	}
	q := quarantined(t, store, m.QuarantineKey)
	if len(q) != len(want) || m.Quarantined != int64(len(want)) {
		t.Fatalf("%d quarantined (manifest %d), want %d: %+v", len(q), m.Quarantined, len(want), q)
	}
	for i, w := range want {
		if q[i].Index != w.index || q[i].Reason != w.reason || q[i].Raw != w.raw {
			t.Errorf("quarantined %d\n got %d %q %q\nwant %d %q %q", i, q[i].Index, q[i].Reason, q[i].Raw, w.index, w.reason, w.raw)
		}
	}
	rows := landedRows(t, store, m)
	if got := column(rows, "ticket_id"); !reflect.DeepEqual(got, []any{"t1", "t8"}) {
		t.Errorf("landed %v", got)
	}
	if rows[1]["subject"] != `ok, "quoted"` || rows[1]["_raw"] != `t8,"ok, ""quoted""",,1,0` {
		t.Errorf("row t8: %v", rows[1])
	}
}

func TestCSVMissingColumnsAreNull(t *testing.T) {
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "csat,ticket_id\r\n3,t1\r\n\r\n4,t2") // no final line end; a blank line
	}))
	store := newStore(t)
	ent := ticketsCSV("/t.csv")
	ent.Pagination = config.Pagination{Type: "none"}
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	rows := landedRows(t, store, m)
	if len(rows) != 2 || rows[0]["subject"] != nil || rows[1]["csat"] != int64(4) || rows[1]["_raw"] != "4,t2" || rows[0]["_raw"] != "3,t1" {
		t.Errorf("rows %v", rows)
	}
}

func TestCSVWithoutPrimaryKeyColumnFails(t *testing.T) {
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "id,subject\nx,y\n") }))
	store := newStore(t)
	ent := ticketsCSV("/t.csv")
	ent.Pagination = config.Pagination{Type: "none"}
	src := testSource(srv.URL)
	src.MaxBadShare = 0.01
	_, err := land(t, store, src, ent, testOptions(t, "r1"))
	var bs *BadShareError
	if !errors.As(err, &bs) {
		t.Fatalf("err = %v", err)
	}
	q := quarantined(t, store, bs.QuarantineKey)
	if len(q) != 1 || q[0].Reason != "primary key ticket_id is missing (no such column in the CSV header)" {
		t.Errorf("quarantine %+v", q)
	}
}

func TestBadShareOverLimit(t *testing.T) {
	body := `[{"id":"a"},{"id":"b","employees":"x"},{"id":"c"},{"id":"d","employees":"y"}]`
	srv := serve(t, jsonBody(body))
	store := newStore(t)
	src := testSource(srv.URL)
	ent := accountsJSON("/a", "", config.Pagination{Type: "none"})

	// At the limit lands.
	src.MaxBadShare = 0.5
	m := mustLand(t, store, src, ent, testOptions(t, "r1"))
	if m.Rows != 2 || m.Quarantined != 2 {
		t.Fatalf("manifest %+v", m)
	}

	// Over it fails, writes no manifest, and leaves r1's landing alone.
	src.MaxBadShare = 0.25
	_, err := land(t, store, src, ent, testOptions(t, "r2"))
	var bs *BadShareError
	if !errors.As(err, &bs) {
		t.Fatalf("err = %v, want *BadShareError", err)
	}
	if bs.Quarantined != 2 || bs.Total != 4 || bs.Share() != 0.5 || bs.Limit != 0.25 {
		t.Errorf("%+v", bs)
	}
	mustContain(t, err.Error(), "2 of 4", "50%", "25%", "max_bad_share", store.URL()+"/quarantine/src/ent/dt=2026-03-01/part-r2.ndjson")
	after, _ := readManifest(store)
	if after == nil || after.RunID != "r1" {
		t.Fatalf("manifest after the failed run: %+v", after)
	}
	keys := lakeKeys(t, store)
	for _, k := range keys {
		if strings.Contains(k, "part-r2") && !strings.HasSuffix(k, "part-r2.ndjson") {
			t.Errorf("the failed run left %s", k)
		}
	}
	if q := quarantined(t, store, bs.QuarantineKey); len(q) != 2 {
		t.Errorf("the failed run's quarantine holds %d records, want 2 (kept for the user)", len(q))
	}
	landedRows(t, store, after)

	// Zero tolerance: one bad record fails.
	srv2 := serve(t, jsonBody(`[{"id":"a"},{"id":"a","name":"other"}]`))
	src2 := testSource(srv2.URL)
	src2.MaxBadShare = 0
	if _, err := land(t, newStore(t), src2, ent, testOptions(t, "r3")); !errors.As(err, &bs) {
		t.Errorf("max_bad_share 0 with a conflicting repeat: err = %v", err)
	}
}

func TestRerunReplaces(t *testing.T) {
	n := 5
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		recs := jsonRecords(n)
		if n == 5 {
			recs = append(recs, `{"id":"bad","employees":"x"}`)
		}
		cursorAPI(t, recs, nil)(w, r)
	}))
	store := newStore(t)
	ent := accountsJSON("/a", "data", cursorPaging)
	opts := testOptions(t, "r1")
	opts.RowsPerFile = 2
	first := mustLand(t, store, testSource(srv.URL), ent, opts)
	if len(first.Files) != 3 || first.QuarantineKey == "" {
		t.Fatalf("first landing %+v", first)
	}
	// Something else in the folder that is not a part stays.
	if err := lake.PutBytes(t.Context(), store, lake.RawPrefix("src", "ent", testDt)+"README.txt", []byte("hi")); err != nil {
		t.Fatal(err)
	}

	n = 4
	second := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r2"))
	keys := lakeKeys(t, store)
	sort.Strings(keys)
	want := []string{
		"raw/src/ent/dt=2026-03-01/README.txt",
		"raw/src/ent/dt=2026-03-01/_manifest.json",
		"raw/src/ent/dt=2026-03-01/part-r2-00000.parquet",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("lake after the rerun:\n%v\nwant\n%v", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
	// Reading every part in the folder gives the rerun's rows once.
	var all []row
	for _, k := range keys {
		if strings.HasSuffix(k, ".parquet") {
			_, rows := readParquet(t, store.LocalPath(k))
			all = append(all, rows...)
		}
	}
	if len(all) != 4 || second.Rows != 4 {
		t.Errorf("%d rows in the folder, manifest %d; want 4", len(all), second.Rows)
	}

	// The same run id again is refused before anything is touched.
	_, err := land(t, store, testSource(srv.URL), ent, testOptions(t, "r2"))
	if !errors.Is(err, ErrRunIDReused) {
		t.Errorf("err = %v, want ErrRunIDReused", err)
	}
}

func TestBadOptions(t *testing.T) {
	srv := serve(t, jsonBody(`[]`))
	ent := accountsJSON("/a", "", config.Pagination{Type: "none"})
	for _, tc := range []struct {
		name string
		mod  func(*Options, *config.Source, *config.Entity)
		want string
	}{
		{"dt", func(o *Options, _ *config.Source, _ *config.Entity) { o.Dt = "2026-3-1" }, "not a YYYY-MM-DD"},
		{"run id", func(o *Options, _ *config.Source, _ *config.Entity) { o.RunID = "a/b" }, "run id"},
		{"empty run id", func(o *Options, _ *config.Source, _ *config.Entity) { o.RunID = "" }, "run id"},
		{"pk", func(_ *Options, _ *config.Source, e *config.Entity) { e.PrimaryKey = "nope" }, "primary_key"},
		{"type", func(_ *Options, _ *config.Source, e *config.Entity) {
			e.Columns = config.Columns{{Name: "id", Type: "uuid"}}
		}, "unknown type"},
		{"auth", func(_ *Options, s *config.Source, _ *config.Entity) { s.Auth.Type = "oauth" }, "unknown auth type"},
		{"base url", func(_ *Options, s *config.Source, _ *config.Entity) { s.BaseURL = "ftp://x" }, "http://"},
		{"format", func(_ *Options, _ *config.Source, e *config.Entity) { e.Format = "xml" }, "json, ndjson or csv"},
		{"paging", func(_ *Options, _ *config.Source, e *config.Entity) { e.Pagination.Type = "scroll" }, "unknown pagination"},
		{"offset without offset_param", func(_ *Options, _ *config.Source, e *config.Entity) { e.Pagination.Type = "offset" }, "offset_param"},
		{"two cursor sources", func(_ *Options, _ *config.Source, e *config.Entity) {
			e.Pagination = config.Pagination{Type: "cursor", CursorParam: "c", NextCursorPath: "n", CursorFromRecord: "id"}
		}, "exactly one of"},
		{"next_url without path", func(_ *Options, _ *config.Source, e *config.Entity) { e.Pagination.Type = "next_url" }, "next_url_path"},
		{"end_path on csv", func(_ *Options, _ *config.Source, e *config.Entity) {
			e.Format = "csv"
			e.Pagination = config.Pagination{Type: "link", EndPath: "end"}
		}, "JSON body"},
		{"cursor column not a timestamp", func(_ *Options, _ *config.Source, e *config.Entity) {
			e.Incremental = &config.Incremental{CursorColumn: "name"}
		}, "cursor_column"},
		{"bad field path", func(_ *Options, _ *config.Source, e *config.Entity) {
			e.Columns = config.Columns{{Name: "id", Type: "string", Field: "a..b"}}
		}, "not a dot path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t, "r1")
			src := testSource(srv.URL)
			e := *ent
			tc.mod(&opts, src, &e)
			store := newStore(t)
			_, err := land(t, store, src, &e, opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if keys := lakeKeys(t, store); len(keys) != 0 {
				t.Errorf("left %v", keys)
			}
		})
	}
}

func TestEnvelopeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, recordsPath, body, want string
	}{
		{"path missing", "data", `{"items":[]}`, `records_path "data" is not in the response body`},
		{"path not an array", "data", `{"data":{"a":1}}`, `records_path "data" is a JSON object, not an array`},
		{"object without records_path", "", `{"data":[]}`, `set records_path`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n int
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n++; fmt.Fprint(w, tc.body) }))
			_, err := land(t, newStore(t), testSource(srv.URL), accountsJSON("/a", tc.recordsPath, config.Pagination{Type: "none"}), testOptions(t, "r1"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if n != 1 {
				t.Errorf("%d requests: a body of the wrong shape is not retried", n)
			}
		})
	}
	// null at records_path is an empty page.
	srv := serve(t, jsonBody(`{"data":null}`))
	if m := mustLand(t, newStore(t), testSource(srv.URL), accountsJSON("/a", "data", config.Pagination{Type: "none"}), testOptions(t, "r1")); m.Rows != 0 {
		t.Errorf("rows %d", m.Rows)
	}
}
