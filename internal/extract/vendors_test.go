package extract

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
)

// Wire-level fakes of the vendor pagination styles segpipe's presets use. Each serves the
// given records (JSON object texts with an "id") and records its requests.

// recordIndex is the position of the record with the given id.
func recordIndex(records []string, id string) int {
	for i, r := range records {
		if strings.Contains(r, `"id":"`+id+`"`) {
			return i
		}
	}
	return -1
}

// stripeList serves {"object":"list","data":[...],"has_more":bool}, paged by ?limit= and
// ?starting_after=<id of the last object of the previous page>.
func stripeList(records []string, log *requestLog) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if log != nil {
			log.add(r)
		}
		if !bearerOK(w, r) {
			return
		}
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || limit < 1 || limit > 100 {
			http.Error(w, `{"error":{"message":"bad limit"}}`, http.StatusBadRequest)
			return
		}
		off := 0
		if after := r.URL.Query().Get("starting_after"); after != "" {
			i := recordIndex(records, after)
			if i < 0 {
				http.Error(w, `{"error":{"message":"No such object"}}`, http.StatusBadRequest)
				return
			}
			off = i + 1
		}
		end := min(off+limit, len(records))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"object":"list","url":"/v1/customers","has_more":%t,"data":[%s]}`, end < len(records), strings.Join(records[off:end], ","))
	}
}

// zendeskCursorExport serves Zendesk's incremental cursor export:
// {"tickets":[...],"after_cursor":"...","after_url":"...","end_of_stream":bool}. The first
// request carries start_time (Unix seconds), later ones only cursor. The last page still
// has an after_cursor (to resume from later): only end_of_stream says it is the last.
func zendeskCursorExport(records []string, perPage int, log *requestLog) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if log != nil {
			log.add(r)
		}
		if !bearerOK(w, r) {
			return
		}
		q := r.URL.Query()
		off := 0
		switch {
		case q.Get("cursor") != "" && q.Get("start_time") == "":
			off, _ = strconv.Atoi(strings.TrimPrefix(q.Get("cursor"), "z"))
		case q.Get("start_time") != "" && q.Get("cursor") == "":
		default:
			http.Error(w, `{"error":"give start_time or cursor, not both"}`, http.StatusBadRequest)
			return
		}
		end := min(off+perPage, len(records))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"tickets":[%s],"after_cursor":"z%d","after_url":"%s?cursor=z%d","before_cursor":null,"end_of_stream":%t}`,
			strings.Join(records[off:end], ","), end, r.URL.Path, end, end >= len(records))
	}
}

