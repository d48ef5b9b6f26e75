package lake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	gax "github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// castagnoli is the CRC32C table GCS checksums use.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const (
	// gcsChunkSize is the upload chunk of a large object: each chunk is one request, retried
	// on its own, and the writer buffers one chunk in memory.
	gcsChunkSize = 16 << 20
	// gcsSmallObject is the size up to which Put reads the whole object before uploading it,
	// so it can declare the object's CRC32C up front and send it in one request.
	gcsSmallObject = 4 << 20
	// gcsMinChunk is the granularity GCS rounds chunk sizes to.
	gcsMinChunk = 256 << 10
	// writeIDKey is object metadata naming the Put that wrote a conditional object, so a PutIf
	// whose first attempt succeeded but whose retry failed its precondition can tell it won.
	writeIDKey = "segpipe-write-id"
)

// GCSStore keeps the lake in a Google Cloud Storage bucket under a prefix: the object of key
// k is gs://bucket/prefix/k. Objects appear whole when their upload completes (GCS has no
// partial objects), generations are GCS object generations, and conditional writes are GCS
// preconditions, checked by the server.
type GCSStore struct {
	client     *storage.Client
	bucket     *storage.BucketHandle
	bucketName string
	prefix     string // "" or a clean key without slashes at either end
	ownsClient bool
	chunkSize  int
}

// NewGCSStore is a store on gs://bucket/prefix through an existing client (tests pass
// fakestorage.Server.Client()). Transient errors of every call are retried with backoff.
func NewGCSStore(client *storage.Client, bucket, prefix string) (*GCSStore, error) {
	if bucket == "" || strings.ContainsAny(bucket, "/ ") {
		return nil, fmt.Errorf("open lake gs://%s: %q is not a bucket name", bucket, bucket)
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		if err := CheckKey(prefix); err != nil {
			return nil, fmt.Errorf("open lake gs://%s/%s: the prefix is not a clean path", bucket, prefix)
		}
	}
	// Every write is idempotent: objects are written whole, and a conditional write carries
	// its precondition (a retried PutIf that already won is recognised by its write id).
	handle := client.Bucket(bucket).Retryer(
		storage.WithBackoff(gax.Backoff{Initial: 250 * time.Millisecond, Max: 32 * time.Second, Multiplier: 2}),
		storage.WithMaxAttempts(10),
		storage.WithPolicy(storage.RetryAlways),
	)
	return &GCSStore{client: client, bucket: handle, bucketName: bucket, prefix: prefix, chunkSize: gcsChunkSize}, nil
}

// OpenGCS connects to gs://bucket/prefix with the service-account key file opts names, or
// Application Default Credentials when it names none, and checks that the lake can be listed.
// STORAGE_EMULATOR_HOST, when set, points the client at an emulator without credentials.
func OpenGCS(ctx context.Context, bucket, prefix string, opts Options) (*GCSStore, error) {
	where := "gs://" + path.Join(bucket, prefix)
	var copts []option.ClientOption
	if opts.CredentialsFile != "" && os.Getenv("STORAGE_EMULATOR_HOST") == "" {
		o, err := credentialsFileOption(opts.CredentialsFile)
		if err != nil {
			return nil, fmt.Errorf("open lake %s: %w", where, err)
		}
		copts = append(copts, o)
	}
	// Read through the JSON API: the XML API's object URLs trip on characters such as the '='
	// of Hive partition folders (dt=..., as_of=...) in some emulators, and JSON reads work
	// the same on GCS itself.
	copts = append(copts, storage.WithJSONReads())
	client, err := storage.NewClient(ctx, copts...)
	if err != nil {
		return nil, fmt.Errorf("open lake %s: %w%s", where, err, credentialsHint(opts))
	}
	s, err := NewGCSStore(client, bucket, prefix)
	if err != nil {
		client.Close()
		return nil, err
	}
	s.ownsClient = true
	if err := s.probe(ctx, opts); err != nil {
		client.Close()
		return nil, err
	}
	return s, nil
}

