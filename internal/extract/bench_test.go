package extract

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

const (
	benchRows     = 200_000
	benchPageSize = 5_000
)

// benchExport is a pre-rendered export: the bytes of every page by request URI.
type benchExport struct {
	pages map[string][]byte
	order []string // request URIs in the order the extract asks for them
	bytes int64
}

func (e *benchExport) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, ok := e.pages[r.URL.RequestURI()]
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, ".ndjson"):
		w.Header().Set("Content-Type", "application/x-ndjson")
	case strings.HasSuffix(r.URL.Path, ".csv"):
		w.Header().Set("Content-Type", "text/csv")
		if i := indexOf(e.order, r.URL.RequestURI()); i+1 < len(e.order) {
			w.Header().Set("Link", "<"+e.order[i+1]+`>; rel="next"`)
		}
	default:
		w.Header().Set("Content-Type", "application/json")
	}
	w.Write(b)
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// jsonExport renders a cursor-paged CRM export of benchRows accounts.
func jsonExport() *benchExport {
	e := &benchExport{pages: map[string][]byte{}}
	recs := jsonRecords(benchRows)
	for off := 0; off < benchRows; off += benchPageSize {
		uri := fmt.Sprintf("/a?limit=%d", benchPageSize)
		if off > 0 {
			uri = fmt.Sprintf("/a?cursor=c%d&limit=%d", off, benchPageSize)
		}
		next := "null"
		if off+benchPageSize < benchRows {
			next = fmt.Sprintf(`"c%d"`, off+benchPageSize)
		}
		body := []byte(`{"data":[` + strings.Join(recs[off:off+benchPageSize], ",") + `],"next_cursor":` + next + `}`)
		e.pages[uri] = body
		e.order = append(e.order, uri)
		e.bytes += int64(len(body))
	}
	return e
}

// ndjsonExport renders a page-numbered NDJSON export of benchRows accounts (the records of
// jsonExport, one a line).
func ndjsonExport() *benchExport {
	e := &benchExport{pages: map[string][]byte{}}
	recs := jsonRecords(benchRows)
	for off, p := 0, 1; off <= benchRows; off, p = off+benchPageSize, p+1 {
		uri := fmt.Sprintf("/a.ndjson?page=%d&per_page=%d", p, benchPageSize)
		var body []byte
		if off < benchRows {
			body = []byte(strings.Join(recs[off:off+benchPageSize], "\n") + "\n")
		}
		e.pages[uri] = body // the last page is empty: it ends the export
		e.order = append(e.order, uri)
		e.bytes += int64(len(body))
	}
	return e
}

// csvExport renders a Link-paged support export of benchRows tickets.
func csvExport() *benchExport {
	e := &benchExport{pages: map[string][]byte{}}
	for off, p := 0, 1; off < benchRows; off, p = off+benchPageSize, p+1 {
		uri := fmt.Sprintf("/t.csv?per_page=%d", benchPageSize)
		if p > 1 {
			uri = fmt.Sprintf("/t.csv?page=%d&per_page=%d", p, benchPageSize)
		}
		var b strings.Builder
		b.WriteString("ticket_id,subject,created_at,csat,escalated\r\n")
		for i := off; i < off+benchPageSize; i++ {
			fmt.Fprintf(&b, "t%d,\"Printer %d, floor %d, is on fire\",2026-01-%02dT%02d:00:00Z,%d,%t\r\n", i, i, i%9, 1+i%28, i%24, i%5+1, i%3 == 0)
		}
		e.pages[uri] = []byte(b.String())
		e.order = append(e.order, uri)
		e.bytes += int64(b.Len())
	}
	return e
}

func reportThroughput(b *testing.B, start time.Time, bytes int64) {
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(benchRows)*float64(b.N)/secs, "rows/s")
	b.ReportMetric(float64(bytes)*float64(b.N)/secs/1e6, "MB/s")
}

func benchLand(b *testing.B, e *benchExport, ent *config.Entity) {
	srv := serve(b, e)
	src := testSource(srv.URL)
	src.PageSize = benchPageSize
	store := newStore(b)
	tmp := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		m, err := LandEntity(context.Background(), store, "src", src, "ent", ent, Options{Dt: testDt, RunID: fmt.Sprintf("b%d", i), TempDir: tmp})
		if err != nil {
			b.Fatal(err)
		}
		if m.Rows != benchRows {
			b.Fatalf("landed %d rows", m.Rows)
		}
	}
	reportThroughput(b, start, e.bytes)
}

func benchReadOnly(b *testing.B, e *benchExport) {
	srv := serve(b, e)
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for _, uri := range e.order {
			resp, err := client.Get(srv.URL + uri)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadAll(resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	reportThroughput(b, start, e.bytes)
}

// BenchmarkLandJSON lands a cursor-paged JSON export (200k records, 5k a page).
func BenchmarkLandJSON(b *testing.B) {
	benchLand(b, jsonExport(), accountsJSON("/a", "data", cursorPaging))
}

// BenchmarkReadOnlyJSON only downloads the same pages: the ceiling for BenchmarkLandJSON.
func BenchmarkReadOnlyJSON(b *testing.B) { benchReadOnly(b, jsonExport()) }

// BenchmarkLandNDJSON lands a page-numbered NDJSON export (200k records, 5k a page).
func BenchmarkLandNDJSON(b *testing.B) {
	ent := accountsJSON("/a.ndjson", "", config.Pagination{Type: "page", PageParam: "page", LimitParam: "per_page"})
	ent.Format = "ndjson"
	benchLand(b, ndjsonExport(), ent)
}

// BenchmarkReadOnlyNDJSON only downloads the same pages: the ceiling for BenchmarkLandNDJSON.
func BenchmarkReadOnlyNDJSON(b *testing.B) { benchReadOnly(b, ndjsonExport()) }

// BenchmarkLandCSV lands a Link-paged CSV export (200k rows, 5k a page).
func BenchmarkLandCSV(b *testing.B) { benchLand(b, csvExport(), ticketsCSV("/t.csv")) }

// BenchmarkReadOnlyCSV only downloads the same pages: the ceiling for BenchmarkLandCSV.
func BenchmarkReadOnlyCSV(b *testing.B) { benchReadOnly(b, csvExport()) }