// hubspotObjects serves HubSpot CRM v3 lists: {"results":[{"id":..,"properties":{..}}],
// "paging":{"next":{"after":"..","link":"<absolute URL>"}}}, no paging on the last page.
// Records are wrapped: {"id":"a0","properties":<the record>,"archived":false}.
func hubspotObjects(records []string, log *requestLog) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if log != nil {
			log.add(r)
		}
		if !bearerOK(w, r) {
			return
		}
		q := r.URL.Query()
		limit, err := strconv.Atoi(q.Get("limit"))
		if err != nil || limit < 1 {
			http.Error(w, `{"status":"error","message":"bad limit"}`, http.StatusBadRequest)
			return
		}
		off, _ := strconv.Atoi(q.Get("after"))
		end := min(off+limit, len(records))
		wrapped := make([]string, 0, end-off)
		for i := off; i < end; i++ {
			wrapped = append(wrapped, fmt.Sprintf(`{"id":"%d","properties":%s,"archived":false}`, i, records[i]))
		}
		paging := ""
		if end < len(records) {
			next := *r.URL
			nq := next.Query()
			nq.Set("after", strconv.Itoa(end))
			next.RawQuery = nq.Encode()
			paging = fmt.Sprintf(`,"paging":{"next":{"after":"%d","link":"http://%s%s"}}`, end, r.Host, next.RequestURI())
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"results":[%s]%s}`, strings.Join(wrapped, ","), paging)
	}
}

// offsetAPI serves {"items":[...]} paged by ?offset= and ?limit=, capping the page size at
// maxPage.
func offsetAPI(records []string, maxPage int, log *requestLog) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if log != nil {
			log.add(r)
		}
		off, err1 := strconv.Atoi(r.URL.Query().Get("offset"))
		limit, err2 := strconv.Atoi(r.URL.Query().Get("limit"))
		if err1 != nil || err2 != nil || off < 0 || limit < 1 {
			http.Error(w, "bad offset or limit", http.StatusBadRequest)
			return
		}
		off = min(off, len(records))
		end := min(off+min(limit, maxPage), len(records))
		fmt.Fprintf(w, `{"items":[%s]}`, strings.Join(records[off:end], ","))
	}
}

var (
	stripePaging  = config.Pagination{Type: "cursor", LimitParam: "limit", CursorParam: "starting_after", CursorFromRecord: "id", HasMorePath: "has_more"}
	zendeskPaging = config.Pagination{Type: "cursor", CursorParam: "cursor", NextCursorPath: "after_cursor", EndPath: "end_of_stream"}
	hubspotPaging = config.Pagination{Type: "next_url", LimitParam: "limit", NextURLPath: "paging.next.link"}
	offsetPaging  = config.Pagination{Type: "offset", OffsetParam: "offset", LimitParam: "limit"}
)

func ids(rows []row) []any { return column(rows, "id") }

func wantIDs(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fmt.Sprintf("a%d", i)
	}
	return out
}

func TestCursorFromRecordStripe(t *testing.T) {
	for _, n := range []int{0, 1, 2, 5} {
		for _, hasMore := range []bool{true, false} {
			t.Run(fmt.Sprintf("%d records has_more_path=%t", n, hasMore), func(t *testing.T) {
				var log requestLog
				srv := serve(t, stripeList(jsonRecords(n), &log))
				pg := stripePaging
				if !hasMore {
					pg.HasMorePath = "" // then only an empty page ends it
				}
				store := newStore(t)
				m := mustLand(t, store, testSource(srv.URL+"/v1"), accountsJSON("/customers", "data", pg), testOptions(t, "r1"))
				if got := ids(landedRows(t, store, m)); len(got) != n || (n > 0 && !reflect.DeepEqual(got, wantIDs(n))) {
					t.Fatalf("ids %v", got)
				}
				want := []string{"/v1/customers?limit=2"}
				// With has_more the export ends on has_more false; without, on an empty page.
				for end := 2; n > 0 && !(hasMore && end >= n); end += 2 {
					want = append(want, fmt.Sprintf("/v1/customers?limit=2&starting_after=a%d", min(end, n)-1))
					if end >= n {
						break
					}
				}
				if !reflect.DeepEqual(log.urls(), want) {
					t.Errorf("requests\n got %v\nwant %v", log.urls(), want)
				}
			})
		}
	}
}

func TestCursorFromRecordErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"missing field", `{"data":[{"id":"a"},{"name":"no id"}],"has_more":true}`, `cursor_from_record "id" is missing or null in the page's last record`},
		{"object cursor", `{"data":[{"id":{"x":1}}],"has_more":true}`, `is a JSON object`},
		{"repeat", `{"data":[{"id":"same"}],"has_more":true}`, `repeats an earlier one`},
		{"has_more not a bool", `{"data":[{"id":"a"}],"has_more":"maybe"}`, `has_more_path "has_more" is "maybe", not a boolean`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, jsonBody(tc.body))
			store := newStore(t)
			_, err := land(t, store, testSource(srv.URL), accountsJSON("/c", "data", stripePaging), testOptions(t, "r1"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			assertNoManifest(t, store)
		})
	}
}

