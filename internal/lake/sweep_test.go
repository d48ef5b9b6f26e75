package lake_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/lake/storetest"
)

// stores runs fn against a file store and a GCS store (fake-gcs-server in process).
func stores(t *testing.T, fn func(t *testing.T, s lake.Store)) {
	t.Run("file", func(t *testing.T) {
		s, err := lake.NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
	t.Run("gcs", func(t *testing.T) {
		fn(t, storetest.NewFakeGCS(t, "segpipe-lake").Store(t, "prod"))
	})
}

// land writes the parts and quarantine file of one landing of crm/accounts dt=2026-10-31 by
// run, then its manifest, and returns the manifest.
func land(t *testing.T, s lake.Store, run string) *lake.Manifest {
	t.Helper()
	ctx := context.Background()
	m := &lake.Manifest{Source: "crm", Entity: "accounts", Dt: "2026-10-31", RunID: run, Mode: "full"}
	for _, k := range []string{
		lake.RawPrefix("crm", "accounts", m.Dt) + "part-" + run + "-00000.parquet",
		lake.RawPrefix("crm", "accounts", m.Dt) + "part-" + run + "-00001.parquet",
	} {
		if err := lake.PutBytes(ctx, s, k, []byte(run)); err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, lake.LandedFile{Key: k})
	}
	m.QuarantineKey = lake.QuarantinePrefix("crm", "accounts", m.Dt) + "part-" + run + ".ndjson"
	if err := lake.PutBytes(ctx, s, m.QuarantineKey, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	if err := lake.WriteManifest(ctx, s, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func keys(t *testing.T, s lake.Store, prefixes ...string) []string {
	t.Helper()
	var out []string
	for _, p := range prefixes {
		objs, err := s.List(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			out = append(out, o.Key)
		}
	}
	return out
}

func landedFiles(ms ...*lake.Manifest) []string {
	var out []string
	for _, m := range ms {
		for _, f := range m.Files {
			out = append(out, f.Key)
		}
		out = append(out, m.QuarantineKey)
	}
	return out
}

// With no reader registered, a landing deletes the files of the landing it replaced at once.
func TestSweepLandingWithoutReaders(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		ctx := context.Background()
		land(t, s, "r1")
		m2 := land(t, s, "r2")
		res, err := lake.SweepLanding(ctx, s, m2, time.Now())
		if err != nil || res.Removed != 3 || res.Deferred != 0 {
			t.Fatalf("sweep: %+v, %v; want the 3 files of r1 removed", res, err)
		}
		for _, k := range keys(t, s, "raw/", "quarantine/") {
			if k != lake.ManifestKey("crm", "accounts", "2026-10-31") && !slices.Contains(landedFiles(m2), k) {
				t.Errorf("%s is left", k)
			}
		}
		if left := keys(t, s, lake.SweepPrefix); len(left) != 0 {
			t.Errorf("marks left: %v", left)
		}
		// Nothing superseded: nothing written.
		if res, err := lake.SweepLanding(ctx, s, m2, time.Now()); err != nil || res.Removed != 0 || len(keys(t, s, lake.SweepPrefix)) != 0 {
			t.Fatalf("a sweep with nothing to do: %+v, %v", res, err)
		}
	})
}

// A reader registered before a landing replaces what it read keeps the replaced files until
// it is released; SweepDeferred then deletes them, and the mark.
func TestReaderDefersTheSweep(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		ctx := context.Background()
		m1 := land(t, s, "r1")
		reader, err := lake.RegisterReader(ctx, s, lake.NewHolder("segment-run"), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		read, err := lake.ReadManifest(ctx, s, "crm", "accounts", "2026-10-31")
		if err != nil || read.RunID != "r1" {
			t.Fatalf("the reader read %+v, %v", read, err)
		}
		m2 := land(t, s, "r2")
		res, err := lake.SweepLanding(ctx, s, m2, time.Now())
		if err != nil || res.Removed != 0 || res.Deferred != 3 || len(res.Readers) != 1 || res.Readers[0].RunID != "segment-run" {
			t.Fatalf("sweep under a reader: %+v, %v; want 3 files deferred by segment-run", res, err)
		}
		for _, k := range landedFiles(m1) {
			if _, err := s.Stat(ctx, k); err != nil {
				t.Errorf("the reader's %s is gone: %v", k, err)
			}
		}
		if marks := keys(t, s, lake.SweepPrefix); !slices.Equal(marks, []string{lake.SweepKey("crm", "accounts", "2026-10-31")}) {
			t.Fatalf("marks %v", marks)
		}
		if res, err := lake.SweepDeferred(ctx, s, time.Now()); err != nil || res.Deferred != 3 || res.Removed != 0 {
			t.Fatalf("deferred sweep while the reader is live: %+v, %v", res, err)
		}

		if err := reader.Release(ctx); err != nil {
			t.Fatal(err)
		}
		res, err = lake.SweepDeferred(ctx, s, time.Now())
		if err != nil || res.Removed != 3 || res.Deferred != 0 {
			t.Fatalf("deferred sweep after the reader left: %+v, %v", res, err)
		}
		want := append(landedFiles(m2), lake.ManifestKey("crm", "accounts", "2026-10-31"))
		slices.Sort(want)
		got := keys(t, s, "raw/", "quarantine/")
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("left %v, want %v", got, want)
		}
		if left := keys(t, s, lake.SweepPrefix, lake.LeasePrefix); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
}

// A reader registration whose process is gone (killed) defers nothing, and is removed as
// stale.
func TestStaleReadersDeferNothing(t *testing.T) {
	stores(t, func(t *testing.T, s lake.Store) {
		ctx := context.Background()
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Skipf("cannot run a child process: %v", err)
		}
		dead := lake.NewHolder("killed-segment")
		dead.PID = cmd.Process.Pid
		now := time.Now().UTC()
		b, _ := json.Marshal(map[string]any{"holder": dead, "acquired_at": now, "renewed_at": now, "expires_at": now.Add(time.Hour), "ttl_seconds": 3600})
		if err := lake.PutBytes(ctx, s, lake.ReaderPrefix+"killed-segment.json", b); err != nil {
			t.Fatal(err)
		}
		live, stale, err := lake.Readers(ctx, s, time.Now())
		if err != nil || len(live) != 0 || len(stale) != 1 || stale[0].Holder.RunID != "killed-segment" {
			t.Fatalf("readers: live %v, stale %v, %v", live, stale, err)
		}
		land(t, s, "r1")
		m2 := land(t, s, "r2")
		if res, err := lake.SweepLanding(ctx, s, m2, time.Now()); err != nil || res.Removed != 3 {
			t.Fatalf("sweep with only a dead reader: %+v, %v", res, err)
		}
		if n, err := lake.RemoveStaleReaders(ctx, s, stale); err != nil || n != 1 {
			t.Fatalf("removed %d stale readers, %v", n, err)
		}
		if left := keys(t, s, lake.LeasePrefix); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
}

// A deferred sweep that runs while a landing of the dt is in progress (the sweeper does not
// hold that ingest's lease) deletes only files written before the manifest it keeps: the
// new landing's parts, not in any manifest yet, stay.
func TestDeferredSweepSparesALandingInProgress(t *testing.T) {
	ctx := context.Background()
	s, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reader, err := lake.RegisterReader(ctx, s, lake.NewHolder("segment-run"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	land(t, s, "r1")
	m2 := land(t, s, "r2")
	if res, _ := lake.SweepLanding(ctx, s, m2, time.Now()); res.Deferred != 3 {
		t.Fatalf("not deferred: %+v", res)
	}
	reader.Release(ctx)
	// Back-date everything so far, then a part of landing r3, still uploading its parts.
	past := time.Now().Add(-time.Hour)
	for _, k := range keys(t, s, "raw/", "quarantine/") {
		os.Chtimes(s.LocalPath(k), past, past)
	}
	os.Chtimes(s.LocalPath(lake.ManifestKey("crm", "accounts", "2026-10-31")), past.Add(time.Minute), past.Add(time.Minute))
	inFlight := lake.RawPrefix("crm", "accounts", "2026-10-31") + "part-r3-00000.parquet"
	if err := lake.PutBytes(ctx, s, inFlight, []byte("r3")); err != nil {
		t.Fatal(err)
	}
	res, err := lake.SweepDeferred(ctx, s, time.Now())
	if err != nil || res.Removed != 3 {
		t.Fatalf("deferred sweep: %+v, %v", res, err)
	}
	if _, err := s.Stat(ctx, inFlight); err != nil {
		t.Fatalf("the part of the landing in progress was deleted: %v", err)
	}
	for _, k := range landedFiles(m2) {
		if _, err := s.Stat(ctx, k); err != nil {
			t.Errorf("the current landing's %s was deleted: %v", k, err)
		}
	}
}
