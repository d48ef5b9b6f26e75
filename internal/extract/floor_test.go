package extract

import (
	"context"
	"testing"
)

// The floors make the same requests as a landing and write nothing: with no store at all they
// see every page and record, and the decode floor quarantines what a landing would.
func TestMeasureFloor(t *testing.T) {
	recs := jsonRecords(7)
	recs = append(recs, `{"id": "bad", "employees": "many"}`) // quarantined by a landing
	log := &requestLog{}
	srv := serve(t, cursorAPI(t, recs, log))
	src := testSource(srv.URL) // 2 records a page: 4 pages
	ent := accountsJSON("/a", "data", cursorPaging)

	store := newStore(t)
	m := mustLand(t, store, src, ent, testOptions(t, "r1"))
	landedRequests := log.count()
	if m.Rows != 7 || m.Quarantined != 1 || m.Pages != 4 || m.ResponseBytes == 0 {
		t.Fatalf("landing: %+v", m)
	}
	tmp := t.TempDir()
	for _, f := range []Floor{FloorDownload, FloorDecode} {
		before := log.count()
		got, err := MeasureFloor(context.Background(), f, "src", src, "ent", ent, Options{Dt: testDt, RunID: "r2", TempDir: tmp})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got.Pages != 4 || got.Rows != 8 || got.ResponseBytes != m.ResponseBytes || got.Duration <= 0 {
			t.Errorf("%s: %+v, want 4 pages, 8 records, %d bytes", f, got, m.ResponseBytes)
		}
		if n := log.count() - before; n != landedRequests {
			t.Errorf("%s made %d requests, the landing %d", f, n, landedRequests)
		}
	}
	if files := tempFiles(t, tmp); len(files) != 0 {
		t.Errorf("floors left files behind: %v", files)
	}
	if _, err := MeasureFloor(context.Background(), Floor(9), "src", src, "ent", ent, Options{Dt: testDt, RunID: "r3"}); err == nil {
		t.Error("an unknown floor must be an error")
	}
}
