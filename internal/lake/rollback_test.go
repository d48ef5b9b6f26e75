package lake_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/lake/storetest"
)

// plainStore hides a store's Linker and Copier: the copy path with uploads through this host.
type plainStore struct{ lake.Store }

func localTables(t *testing.T, run string) ([]lake.LocalTable, string) {
	t.Helper()
	dir := t.TempDir()
	var tables []lake.LocalTable
	for _, name := range []string{"account_segments", "ltv_quintiles"} {
		p := filepath.Join(dir, name+".parquet")
		if err := os.WriteFile(p, []byte(name+" "+run), 0o644); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, lake.LocalTable{Name: name, Path: p, Rows: 3})
	}
	db := filepath.Join(dir, lake.DatabaseName)
	if err := os.WriteFile(db, []byte("db "+run), 0o644); err != nil {
		t.Fatal(err)
	}
	return tables, db
}

func holds(t *testing.T, s lake.Store, key, run string) {
	t.Helper()
	b, err := lake.GetBytes(ctx, s, key)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	if !strings.HasSuffix(string(b), " "+run) {
		t.Fatalf("%s holds %q, want run %s", key, b, run)
	}
}

// A typo'd future date froze the lake (every later date is "older than published"); a
// rollback to an earlier release unfreezes it, on the filesystem (links), on GCS (server-side
// copies) and on a store with neither, and says who did it and why.
func TestRollback(t *testing.T) {
	stores := map[string]func(t *testing.T) lake.Store{
		"file": func(t *testing.T) lake.Store {
			s, err := lake.NewFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"gcs": func(t *testing.T) lake.Store { return storetest.NewFakeGCS(t, "segpipe-lake").Store(t, "prod") },
		"plain": func(t *testing.T) lake.Store {
			s, err := lake.NewFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return plainStore{s}
		},
	}
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			publish := func(asOf, run string) error {
				tables, db := localTables(t, run)
				_, err := lake.Publish(ctx, s, asOf, run, tables, db, nil, time.Now(), 0)
				return err
			}
			for _, r := range [][2]string{{"2026-11-01", "r1"}, {"2026-11-02", "r2"}, {"2026-11-02", "r2b"}, {"2031-01-01", "typo"}} {
				if err := publish(r[0], r[1]); err != nil {
					t.Fatal(err)
				}
			}
			if err := publish("2026-11-03", "frozen"); !errors.Is(err, lake.ErrOlderThanPublished) {
				t.Fatalf("after the typo, a nightly publishes: %v", err)
			}
			releases, err := lake.Releases(ctx, s)
			if err != nil || len(releases) != 4 {
				t.Fatalf("releases %v, %v", releases, err)
			}

			// By date: the newest release of that date.
			target, err := lake.FindRelease(releases, "2026-11-02")
			if err != nil || target.Publication.RunID != "r2b" {
				t.Fatalf("--to 2026-11-02 found %+v, %v", target, err)
			}
			pub, err := lake.Rollback(ctx, s, target, lake.RollbackInfo{RunID: "rb1", By: "ana@host", Reason: "typo in --as-of", At: time.Now()}, 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := lake.ReadPublished(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if got.RunID != "r2b" || got.AsOf != "2026-11-02" || got.Release != "releases/2026-11-02_r2b" || got.Rollback == nil ||
				got.Rollback.FromRunID != "typo" || got.Rollback.FromAsOf != "2031-01-01" || got.Rollback.By != "ana@host" || got.Rollback.Reason != "typo in --as-of" || got.Rollback.RunID != "rb1" {
				t.Fatalf("pointer after rollback: %+v %+v", got, got.Rollback)
			}
			if pub.Release != got.Release {
				t.Fatalf("returned %s, pointer %s", pub.Release, got.Release)
			}
			holds(t, s, "latest/account_segments.parquet", "r2b")
			holds(t, s, "latest/"+lake.DatabaseName, "r2b")
			if b, _ := lake.GetBytes(ctx, s, "latest/_published.json"); !strings.Contains(string(b), `"run_id": "r2b"`) {
				t.Fatalf("latest/_published.json: %s", b)
			}

			// By run id: the earlier run of the same date; its history partition comes back too.
			holds(t, s, "marts/account_segments/as_of=2026-11-02/data.parquet", "r2b")
			target, err = lake.FindRelease(releases, "r2")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := lake.Rollback(ctx, s, target, lake.RollbackInfo{RunID: "rb2", By: "ana@host", Reason: "the rerun was worse"}, 0); err != nil {
				t.Fatal(err)
			}
			holds(t, s, "latest/ltv_quintiles.parquet", "r2")
			holds(t, s, "marts/account_segments/as_of=2026-11-02/data.parquet", "r2")
			holds(t, s, "marts/ltv_quintiles/as_of=2026-11-02/data.parquet", "r2")
			if _, err := lake.Rollback(ctx, s, target, lake.RollbackInfo{Reason: "again"}, 0); !errors.Is(err, lake.ErrAlreadyPublished) {
				t.Fatalf("rollback to the published release: %v", err)
			}
			if _, err := lake.FindRelease(releases, "2026-10-31"); !errors.Is(err, lake.ErrNoSuchRelease) || !strings.Contains(err.Error(), "2026-11-01 (run r1), 2026-11-02 (run r2)") {
				t.Fatalf("unknown target: %v", err)
			}

			// Unfrozen: the next nightly publishes, and its pointer is a plain publish.
			if err := publish("2026-11-03", "r3"); err != nil {
				t.Fatal(err)
			}
			got, _ = lake.ReadPublished(ctx, s)
			if got.RunID != "r3" || got.Rollback != nil {
				t.Fatalf("after the next nightly: %+v", got)
			}
			holds(t, s, "latest/account_segments.parquet", "r3")

			// A release with a file gone is refused whole, and nothing moves.
			releases, _ = lake.Releases(ctx, s)
			target, err = lake.FindRelease(releases, "r1")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, target.Publication.Tables[1].Key); err != nil {
				t.Fatal(err)
			}
			if _, err := lake.Rollback(ctx, s, target, lake.RollbackInfo{Reason: "x"}, 0); err == nil || !strings.Contains(err.Error(), "not whole") {
				t.Fatalf("rollback to a broken release: %v", err)
			}
			got, _ = lake.ReadPublished(ctx, s)
			if got.RunID != "r3" {
				t.Fatalf("a refused rollback moved the pointer to %s", got.RunID)
			}
			holds(t, s, "latest/account_segments.parquet", "r3")
		})
	}
}