// credentialsFileOption reads the type of a Google credentials file (never its secrets into
// any message) and returns the client option that loads it.
func credentialsFileOption(file string) (option.ClientOption, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("gcs.credentials_file: %w", err)
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("gcs.credentials_file %s is not a Google credentials JSON file", file)
	}
	types := map[string]option.CredentialsType{
		"service_account":              option.ServiceAccount,
		"authorized_user":              option.AuthorizedUser,
		"impersonated_service_account": option.ImpersonatedServiceAccount,
		"external_account":             option.ExternalAccount,
	}
	t, ok := types[head.Type]
	if !ok {
		return nil, fmt.Errorf("gcs.credentials_file %s has type %q; use a service-account key (type service_account)", file, head.Type)
	}
	return option.WithAuthCredentialsFile(t, file), nil
}

func credentialsHint(opts Options) string {
	if opts.CredentialsFile != "" {
		return fmt.Sprintf(" (credentials from gcs.credentials_file %s)", opts.CredentialsFile)
	}
	return " (no gcs.credentials_file: using Application Default Credentials; set GOOGLE_APPLICATION_CREDENTIALS, run `gcloud auth application-default login`, or set gcs.credentials_file)"
}

// probe lists at most one object of the lake, so a missing bucket or missing permission is
// reported when the lake is opened rather than halfway through a run.
func (s *GCSStore) probe(ctx context.Context, opts Options) error {
	it := s.bucket.Objects(ctx, &storage.Query{Prefix: s.objectName("")})
	it.PageInfo().MaxSize = 1
	_, err := it.Next()
	if err == nil || errors.Is(err, iterator.Done) {
		return nil
	}
	wrapped := s.fail("open lake", "", err)
	if code := httpStatus(err); code == http.StatusUnauthorized || code == http.StatusForbidden || strings.Contains(err.Error(), "credentials") {
		return fmt.Errorf("%w%s", wrapped, credentialsHint(opts))
	}
	return wrapped
}

// Close releases the client when the store made it (OpenGCS).
func (s *GCSStore) Close() error {
	if s.ownsClient {
		return s.client.Close()
	}
	return nil
}

// URL names the store: gs://bucket/prefix.
func (s *GCSStore) URL() string {
	if s.prefix == "" {
		return "gs://" + s.bucketName
	}
	return "gs://" + s.bucketName + "/" + s.prefix
}

// objectName is the GCS object of key ("" gives the prefix folder, ending in a slash).
func (s *GCSStore) objectName(key string) string {
	if s.prefix == "" {
		return key
	}
	return s.prefix + "/" + key
}

func (s *GCSStore) object(key string) *storage.ObjectHandle {
	return s.bucket.Object(s.objectName(key))
}

// Put uploads the object; it becomes visible whole when the upload completes.
func (s *GCSStore) Put(ctx context.Context, key string, r io.Reader) (ObjectInfo, error) {
	return s.put(ctx, key, r, nil)
}

// PutIf uploads the object only if its generation is ifGeneration (0: only if it does not
// exist); GCS checks the precondition when the upload completes.
func (s *GCSStore) PutIf(ctx context.Context, key string, r io.Reader, ifGeneration int64) (ObjectInfo, error) {
	conds := storage.Conditions{GenerationMatch: ifGeneration}
	if ifGeneration == 0 {
		conds = storage.Conditions{DoesNotExist: true}
	}
	return s.put(ctx, key, r, &conds)
}

