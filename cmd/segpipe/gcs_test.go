package main

import (
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// The whole demo runs on a gs:// lake: a fake GCS server on loopback, reached the way the
// Google client reaches an emulator (STORAGE_EMULATOR_HOST).
func TestDemoOnGCSLake(t *testing.T) {
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "segpipe-test"})
	t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(srv.URL(), "http://"))
	t.Setenv("XDG_CACHE_HOME", t.TempDir())

	code, out, errOut := runCLI(t, "demo", "--accounts", "300", "--lake", "gs://segpipe-test/lake")
	if code != 0 {
		t.Fatalf("demo on gs:// exited %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Published as of") || !strings.Contains(out, "gs://segpipe-test/lake") {
		t.Errorf("summary:\n%s", out)
	}
	for _, key := range []string{"lake/marts/_published.json", "lake/latest/account_segments.parquet",
		"lake/marts/segment_metrics/as_of=2026-10-31/data.parquet", "lake/raw/crm/accounts/dt=2026-10-31/_manifest.json"} {
		obj, err := srv.GetObject("segpipe-test", key)
		if err != nil || len(obj.Content) == 0 {
			t.Errorf("%s: %v", key, err)
		}
	}
	objs, _, err := srv.ListObjectsWithOptions("segpipe-test", fakestorage.ListOptions{Prefix: "lake/staging/"})
	if err != nil || len(objs) != 0 {
		t.Errorf("staging left behind after publish: %d objects, %v", len(objs), err)
	}

	// A bucket that does not exist fails the run (exit 1), naming the bucket.
	code, _, errOut = runCLI(t, "run", "segment", "--config", "../../config/segpipe.yaml", "--lake", "gs://no-such-bucket/x", "--log-level", "error")
	if code != 1 || !strings.Contains(errOut, "no-such-bucket") {
		t.Errorf("missing bucket: exit %d, %q", code, errOut)
	}
	// A lake URL segpipe cannot use at all is bad config (exit 2).
	code, _, errOut = runCLI(t, "run", "segment", "--config", "../../config/segpipe.yaml", "--lake", "s3://x/y")
	if code != 2 || !strings.Contains(errOut, `unknown scheme "s3"`) {
		t.Errorf("bad scheme: exit %d, %q", code, errOut)
	}
}
