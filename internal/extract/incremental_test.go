package extract

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func timep(s string) *time.Time { t := mustTime(s); return &t }

// updatedRecords are accounts updated at the given times ("" = no created_at).
func updatedRecords(times ...string) []string {
	out := make([]string, len(times))
	for i, ts := range times {
		if ts == "" {
			out[i] = fmt.Sprintf(`{"id":"a%d"}`, i)
			continue
		}
		out[i] = fmt.Sprintf(`{"id":"a%d","created_at":%q}`, i, ts)
	}
	return out
}

func TestIncrementalParam(t *testing.T) {
	since := timep("2026-02-03T04:05:06.789Z")
	for _, tc := range []struct {
		name    string
		pg      config.Pagination
		inc     config.Incremental
		handler func(*requestLog) http.Handler
		want    []string
	}{
		{
			name: "cursor, unix, every",
			pg:   cursorPaging,
			inc:  config.Incremental{Param: "updated_since", ParamFormat: "unix", ParamOn: "every"},
			handler: func(l *requestLog) http.Handler {
				return cursorAPI(t, jsonRecords(3), l)
			},
			want: []string{"/a?limit=2&updated_since=1770091506", "/a?cursor=c2&limit=2&updated_since=1770091506"},
		},
		{
			name: "cursor, rfc3339, first",
			pg:   cursorPaging,
			inc:  config.Incremental{Param: "updated_since", ParamFormat: "rfc3339", ParamOn: "first"},
			handler: func(l *requestLog) http.Handler {
				return cursorAPI(t, jsonRecords(3), l)
			},
			want: []string{"/a?limit=2&updated_since=2026-02-03T04%3A05%3A06Z", "/a?cursor=c2&limit=2"},
		},
		{
			name: "page, date, every (the default)",
			pg:   config.Pagination{Type: "page", PageParam: "page", LimitParam: "per_page"},
			inc:  config.Incremental{Param: "since", ParamFormat: "date"},
			handler: func(l *requestLog) http.Handler {
				return pageAPI(t, jsonRecords(3), 1, l)
			},
			want: []string{"/a?page=1&per_page=2&since=2026-02-03", "/a?page=2&per_page=2&since=2026-02-03", "/a?page=3&per_page=2&since=2026-02-03"},
		},
		{
			name: "page, first",
			pg:   config.Pagination{Type: "page", PageParam: "page", LimitParam: "per_page"},
			inc:  config.Incremental{Param: "since", ParamFormat: "date", ParamOn: "first"},
			handler: func(l *requestLog) http.Handler {
				return pageAPI(t, jsonRecords(1), 1, l)
			},
			want: []string{"/a?page=1&per_page=2&since=2026-02-03", "/a?page=2&per_page=2"},
		},
		{
			name: "offset, every",
			pg:   offsetPaging,
			inc:  config.Incremental{Param: "modified_after", ParamFormat: "unix"},
			handler: func(l *requestLog) http.Handler {
				return offsetAPI(jsonRecords(2), 9, l)
			},
			want: []string{"/a?limit=2&modified_after=1770091506&offset=0", "/a?limit=2&modified_after=1770091506&offset=2"},
		},
		{
			name: "link follows the server's URLs",
			pg:   config.Pagination{Type: "link", LimitParam: "per_page"},
			inc:  config.Incremental{Param: "since", ParamFormat: "unix"},
			handler: func(l *requestLog) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					l.add(r)
					if r.URL.Query().Get("page") == "" {
						w.Header().Set("Link", `</a?page=2>; rel="next"`)
					}
					fmt.Fprint(w, `[{"id":"`+r.URL.RawQuery+`"}]`)
				})
			},
			want: []string{"/a?per_page=2&since=1770091506", "/a?page=2"},
		},
		{
			name: "none",
			pg:   config.Pagination{Type: "none"},
			inc:  config.Incremental{Param: "since", ParamFormat: "rfc3339", ParamOn: "first"},
			handler: func(l *requestLog) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { l.add(r); fmt.Fprint(w, `[]`) })
			},
			want: []string{"/a?since=2026-02-03T04%3A05%3A06Z"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log requestLog
			srv := serve(t, tc.handler(&log))
			recordsPath := map[string]string{"cursor": "data", "page": "items", "offset": "items"}[tc.pg.Type]
			ent := accountsJSON("/a", recordsPath, tc.pg)
			inc := tc.inc
			inc.CursorColumn = "created_at"
			ent.Incremental = &inc
			opts := testOptions(t, "r1")
			opts.Since = since
			store := newStore(t)
			m := mustLand(t, store, testSource(srv.URL), ent, opts)
			if !reflect.DeepEqual(log.urls(), tc.want) {
				t.Errorf("requests\n got %v\nwant %v", log.urls(), tc.want)
			}
			if m.Mode != "incremental" || m.Since == nil || !m.Since.Equal(*since) || m.Filtered != 0 {
				t.Errorf("manifest mode %q since %v filtered %d", m.Mode, m.Since, m.Filtered)
			}
			// The API filters: nothing is dropped client-side, whatever the records say.
			if m.Rows == 0 && len(tc.want) > 1 {
				t.Errorf("no rows landed")
			}
		})
	}
}

