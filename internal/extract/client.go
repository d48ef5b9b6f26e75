package extract

import (
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/segpipe/segpipe/internal/config"
)

// retryTiming bounds the waits between attempts of one request. Tests shrink it.
type retryTiming struct {
	// Min and Max bound the exponential backoff (with jitter) after a failure.
	Min, Max time.Duration
	// RetryAfterMin and RetryAfterMax clamp a server's Retry-After on 429 and 503.
	RetryAfterMin, RetryAfterMax time.Duration
}

// timing is the package's retry timing; a var so tests can make retries instant.
var timing = retryTiming{
	Min:           500 * time.Millisecond,
	Max:           30 * time.Second,
	RetryAfterMin: 500 * time.Millisecond,
	RetryAfterMax: 2 * time.Minute,
}

// maxPageBytes bounds one page's (decompressed) body; pages are meant to be small.
var maxPageBytes int64 = 512 << 20

// errorBodyBytes is how much of a failed response's body an HTTPError quotes.
const errorBodyBytes = 300

// HTTPError is a response the extract cannot use: a status that is not retried (4xx other
// than 429), or a retried one (429, 5xx) that persisted through every attempt.
type HTTPError struct {
	Source   string
	Entity   string
	Page     int    // 1-based number of the page in this landing
	Method   string // GET
	URL      string // the request URL, query kept, credentials removed
	Status   int    // the HTTP status code
	Body     string // the start of the response body, secrets masked
	Attempts int    // how many times the request was sent
}

func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "extract %s/%s page %d: %s %s: HTTP %d %s", e.Source, e.Entity, e.Page, e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.Body != "" {
		fmt.Fprintf(&b, ": body %q", e.Body)
	}
	return b.String()
}

// transientError is a page that arrived damaged (cut off, not parseable at the envelope
// level): the page is requested again.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// permanentError is a failure that asking again cannot fix (a body of the wrong shape, a
// redirect to another host).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// gaveUp carries the number of attempts out of retryablehttp's error handler.
type gaveUp struct {
	err      error
	attempts int
}

func (e *gaveUp) Error() string {
	if e.err == nil {
		return fmt.Sprintf("gave up after %d attempts", e.attempts)
	}
	return e.err.Error()
}
func (e *gaveUp) Unwrap() error { return e.err }

// fetcher GETs the pages of one source entity with retries, auth and page decoding.
type fetcher struct {
	source, entity string
	src            *config.Source
	ent            *config.Entity
	client         *retryablehttp.Client
	http           *http.Client
	secrets        []string
	log            *slog.Logger
}

func newFetcher(source string, src *config.Source, entity string, ent *config.Entity, hc *http.Client, log *slog.Logger) (*fetcher, error) {
	switch src.Auth.Type {
	case "", "none", "bearer", "basic":
	case "header":
		if src.Auth.Header == "" {
			return nil, fmt.Errorf("extract %s/%s: auth type header needs the header name", source, entity)
		}
	default:
		return nil, fmt.Errorf("extract %s/%s: unknown auth type %q (none, bearer, basic, header)", source, entity, src.Auth.Type)
	}
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if src.Timeout > 0 {
		c.Timeout = src.Timeout.D()
	}
	c.CheckRedirect = sameHostRedirect
	f := &fetcher{source: source, entity: entity, src: src, ent: ent, http: &c, log: log}
	for _, s := range []string{src.Auth.Token.Reveal(), src.Auth.Password.Reveal()} {
		if s != "" {
			f.secrets = append(f.secrets, s)
		}
	}
	if src.Auth.Type == "basic" {
		f.secrets = append(f.secrets, basicAuth(src.Auth.Username, src.Auth.Password.Reveal()))
	}
	f.client = &retryablehttp.Client{
		HTTPClient:   &c,
		Logger:       slogAdapter{l: log, scrub: f.scrub},
		RetryWaitMin: timing.Min,
		RetryWaitMax: timing.Max,
		RetryMax:     max(src.MaxRetries, 0),
		CheckRetry:   checkRetry,
		Backoff:      timing.backoff,
		ErrorHandler: func(resp *http.Response, err error, attempts int) (*http.Response, error) {
			return resp, &gaveUp{err: err, attempts: attempts}
		},
	}
	return f, nil
}

