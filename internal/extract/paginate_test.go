package extract

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

var cursorPaging = config.Pagination{Type: "cursor", LimitParam: "limit", CursorParam: "cursor", NextCursorPath: "next_cursor"}

func TestCursorPagination(t *testing.T) {
	for _, n := range []int{0, 1, 2, 5, 6} {
		t.Run(fmt.Sprintf("%d records", n), func(t *testing.T) {
			var log requestLog
			srv := serve(t, cursorAPI(t, jsonRecords(n), &log))
			store := newStore(t)
			m := mustLand(t, store, testSource(srv.URL+"/crm/v1"), accountsJSON("/accounts", "data", cursorPaging), testOptions(t, "r1"))
			rows := landedRows(t, store, m)
			if len(rows) != n || m.Rows != int64(n) {
				t.Fatalf("landed %d rows (manifest %d), want %d", len(rows), m.Rows, n)
			}
			wantPages := max(1, (n+1)/2)
			if m.Pages != wantPages || log.count() != wantPages {
				t.Errorf("pages: manifest %d, requests %d, want %d", m.Pages, log.count(), wantPages)
			}
			if len(m.Files) != 1 {
				t.Errorf("files = %d, want 1 (even when empty)", len(m.Files))
			}
			if got := log.urls()[0]; got != "/crm/v1/accounts?limit=2" {
				t.Errorf("first request %s, want /crm/v1/accounts?limit=2", got)
			}
			if n > 2 {
				if got := log.urls()[1]; got != "/crm/v1/accounts?cursor=c2&limit=2" {
					t.Errorf("second request %s", got)
				}
			}
			for i, r := range rows {
				if r["id"] != fmt.Sprintf("a%d", i) || r["_page"] != int32(i/2+1) {
					t.Errorf("row %d: id %v page %v", i, r["id"], r["_page"])
				}
			}
		})
	}
}

func TestCursorNumberAndNestedPath(t *testing.T) {
	// A numeric cursor at a nested path; the last page has "" as its cursor.
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("after") {
		case "":
			fmt.Fprint(w, `{"result":{"rows":[{"id":"x1"}]},"meta":{"next":17}}`)
		case "17":
			fmt.Fprint(w, `{"result":{"rows":[{"id":"x2"}]},"meta":{"next":""}}`)
		default:
			http.Error(w, "bad cursor", 400)
		}
	}))
	ent := accountsJSON("/x", "result.rows", config.Pagination{Type: "cursor", CursorParam: "after", NextCursorPath: "meta.next"})
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	if got := column(landedRows(t, store, m), "id"); !reflect.DeepEqual(got, []any{"x1", "x2"}) {
		t.Errorf("ids = %v", got)
	}
}

func TestCursorRepeatIsAnError(t *testing.T) {
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":[{"id":"`+r.URL.Query().Get("cursor")+`x"}],"next_cursor":"same"}`)
	}))
	store := newStore(t)
	_, err := land(t, store, testSource(srv.URL), accountsJSON("/a", "data", cursorPaging), testOptions(t, "r1"))
	if err == nil {
		t.Fatal("a repeating cursor landed")
	}
	mustContain(t, err.Error(), "page 2", `"same"`, "loop forever")
	assertNoManifest(t, store)
	if keys := lakeKeys(t, store); len(keys) != 0 {
		t.Errorf("a failed landing left %v", keys)
	}
}

func TestPagePagination(t *testing.T) {
	for _, tc := range []struct {
		n         int
		first     *int // first_page; nil = default 1
		wantPages int
		wantFirst string
	}{
		{n: 0, wantPages: 1},
		{n: 3, wantPages: 3}, // a short page does not end the export: only an empty one does
		{n: 4, wantPages: 3}, // exactly full: one more (empty) page is asked for
		{n: 1, wantPages: 2},
		{n: 5, first: intp(1), wantPages: 4},
		{n: 4, first: intp(0), wantPages: 3, wantFirst: "page=0"}, // zero-based page numbers
		{n: 3, first: intp(0), wantPages: 3, wantFirst: "page=0"},
	} {
		first := 1
		if tc.first != nil {
			first = *tc.first
		}
		t.Run(fmt.Sprintf("%d records from page %d", tc.n, first), func(t *testing.T) {
			var log requestLog
			srv := serve(t, pageAPI(t, jsonRecords(tc.n), first, &log))
			pg := config.Pagination{Type: "page", PageParam: "page", LimitParam: "per_page", FirstPage: tc.first}
			store := newStore(t)
			m := mustLand(t, store, testSource(srv.URL+"/billing/v1"), accountsJSON("/subscriptions", "items", pg), testOptions(t, "r1"))
			rows := landedRows(t, store, m)
			if len(rows) != tc.n || m.Pages != tc.wantPages || log.count() != tc.wantPages {
				t.Fatalf("rows %d pages %d requests %d (%v), want %d rows %d pages", len(rows), m.Pages, log.count(), log.urls(), tc.n, tc.wantPages)
			}
			if want := fmt.Sprintf("/billing/v1/subscriptions?page=%d&per_page=2", first); log.urls()[0] != want {
				t.Errorf("first request %s, want %s", log.urls()[0], want)
			}
			for i, r := range rows {
				if r["id"] != fmt.Sprintf("a%d", i) {
					t.Errorf("row %d id %v", i, r["id"])
				}
			}
		})
	}
}