func TestCursorFromNestedRecordFieldNDJSON(t *testing.T) {
	// NDJSON pages; the cursor is a nested field of the last line.
	var log requestLog
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		switch r.URL.Query().Get("after") {
		case "":
			fmt.Fprint(w, "{\"id\":\"x1\",\"meta\":{\"seq\":10}}\n{\"id\":\"x2\",\"meta\":{\"seq\":11}}\n")
		case "11":
			fmt.Fprint(w, "{\"id\":\"x3\",\"meta\":{\"seq\":12}}\n")
		case "12":
			// empty page: the end
		default:
			http.Error(w, "bad cursor", 400)
		}
	}))
	ent := accountsJSON("/x", "", config.Pagination{Type: "cursor", CursorParam: "after", CursorFromRecord: "meta.seq"})
	ent.Format = "ndjson"
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	if got := ids(landedRows(t, store, m)); !reflect.DeepEqual(got, []any{"x1", "x2", "x3"}) {
		t.Errorf("ids %v", got)
	}
	if want := []string{"/x", "/x?after=11", "/x?after=12"}; !reflect.DeepEqual(log.urls(), want) {
		t.Errorf("requests %v, want %v", log.urls(), want)
	}
}

func TestEndPathZendesk(t *testing.T) {
	for _, n := range []int{0, 3, 4, 5} {
		t.Run(fmt.Sprintf("%d records", n), func(t *testing.T) {
			var log requestLog
			srv := serve(t, zendeskCursorExport(jsonRecords(n), 2, &log))
			ent := accountsJSON("/api/v2/incremental/tickets/cursor.json", "tickets", zendeskPaging)
			ent.Incremental = &config.Incremental{CursorColumn: "created_at", Param: "start_time", ParamFormat: "unix", ParamOn: "first"}
			opts := testOptions(t, "r1")
			since := mustTime("2025-01-01T00:00:00Z")
			opts.Since = &since
			store := newStore(t)
			m := mustLand(t, store, testSource(srv.URL), ent, opts)
			if got := ids(landedRows(t, store, m)); len(got) != n || (n > 0 && !reflect.DeepEqual(got, wantIDs(n))) {
				t.Fatalf("ids %v", got)
			}
			// One request a page: after end_of_stream nothing more is asked, although
			// after_cursor is still set.
			wantPages := max(1, (n+1)/2)
			if log.count() != wantPages || m.Pages != wantPages {
				t.Errorf("requests %v, want %d", log.urls(), wantPages)
			}
			if got := log.urls()[0]; got != "/api/v2/incremental/tickets/cursor.json?start_time=1735689600" {
				t.Errorf("first request %s", got)
			}
			for _, u := range log.urls()[1:] {
				if strings.Contains(u, "start_time") {
					t.Errorf("param_on first: %s carries start_time", u)
				}
			}
		})
	}
}

func TestNextURLHubSpot(t *testing.T) {
	for _, n := range []int{0, 1, 4, 5} {
		t.Run(fmt.Sprintf("%d records", n), func(t *testing.T) {
			var log requestLog
			srv := serve(t, hubspotObjects(jsonRecords(n), &log))
			ent := accountsJSON("/crm/v3/objects/companies", "results", hubspotPaging)
			ent.Params = map[string]string{"properties": "name,employees", "archived": "false"}
			// HubSpot nests every property: field maps read them.
			for i, c := range ent.Columns {
				if c.Name != "id" {
					ent.Columns[i].Field = "properties." + c.Name
				}
			}
			ent.Columns = append(ent.Columns, config.Column{Name: "source_id", Type: "string", Field: "properties.id"})
			store := newStore(t)
			m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
			rows := landedRows(t, store, m)
			if len(rows) != n {
				t.Fatalf("%d rows", len(rows))
			}
			for i, r := range rows {
				if r["id"] != strconv.Itoa(i) || r["source_id"] != fmt.Sprintf("a%d", i) || r["name"] != fmt.Sprintf("Acme %d", i) || r["employees"] != int64(10+i) {
					t.Errorf("row %d: %v", i, r)
				}
			}
			urls := log.urls()
			if want := "/crm/v3/objects/companies?archived=false&limit=2&properties=name%2Cemployees"; urls[0] != want {
				t.Errorf("first request %s, want %s", urls[0], want)
			}
			if len(urls) != max(1, (n+1)/2) {
				t.Errorf("requests %v", urls)
			}
			for _, u := range urls[1:] {
				if !strings.Contains(u, "properties=name%2Cemployees") || !strings.Contains(u, "after=") {
					t.Errorf("the server's next link is followed as given: %s", u)
				}
			}
		})
	}
}