// close releases idle connections.
func (f *fetcher) close() { f.http.CloseIdleConnections() }

// sameHostRedirect follows redirects only within the host the request went to, so that
// credentials in headers never travel to another host.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return &permanentError{errors.New("stopped after 10 redirects")}
	}
	if from := via[0].URL; req.URL.Host != from.Host || req.URL.Scheme != from.Scheme {
		return &permanentError{fmt.Errorf("refusing to follow a redirect from %s://%s to another host %s://%s", from.Scheme, from.Host, req.URL.Scheme, req.URL.Host)}
	}
	return nil
}

// authorize sets the auth header. It is the one place a secret is revealed.
func (f *fetcher) authorize(h http.Header) {
	a := f.src.Auth
	switch a.Type {
	case "bearer":
		h.Set("Authorization", "Bearer "+a.Token.Reveal())
	case "basic":
		h.Set("Authorization", "Basic "+basicAuth(a.Username, a.Password.Reveal()))
	case "header":
		h.Set(a.Header, a.Token.Reveal())
	}
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// scrub masks every secret of the source in s.
func (f *fetcher) scrub(s string) string {
	for _, secret := range f.secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return s
}

// fetch GETs one page and decodes it. Statuses 429 and 5xx, network errors and damaged
// bodies are retried (src.MaxRetries times); other failures return at once.
func (f *fetcher) fetch(ctx context.Context, num int, u *url.URL) (*page, error) {
	shown := f.scrub(redactURL(u))
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("extract %s/%s page %d: GET %s: %w", f.source, f.entity, num, shown, err)
	}
	req.Header.Set("User-Agent", "segpipe")
	if f.ent.Format == "csv" {
		req.Header.Set("Accept", "text/csv")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	f.authorize(req.Header)
	var got *page
	req.SetResponseHandler(func(resp *http.Response) error {
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return f.httpError(num, u, resp, 1)
		}
		p, err := readPage(resp, f.ent)
		if err != nil {
			var te *transientError
			if errors.As(err, &te) {
				f.log.Debug("page arrived damaged; asking again", "page", num, "url", shown, "error", f.scrub(err.Error()))
			}
			return err
		}
		got = p
		return nil
	})
	start := time.Now()
	resp, err := f.client.Do(req)
	if resp != nil {
		defer resp.Body.Close()
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("extract %s/%s page %d: %w", f.source, f.entity, num, ctx.Err())
	}
	if err != nil {
		var g *gaveUp
		attempts := 1
		if errors.As(err, &g) {
			attempts = g.attempts
			if g.err == nil && resp != nil {
				// A retried status (429, 5xx) that never went away.
				return nil, f.httpError(num, u, resp, attempts)
			}
			err = g.err
		}
		var he *HTTPError
		if errors.As(err, &he) {
			he.Attempts = attempts
			return nil, he
		}
		msg := fmt.Sprintf("extract %s/%s page %d: GET %s", f.source, f.entity, num, shown)
		if attempts > 1 {
			msg += fmt.Sprintf(" (after %d attempts)", attempts)
		}
		return nil, fmt.Errorf("%s: %w", msg, scrubbedError{err, f.scrub(err.Error())})
	}
	if got == nil { // unreachable: the handler ran and succeeded
		return nil, fmt.Errorf("extract %s/%s page %d: GET %s: no page decoded", f.source, f.entity, num, shown)
	}
	got.num = num
	got.url = u
	got.fetchedAt = time.Now().UTC()
	f.log.Debug("page fetched", "page", num, "url", shown, "status", resp.StatusCode, "records", len(got.records), "bytes", len(got.body), "took", time.Since(start))
	return got, nil
}

// scrubbedError keeps an error's chain (errors.Is still works) with a masked message.
type scrubbedError struct {
	err error
	msg string
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.err }

