package lake_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/lake/storetest"
)

var ctx = context.Background()

func TestGCSKeysLiveUnderThePrefix(t *testing.T) {
	fake := storetest.NewFakeGCS(t, "segpipe-lake")
	s := fake.Store(t, "/team/lake/")
	if s.URL() != "gs://segpipe-lake/team/lake" {
		t.Fatalf("URL = %s", s.URL())
	}
	if err := lake.PutBytes(ctx, s, "raw/crm/a.parquet", []byte("a")); err != nil {
		t.Fatal(err)
	}
	// Neighbours outside the prefix, and a folder placeholder the console makes.
	for _, name := range []string{"team/lakehouse/raw/x", "team/other", "team/lake/raw/"} {
		fake.Server.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "segpipe-lake", Name: name}, Content: []byte("x")})
	}
	if got := strings.Join(fake.ObjectNames(t, "team/lake/raw/crm"), " "); got != "team/lake/raw/crm/a.parquet" {
		t.Fatalf("bucket holds %s", got)
	}
	objs, err := s.List(ctx, "")
	if err != nil || len(objs) != 1 || objs[0].Key != "raw/crm/a.parquet" {
		t.Fatalf("list = %+v, %v", objs, err)
	}
	_, err = s.Get(ctx, "raw/nope")
	if !errors.Is(err, lake.ErrNotExist) || !strings.Contains(err.Error(), "gs://segpipe-lake/team/lake/raw/nope") {
		t.Fatalf("get missing: %v; want ErrNotExist naming the object", err)
	}
	if _, err := lake.NewGCSStore(fake.Client, "segpipe-lake", "a/../b"); err == nil {
		t.Fatal("a prefix with .. was accepted")
	}
}

// GCS rejects an upload whose bytes do not match the CRC32C sent with it; for a large
// (chunked) upload put also compares the CRC32C GCS reports, and removes a corrupt object.
func TestGCSRejectsCorruptedUploads(t *testing.T) {
	fake := storetest.NewFakeGCS(t, "segpipe-lake")
	s := fake.Store(t, "lake")
	lake.SetGCSChunkSize(s, 256<<10)
	marker := []byte("MARKER-0123456789")
	if err := lake.PutBytes(ctx, s, "small", []byte("old")); err != nil {
		t.Fatal(err)
	}
	fake.CorruptUploads(marker)

	_, err := s.Put(ctx, "small", bytes.NewReader(append(marker, " and the rest"...)))
	if err == nil {
		t.Fatal("a corrupted small upload succeeded")
	}
	if b, _ := lake.GetBytes(ctx, s, "small"); string(b) != "old" {
		t.Fatalf("after a rejected upload the object holds %q, want the old content", b)
	}

	large := append(append([]byte{}, marker...), bytes.Repeat([]byte("L"), 5<<20)...)
	_, err = s.Put(ctx, "large", bytes.NewReader(large))
	if err == nil || !strings.Contains(err.Error(), "CRC32C") {
		t.Fatalf("a corrupted large upload: %v, want a CRC32C mismatch", err)
	}
	if _, err := s.Stat(ctx, "large"); !errors.Is(err, lake.ErrNotExist) {
		t.Fatalf("the corrupt large object is still there: %v", err)
	}

	fake.CorruptUploads(nil)
	if _, err := s.Put(ctx, "large", bytes.NewReader(large)); err != nil {
		t.Fatal(err)
	}
	if fake.Requests(storetest.Upload) < 2*len(large)/(256<<10) {
		t.Errorf("%d upload requests for two uploads of %d bytes in 256 KiB chunks", fake.Requests(storetest.Upload), len(large))
	}
	if b, _ := lake.GetBytes(ctx, s, "large"); !bytes.Equal(b, large) {
		t.Fatalf("large object read back as %d bytes", len(b))
	}
}

func TestGCSRetriesTransientErrors(t *testing.T) {
	fake := storetest.NewFakeGCS(t, "segpipe-lake")
	s := fake.Store(t, "lake")
	steps := []struct {
		name string
		do   func() error
	}{
		{"put", func() error { return lake.PutBytes(ctx, s, "a", []byte("one")) }},
		{"put-if", func() error { _, err := s.PutIf(ctx, "b", strings.NewReader("two"), 0); return err }},
		{"get", func() error {
			b, err := lake.GetBytes(ctx, s, "a")
			if err == nil && string(b) != "one" {
				return errors.New("wrong content " + string(b))
			}
			return err
		}},
		{"stat", func() error { _, err := s.Stat(ctx, "a"); return err }},
		{"list", func() error {
			objs, err := s.List(ctx, "")
			if err == nil && len(objs) != 2 {
				return errors.New("wrong listing")
			}
			return err
		}},
		{"delete", func() error { return s.Delete(ctx, "a") }},
	}
	for i, st := range steps {
		code := http.StatusServiceUnavailable
		if i%2 == 1 {
			code = http.StatusTooManyRequests
		}
		fake.FailNext(1, code)
		if err := st.do(); err != nil {
			t.Errorf("%s after one %d: %v", st.name, code, err)
		}
	}
}

