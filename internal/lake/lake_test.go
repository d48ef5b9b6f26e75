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
	if _, err := Snapshot(ctx, s, "crm", "deals", "2026-01-01", false); !errors.Is(err, ErrNotLanded) {
		t.Errorf("nothing landed: %v, want ErrNotLanded", err)
	}
}

func TestSnapshotHoldsEveryFactUpToAsOf(t *testing.T) {
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
	land("2026-01-04", "incremental")
	land("2026-01-06", "") // a manifest from before modes existed: full
	land("2026-01-08", "incremental")
	land("2026-03-31", "full")
	land("2026-10-31", "full")
	for _, c := range []struct{ asOf, want, knownAt string }{
		{"2026-01-01", "2026-01-01", "2026-01-01"},                       // a full landing on the day
		{"2026-01-02", "2026-01-01 2026-01-02", "2026-01-02"},            // the chain reaches it
		{"2026-01-03", "2026-01-01 2026-01-02 2026-01-04", "2026-01-04"}, // the next increment holds the 3rd
		{"2026-01-05", "2026-01-06", "2026-01-06"},                       // the chain stops at 01-04: the next full one
		{"2026-01-07", "2026-01-06 2026-01-08", "2026-01-08"},
		{"2026-01-09", "2026-03-31", "2026-03-31"}, // nothing between: the earliest full one after it
		{"2026-06-30", "2026-10-31", "2026-10-31"}, // not March: it holds nothing of April to June
		{"2026-10-31", "2026-10-31", "2026-10-31"},
		{"2025-12-31", "2026-01-01", "2026-01-01"}, // before the lake began: the oldest full landing
	} {
		r, err := Snapshot(ctx, s, "zd", "tickets", c.asOf, false)
		if err != nil {
			t.Fatalf("as of %s: %v", c.asOf, err)
		}
		var got []string
		for _, m := range r.Manifests {
			got = append(got, m.Dt)
		}
		if strings.Join(got, " ") != c.want || r.KnownAt != c.knownAt || r.StaleDays != 0 || len(r.Landings) != len(got) {
			t.Errorf("as of %s: %v known at %s (stale %d), want %s known at %s", c.asOf, got, r.KnownAt, r.StaleDays, c.want, c.knownAt)
		}
	}
	r, _ := Snapshot(ctx, s, "zd", "tickets", "2026-01-03", false)
	if r.Landings[2] != (Landing{Dt: "2026-01-04", RunID: "r2026-01-04", Mode: "incremental"}) || r.Landings[0].Mode != "full" {
		t.Errorf("landings %+v", r.Landings)
	}

	// Past the newest landing: refused, naming the entity, the newest dt and the days short.
	_, err := Snapshot(ctx, s, "zd", "tickets", "2026-11-04", false)
	var stale *StaleError
	if !errors.As(err, &stale) || stale.Newest != "2026-10-31" || stale.Days != 4 ||
		!strings.Contains(err.Error(), "zd/tickets") || !strings.Contains(err.Error(), "dt=2026-10-31, 4 day(s) short") {
		t.Fatalf("past the newest landing: %v", err)
	}
	// Accepted when asked: the newest full landing and its increments, with the days short.
	land("2026-11-01", "incremental")
	r, err = Snapshot(ctx, s, "zd", "tickets", "2026-11-04", true)
	if err != nil || r.KnownAt != "2026-11-01" || r.StaleDays != 3 || len(r.Manifests) != 2 {
		t.Fatalf("stale accepted: %+v, %v", r, err)
	}

	s2 := newStore(t)
	if err := WriteManifest(ctx, s2, &Manifest{Source: "zd", Entity: "tickets", Dt: "2026-01-02", Mode: "incremental"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Snapshot(ctx, s2, "zd", "tickets", "2026-01-01", false); !errors.Is(err, ErrNotLanded) || !strings.Contains(err.Error(), "--full-refresh") {
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