// put streams r into one object. An object of up to gcsSmallObject bytes is read first and
// sent in one request that declares its CRC32C; a larger one goes up in gcsChunkSize chunks
// with the client's running CRC32C sent on the last one. Either way GCS rejects an upload
// whose bytes do not match, and put compares the CRC32C GCS reports with its own. An error
// of r or a cancelled ctx aborts the upload: nothing is written.
func (s *GCSStore) put(ctx context.Context, key string, r io.Reader, conds *storage.Conditions) (ObjectInfo, error) {
	if err := CheckKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, err
	}
	head, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, gcsSmallObject+1))
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("put %s: %w", s.where(key), err)
	}
	small := len(head) <= gcsSmallObject

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	obj := s.object(key)
	if conds != nil {
		obj = obj.If(*conds)
	}
	w := obj.NewWriter(wctx)
	w.ContentType = contentType(key)
	var writeID string
	if conds != nil {
		writeID = newWriteID()
		w.Metadata = map[string]string{writeIDKey: writeID}
	}
	sum := crc32.New(castagnoli)
	if small {
		// The whole object is in hand: declare its checksum, one request, a buffer its size.
		w.ChunkSize = (len(head)/gcsMinChunk + 1) * gcsMinChunk
		w.CRC32C, w.SendCRC32C = crc32.Checksum(head, castagnoli), true
		sum.Write(head)
		_, err = w.Write(head)
	} else {
		w.ChunkSize = s.chunkSize
		_, err = io.Copy(w, io.TeeReader(io.MultiReader(bytes.NewReader(head), ctxReader{ctx, r}), sum))
	}
	if err != nil {
		cancel() // abort before Close, which would otherwise commit what was sent
		w.Close()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return ObjectInfo{}, fmt.Errorf("put %s: %w", s.where(key), err)
	}
	if err := w.Close(); err != nil {
		if conds != nil && httpStatus(err) == http.StatusPreconditionFailed {
			if info, ok := s.writtenBy(ctx, key, writeID); ok {
				return info, nil
			}
		}
		return ObjectInfo{}, s.fail("put", key, err)
	}
	attrs := w.Attrs()
	if attrs.CRC32C != sum.Sum32() {
		// GCS stored other bytes than were sent: remove them rather than leave them readable.
		_ = s.object(key).If(storage.Conditions{GenerationMatch: attrs.Generation}).Delete(context.WithoutCancel(ctx))
		return ObjectInfo{}, fmt.Errorf("put %s: GCS stored CRC32C %08x, the data sent has %08x; the corrupted upload was removed, retry the run", s.where(key), attrs.CRC32C, sum.Sum32())
	}
	return s.info(key, attrs), nil
}

// writtenBy reports whether the object at key is the one the write with id wrote: a retried
// conditional upload whose first attempt succeeded fails its precondition on the retry.
func (s *GCSStore) writtenBy(ctx context.Context, key, id string) (ObjectInfo, bool) {
	attrs, err := s.object(key).Attrs(ctx)
	if err != nil || id == "" || attrs.Metadata[writeIDKey] != id {
		return ObjectInfo{}, false
	}
	return s.info(key, attrs), true
}

func newWriteID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// contentType labels objects for people browsing the bucket; segpipe does not rely on it.
func contentType(key string) string {
	switch path.Ext(key) {
	case ".json":
		return "application/json"
	case ".parquet":
		return "application/vnd.apache.parquet"
	default:
		return "application/octet-stream"
	}
}

func (s *GCSStore) info(key string, a *storage.ObjectAttrs) ObjectInfo {
	return ObjectInfo{Key: key, Size: a.Size, Updated: a.Updated, Generation: a.Generation}
}

// Get opens the object at key. The reader keeps reading the generation it opened even if
// the object is replaced meanwhile.
func (s *GCSStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	r, err := s.object(key).NewReader(ctx)
	if err != nil {
		return nil, s.fail("get", key, err)
	}
	return r, nil
}

// GetGeneration opens one generation of the object at key; its error wraps ErrNotExist once
// that generation has been replaced or deleted.
func (s *GCSStore) GetGeneration(ctx context.Context, key string, generation int64) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	r, err := s.object(key).Generation(generation).NewReader(ctx)
	if err != nil {
		return nil, s.fail("get", key, err)
	}
	return r, nil
}

// Stat describes the object at key.
func (s *GCSStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	info, _, err := s.StatChecksum(ctx, key)
	return info, err
}

// StatChecksum is Stat plus the CRC32C GCS keeps for the object.
func (s *GCSStore) StatChecksum(ctx context.Context, key string) (ObjectInfo, uint32, error) {
	if err := CheckKey(key); err != nil {
		return ObjectInfo{}, 0, err
	}
	attrs, err := s.object(key).Attrs(ctx)
	if err != nil {
		return ObjectInfo{}, 0, s.fail("stat", key, err)
	}
	return s.info(key, attrs), attrs.CRC32C, nil
}

