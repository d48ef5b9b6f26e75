package lake

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

func TestFileStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := PutBytes(ctx, s, "raw/crm/accounts/dt=2026-01-01/a.parquet", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := PutBytes(ctx, s, "raw/crm/accounts/dt=2026-01-01/a.parquet", []byte("two!")); err != nil {
		t.Fatal(err)
	}
	if err := PutBytes(ctx, s, "raw/crm/deals/dt=2026-01-01/b.parquet", []byte("x")); err != nil {
		t.Fatal(err)
	}
	b, err := GetBytes(ctx, s, "raw/crm/accounts/dt=2026-01-01/a.parquet")
	if err != nil || string(b) != "two!" {
		t.Fatalf("get = %q, %v; want the replaced content", b, err)
	}
	info, err := s.Stat(ctx, "raw/crm/accounts/dt=2026-01-01/a.parquet")
	if err != nil || info.Size != 4 {
		t.Fatalf("stat = %+v, %v", info, err)
	}
	objs, err := s.List(ctx, "raw/crm/")
	if err != nil || len(objs) != 2 || objs[0].Key != "raw/crm/accounts/dt=2026-01-01/a.parquet" {
		t.Fatalf("list = %+v, %v", objs, err)
	}
	objs, _ = s.List(ctx, "raw/crm/acc")
	if len(objs) != 1 {
		t.Fatalf("prefix list got %d objects, want 1", len(objs))
	}
	if _, err := s.Get(ctx, "nope/x"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("get missing: %v, want ErrNotExist", err)
	}
	if _, err := s.Stat(ctx, "raw/crm"); !errors.Is(err, ErrNotExist) {
		t.Fatalf("stat of a folder: %v, want ErrNotExist", err)
	}
	if err := s.Delete(ctx, "raw/crm/deals/dt=2026-01-01/b.parquet"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "raw/crm/deals/dt=2026-01-01/b.parquet"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), "raw/crm/deals")); !os.IsNotExist(err) {
		t.Errorf("empty folders left behind after delete: %v", err)
	}
}

func TestKeysCannotEscape(t *testing.T) {
	s := newStore(t)
	for _, k := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/", "./a"} {
		if _, err := s.Put(context.Background(), k, strings.NewReader("x")); err == nil {
			t.Errorf("put %q succeeded; want an invalid key error", k)
		}
	}
}

// A reader polling an object while it is rewritten sees the old or the new content, never part.
func TestPutIsAtomic(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	a, b := strings.Repeat("a", 1<<20), strings.Repeat("b", 1<<20)
	if err := PutBytes(ctx, s, "k/v", []byte(a)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			v := a
			if i%2 == 0 {
				v = b
			}
			if err := PutBytes(ctx, s, "k/v", []byte(v)); err != nil {
				t.Error(err)
			}
		}
		close(stop)
	}()
	reads := 0
	for {
		select {
		case <-stop:
			wg.Wait()
			if reads == 0 {
				t.Fatal("no reads happened")
			}
			return
		default:
		}
		got, err := GetBytes(ctx, s, "k/v")
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != a && string(got) != b {
			t.Fatalf("read a torn object of %d bytes", len(got))
		}
		reads++
	}
}

func TestPutHonoursCancellation(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "a/b", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("put with a cancelled context: %v", err)
	}
	if objs, _ := s.List(context.Background(), ""); len(objs) != 0 {
		t.Fatalf("cancelled put left %v", objs)
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

func writeTables(t *testing.T, content string) ([]LocalTable, string) {
	t.Helper()
	dir := t.TempDir()
	var tables []LocalTable
	for _, name := range []string{"account_segments", "ltv_quintiles"} {
		p := filepath.Join(dir, name+".parquet")
		if err := os.WriteFile(p, []byte(name+" "+content), 0o644); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, LocalTable{Name: name, Path: p, Rows: 3})
	}
	db := filepath.Join(dir, DatabaseName)
	if err := os.WriteFile(db, []byte("db "+content), 0o644); err != nil {
		t.Fatal(err)
	}
	return tables, db
}

