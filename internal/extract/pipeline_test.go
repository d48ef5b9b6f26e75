package extract

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteFailureStopsTheLanding: when writing Parquet fails (here: its temporary
// directory is gone), the landing stops within a few pages instead of downloading and
// converting the rest of the export, and reports the write error. Nothing is published.
func TestWriteFailureStopsTheLanding(t *testing.T) {
	const records, pageSize = 2000, 10
	var log requestLog
	srv := serve(t, cursorAPI(t, jsonRecords(records), &log))
	src := testSource(srv.URL)
	src.PageSize = pageSize
	store := newStore(t)
	opts := testOptions(t, "r1")
	opts.TempDir = filepath.Join(t.TempDir(), "gone")
	opts.BatchRows = pageSize // a record batch, and so a write, per page
	_, err := land(t, store, src, accountsJSON("/a", "data", cursorPaging), opts)
	if err == nil || !strings.Contains(err.Error(), "create temporary Parquet file") || !strings.Contains(err.Error(), "src/ent") {
		t.Fatalf("err = %v, want the Parquet write failure naming the entity", err)
	}
	// The writer fails on the first batch; the sender sees it at its next hand-over. The
	// page feed is at most one page ahead and the writer holds at most two batches.
	if n := log.count(); n > 6 {
		t.Errorf("%d of %d pages were fetched after the first write failed", n, records/pageSize)
	}
	assertNoManifest(t, store)
}