// A server that caps the page size below page_size returns short pages before the end; the
// export must go on to the empty page, not stop at the first short one.
func TestPageServerCappingPageSizeLandsEverything(t *testing.T) {
	const total, cap = 7, 2
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		var recs []string
		for i := (page - 1) * cap; i < page*cap && i < total; i++ {
			recs = append(recs, fmt.Sprintf(`{"id":"a%d"}`, i))
		}
		fmt.Fprintf(w, `{"items":[%s]}`, strings.Join(recs, ","))
	}))
	store := newStore(t)
	src := testSource(srv.URL)
	src.PageSize = 5 // more than the server gives
	m := mustLand(t, store, src, accountsJSON("/s", "items", config.Pagination{Type: "page", PageParam: "page", LimitParam: "per_page"}), testOptions(t, "r1"))
	if rows := landedRows(t, store, m); len(rows) != total || m.Pages != 5 {
		t.Fatalf("landed %d rows in %d pages, want %d rows in 5 pages (4 with data, 1 empty)", len(rows), m.Pages, total)
	}
}

func TestPageServerIgnoringPageParamIsAnError(t *testing.T) {
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"items":[{"id":"a"},{"id":"b"}]}`)
	}))
	store := newStore(t)
	_, err := land(t, store, testSource(srv.URL), accountsJSON("/s", "items", config.Pagination{Type: "page", PageParam: "pg", LimitParam: "per_page"}), testOptions(t, "r1"))
	if err == nil {
		t.Fatal("endless identical pages landed")
	}
	mustContain(t, err.Error(), "identical", `"pg"`)
	assertNoManifest(t, store)
}

func TestLinkPaginationCSV(t *testing.T) {
	rows := []string{
		"t1,Printer on fire,2026-01-05T09:00:00Z,5,true,x\r\n",
		"t2,\"Quoted, with comma\",2026-01-06T09:00:00+02:00,4,FALSE,\"y,z\"\r\n",
		"t3,\"Two\r\nlines and \"\"quotes\"\"\",2026-01-07,,1,\r\n",
		"t4,Last,,3,0,\r\n",
		"t5,Very last,2026-01-08T00:00:00.5Z,1,,\r\n",
	}
	var log requestLog
	srv := serve(t, linkCSV(t, "ticket_id,subject,created_at,csat,escalated,extra_col", rows, &log))
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL+"/support/v1"), ticketsCSV("/tickets.csv"), testOptions(t, "r1"))
	got := landedRows(t, store, m)
	if m.Pages != 3 || len(got) != 5 {
		t.Fatalf("pages %d rows %d (requests %v), want 3 pages 5 rows", m.Pages, len(got), log.urls())
	}
	wantURLs := []string{"/support/v1/tickets.csv?per_page=2", "/support/v1/tickets.csv?page=2&per_page=2", "/support/v1/tickets.csv?page=3&per_page=2"}
	if !reflect.DeepEqual(log.urls(), wantURLs) {
		t.Errorf("requests %v, want %v", log.urls(), wantURLs)
	}
	// _raw is the exact row, line terminator aside; a quoted field keeps its CRLF.
	for i, r := range got {
		if want := strings.TrimSuffix(rows[i], "\r\n"); r["_raw"] != want {
			t.Errorf("row %d _raw = %q, want %q", i, r["_raw"], want)
		}
	}
	if got[2]["subject"] != "Two\nlines and \"quotes\"" {
		t.Errorf("subject = %q", got[2]["subject"])
	}
	if got[1]["subject"] != "Quoted, with comma" || got[1]["created_at"] != time.Date(2026, 1, 6, 7, 0, 0, 0, time.UTC) {
		t.Errorf("row 2 = %v", got[1])
	}
	if got[2]["csat"] != nil || got[3]["created_at"] != nil || got[4]["escalated"] != nil {
		t.Errorf("empty CSV fields must land as null: %v %v %v", got[2]["csat"], got[3]["created_at"], got[4]["escalated"])
	}
	if column(got, "escalated")[0] != true || column(got, "escalated")[1] != false || column(got, "escalated")[2] != true || column(got, "escalated")[3] != false {
		t.Errorf("escalated = %v", column(got, "escalated"))
	}
	if got[4]["created_at"] != time.Date(2026, 1, 8, 0, 0, 0, 500_000_000, time.UTC) {
		t.Errorf("fractional timestamp = %v", got[4]["created_at"])
	}
	if _, ok := got[0]["extra_col"]; ok {
		t.Error("an unconfigured CSV column was landed as a column; it belongs in _raw only")
	}
}

func TestLinkEmptyExport(t *testing.T) {
	srv := serve(t, linkCSV(t, "ticket_id,subject,created_at,csat,escalated", nil, nil))
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ticketsCSV("/t.csv"), testOptions(t, "r1"))
	if m.Rows != 0 || len(m.Files) != 1 || m.Pages != 1 {
		t.Fatalf("manifest %+v", m)
	}
	schema, rows := readParquet(t, store.LocalPath(m.Files[0].Key))
	if len(rows) != 0 || schema.NumFields() != 9 {
		t.Errorf("empty part: %d rows, schema %v", len(rows), schema)
	}
}

func TestLinkToAnotherHostIsRefused(t *testing.T) {
	other := serve(t, linkCSV(t, "ticket_id", []string{"x\n"}, nil))
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<`+other.URL+`/steal?page=2>; rel="next"`)
		fmt.Fprint(w, "ticket_id\r\nt1\r\n")
	}))
	store := newStore(t)
	_, err := land(t, store, testSource(srv.URL), ticketsCSV("/t.csv"), testOptions(t, "r1"))
	if err == nil {
		t.Fatal("followed a Link to another host")
	}
	mustContain(t, err.Error(), "another host", strings.TrimPrefix(other.URL, "http://"))
	assertNoManifest(t, store)
}

