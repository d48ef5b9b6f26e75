package lake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

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
	pub, err := Publish(ctx, s, "2026-11-01", "r1", tables, db, nil, now, 0)
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
	if _, err := Publish(ctx, s, "2026-11-02", "r2", tables2, db2, nil, now, 0); err != nil {
		t.Fatal(err)
	}
	tables3, db3 := writeTables(t, "backfill")
	_, err = Publish(ctx, s, "2026-10-01", "r3", tables3, db3, nil, now, 0)
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
		if _, err := Publish(ctx, s, "2026-11-0"+string(rune('1'+i)), run, tables, db, nil, time.Now(), 2); err != nil {
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
	if _, err := Publish(ctx, s, "2026-11-01", "r0", tables, db, nil, time.Now(), 2); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= 15; i++ {
			run := "run" + string(rune('a'+i))
			tables, db := writeTables(t, run)
			if _, err := Publish(ctx, s, "2026-11-01", "r"+string(rune('a'+i)), tables, db, nil, time.Now(), 2); err != nil {
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

// faultyStore wraps a FileStore, hiding its Linker methods (so Publish takes the path for
// stores without links, as on GCS), and fails writes on demand: the failAt-th mutating call
// (Put, PutIf, Delete, DeleteIf, SwitchLink), and with die every one after it too (the
// process died there), or any call whose key contains failKey.
type faultyStore struct {
	Store
	mu      sync.Mutex
	calls   int
	failAt  int
	die     bool
	failKey string
	failed  string // the step that failed, "" if none
	// before, when set, runs before each mutating call (a concurrent writer's hook).
	before func(op, key string)
}

func (f *faultyStore) step(op, key string) error {
	f.mu.Lock()
	f.calls++
	n, hook := f.calls, f.before
	fail := (f.failAt > 0 && (n == f.failAt || (f.die && n > f.failAt))) || (f.failKey != "" && strings.Contains(key, f.failKey))
	if fail && f.failed == "" {
		f.failed = fmt.Sprintf("#%d %s %s", n, op, key)
	}
	f.mu.Unlock()
	if fail {
		return fmt.Errorf("injected failure at step %d: %s %s", n, op, key)
	}
	if hook != nil {
		hook(op, key)
	}
	return nil
}

func (f *faultyStore) Put(ctx context.Context, key string, r io.Reader) (ObjectInfo, error) {
	if err := f.step("put", key); err != nil {
		return ObjectInfo{}, err
	}
	return f.Store.Put(ctx, key, r)
}

func (f *faultyStore) PutIf(ctx context.Context, key string, r io.Reader, gen int64) (ObjectInfo, error) {
	if err := f.step("putif", key); err != nil {
		return ObjectInfo{}, err
	}
	return f.Store.PutIf(ctx, key, r, gen)
}

func (f *faultyStore) Delete(ctx context.Context, key string) error {
	if err := f.step("delete", key); err != nil {
		return err
	}
	return f.Store.Delete(ctx, key)
}

func (f *faultyStore) DeleteIf(ctx context.Context, key string, gen int64) error {
	if err := f.step("deleteif", key); err != nil {
		return err
	}
	return f.Store.DeleteIf(ctx, key, gen)
}

// faultyLinker is a faultyStore that keeps the file store's links (the filesystem path).
type faultyLinker struct {
	*faultyStore
	fs *FileStore
}

func (f faultyLinker) SwitchLink(ctx context.Context, name, target string) error {
	if err := f.step("switch", name); err != nil {
		return err
	}
	return f.fs.SwitchLink(ctx, name, target)
}

func (f faultyLinker) LinkTarget(name string) (string, error) { return f.fs.LinkTarget(name) }

// checkPublished is what a careful reader does: follow marts/_published.json and check that
// every file it names exists with the recorded size and sha256 and holds the named run (the
// test files end with their run id). It returns the run, which must be one of runs.
func checkPublished(t *testing.T, s *FileStore, runs ...string) *Publication {
	t.Helper()
	ctx := context.Background()
	pub, err := ReadPublished(ctx, s)
	if err != nil {
		t.Fatalf("read pointer: %v", err)
	}
	if !containsString(runs, pub.RunID) {
		t.Fatalf("pointer names run %s, want one of %v", pub.RunID, runs)
	}
	files := append(append([]PublishedFile{pub.Database}, pub.Tables...), pub.History...)
	if len(pub.Tables) != 2 || len(pub.History) != 2 || pub.Database.Key == "" {
		t.Fatalf("pointer lists %d tables, %d history files, database %q", len(pub.Tables), len(pub.History), pub.Database.Key)
	}
	for _, f := range files {
		b, err := GetBytes(ctx, s, f.Key)
		if err != nil {
			t.Fatalf("pointer (run %s) names %s: %v", pub.RunID, f.Key, err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Bytes {
			t.Fatalf("%s does not match the pointer's checksum or size", f.Key)
		}
		if !strings.HasSuffix(string(b), " "+pub.RunID) {
			t.Fatalf("%s holds %q, not run %s", f.Key, b, pub.RunID)
		}
	}
	if b, err := GetBytes(ctx, s, pub.Release+"/_published.json"); err != nil || !strings.Contains(string(b), `"run_id": "`+pub.RunID+`"`) {
		t.Fatalf("release %s lacks its _published.json: %v", pub.Release, err)
	}
	return pub
}

// checkLatestLink: latest resolves to a complete release of one of runs.
func checkLatestLink(t *testing.T, s *FileStore, runs ...string) {
	t.Helper()
	target, err := s.LinkTarget(LatestDir)
	if err != nil || target == "" {
		t.Fatalf("latest resolves to %q, %v", target, err)
	}
	run := ""
	for _, name := range []string{"account_segments.parquet", "ltv_quintiles.parquet", DatabaseName} {
		b, err := os.ReadFile(filepath.Join(s.Root(), target, name))
		if err != nil {
			t.Fatalf("latest -> %s lacks %s", target, name)
		}
		parts := strings.Fields(string(b))
		if run == "" {
			run = parts[len(parts)-1]
		} else if parts[len(parts)-1] != run {
			t.Fatalf("latest -> %s mixes runs", target)
		}
	}
	if !containsString(runs, run) {
		t.Fatalf("latest holds run %s, want one of %v", run, runs)
	}
	if _, err := os.Stat(filepath.Join(s.Root(), target, "_published.json")); err != nil {
		t.Fatalf("latest -> %s lacks _published.json", target)
	}
}

// checkLatestCopies: on a store without links, latest/ holds copies of the published run.
func checkLatestCopies(t *testing.T, s *FileStore, run string) {
	t.Helper()
	for _, name := range []string{"account_segments.parquet", "ltv_quintiles.parquet", DatabaseName, "_published.json"} {
		b, err := GetBytes(context.Background(), s, LatestDir+"/"+name)
		if err != nil {
			t.Fatalf("latest/%s: %v", name, err)
		}
		if name == "_published.json" {
			if !strings.Contains(string(b), `"run_id": "`+run+`"`) {
				t.Fatalf("latest/_published.json does not name %s", run)
			}
		} else if !strings.HasSuffix(string(b), " "+run) {
			t.Fatalf("latest/%s holds %q, want run %s", name, b, run)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The crash matrix: a publish of the next day fails at each of its writes in turn, on the
// filesystem path (links) and the copy path (no links, as on GCS), with the store failing only
// that write or every write from it on (the process died there). After each failure a reader
// following _published.json finds the previous or the new run complete, latest (links)
// resolves to a complete release, and a rerun publishes cleanly.
func TestPublishSurvivesAFailureAtEveryStep(t *testing.T) {
	ctx := context.Background()
	for _, linked := range []bool{true, false} {
		for _, die := range []bool{true, false} {
			name := fmt.Sprintf("linked=%v/die=%v", linked, die)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				for n := 1; ; n++ {
					if n > 60 {
						t.Fatal("publish never finished")
					}
					fs := newStore(t)
					f := &faultyStore{Store: fs, die: die}
					var s Store = f
					if linked {
						s = faultyLinker{f, fs}
					}
					// Three published days, so the next publish prunes one release.
					for _, day := range [][2]string{{"2026-10-30", "a0"}, {"2026-10-31", "b0"}, {"2026-11-01", "r1"}} {
						tables, db := writeTables(t, day[1])
						if _, err := Publish(ctx, s, day[0], day[1], tables, db, nil, time.Now(), 0); err != nil {
							t.Fatal(err)
						}
					}
					f.mu.Lock()
					f.calls, f.failAt = 0, n
					f.mu.Unlock()
					tables, db := writeTables(t, "r2")
					_, err := Publish(ctx, s, "2026-11-02", "r2", tables, db, nil, time.Now(), 0)
					if f.failed == "" {
						if err != nil {
							t.Fatalf("no failure injected, publish: %v", err)
						}
						t.Logf("%s: %d steps, each survived", name, n-1)
						return
					}
					if err == nil {
						t.Fatalf("failure at %s was swallowed", f.failed)
					}
					pub := checkPublished(t, fs, "r1", "r2")
					if linked {
						checkLatestLink(t, fs, "r1", "r2")
					}
					t.Logf("fail %-55s -> pointer %s", f.failed, pub.RunID)

					f.mu.Lock()
					f.failAt = 0
					f.mu.Unlock()
					tables, db = writeTables(t, "r3")
					if _, err := Publish(ctx, s, "2026-11-02", "r3", tables, db, nil, time.Now(), 0); err != nil {
						t.Fatalf("rerun after a failure at %s: %v", f.failed, err)
					}
					checkPublished(t, fs, "r3")
					if linked {
						checkLatestLink(t, fs, "r3")
					} else {
						checkLatestCopies(t, fs, "r3")
					}
				}
			})
		}
	}
}

func TestPublishWithoutLinks(t *testing.T) {
	ctx := context.Background()
	fs := newStore(t)
	s := &faultyStore{Store: fs}
	for i, run := range []string{"r1", "r2", "r3", "r4", "r5"} {
		tables, db := writeTables(t, run)
		pub, err := Publish(ctx, s, "2026-11-0"+string(rune('1'+i)), run, tables, db, nil, time.Now(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if pub.Release != "releases/2026-11-0"+string(rune('1'+i))+"_"+run {
			t.Fatalf("release %s", pub.Release)
		}
		checkPublished(t, fs, run)
		checkLatestCopies(t, fs, run)
		if objs, _ := fs.List(ctx, StagingPrefix); len(objs) != 0 {
			t.Fatalf("staging left behind: %v", objs)
		}
	}
	if _, err := os.Lstat(filepath.Join(fs.Root(), LatestDir)); err != nil {
		t.Fatal(err)
	}
	if target, _ := fs.LinkTarget(LatestDir); target != "" {
		t.Fatalf("latest is a link on the copy path: %s", target)
	}
	entries, _ := os.ReadDir(filepath.Join(fs.Root(), "releases"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "2026-11-03_r3 2026-11-04_r4 2026-11-05_r5" {
		t.Fatalf("releases kept: %s", got)
	}

	// A backfill of an older date writes only its history.
	tables, db := writeTables(t, "old")
	if _, err := Publish(ctx, s, "2026-10-01", "old", tables, db, nil, time.Now(), 0); !errors.Is(err, ErrOlderThanPublished) {
		t.Fatalf("backfill: %v, want ErrOlderThanPublished", err)
	}
	checkPublished(t, fs, "r5")
	checkLatestCopies(t, fs, "r5")
	if b, _ := GetBytes(ctx, fs, "marts/account_segments/as_of=2026-10-01/data.parquet"); string(b) != "account_segments old" {
		t.Fatalf("backfill history %q", b)
	}
	if objs, _ := fs.List(ctx, StagingPrefix); len(objs) != 0 {
		t.Fatalf("backfill left staging: %v", objs)
	}
	if objs, _ := fs.List(ctx, "releases/2026-10-01_old"); len(objs) != 0 {
		t.Fatalf("backfill wrote a release: %v", objs)
	}
}

// A publisher that moves _published.json after this one read it wins: this publish fails with
// ErrPublishConflict, leaves the other's pointer alone and removes its own release.
func TestPublishWithoutLinksRefusesToOverwriteAConcurrentPublish(t *testing.T) {
	ctx := context.Background()
	fs := newStore(t)
	s := &faultyStore{Store: fs}
	tables, db := writeTables(t, "r1")
	if _, err := Publish(ctx, s, "2026-11-01", "r1", tables, db, nil, time.Now(), 0); err != nil {
		t.Fatal(err)
	}
	otherTables, otherDB := writeTables(t, "other")
	s.before = func(op, key string) {
		if op == "putif" && key == PublishedKey {
			s.before = nil
			if _, err := Publish(ctx, &faultyStore{Store: fs}, "2026-11-02", "other", otherTables, otherDB, nil, time.Now(), 0); err != nil {
				t.Error(err)
			}
		}
	}
	tables, db = writeTables(t, "r2")
	_, err := Publish(ctx, s, "2026-11-02", "r2", tables, db, nil, time.Now(), 0)
	if !errors.Is(err, ErrPublishConflict) || !strings.Contains(err.Error(), PublishedKey) {
		t.Fatalf("publish racing another: %v, want ErrPublishConflict", err)
	}
	checkPublished(t, fs, "other")
	if objs, _ := fs.List(ctx, "releases/2026-11-02_r2/"); len(objs) != 0 {
		t.Fatalf("the losing release is left: %v", objs)
	}
	if objs, _ := fs.List(ctx, StagingPrefix); len(objs) != 0 {
		t.Fatalf("the losing staging is left: %v", objs)
	}
}

// A pointer write that fails (here on its key) leaves the previous run published, and latest/
// copies untouched.
func TestPublishWithoutLinksPointerFailure(t *testing.T) {
	ctx := context.Background()
	fs := newStore(t)
	s := &faultyStore{Store: fs}
	tables, db := writeTables(t, "r1")
	if _, err := Publish(ctx, s, "2026-11-01", "r1", tables, db, nil, time.Now(), 0); err != nil {
		t.Fatal(err)
	}
	s.failKey = PublishedKey
	tables, db = writeTables(t, "r2")
	if _, err := Publish(ctx, s, "2026-11-02", "r2", tables, db, nil, time.Now(), 0); err == nil {
		t.Fatal("publish succeeded without its pointer")
	}
	checkPublished(t, fs, "r1")
	checkLatestCopies(t, fs, "r1")
}