func TestIncrementalClientSideFilter(t *testing.T) {
	recs := updatedRecords(
		"2026-01-01T00:00:00Z",        // before
		"2026-01-10T12:00:00Z",        // exactly Since: not newer, dropped
		"2026-01-10T12:00:00.000001Z", // a microsecond after: kept
		"",                            // no cursor value: kept (it cannot be judged)
		"2026-01-20T00:00:00+01:00",   // after
		"2025-12-31T23:59:59Z",        // before
	)
	recs = append(recs, `{"id":"bad","created_at":"yesterday"}`) // quarantined, not filtered
	srv := serve(t, cursorAPI(t, recs, nil))
	ent := accountsJSON("/a", "data", cursorPaging)
	ent.Incremental = &config.Incremental{CursorColumn: "created_at", ParamFormat: "rfc3339", ParamOn: "every", Lookback: config.Duration(time.Hour)}
	opts := testOptions(t, "r1")
	opts.Since = timep("2026-01-10T12:00:00Z")
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, opts)
	rows := landedRows(t, store, m)
	if got := ids(rows); !reflect.DeepEqual(got, []any{"a2", "a3", "a4"}) {
		t.Errorf("landed %v", got)
	}
	if m.Filtered != 3 || m.Quarantined != 1 || m.Rows != 3 || m.Mode != "incremental" {
		t.Errorf("filtered %d quarantined %d rows %d mode %s", m.Filtered, m.Quarantined, m.Rows, m.Mode)
	}
	if m.CursorMax == nil || !m.CursorMax.Equal(mustTime("2026-01-19T23:00:00Z")) || m.Since == nil || !m.Since.Equal(*opts.Since) {
		t.Errorf("cursor_max %v since %v", m.CursorMax, m.Since)
	}
	if q := quarantined(t, store, m.QuarantineKey); len(q) != 1 || q[0].Raw != `{"id":"bad","created_at":"yesterday"}` {
		t.Errorf("quarantine %+v", q)
	}
	// Filtered records do not count against max_bad_share: 1 bad of 4 considered.
	src := testSource(srv.URL)
	src.MaxBadShare = 0.25
	if _, err := land(t, newStore(t), src, ent, opts); err != nil {
		t.Errorf("bad share counted filtered records: %v", err)
	}
	// The manifest on disk says the same.
	disk, err := readManifest(store)
	if err != nil || disk.Filtered != 3 || disk.Mode != "incremental" || disk.CursorMax == nil || disk.Since == nil {
		t.Errorf("manifest on disk %+v %v", disk, err)
	}
}

