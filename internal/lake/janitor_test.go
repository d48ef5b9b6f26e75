package lake_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
)

// Temporary files of killed writes, anywhere in the lake, are removed once untouched since
// before the cutoff; newer ones (a write may be under way) and objects are left alone.
func TestSweepTempRemovesLeftoversOnly(t *testing.T) {
	ctx := context.Background()
	s, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	objects := []string{
		"raw/crm/accounts/dt=2026-10-31/part-r1-00000.parquet",
		"runs/r1.json",
		"releases/2026-10-31_r1/account_segments.parquet",
		"marts/account_segments/as_of=2026-10-31/data.parquet",
	}
	for _, k := range objects {
		if err := lake.PutBytes(ctx, s, k, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PutIf(ctx, "marts/_published.json", strings.NewReader("{}"), 0); err != nil { // makes the lock file
		t.Fatal(err)
	}
	objects = append(objects, "marts/_published.json")
	if err := s.SwitchLink(ctx, lake.LatestDir, "releases/2026-10-31_r1"); err != nil {
		t.Fatal(err)
	}
	// What Put and SwitchLink leave when killed between writing and renaming.
	leftovers := []string{
		"raw/crm/accounts/dt=2026-10-31/.tmp-part-r2-00000.parquet-123456",
		"runs/.tmp-r2.json-987654",
		"releases/2026-10-31_r2/.tmp-segments.duckdb-42",
		"marts/account_segments/as_of=2026-11-01/.tmp-data.parquet-7",
	}
	for _, k := range leftovers {
		p := s.LocalPath(k)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("releases/2026-10-31_r1", s.LocalPath("latest.tmp-1730000000000000000")); err != nil {
		t.Fatal(err)
	}
	if objs, _ := s.List(ctx, ""); len(objs) != len(objects) {
		t.Fatalf("List shows temporary files: %v", objs)
	}

	// Fresh: a writer may still be writing them.
	if n, _, err := s.SweepTemp(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("swept %d fresh temporary files (%v), want none", n, err)
	}
	// Old: every one of them, and nothing else.
	n, bytes, err := s.SweepTemp(ctx, time.Now().Add(time.Minute))
	if err != nil || n != len(leftovers)+1 || bytes != int64(4*len(leftovers)) {
		t.Fatalf("swept %d files, %d bytes (%v); want %d files, %d bytes", n, bytes, err, len(leftovers)+1, 4*len(leftovers))
	}
	for _, k := range leftovers {
		if _, err := os.Lstat(s.LocalPath(k)); !os.IsNotExist(err) {
			t.Errorf("%s is left: %v", k, err)
		}
	}
	if _, err := os.Stat(s.LocalPath("releases/2026-10-31_r2")); !os.IsNotExist(err) {
		t.Errorf("the folder the sweep emptied is left: %v", err)
	}
	if _, err := os.Lstat(s.LocalPath("latest.tmp-1730000000000000000")); !os.IsNotExist(err) {
		t.Errorf("the temporary link is left: %v", err)
	}
	for _, k := range objects {
		if _, err := s.Stat(ctx, k); err != nil {
			t.Errorf("object %s: %v", k, err)
		}
	}
	if target, err := s.LinkTarget(lake.LatestDir); err != nil || target != "releases/2026-10-31_r1" {
		t.Errorf("latest -> %q, %v", target, err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), ".segpipe.lock")); err != nil {
		t.Errorf("the lock file: %v", err)
	}
}

// Staging folders of runs that are no longer live are deleted; a live run's stays.
func TestSweepStaging(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		ctx := context.Background()
		for _, k := range []string{"staging/live-run/account_segments.parquet", "staging/dead-run/account_segments.parquet", "staging/dead-run/segments.duckdb"} {
			if err := lake.PutBytes(ctx, s, k, []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		var asked []string
		runs, files, err := lake.SweepStaging(ctx, s, func(_ context.Context, run string) (bool, error) {
			asked = append(asked, run)
			return run == "live-run", nil
		})
		slices.Sort(asked)
		if err != nil || runs != 1 || files != 2 || !slices.Equal(asked, []string{"dead-run", "live-run"}) {
			t.Fatalf("swept %d runs, %d files (%v), asked about %v", runs, files, err, asked)
		}
		if left := keys(t, s, lake.StagingPrefix); !slices.Equal(left, []string{"staging/live-run/account_segments.parquet"}) {
			t.Fatalf("left %v", left)
		}
	})
}