// List returns the objects whose keys start with prefix (a plain string prefix, not only a
// folder), in key order. Objects whose names are not lake keys (folder placeholders ending
// in a slash, made by the console) are skipped.
func (s *GCSStore) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	q := &storage.Query{Prefix: s.objectName(prefix)}
	if err := q.SetAttrSelection([]string{"Name", "Size", "Updated", "Generation"}); err != nil {
		return nil, err
	}
	it := s.bucket.Objects(ctx, q)
	var out []ObjectInfo
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, s.fail("list", prefix+"*", err)
		}
		key := strings.TrimPrefix(attrs.Name, s.objectName(""))
		if CheckKey(key) != nil {
			continue
		}
		out = append(out, s.info(key, attrs))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Copy copies the object at src to dst inside GCS (a rewrite; no data passes through this
// host), replacing dst.
func (s *GCSStore) Copy(ctx context.Context, src, dst string) (ObjectInfo, error) {
	if err := CheckKey(src); err != nil {
		return ObjectInfo{}, err
	}
	if err := CheckKey(dst); err != nil {
		return ObjectInfo{}, err
	}
	attrs, err := s.object(dst).CopierFrom(s.object(src)).Run(ctx)
	if err != nil {
		return ObjectInfo{}, s.fail("copy "+s.where(src)+" to", dst, err)
	}
	return s.info(dst, attrs), nil
}

// Delete removes the object at key; an absent object is not an error.
func (s *GCSStore) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	err := s.object(key).Delete(ctx)
	if err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return s.fail("delete", key, err)
	}
	return nil
}

// DeleteIf deletes the object only if its generation is ifGeneration. GCS checks the
// precondition; the generation is also compared first, which names both generations in the
// error and keeps emulators that ignore delete preconditions honest.
func (s *GCSStore) DeleteIf(ctx context.Context, key string, ifGeneration int64) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if ifGeneration == 0 {
		return fmt.Errorf("delete %s: a conditional delete needs the generation to match", s.where(key))
	}
	info, err := s.Stat(ctx, key)
	if err != nil {
		if errors.Is(err, ErrNotExist) {
			return fmt.Errorf("delete %s: %w: it no longer exists", s.where(key), ErrNotExist)
		}
		return err
	}
	if info.Generation != ifGeneration {
		return fmt.Errorf("delete %s: %w: generation %d, expected %d", s.where(key), ErrPrecondition, info.Generation, ifGeneration)
	}
	if err := s.object(key).If(storage.Conditions{GenerationMatch: ifGeneration}).Delete(ctx); err != nil {
		return s.fail("delete", key, err)
	}
	return nil
}

// where names an object for messages.
func (s *GCSStore) where(key string) string {
	if key == "" {
		return s.URL()
	}
	return s.URL() + "/" + key
}

// fail wraps a GCS error with what was being done to which object, as the lake's sentinel
// errors where one applies, with a hint where the fix is the operator's.
func (s *GCSStore) fail(op, key string, err error) error {
	where := s.where(key)
	switch code := httpStatus(err); {
	case errors.Is(err, storage.ErrBucketNotExist) || (code == http.StatusNotFound && (op == "put" || op == "list" || op == "open lake") && !errors.Is(err, storage.ErrObjectNotExist)):
		return fmt.Errorf("%s %s: bucket %s does not exist or is not visible to these credentials: create it or check the name and permissions: %w", op, where, s.bucketName, err)
	case errors.Is(err, storage.ErrObjectNotExist) || code == http.StatusNotFound:
		return fmt.Errorf("%s %s: %w", op, where, ErrNotExist)
	case code == http.StatusPreconditionFailed:
		return fmt.Errorf("%s %s: %w", op, where, ErrPrecondition)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%s %s: permission denied: grant the account roles/storage.objectAdmin on gs://%s (or check the credentials): %w", op, where, s.bucketName, err)
	}
	return fmt.Errorf("%s %s: %w", op, where, err)
}

// httpStatus is the HTTP status of a GCS JSON/XML API error, 0 for other errors.
func httpStatus(err error) int {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return gerr.Code
	}
	return 0
}