func TestNextURLRelativeHasMoreAndGuards(t *testing.T) {
	t.Run("relative links, has_more false ends", func(t *testing.T) {
		var log requestLog
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.add(r)
			switch r.URL.Query().Get("page[after]") {
			case "":
				fmt.Fprint(w, `{"tickets":[{"id":"t1"}],"meta":{"has_more":true},"links":{"next":"?page%5Bafter%5D=x&page%5Bsize%5D=2"}}`)
			case "x":
				// has_more false ends it although links.next is still set.
				fmt.Fprint(w, `{"tickets":[{"id":"t2"}],"meta":{"has_more":false},"links":{"next":"/api/v2/tickets?page%5Bafter%5D=y"}}`)
			default:
				http.Error(w, "too far", 400)
			}
		}))
		ent := accountsJSON("/api/v2/tickets", "tickets", config.Pagination{Type: "next_url", LimitParam: "page[size]", NextURLPath: "links.next", HasMorePath: "meta.has_more"})
		store := newStore(t)
		m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
		if got := ids(landedRows(t, store, m)); !reflect.DeepEqual(got, []any{"t1", "t2"}) {
			t.Errorf("ids %v", got)
		}
		if want := []string{"/api/v2/tickets?page%5Bsize%5D=2", "/api/v2/tickets?page%5Bafter%5D=x&page%5Bsize%5D=2"}; !reflect.DeepEqual(log.urls(), want) {
			t.Errorf("requests %v, want %v", log.urls(), want)
		}
	})
	for _, tc := range []struct{ name, next, want string }{
		{"another host", `"http://evil.example/steal"`, "another host"},
		{"loop", `"/a?limit=2"`, "loop forever"},
		{"credentials", `"http://u:p@HOST/a?x=1"`, "credentials"},
		{"not a string", `{"href":"/a"}`, "is a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var leaked bool
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/steal" {
					leaked = true
				}
				fmt.Fprintf(w, `{"data":[{"id":"%s"}],"next":%s}`, r.URL.RawQuery, strings.ReplaceAll(tc.next, "HOST", r.Host))
			}))
			store := newStore(t)
			_, err := land(t, store, testSource(srv.URL), accountsJSON("/a", "data", config.Pagination{Type: "next_url", LimitParam: "limit", NextURLPath: "next"}), testOptions(t, "r1"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			mustContain(t, err.Error(), `next_url_path "next"`)
			if leaked {
				t.Error("another host was called")
			}
			assertNoManifest(t, store)
		})
	}
}

func TestOffsetPagination(t *testing.T) {
	for _, tc := range []struct {
		n, maxPage int
		want       []string
	}{
		{0, 2, []string{"offset=0"}},
		{3, 2, []string{"offset=0", "offset=2", "offset=3"}},
		{4, 2, []string{"offset=0", "offset=2", "offset=4"}},
		// A server that caps the page below page_size: the offset moves by what came.
		{5, 1, []string{"offset=0", "offset=1", "offset=2", "offset=3", "offset=4", "offset=5"}},
	} {
		t.Run(fmt.Sprintf("%d records, pages of %d", tc.n, tc.maxPage), func(t *testing.T) {
			var log requestLog
			srv := serve(t, offsetAPI(jsonRecords(tc.n), tc.maxPage, &log))
			ent := accountsJSON("/s", "items", offsetPaging)
			ent.Params = map[string]string{"status": "all"}
			store := newStore(t)
			m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
			if got := ids(landedRows(t, store, m)); len(got) != tc.n || (tc.n > 0 && !reflect.DeepEqual(got, wantIDs(tc.n))) {
				t.Fatalf("ids %v", got)
			}
			var want []string
			for _, o := range tc.want {
				want = append(want, "/s?limit=2&"+o+"&status=all")
			}
			if !reflect.DeepEqual(log.urls(), want) {
				t.Errorf("requests\n got %v\nwant %v", log.urls(), want)
			}
		})
	}
	t.Run("server ignores offset", func(t *testing.T) {
		srv := serve(t, jsonBody(`{"items":[{"id":"a"},{"id":"b"}]}`))
		store := newStore(t)
		_, err := land(t, store, testSource(srv.URL), accountsJSON("/s", "items", offsetPaging), testOptions(t, "r1"))
		if err == nil || !strings.Contains(err.Error(), `identical to the page before it; does the server read "offset"?`) {
			t.Fatalf("err = %v", err)
		}
		assertNoManifest(t, store)
	})
}

