package extract

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/segpipe/segpipe/internal/config"
)

// Caller sends single API calls to a source with the extract's client: the same auth,
// rate limit (requests_per_second), retries of 429, 5xx and network errors (max_retries,
// max_retry_wait, Retry-After) and secret masking. The CRM sync writes through it.
type Caller struct {
	f *fetcher
}

// NewCaller returns a Caller for source src with auth (the source's own, or a write token);
// hc, when set, is the HTTP client to copy (tests inject one).
func NewCaller(source string, src *config.Source, auth config.Auth, hc *http.Client, log *slog.Logger) (*Caller, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := *src
	s.Auth = auth
	f, err := newFetcher(source, &s, "", nil, hc, NewLimiter(&s), log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &Caller{f: f}, nil
}

// Request is one call: what names it in errors ("companies batch update 3").
type Request struct {
	Method, URL, What string
	// Body is sent as ContentType ("" means application/json); nil for none.
	Body        []byte
	ContentType string
	// Accept is the response type asked for ("" means application/json).
	Accept string
}

// Response is a 2xx answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends r and returns its 2xx response; any other final status is an *HTTPError (Call
// set to r.What, its Body the start of the response with secrets masked).
func (c *Caller) Do(ctx context.Context, r Request) (*Response, error) {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("%s: need an http:// or https:// URL without credentials", r.What)
	}
	accept := r.Accept
	if accept == "" {
		accept = "application/json"
	}
	out := &Response{}
	cl := &call{method: r.Method, u: u, body: r.Body, contentType: r.ContentType, what: r.What, accept: accept, errorBytes: 64 << 10,
		handle: func(resp *http.Response) error {
			b, err := readBody(resp)
			if err != nil {
				return err // transient or permanent already
			}
			out.Status, out.Header, out.Body = resp.StatusCode, resp.Header.Clone(), b
			return nil
		}}
	if _, err := c.f.do(ctx, cl); err != nil {
		return nil, err
	}
	return out, nil
}

// Scrub masks the caller's secrets in s.
func (c *Caller) Scrub(s string) string { return c.f.scrub(s) }

// Close releases idle connections.
func (c *Caller) Close() { c.f.close() }
