package jobs_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

// publishedFiles runs the segment job with DuckDB on threads threads and returns the bytes
// of every published table (latest/<table>.parquet), also copied to dir for reading back.
func publishedFiles(t *testing.T, p jobs.Params, threads int, dir string) map[string][]byte {
	t.Helper()
	cfg := *p.Config
	cfg.Warehouse.Threads = threads
	p.Config = &cfg
	p.RunID = jobs.NewRunID(time.Now())
	if _, err := jobs.Segment(context.Background(), p); err != nil {
		t.Fatalf("segment on %d threads: %v", threads, err)
	}
	latest := filepath.Join(p.Lake.(*lake.FileStore).Root(), "latest")
	entries, err := os.ReadDir(latest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".parquet") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(latest, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// sameValues reports, for a table published twice, the columns whose values differ between
// the two files (rows sorted on every column, doubles compared exactly).
func sameValues(t *testing.T, s *warehouse.Session, a, b string) []string {
	t.Helper()
	ctx := context.Background()
	q := "select * from read_parquet(?) order by all"
	ra, err := s.Query(ctx, q, a)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := s.Query(ctx, q, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ra) != len(rb) {
		return []string{"(row count)"}
	}
	diff := map[string]bool{}
	for i := range ra {
		for j, col := range ra[i].Columns {
			if !sameValue(ra[i].Values[j], rb[i].Values[j]) {
				diff[col] = true
			}
		}
	}
	var cols []string
	for c := range diff {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	return cols
}

// sameValue is exact equality of two scanned values (lists and maps element by element).
func sameValue(x, y any) bool {
	v := []string{"v"}
	return warehouse.Row{Columns: v, Values: []any{x}}.Equal(warehouse.Row{Columns: v, Values: []any{y}}, 0)
}

// Two segment runs on one lake publish the same bytes, with DuckDB on 4 threads twice and on
// 1: sums of money and shares are exact (DECIMAL) and every pick and list has a total order,
// so no published number depends on how DuckDB split the work (issue 14, section 5). The
// demo config on the 3,000-account company, and each vendor example config (their own
// staging SQL) on 1,000 accounts.
func TestSameInputsPublishTheSameBytes(t *testing.T) {
	t.Run("demo", func(t *testing.T) {
		p, _ := demoEnv(t, 3000, nil)
		checkSameBytes(t, p)
	})
	examples, err := vendorExamples()
	if err != nil || len(examples) < 4 {
		t.Fatalf("example configs: %v, %v", examples, err)
	}
	for _, file := range examples {
		t.Run(filepath.Base(file), func(t *testing.T) {
			yaml, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := demoEnvWith(t, 1000, file, yaml, func(c *config.Config) {
				for _, src := range c.Sources {
					for _, e := range src.Entities {
						if e.BulkQuery != nil { // the fake completes a bulk job on the second poll
							e.BulkQuery.PollInterval = config.Duration(20 * time.Millisecond)
						}
					}
				}
			})
			checkSameBytes(t, p)
		})
	}
}

// checkSameBytes ingests once and compares what three segment runs publish.
func checkSameBytes(t *testing.T, p jobs.Params) {
	t.Helper()
	if _, err := jobs.Ingest(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	first := publishedFiles(t, p, 4, filepath.Join(tmp, "a"))
	if len(first) < 10 {
		t.Fatalf("only %d published tables", len(first))
	}
	s, err := warehouse.Open(context.Background(), warehouse.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var names []string
	for n := range first {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, run := range []struct {
		name    string
		threads int
	}{{"b", 4}, {"c", 1}} {
		again := publishedFiles(t, p, run.threads, filepath.Join(tmp, run.name))
		if len(again) != len(first) {
			t.Errorf("%d threads: %d tables, first run %d", run.threads, len(again), len(first))
		}
		for _, n := range names {
			if bytes.Equal(first[n], again[n]) {
				continue
			}
			cols := sameValues(t, s, filepath.Join(tmp, "a", n), filepath.Join(tmp, run.name, n))
			if len(cols) > 0 {
				t.Errorf("%s on %d threads: values differ in %s", n, run.threads, strings.Join(cols, ", "))
			} else {
				t.Errorf("%s on %d threads: the same values in other bytes (row order?)", n, run.threads)
			}
		}
	}
}
