package lake

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newStore(t *testing.T) *FileStore {
	t.Helper()
	s, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The generic store behaviour is in storetest (conformance_test.go); these are the file
// store's own.

// Deleting an object removes the folders it leaves empty, up to the lake's root.
func TestFileStoreDeleteRemovesEmptyFolders(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := PutBytes(ctx, s, "raw/crm/accounts/dt=2026-01-01/a.parquet", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := PutBytes(ctx, s, "raw/crm/deals/dt=2026-01-01/b.parquet", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "raw/crm/deals/dt=2026-01-01/b.parquet"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "raw/crm/deals")); !os.IsNotExist(err) {
		t.Errorf("empty folders left behind after delete: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "raw/crm/accounts/dt=2026-01-01")); err != nil {
		t.Errorf("a folder still holding an object was removed: %v", err)
	}
}

func TestLandedDatesNeedAManifest(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for _, dt := range []string{"2026-01-05", "2026-01-01"} {
		if err := WriteManifest(ctx, s, &Manifest{Source: "crm", Entity: "accounts", Dt: dt}); err != nil {
			t.Fatal(err)
		}
	}
	// A dt folder without a manifest is not landed.
	if err := PutBytes(ctx, s, RawPrefix("crm", "accounts", "2026-01-04")+"part-x.parquet", []byte("p")); err != nil {
		t.Fatal(err)
	}
	dts, err := LandedDates(ctx, s, "crm", "accounts")
	if err != nil || strings.Join(dts, " ") != "2026-01-01 2026-01-05" {
		t.Fatalf("landed dates %v, %v", dts, err)
	}
	if _, err := Snapshot(ctx, s, "crm", "deals", "2026-01-01"); !errors.Is(err, ErrNotLanded) {
		t.Errorf("nothing landed: %v, want ErrNotLanded", err)
	}
}

func TestSnapshotIsLastFullPlusIncrements(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	land := func(dt, mode string) {
		t.Helper()
		if err := WriteManifest(ctx, s, &Manifest{Source: "zd", Entity: "tickets", Dt: dt, RunID: "r" + dt, Mode: mode}); err != nil {
			t.Fatal(err)
		}
	}
	land("2026-01-01", "full")
	land("2026-01-02", "incremental")
	land("2026-01-03", "incremental")
	land("2026-01-04", "") // a manifest from before modes existed: full
	land("2026-01-05", "incremental")
	for asOf, want := range map[string]string{
		"2026-01-01": "2026-01-01",
		"2026-01-03": "2026-01-01 2026-01-02 2026-01-03",
		"2026-01-04": "2026-01-04",
		"2026-02-01": "2026-01-04 2026-01-05",
		"2025-12-31": "2026-01-01", // nothing that old: the oldest full landing
	} {
		ms, err := Snapshot(ctx, s, "zd", "tickets", asOf)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.Dt)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("as of %s: %v, want %s", asOf, got, want)
		}
	}
	s2 := newStore(t)
	if err := WriteManifest(ctx, s2, &Manifest{Source: "zd", Entity: "tickets", Dt: "2026-01-02", Mode: "incremental"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Snapshot(ctx, s2, "zd", "tickets", "2026-01-05"); !errors.Is(err, ErrNotLanded) || !strings.Contains(err.Error(), "--full-refresh") {
		t.Errorf("increments without a full landing: %v", err)
	}
}

func TestStateRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := ReadState(ctx, s, "zd", "tickets"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("no state yet: %v", err)
	}
	want := &State{Source: "zd", Entity: "tickets", Cursor: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Dt: "2026-01-02", RunID: "r1"}
	if err := WriteState(ctx, s, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadState(ctx, s, "zd", "tickets")
	if err != nil || !got.Cursor.Equal(want.Cursor) || got.RunID != "r1" {
		t.Fatalf("state %+v, %v", got, err)
	}
}