// A conditional create whose response is lost is retried; the retry fails its precondition
// against the object the first attempt made, and put recognises that object as its own.
func TestGCSPutIfWhoseResponseWasLost(t *testing.T) {
	fake := storetest.NewFakeGCS(t, "segpipe-lake")
	s := fake.Store(t, "lake")
	fake.LoseNextResponses(1)
	info, err := s.PutIf(ctx, "leases/x.json", strings.NewReader("mine"), 0)
	if err != nil {
		t.Fatalf("create whose first response was lost: %v", err)
	}
	if fake.Requests(storetest.Upload) != 2 {
		t.Fatalf("%d upload requests, want the lost one and its retry", fake.Requests(storetest.Upload))
	}
	if st, _ := s.Stat(ctx, "leases/x.json"); st.Generation != info.Generation {
		t.Fatalf("put returned generation %d, the object has %d", info.Generation, st.Generation)
	}
	// Someone else's object is not mistaken for ours.
	fake.LoseNextResponses(0)
	if _, err := s.PutIf(ctx, "leases/x.json", strings.NewReader("theirs"), 0); !errors.Is(err, lake.ErrPrecondition) {
		t.Fatalf("create over another writer's object: %v, want ErrPrecondition", err)
	}
}

// Cancelled after several chunks of a resumable upload went out: no object.
func TestGCSCancelMidUpload(t *testing.T) {
	fake := storetest.NewFakeGCS(t, "segpipe-lake")
	s := fake.Store(t, "lake")
	lake.SetGCSChunkSize(s, 256<<10)
	c, cancel := context.WithCancel(ctx)
	r := &chunkWatcher{fake: fake, cancel: cancel}
	_, err := s.Put(c, "big", r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("put: %v, want context.Canceled", err)
	}
	if fake.Requests(storetest.Upload) < 3 {
		t.Fatalf("only %d upload requests before the cancel; the test wants a resumable upload under way", fake.Requests(storetest.Upload))
	}
	if names := fake.ObjectNames(t, ""); len(names) != 0 {
		t.Fatalf("a cancelled upload left %v", names)
	}
}

// chunkWatcher yields bytes until three upload requests have gone out, then cancels.
type chunkWatcher struct {
	fake   *storetest.FakeGCS
	cancel context.CancelFunc
}

func (r *chunkWatcher) Read(p []byte) (int, error) {
	if r.fake.Requests(storetest.Upload) >= 3 {
		r.cancel()
	}
	for i := range p {
		p[i] = 'c'
	}
	return len(p), nil
}

func TestGCSCopy(t *testing.T) {
	fake := storetest.NewFakeGCS(t, "segpipe-lake")
	s := fake.Store(t, "lake")
	src, err := s.Put(ctx, "staging/r1/a.parquet", strings.NewReader("table a"))
	if err != nil {
		t.Fatal(err)
	}
	var c lake.Copier = s
	info, err := c.Copy(ctx, "staging/r1/a.parquet", "releases/x/a.parquet")
	if err != nil || info.Key != "releases/x/a.parquet" || info.Size != src.Size || info.Generation == 0 {
		t.Fatalf("copy = %+v, %v", info, err)
	}
	if b, _ := lake.GetBytes(ctx, s, "releases/x/a.parquet"); string(b) != "table a" {
		t.Fatalf("copy holds %q", b)
	}
	if _, err := c.Copy(ctx, "staging/r1/none", "releases/x/none"); !errors.Is(err, lake.ErrNotExist) {
		t.Fatalf("copy of a missing object: %v, want ErrNotExist", err)
	}
}

// Open honours STORAGE_EMULATOR_HOST (here a fake with a loopback listener) and reports a
// missing bucket when it opens the lake.
func TestOpenGSURL(t *testing.T) {
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "acme-lake"})
	t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(srv.URL(), "http://"))

	store, err := lake.Open(ctx, "gs://acme-lake/segpipe/prod", lake.Options{CredentialsFile: "/ignored/with/an/emulator.json"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.(*lake.GCSStore).Close()
	if store.URL() != "gs://acme-lake/segpipe/prod" {
		t.Fatalf("URL = %s", store.URL())
	}
	if err := lake.PutBytes(ctx, store, "runs/r1.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.GetObject("acme-lake", "segpipe/prod/runs/r1.json"); err != nil {
		t.Fatalf("object not in the bucket under the prefix: %v", err)
	}

	_, err = lake.Open(ctx, "gs://no-such-bucket/segpipe", lake.Options{})
	if err == nil || !strings.Contains(err.Error(), "no-such-bucket") || !strings.Contains(err.Error(), "create it") {
		t.Fatalf("open of a missing bucket: %v", err)
	}
	if _, err := lake.Open(ctx, "gs:///segpipe", lake.Options{}); err == nil || !strings.Contains(err.Error(), "bucket") {
		t.Fatalf("open without a bucket: %v", err)
	}
}

func TestOpenGSRejectsUnknownCredentials(t *testing.T) {
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	file := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(file, []byte(`{"type":"api_key","secret":"do-not-print"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := lake.Open(ctx, "gs://acme-lake/segpipe", lake.Options{CredentialsFile: file})
	if err == nil || !strings.Contains(err.Error(), "service_account") || strings.Contains(err.Error(), "do-not-print") {
		t.Fatalf("open with an unusable credentials file: %v", err)
	}
	_, err = lake.Open(ctx, "gs://acme-lake/segpipe", lake.Options{CredentialsFile: filepath.Join(t.TempDir(), "missing.json")})
	if err == nil || !strings.Contains(err.Error(), "gcs.credentials_file") {
		t.Fatalf("open with a missing credentials file: %v", err)
	}
}