// httpError builds the typed error of a response with an unusable status; it reads at most
// the first few hundred bytes of the body.
func (f *fetcher) httpError(num int, u *url.URL, resp *http.Response, attempts int) *HTTPError {
	var body []byte
	if resp.Body != nil {
		r, err := decodedBody(resp)
		if err == nil {
			body, _ = io.ReadAll(io.LimitReader(r, errorBodyBytes))
		}
	}
	for len(body) > 0 && !utf8.Valid(body) { // do not cut a character in half
		body = body[:len(body)-1]
	}
	return &HTTPError{
		Source:   f.source,
		Entity:   f.entity,
		Page:     num,
		Method:   http.MethodGet,
		URL:      f.scrub(redactURL(u)),
		Status:   resp.StatusCode,
		Body:     f.scrub(strings.TrimSpace(string(body))),
		Attempts: attempts,
	}
}

// decodedBody undoes a gzip Content-Encoding the transport left in place (it decodes only
// when it asked for gzip itself).
func decodedBody(resp *http.Response) (io.Reader, error) {
	if !resp.Uncompressed && strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, err
		}
		return zr, nil
	}
	return resp.Body, nil
}

// readBody reads a whole page body; a read that fails part way is transient.
func readBody(resp *http.Response) ([]byte, error) {
	r, err := decodedBody(resp)
	if err != nil {
		return nil, &transientError{fmt.Errorf("reading gzip body: %w", err)}
	}
	var buf []byte
	if n := resp.ContentLength; n > 0 && n <= maxPageBytes && r == resp.Body {
		buf = make([]byte, 0, n+1)
	}
	w := &sliceWriter{buf: buf}
	if _, err := io.Copy(w, io.LimitReader(r, maxPageBytes+1)); err != nil {
		return nil, &transientError{fmt.Errorf("reading body: %w", err)}
	}
	if int64(len(w.buf)) > maxPageBytes {
		return nil, &permanentError{fmt.Errorf("page body is over %d MiB; lower page_size", maxPageBytes>>20)}
	}
	return w.buf, nil
}

type sliceWriter struct{ buf []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// redactURL is u without user info, query kept.
func redactURL(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = nil
	return c.String()
}

// checkRetry retries 429, 5xx (except 501), network errors and damaged pages.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		var te *transientError
		if errors.As(err, &te) {
			return true, nil
		}
		var he *HTTPError
		var pe *permanentError
		if errors.As(err, &he) || errors.As(err, &pe) {
			return false, err
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	if resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented) {
		return true, nil
	}
	return false, nil
}

// backoff waits what a 429/503 Retry-After asks (clamped to [RetryAfterMin,
// RetryAfterMax]), otherwise an exponential backoff with jitter between lo and hi.
func (rt retryTiming) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(max(d, rt.RetryAfterMin), rt.RetryAfterMax)
		}
	}
	d := lo
	for i := 0; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	if d <= 0 {
		return 0
	}
	// Equal jitter: half fixed, half random, so parallel clients spread out.
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads a Retry-After header: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := parseUint(v); err == nil {
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

func parseUint(s string) (int64, error) {
	var n int64
	if s == "" {
		return 0, errors.New("empty")
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, errors.New("not a number")
		}
		if n > (1<<62)/10 {
			n = 1 << 62
			continue
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// slogAdapter routes retryablehttp's logging to slog at debug level. retryablehttp logs
// the method, the URL (user info masked) and errors, never headers; values are scrubbed
// of the source's secrets all the same.
type slogAdapter struct {
	l     *slog.Logger
	scrub func(string) string
}

func (a slogAdapter) log(msg string, kv []any) {
	if !a.l.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	out := make([]any, len(kv))
	for i, v := range kv {
		switch v := v.(type) {
		case string:
			out[i] = a.scrub(v)
		case error:
			out[i] = a.scrub(v.Error())
		case fmt.Stringer:
			out[i] = a.scrub(v.String())
		default:
			out[i] = v
		}
	}
	a.l.Debug("http: "+msg, out...)
}

func (a slogAdapter) Error(msg string, kv ...any) { a.log(msg, kv) }
func (a slogAdapter) Info(msg string, kv ...any)  { a.log(msg, kv) }
func (a slogAdapter) Debug(msg string, kv ...any) { a.log(msg, kv) }
func (a slogAdapter) Warn(msg string, kv ...any)  { a.log(msg, kv) }