func TestLinkLoopIsAnError(t *testing.T) {
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `</t.csv?per_page=2>; rel="next"`)
		fmt.Fprint(w, "ticket_id\r\nt"+r.URL.Query().Get("per_page")+"\r\n")
	}))
	_, err := land(t, newStore(t), testSource(srv.URL), ticketsCSV("/t.csv"), testOptions(t, "r1"))
	if err == nil || !strings.Contains(err.Error(), "loop forever") {
		t.Fatalf("err = %v", err)
	}
}

func TestNoPagination(t *testing.T) {
	var log requestLog
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		fmt.Fprint(w, "[\n"+strings.Join(jsonRecords(3), ",\n")+"\n]\n")
	}))
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), accountsJSON("/all.json?format=full", "", config.Pagination{Type: "none", LimitParam: "limit"}), testOptions(t, "r1"))
	if m.Rows != 3 || m.Pages != 1 || log.count() != 1 {
		t.Fatalf("rows %d pages %d requests %d", m.Rows, m.Pages, log.count())
	}
	if got := log.urls()[0]; got != "/all.json?format=full" {
		t.Errorf("request %s: the path's query must be kept and nothing added", got)
	}
}

func TestNextLink(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
		want   string
	}{
		{"none", nil, ""},
		{"simple", []string{`<https://x/a?page=2>; rel="next"`}, "https://x/a?page=2"},
		{"bare rel", []string{`</a?page=2>; rel=next`}, "/a?page=2"},
		{"among others", []string{`</a?p=1>; rel="first", </a?p=3>; rel="next", </a?p=9>; rel="last"`}, "/a?p=3"},
		{"second header value", []string{`</a?p=1>; rel="prev"`, `</a?p=3>; rel="next"`}, "/a?p=3"},
		{"multiple rel types", []string{`</a?p=3>; rel="nofollow NEXT"`}, "/a?p=3"},
		{"comma inside quoted param", []string{`</a?p=1>; title="a, rel=next"; rel="prev", </a?p=2>; rel="next"`}, "/a?p=2"},
		{"comma inside URL", []string{`</a?ids=1,2>; rel="next"`}, "/a?ids=1,2"},
		{"only next-ish", []string{`</a?p=3>; rel="nextpage"`}, ""},
		{"first rel wins", []string{`</a?p=3>; rel="prev"; rel="next"`}, ""},
		{"malformed then good", []string{`garbage; rel="next", </a?p=4>; rel="next"`}, "/a?p=4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := nextLink(tc.values)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("nextLink(%q) = %q, %v; want %q", tc.values, got, ok, tc.want)
			}
		})
	}
}