func readLatest(t *testing.T, s *FileStore, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Root(), "latest", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPublishHistoryLatestAndPointer(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)
	tables, db := writeTables(t, "run1")
	pub, err := Publish(ctx, s, "2026-11-01", "r1", tables, db, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := readLatest(t, s, "account_segments.parquet"); got != "account_segments run1" {
		t.Fatalf("latest = %q", got)
	}
	if got := readLatest(t, s, DatabaseName); got != "db run1" {
		t.Fatalf("latest db = %q", got)
	}
	hist, err := GetBytes(ctx, s, "marts/ltv_quintiles/as_of=2026-11-01/data.parquet")
	if err != nil || string(hist) != "ltv_quintiles run1" {
		t.Fatalf("history = %q, %v", hist, err)
	}
	p, err := ReadPublished(ctx, s)
	if err != nil || p.RunID != "r1" || p.AsOf != "2026-11-01" || len(p.Tables) != 2 || p.Tables[0].SHA256 == "" || p.Database.Bytes != int64(len("db run1")) {
		t.Fatalf("pointer = %+v, %v", p, err)
	}
	if pub.Release != "releases/2026-11-01_r1" {
		t.Fatalf("release = %s", pub.Release)
	}

	// The next day moves latest; a backfill of an older date writes only its history.
	tables2, db2 := writeTables(t, "run2")
	if _, err := Publish(ctx, s, "2026-11-02", "r2", tables2, db2, now); err != nil {
		t.Fatal(err)
	}
	tables3, db3 := writeTables(t, "backfill")
	_, err = Publish(ctx, s, "2026-10-01", "r3", tables3, db3, now)
	if !errors.Is(err, ErrOlderThanPublished) {
		t.Fatalf("backfill publish: %v, want ErrOlderThanPublished", err)
	}
	if got := readLatest(t, s, "account_segments.parquet"); got != "account_segments run2" {
		t.Fatalf("latest after backfill = %q, want run2's", got)
	}
	if b, _ := GetBytes(ctx, s, "marts/account_segments/as_of=2026-10-01/data.parquet"); string(b) != "account_segments backfill" {
		t.Fatalf("backfill history = %q", b)
	}
	if p, _ := ReadPublished(ctx, s); p.RunID != "r2" {
		t.Fatalf("pointer after backfill names %s, want r2", p.RunID)
	}
}

func TestPublishPrunesOldReleases(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for i, run := range []string{"r1", "r2", "r3", "r4", "r5"} {
		tables, db := writeTables(t, run)
		if _, err := Publish(ctx, s, "2026-11-0"+string(rune('1'+i)), run, tables, db, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(s.Root(), "releases"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := "2026-11-03_r3 2026-11-04_r4 2026-11-05_r5"
	if strings.Join(names, " ") != want {
		t.Fatalf("releases kept: %v, want %s", names, want)
	}
	if target, _ := s.LinkTarget(LatestDir); target != "releases/2026-11-05_r5" {
		t.Fatalf("latest -> %s", target)
	}
}

// While publishes run, a reader that resolves latest/ always finds a complete release: every
// table and the database from the same run.
func TestReadersNeverSeeAPartialRelease(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	tables, db := writeTables(t, "run0")
	if _, err := Publish(ctx, s, "2026-11-01", "r0", tables, db, time.Now()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= 15; i++ {
			run := "run" + string(rune('a'+i))
			tables, db := writeTables(t, run)
			if _, err := Publish(ctx, s, "2026-11-01", "r"+string(rune('a'+i)), tables, db, time.Now()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	checks := 0
	for {
		select {
		case <-done:
			if checks == 0 {
				t.Fatal("no checks ran")
			}
			return
		default:
		}
		// Resolve the link once, as a reader opening a release would, then read from it.
		target, err := s.LinkTarget(LatestDir)
		if err != nil || target == "" {
			t.Fatalf("latest resolves to %q, %v", target, err)
		}
		var runs []string
		ok := true
		for _, name := range []string{"account_segments.parquet", "ltv_quintiles.parquet", DatabaseName} {
			f, err := os.Open(filepath.Join(s.Root(), target, name))
			if err != nil {
				ok = false // pruned after we resolved it: a reader would retry
				break
			}
			b, _ := io.ReadAll(f)
			f.Close()
			parts := strings.Fields(string(b))
			runs = append(runs, parts[len(parts)-1])
		}
		if ok && (runs[0] != runs[1] || runs[1] != runs[2]) {
			t.Fatalf("latest mixes runs: %v", runs)
		}
		checks++
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

func TestConditionalWrites(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	first, err := s.PutIf(ctx, "leases/x.json", strings.NewReader("a"), 0)
	if err != nil || first.Generation == 0 {
		t.Fatalf("create if absent: %+v, %v", first, err)
	}
	if _, err := s.PutIf(ctx, "leases/x.json", strings.NewReader("b"), 0); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("create when present: %v, want ErrPrecondition", err)
	}
	second, err := s.PutIf(ctx, "leases/x.json", strings.NewReader("c"), first.Generation)
	if err != nil || second.Generation == first.Generation {
		t.Fatalf("replace at the read generation: %+v, %v", second, err)
	}
	if _, err := s.PutIf(ctx, "leases/x.json", strings.NewReader("d"), first.Generation); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("replace at a stale generation: %v", err)
	}
	if b, _ := GetBytes(ctx, s, "leases/x.json"); string(b) != "c" {
		t.Fatalf("content %q, want c", b)
	}
	if err := s.DeleteIf(ctx, "leases/x.json", first.Generation); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("delete at a stale generation: %v", err)
	}
	if err := s.DeleteIf(ctx, "leases/x.json", second.Generation); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIf(ctx, "leases/x.json", second.Generation); !errors.Is(err, ErrNotExist) {
		t.Fatalf("delete of a gone object: %v", err)
	}
	if objs, _ := s.List(ctx, ""); len(objs) != 0 {
		t.Fatalf("the lock file or leftovers are listed: %v", objs)
	}
}

// Conditional creates race: exactly one of many writers wins.
func TestPutIfHasOneWinner(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var wg sync.WaitGroup
	wins := make(chan int, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if _, err := s.PutIf(ctx, "leases/run.json", strings.NewReader("holder"), 0); err == nil {
				wins <- i
			} else if !errors.Is(err, ErrPrecondition) {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		t.Fatalf("%d writers won, want exactly 1", n)
	}
}
