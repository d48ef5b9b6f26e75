package lake_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/lake/storetest"
)

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cachedFiles lists the whole files in a cache folder (not temporary ones).
func cachedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestCacheDownloadsEachGenerationOnce(t *testing.T) {
	fake := storetest.NewFakeGCS(t, "segpipe-lake")
	s := fake.Store(t, "lake")
	dir := t.TempDir()
	c := lake.NewCache(dir)
	const key = "raw/crm/accounts/dt=2026-01-01/part-0.parquet"
	if err := lake.PutBytes(ctx, s, key, []byte("generation one")); err != nil {
		t.Fatal(err)
	}
	first, err := c.LocalPath(ctx, s, key)
	if err != nil {
		t.Fatal(err)
	}
	if readFile(t, first) != "generation one" || !strings.HasSuffix(first, "-part-0.parquet") || !strings.HasPrefix(first, dir) {
		t.Fatalf("cached %s holds %q", first, readFile(t, first))
	}
	again, err := c.LocalPath(ctx, s, key)
	if err != nil || again != first {
		t.Fatalf("second call: %s, %v; want %s", again, err, first)
	}
	if st := c.Stats(); st.Downloads != 1 || st.Hits != 1 || st.BytesDownloaded != int64(len("generation one")) {
		t.Fatalf("stats %+v, want one download and one hit", st)
	}
	if n := fake.Requests(storetest.Download); n != 1 {
		t.Fatalf("%d download requests, want 1", n)
	}

	// Another process (a new Cache on the same folder) finds it too.
	if p, _ := lake.NewCache(dir).LocalPath(ctx, s, key); p != first || fake.Requests(storetest.Download) != 1 {
		t.Fatalf("a new cache on the same folder downloaded again (%d requests)", fake.Requests(storetest.Download))
	}

	// A new generation is a new file.
	if err := lake.PutBytes(ctx, s, key, []byte("generation two")); err != nil {
		t.Fatal(err)
	}
	second, err := c.LocalPath(ctx, s, key)
	if err != nil || second == first || readFile(t, second) != "generation two" {
		t.Fatalf("after a replace: %s (%v), want a new file with the new content", second, err)
	}
	// The same key in another lake is another file.
	other := fake.Store(t, "other-lake")
	if err := lake.PutBytes(ctx, other, key, []byte("generation two")); err != nil {
		t.Fatal(err)
	}
	if p, _ := c.LocalPath(ctx, other, key); p == second {
		t.Fatal("two lakes share a cache file")
	}
	if st := c.Stats(); st.Downloads != 3 || st.Hits != 1 {
		t.Fatalf("stats %+v, want 3 downloads and 1 hit", st)
	}
	if _, err := c.LocalPath(ctx, s, "raw/none"); !errors.Is(err, lake.ErrNotExist) {
		t.Fatalf("missing object: %v, want ErrNotExist", err)
	}
}

func TestCacheSharesOneDownload(t *testing.T) {
	fake := storetest.NewFakeGCS(t, "segpipe-lake")
	s := fake.Store(t, "lake")
	c := lake.NewCache(t.TempDir())
	if err := lake.PutBytes(ctx, s, "k", bytes.Repeat([]byte("x"), 1<<20)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.LocalPath(ctx, s, "k"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if st := c.Stats(); st.Downloads != 1 || st.Hits != 7 {
		t.Fatalf("stats %+v, want 1 download and 7 hits", st)
	}
}

// tamperedStore serves other bytes than the generation it names.
type tamperedStore struct {
	*lake.GCSStore
	tamper func([]byte) []byte
}

func (s tamperedStore) GetGeneration(ctx context.Context, key string, gen int64) (io.ReadCloser, error) {
	r, err := s.GCSStore.GetGeneration(ctx, key, gen)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return io.NopCloser(bytes.NewReader(s.tamper(b))), err
}

func TestCacheVerifiesDownloads(t *testing.T) {
	fake := storetest.NewFakeGCS(t, "segpipe-lake")
	s := fake.Store(t, "lake")
	if err := lake.PutBytes(ctx, s, "k", []byte("the real content")); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		tamper func([]byte) []byte
		want   string
	}{
		"flipped":   {func(b []byte) []byte { b[0] ^= 1; return b }, "CRC32C"},
		"truncated": {func(b []byte) []byte { return b[:4] }, "downloaded 4 bytes"},
	} {
		dir := t.TempDir()
		_, err := lake.NewCache(dir).LocalPath(ctx, tamperedStore{s, tc.tamper}, "k")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error mentioning %s", name, err, tc.want)
		}
		if files := cachedFiles(t, dir); len(files) != 0 {
			t.Errorf("%s: a bad download was kept: %v", name, files)
		}
	}
}

// replacingStore is a store without generation reads whose object is replaced while the
// first download runs.
type replacingStore struct {
	*lake.FileStore
	once sync.Once
}

func (s *replacingStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := s.FileStore.Get(ctx, key)
	s.once.Do(func() {
		b, _ := io.ReadAll(r)
		r.Close()
		r = io.NopCloser(bytes.NewReader(b))
		lake.PutBytes(ctx, s.FileStore, key, []byte("replaced while downloading"))
	})
	return r, err
}

func TestCacheWithoutGenerationReads(t *testing.T) {
	fs, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &replacingStore{FileStore: fs}
	if err := lake.PutBytes(ctx, fs, "k", []byte("first")); err != nil {
		t.Fatal(err)
	}
	c := lake.NewCache(t.TempDir())
	p, err := c.LocalPath(ctx, s, "k")
	if err != nil || readFile(t, p) != "replaced while downloading" {
		t.Fatalf("cached %q, %v; want the generation that was current when the download finished", readFile(t, p), err)
	}
	if p2, _ := c.LocalPath(ctx, s, "k"); p2 != p {
		t.Fatal("second call downloaded again")
	}
	if st := c.Stats(); st.Downloads != 1 || st.Hits != 1 {
		t.Fatalf("stats %+v", st)
	}
	if files := cachedFiles(t, c.Dir()); len(files) != 1 {
		t.Fatalf("cache holds %v, want one file", files)
	}
}

func TestCacheDefaultFolder(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", filepath.Join(t.TempDir(), "xdg"))
	t.Setenv("HOME", t.TempDir())
	want, err := os.UserCacheDir()
	if err != nil {
		t.Skip("no user cache directory here")
	}
	if got := lake.NewCache("").Dir(); got != filepath.Join(want, "segpipe") {
		t.Fatalf("default cache folder %s, want %s", got, filepath.Join(want, "segpipe"))
	}
}
