package extract

import "testing"

// BenchmarkSplitJSONPage checks and splits one page of BenchmarkLandJSON's export (5,000
// records in a {"data":[...],"next_cursor":...} envelope) and reads its cursor: the page
// feed's decoding work, without HTTP.
func BenchmarkSplitJSONPage(b *testing.B) {
	e := jsonExport()
	body := e.pages[e.order[1]]
	ent := accountsJSON("/a", "data", cursorPaging)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p := &page{body: body}
		if err := decodeJSONPage(p, ent); err != nil || len(p.records) != benchPageSize || p.cursor == "" {
			b.Fatalf("%v: %d records, cursor %q", err, len(p.records), p.cursor)
		}
	}
}

// BenchmarkSplitNDJSONPage checks and splits one page of BenchmarkLandNDJSON's export.
func BenchmarkSplitNDJSONPage(b *testing.B) {
	e := ndjsonExport()
	body := e.pages[e.order[0]]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p := &page{body: body}
		if err := decodeNDJSONPage(p); err != nil || len(p.records) != benchPageSize {
			b.Fatalf("%v: %d records", err, len(p.records))
		}
	}
}
