package extract

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/segpipe/segpipe/internal/config"
)

// Download and Decode make the same requests as a landing and write nothing: with no store at
// all they see every page and record, and Decode hands on the rows a landing lands and
// quarantines what it would.
func TestDownloadAndDecode(t *testing.T) {
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
	opts := Options{Dt: testDt, RunID: "r2", TempDir: tmp, BatchRows: 3}

	before := log.count()
	got, err := Download(context.Background(), "src", src, "ent", ent, opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := (PullResult{Pages: 4, ResponseBytes: m.ResponseBytes, Records: 8}); got != want {
		t.Errorf("download: %+v, want %+v", got, want)
	}
	if n := log.count() - before; n != landedRequests {
		t.Errorf("download made %d requests, the landing %d", n, landedRequests)
	}

	before = log.count()
	var batches, rows int64
	got, err = Decode(context.Background(), "src", src, "ent", ent, opts, func(rec arrow.RecordBatch) error {
		batches++
		rows += rec.NumRows()
		if !rec.Schema().Equal(mustSchema(t, ent)) {
			t.Errorf("batch schema %v", rec.Schema())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (PullResult{Pages: 4, ResponseBytes: m.ResponseBytes, Records: 8, Rows: 7, Quarantined: 1}); got != want {
		t.Errorf("decode: %+v, want %+v", got, want)
	}
	if rows != 7 || batches != 3 { // 3 + 3 + 1 with BatchRows 3
		t.Errorf("decode sent %d rows in %d batches, want 7 in 3", rows, batches)
	}
	if n := log.count() - before; n != landedRequests {
		t.Errorf("decode made %d requests, the landing %d", n, landedRequests)
	}
	if files := tempFiles(t, tmp); len(files) != 0 {
		t.Errorf("Download and Decode left files behind: %v", files)
	}

	// The sink's error ends the pull, named like every other error of the entity.
	_, err = Decode(context.Background(), "src", src, "ent", ent, opts, func(arrow.RecordBatch) error { return errors.New("sink full") })
	if err == nil || !strings.HasPrefix(err.Error(), "extract src/ent dt="+testDt+": ") || !strings.Contains(err.Error(), "sink full") {
		t.Errorf("a failing sink: %v", err)
	}
	// Entity config is checked as config.Load checks it.
	bad := *ent
	bad.PrimaryKey = "nope"
	if _, err := Download(context.Background(), "src", src, "ent", &bad, opts); err == nil || !strings.Contains(err.Error(), `primary_key: "nope" is not one of the columns`) {
		t.Errorf("bad primary key: %v", err)
	}
}

func mustSchema(t *testing.T, ent *config.Entity) *arrow.Schema {
	t.Helper()
	s, err := LandedSchema(ent)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
