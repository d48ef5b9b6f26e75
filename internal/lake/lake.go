// Package lake is segpipe's object store: raw landings, state, quarantine, run records and
// published marts, on the local filesystem (the default) or in Google Cloud Storage.
package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// ErrNotExist is returned (wrapped) when an object is not in the lake.
var ErrNotExist = errors.New("object does not exist")

// ErrPrecondition is returned (wrapped) by PutIf and DeleteIf when the object's generation is
// not the one the caller expected: someone else changed it first.
var ErrPrecondition = errors.New("object changed since it was read (generation precondition failed)")

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key     string
	Size    int64
	Updated time.Time
	// Generation changes with every write of the object; PutIf and DeleteIf compare it.
	Generation int64
}

// Store is an object store addressed by slash-separated keys such as
// "raw/crm/accounts/dt=2026-11-01/part-00000.parquet".
//
// Put is atomic: a reader sees the whole new object or the old one, never part of one.
type Store interface {
	// Put writes the object at key from r, replacing any previous one.
	Put(ctx context.Context, key string, r io.Reader) (ObjectInfo, error)
	// Get opens the object at key; the error wraps ErrNotExist when it is absent.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes the object at key; the error wraps ErrNotExist when it is absent.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// List returns the objects whose keys start with prefix, in key order.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes the object at key; deleting an absent object is not an error.
	Delete(ctx context.Context, key string) error
	// PutIf is Put only if the object's generation is ifGeneration (0: only if it does not
	// exist); otherwise it writes nothing and its error wraps ErrPrecondition.
	PutIf(ctx context.Context, key string, r io.Reader, ifGeneration int64) (ObjectInfo, error)
	// DeleteIf is Delete only if the object's generation is ifGeneration; otherwise its error
	// wraps ErrPrecondition (or ErrNotExist when it is gone).
	DeleteIf(ctx context.Context, key string, ifGeneration int64) error
	// URL names the store for messages, e.g. file:///srv/segpipe-data.
	URL() string
}

// LocalReader is implemented by stores whose objects are files DuckDB can read in place.
type LocalReader interface {
	// LocalPath is the filesystem path of the object at key.
	LocalPath(key string) string
}

// Options are what opening a lake may need besides its URL.
type Options struct {
	// CredentialsFile is a Google service-account key file for gs:// lakes; empty means
	// Application Default Credentials.
	CredentialsFile string
}

// ErrBadLakeURL marks a lake URL segpipe cannot use at all (as opposed to a lake it could
// not reach): a configuration mistake.
var ErrBadLakeURL = errors.New("bad lake URL")

// Open returns the store a lake URL names (ParseURL): a plain path or file:// URL
// (FileStore), or gs://bucket/prefix (GCSStore, which checks the bucket can be listed).
func Open(ctx context.Context, lakeURL string, opts Options) (Store, error) {
	loc, err := ParseURL(lakeURL)
	if err != nil {
		return nil, fmt.Errorf("open %w", err)
	}
	if loc.Scheme == "gs" {
		return OpenGCS(ctx, loc.Bucket, loc.Prefix, opts)
	}
	return NewFileStore(loc.Path)
}

// CheckKey rejects keys that could escape the lake or are not canonical.
func CheckKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") || path.Clean(key) != key || strings.HasPrefix(key, "../") || key == ".." {
		return fmt.Errorf("invalid lake key %q", key)
	}
	return nil
}

// GetBytes reads a whole (small) object.
func GetBytes(ctx context.Context, s Store, key string) ([]byte, error) {
	r, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", s.URL(), key, err)
	}
	return b, nil
}

// PutBytes writes a whole (small) object.
func PutBytes(ctx context.Context, s Store, key string, b []byte) error {
	_, err := s.Put(ctx, key, strings.NewReader(string(b)))
	return err
}
