package lake

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	good := []struct {
		in   string
		want Location
	}{
		{"segpipe-data", Location{Scheme: "file", Path: "segpipe-data"}},
		{"./relative/x", Location{Scheme: "file", Path: "./relative/x"}},
		{"/srv/lake", Location{Scheme: "file", Path: "/srv/lake"}},
		{"file:///srv/lake", Location{Scheme: "file", Path: "/srv/lake"}},
		{"file://localhost/srv/lake", Location{Scheme: "file", Path: "/srv/lake"}},
		{"FILE:///srv/lake", Location{Scheme: "file", Path: "/srv/lake"}},
		{"gs://my-bucket", Location{Scheme: "gs", Bucket: "my-bucket"}},
		{"gs://my-bucket/segpipe/prod/", Location{Scheme: "gs", Bucket: "my-bucket", Prefix: "segpipe/prod"}},
		{"gs://acme.example.com/lake", Location{Scheme: "gs", Bucket: "acme.example.com", Prefix: "lake"}},
	}
	for _, c := range good {
		got, err := ParseURL(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := map[string]string{
		"":                         "none given",
		"file://relative/x":        `host must be empty or localhost, got "relative" (write relative/x`,
		"file://db.internal/srv/x": `got "db.internal"`,
		"file://":                  "name a folder",
		"file:///":                 "name a folder",
		"s3://bucket/x":            `unknown scheme "s3"`,
		"https://example.com/lake": `unknown scheme "https"`,
		"gs://":                    "name a bucket",
		"gs://My_Bucket/x":         "is not a Cloud Storage bucket name",
		"gs://ab/x":                "is not a Cloud Storage bucket name",
		"gs://bucket-/x":           "is not a Cloud Storage bucket name",
		"gs://bucket/a/../b":       "is not a clean path",
		"gs://bucket/x?alt=json":   "no user, query or fragment",
		"gs://user@bucket/x":       "no user, query or fragment",
		"gs:my-bucket/x":           `looks like a URL scheme without '//'`,
		"s3:bucket":                `looks like a URL scheme without '//'`,
	}
	for in, want := range bad {
		_, err := ParseURL(in)
		if !errors.Is(err, ErrBadLakeURL) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseURL(%q) = %v; want ErrBadLakeURL saying %q", in, err, want)
		}
	}
}

// A file URL with a host is refused before anything is written: it used to drop the host
// and write the lake at the root of the filesystem.
func TestOpenRefusesAFileURLWithAHost(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if _, err := Open(context.Background(), "file://relative/x", Options{}); !errors.Is(err, ErrBadLakeURL) {
		t.Fatalf("Open(file://relative/x) = %v, want ErrBadLakeURL", err)
	}
	if _, err := os.Stat("/x"); err == nil {
		t.Log("note: /x exists on this machine (not made by this test)")
	}
	s, err := Open(context.Background(), "relative/x", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.(*FileStore).Root(), filepath.Join(dir, "relative/x"); got != want {
		t.Errorf("relative lake rooted at %s, want %s", got, want)
	}
}
