package storetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"

	"github.com/segpipe/segpipe/internal/lake"
)

// FakeGCS is fake-gcs-server running in process (no listener, no network) with one bucket,
// and a storage client whose requests are counted by kind and can be made to fail or be
// corrupted on the wire.
type FakeGCS struct {
	Server *fakestorage.Server
	Client *storage.Client
	Bucket string

	mu       sync.Mutex
	requests map[RequestKind]int
	failNext int
	failCode int
	loseNext int
	corrupt  []byte
}

// RequestKind sorts the requests a client makes.
type RequestKind string

// The kinds of request FakeGCS counts.
const (
	Upload   RequestKind = "upload"   // object data sent (each chunk of a resumable upload)
	Download RequestKind = "download" // object data read
	Metadata RequestKind = "metadata" // object attributes read
	Listing  RequestKind = "list"     // a page of a listing
	Deletion RequestKind = "delete"
)

// NewFakeGCS starts a fake server with an empty bucket; it stops when the test ends.
func NewFakeGCS(t testing.TB, bucket string) *FakeGCS {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	f := &FakeGCS{Server: srv, Bucket: bucket, requests: map[RequestKind]int{}}
	hc := &http.Client{Transport: &fakeTransport{f: f, base: srv.HTTPClient().Transport}}
	client, err := storage.NewClient(context.Background(), option.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	f.Client = client
	t.Cleanup(func() {
		client.Close()
		srv.Stop()
	})
	return f
}

// Store is a GCSStore on gs://<bucket>/<prefix> of the fake.
func (f *FakeGCS) Store(t testing.TB, prefix string) *lake.GCSStore {
	t.Helper()
	s, err := lake.NewGCSStore(f.Client, f.Bucket, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Requests is how many requests of a kind the client has made.
func (f *FakeGCS) Requests(kind RequestKind) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[kind]
}

// FailNext answers the next n requests with the HTTP status code, as an overloaded GCS does.
func (f *FakeGCS) FailNext(n, code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext, f.failCode = n, code
}

// LoseNextResponses lets the next n requests reach the server, then answers the client 503
// Service Unavailable as if the response had been lost on the way back.
func (f *FakeGCS) LoseNextResponses(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loseNext = n
}

// CorruptUploads flips the first byte of marker wherever it appears in uploaded data, as a
// faulty link would; nil stops it.
func (f *FakeGCS) CorruptUploads(marker []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.corrupt = marker
}

// ObjectNames lists the bucket's object names under prefix, as the server holds them.
func (f *FakeGCS) ObjectNames(t testing.TB, prefix string) []string {
	t.Helper()
	objs, _, err := f.Server.ListObjectsWithOptions(f.Bucket, fakestorage.ListOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	return names
}

type fakeTransport struct {
	f    *FakeGCS
	base http.RoundTripper
}

func (t *fakeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	kind := classify(req)
	t.f.mu.Lock()
	t.f.requests[kind]++
	fail := t.f.failNext > 0
	if fail {
		t.f.failNext--
	}
	lose := !fail && t.f.loseNext > 0
	if lose {
		t.f.loseNext--
	}
	code, marker := t.f.failCode, t.f.corrupt
	t.f.mu.Unlock()
	if lose {
		resp, err := t.base.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fail, code = true, http.StatusServiceUnavailable
	}
	if fail {
		if req.Body != nil {
			io.Copy(io.Discard, req.Body)
			req.Body.Close()
		}
		body := fmt.Sprintf(`{"error":{"code":%d,"message":%q}}`, code, http.StatusText(code))
		return &http.Response{
			StatusCode: code, Status: http.StatusText(code), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(body)),
			Request: req,
		}, nil
	}
	if kind == Upload && marker != nil && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		flipped := append([]byte{marker[0] ^ 0x20}, marker[1:]...)
		b = bytes.ReplaceAll(b, marker, flipped)
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
	}
	return t.base.RoundTrip(req)
}

func classify(req *http.Request) RequestKind {
	p := req.URL.Path
	switch {
	case strings.HasPrefix(p, "/upload/"):
		return Upload
	case req.Method == http.MethodDelete:
		return Deletion
	case req.URL.Query().Get("alt") == "media" || strings.HasPrefix(p, "/download/") || !strings.HasPrefix(p, "/storage/v1/"):
		return Download
	case strings.HasSuffix(strings.TrimSuffix(p, "/"), "/o"):
		return Listing
	default:
		return Metadata
	}
}