func TestCursorFromHeaderCSV(t *testing.T) {
	// Sforce-Locator style: the next cursor in a header; the literal null ends.
	var log requestLog
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		switch r.URL.Query().Get("locator") {
		case "":
			w.Header().Set("Sforce-Locator", "L1")
			fmt.Fprint(w, "ticket_id,subject\nt1,one\nt2,two\n")
		case "L1":
			w.Header().Set("Sforce-Locator", "null")
			fmt.Fprint(w, "ticket_id,subject\nt3,three\n")
		default:
			http.Error(w, "bad locator", 400)
		}
	}))
	ent := ticketsCSV("/q")
	ent.Pagination = config.Pagination{Type: "cursor", LimitParam: "maxRecords", CursorParam: "locator", NextCursorHeader: "Sforce-Locator"}
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	if got := column(landedRows(t, store, m), "ticket_id"); !reflect.DeepEqual(got, []any{"t1", "t2", "t3"}) {
		t.Errorf("ids %v", got)
	}
	if want := []string{"/q?maxRecords=2", "/q?locator=L1&maxRecords=2"}; !reflect.DeepEqual(log.urls(), want) {
		t.Errorf("requests %v", log.urls())
	}
	// A missing header ends too; a repeated one is a loop.
	srv2 := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Sforce-Locator", "again")
		fmt.Fprint(w, "ticket_id\nt"+r.URL.Query().Get("locator")+"\n")
	}))
	if _, err := land(t, newStore(t), testSource(srv2.URL), ent, testOptions(t, "r1")); err == nil || !strings.Contains(err.Error(), "loop forever") {
		t.Errorf("err = %v", err)
	}
}

func TestEntityParamsKeptByRebuildingPaginators(t *testing.T) {
	for _, tc := range []struct {
		name string
		pg   config.Pagination
		h    func(*requestLog) http.HandlerFunc
	}{
		{"cursor", cursorPaging, func(l *requestLog) http.HandlerFunc { return cursorAPI(t, jsonRecords(3), l) }},
		{"page", config.Pagination{Type: "page", PageParam: "page", LimitParam: "per_page"}, func(l *requestLog) http.HandlerFunc { return pageAPI(t, jsonRecords(3), 1, l) }},
		{"offset", offsetPaging, func(l *requestLog) http.HandlerFunc { return offsetAPI(jsonRecords(3), 9, l) }},
		{"none", config.Pagination{Type: "none"}, func(l *requestLog) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				l.add(r)
				fmt.Fprint(w, `{"data":[{"id":"a"}],"items":[{"id":"a"}]}`)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log requestLog
			srv := serve(t, tc.h(&log))
			recordsPath := map[string]string{"cursor": "data", "page": "items", "offset": "items", "none": "data"}[tc.name]
			ent := accountsJSON("/a?view=all", recordsPath, tc.pg)
			ent.Params = map[string]string{"fields": "id,name", "sort": "asc"}
			mustLand(t, newStore(t), testSource(srv.URL), ent, testOptions(t, "r1"))
			for _, u := range log.urls() {
				if !strings.Contains(u, "fields=id%2Cname") || !strings.Contains(u, "sort=asc") || !strings.Contains(u, "view=all") {
					t.Errorf("%s lost a param", u)
				}
			}
		})
	}
}