func TestFullLandingOfIncrementalEntity(t *testing.T) {
	recs := updatedRecords("2026-01-01T00:00:00Z", "", "2026-03-01T10:00:00.5Z", "2026-02-01T00:00:00Z")
	srv := serve(t, cursorAPI(t, recs, nil))
	ent := accountsJSON("/a", "data", cursorPaging)
	ent.Incremental = &config.Incremental{CursorColumn: "created_at"}
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	if m.Mode != "full" || m.Since != nil || m.Rows != 4 || m.Filtered != 0 {
		t.Errorf("manifest %+v", m)
	}
	if m.CursorMax == nil || !m.CursorMax.Equal(mustTime("2026-03-01T10:00:00.5Z")) {
		t.Errorf("cursor_max %v", m.CursorMax)
	}

	// Nothing landed: no cursor_max. Only null cursors: none either.
	for _, body := range []string{`{"data":[],"next_cursor":null}`, `{"data":[{"id":"x"}],"next_cursor":null}`} {
		srv := serve(t, jsonBody(body))
		m := mustLand(t, newStore(t), testSource(srv.URL), ent, testOptions(t, "r1"))
		if m.CursorMax != nil {
			t.Errorf("%s: cursor_max %v, want nil", body, m.CursorMax)
		}
	}

	// An entity without incremental config ignores Since: a full landing, no cursor_max.
	plain := accountsJSON("/a", "data", cursorPaging)
	opts := testOptions(t, "r1")
	opts.Since = timep("2030-01-01T00:00:00Z")
	m = mustLand(t, newStore(t), testSource(srv.URL), plain, opts)
	if m.Mode != "full" || m.Since != nil || m.CursorMax != nil || m.Rows != 4 {
		t.Errorf("plain entity with Since: %+v", m)
	}
}

// Two days of incremental landings the way the ingest job chains them: day 2 asks from day 1's
// cursor_max minus the lookback, and lands only what changed since (plus the lookback window).
func TestIncrementalChain(t *testing.T) {
	day1 := updatedRecords("2026-03-01T08:00:00Z", "2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z")
	recs := day1
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { cursorAPI(t, recs, nil)(w, r) }))
	ent := accountsJSON("/a", "data", cursorPaging)
	ent.Incremental = &config.Incremental{CursorColumn: "created_at", Lookback: config.Duration(30 * time.Minute)}
	store := newStore(t)
	src := testSource(srv.URL)

	m1, err := LandEntity(t.Context(), store, "src", src, "ent", ent, Options{Dt: "2026-03-01", RunID: "r1", TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if m1.Mode != "full" || m1.CursorMax == nil || !m1.CursorMax.Equal(mustTime("2026-03-01T10:00:00Z")) {
		t.Fatalf("day 1 %+v", m1)
	}
	// Day 2: a0 unchanged, a2 updated within the lookback window's reach, a3 new.
	recs = updatedRecords("2026-03-01T08:00:00Z", "2026-03-01T09:00:00Z", "2026-03-01T10:00:00Z", "2026-03-02T07:00:00Z")
	recs[2] = `{"id":"a2","created_at":"2026-03-01T09:45:00Z"}` // a late write, stamped before the saved cursor
	since := m1.CursorMax.Add(-ent.Incremental.Lookback.D())
	m2, err := LandEntity(t.Context(), store, "src", src, "ent", ent, Options{Dt: "2026-03-02", RunID: "r2", TempDir: t.TempDir(), Since: &since})
	if err != nil {
		t.Fatal(err)
	}
	rows := landedRows(t, store, m2)
	if got := ids(rows); !reflect.DeepEqual(got, []any{"a2", "a3"}) {
		t.Errorf("day 2 landed %v, want the late write a2 and the new a3", got)
	}
	if m2.Filtered != 2 || m2.Mode != "incremental" || !m2.CursorMax.Equal(mustTime("2026-03-02T07:00:00Z")) {
		t.Errorf("day 2 %+v", m2)
	}
	// Day 1's landing is untouched: each dt is its own dataset.
	if m, err := lake.ReadManifest(t.Context(), store, "src", "ent", "2026-03-01"); err != nil || m.RunID != "r1" {
		t.Errorf("day 1 manifest %+v %v", m, err)
	}
}

func TestFormatCursor(t *testing.T) {
	tm := mustTime("2026-02-03T23:59:59.999+01:00")
	for format, want := range map[string]string{"unix": "1770159599", "rfc3339": "2026-02-03T22:59:59Z", "date": "2026-02-03", "": "2026-02-03T22:59:59Z"} {
		if got := formatCursor(tm, format); got != want {
			t.Errorf("%q: %s, want %s", format, got, want)
		}
	}
	if !strings.HasPrefix(formatCursor(mustTime("1969-12-31T23:59:59.5Z"), "unix"), "-1") {
		t.Errorf("before the epoch rounds down")
	}
}
