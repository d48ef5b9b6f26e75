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
	"golang.org/x/time/rate"

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
// than 429), or a retried one (429, 5xx) that persisted through every attempt or past the
// source's max_retry_wait.
type HTTPError struct {
	Source string
	Entity string
	Page   int    // 1-based number of the page in this landing; 0 for a call that is not a page
	Call   string // what the call was when it is not a page, e.g. "bulk query job create"
	Method string // GET or POST
	URL    string // the request URL, query kept, credentials removed
	Status int    // the HTTP status code
	Body   string // the start of the response body, secrets masked
	// Attempts is how many times the request was sent.
	Attempts int
	// Detail is the whole response body (secrets masked) when the call asked for it
	// (Caller: up to 64 KiB, for the vendor's error details); "" otherwise.
	Detail string
	// Cause is why the extract stopped retrying early (wraps ErrRetryWaitExceeded); nil
	// when the status is not retried or the retries ran out.
	Cause error
}

func (e *HTTPError) Error() string {
	var b strings.Builder
	what := e.Call
	if e.Page > 0 || what == "" {
		what = fmt.Sprintf("page %d", e.Page)
	}
	fmt.Fprintf(&b, "%s: %s %s: HTTP %d %s", what, e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.Cause != nil {
		fmt.Fprintf(&b, "; %v", e.Cause)
	}
	if e.Body != "" {
		fmt.Fprintf(&b, ": body %q", e.Body)
	}
	return b.String()
}

// Unwrap returns Cause.
func (e *HTTPError) Unwrap() error { return e.Cause }

// ErrRetryWaitExceeded is wrapped by the error of a request that stopped retrying because
// the next wait would take it past the source's max_retry_wait.
var ErrRetryWaitExceeded = errors.New("max_retry_wait exceeded")

// retryWaitError says how the retry budget of one request ran out.
type retryWaitError struct {
	budget, waited, next time.Duration
}

func (e *retryWaitError) Error() string {
	return fmt.Sprintf("gave up: waiting %v more would exceed max_retry_wait %v (already waited %v between attempts)", e.next.Round(time.Millisecond), e.budget, e.waited.Round(time.Millisecond))
}
func (e *retryWaitError) Unwrap() error { return ErrRetryWaitExceeded }

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

// fetcher sends the requests of one source entity with retries, rate limiting and auth,
// and decodes its pages.
type fetcher struct {
	source, entity string
	src            *config.Source
	ent            *config.Entity
	http           *http.Client
	limiter        *rate.Limiter
	secrets        []string
	log            *slog.Logger
}

func newFetcher(source string, src *config.Source, entity string, ent *config.Entity, hc *http.Client, limiter *rate.Limiter, log *slog.Logger) (*fetcher, error) {
	switch src.Auth.Type {
	case "", "none", "bearer", "basic":
	case "header":
		if src.Auth.Header == "" {
			return nil, errors.New("auth type header needs the header name")
		}
	default:
		return nil, fmt.Errorf("unknown auth type %q (none, bearer, basic, header)", src.Auth.Type)
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
	f := &fetcher{source: source, entity: entity, src: src, ent: ent, http: &c, limiter: limiter, log: log}
	for _, s := range []string{src.Auth.Token.Reveal(), src.Auth.Password.Reveal()} {
		if s != "" {
			f.secrets = append(f.secrets, s)
		}
	}
	if src.Auth.Type == "basic" {
		f.secrets = append(f.secrets, basicAuth(src.Auth.Username, src.Auth.Password.Reveal()))
	}
	return f, nil
}

// retryState is what one request's retries have spent.
type retryState struct {
	attempt  int           // 0-based number of the attempt in flight
	waited   time.Duration // slept between attempts so far
	next     time.Duration // the wait before the next attempt, chosen by CheckRetry
	exceeded *retryWaitError
}

// client is a retrying client for one request: its state is the request's alone.
func (f *fetcher) client(st *retryState) *retryablehttp.Client {
	retryMax := max(f.src.MaxRetries, 0)
	budget := f.src.MaxRetryWait.D()
	return &retryablehttp.Client{
		HTTPClient:   f.http,
		Logger:       slogAdapter{l: f.log, scrub: f.scrub},
		RetryWaitMin: timing.Min,
		RetryWaitMax: timing.Max,
		RetryMax:     retryMax,
		RequestLogHook: func(_ retryablehttp.Logger, _ *http.Request, attempt int) {
			st.attempt = attempt
		},
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			retry, cerr := checkRetry(ctx, resp, err)
			if !retry || st.attempt >= retryMax {
				return retry, cerr // on the last attempt retryablehttp gives up by count
			}
			wait := timing.backoff(timing.Min, timing.Max, st.attempt, resp)
			if budget > 0 && st.waited+wait > budget {
				st.exceeded = &retryWaitError{budget: budget, waited: st.waited, next: wait}
				if err != nil {
					return false, err
				}
				return false, nil
			}
			st.next = wait
			return true, nil
		},
		Backoff: func(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
			st.waited += st.next
			return st.next
		},
		// Every attempt after the first waits for the source's rate limiter too.
		PrepareRetry: func(req *http.Request) error { return f.waitTurn(req.Context()) },
		ErrorHandler: func(resp *http.Response, err error, attempts int) (*http.Response, error) {
			return resp, &gaveUp{err: err, attempts: attempts}
		},
	}
}

// waitTurn waits for the source's rate limiter, if any.
func (f *fetcher) waitTurn(ctx context.Context) error {
	if f.limiter == nil {
		return nil
	}
	return f.limiter.Wait(ctx)
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

// call is one HTTP request of a landing.
type call struct {
	method string
	u      *url.URL
	body   []byte // a request body (POST, PUT, PATCH), nil for none
	// contentType is the body's type; "" means application/json.
	contentType string
	// errorBytes, when above 0, keeps that much of a failed response's body in HTTPError.Detail.
	errorBytes int64
	page       int    // the page number; 0 for a call that is not a page
	what       string // names a call that is not a page: "bulk query job create"
	accept     string
	// handle reads a 2xx response; a *transientError asks again.
	handle func(*http.Response) error
}

// label names the call in messages: "page 3" or c.what.
func (c *call) label() string {
	if c.page > 0 || c.what == "" {
		return fmt.Sprintf("page %d", c.page)
	}
	return c.what
}

// do sends a call with auth, rate limiting and retries: statuses 429 and 5xx, network
// errors and damaged bodies are retried (src.MaxRetries times, within src.MaxRetryWait);
// other failures return at once. It returns the final status.
func (f *fetcher) do(ctx context.Context, c *call) (int, error) {
	shown := f.scrub(redactURL(c.u))
	var body any
	if c.body != nil {
		body = c.body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, c.method, c.u.String(), body)
	if err != nil {
		return 0, fmt.Errorf("%s: %s %s: %w", c.label(), c.method, shown, err)
	}
	req.Header.Set("User-Agent", "segpipe")
	req.Header.Set("Accept", c.accept)
	if c.body != nil {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	f.authorize(req.Header)
	req.SetResponseHandler(func(resp *http.Response) error {
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return f.httpError(c, resp, 1)
		}
		err := c.handle(resp)
		var te *transientError
		if errors.As(err, &te) {
			f.log.Debug("response arrived damaged; asking again", "call", c.label(), "url", shown, "error", f.scrub(err.Error()))
		}
		return err
	})
	if err := f.waitTurn(ctx); err != nil {
		return 0, fmt.Errorf("%s: waiting for the rate limiter: %w", c.label(), err)
	}
	st := &retryState{}
	resp, err := f.client(st).Do(req)
	if resp != nil {
		defer resp.Body.Close()
	}
	if ctx.Err() != nil {
		return 0, fmt.Errorf("%s: %w", c.label(), ctx.Err())
	}
	if err == nil {
		return resp.StatusCode, nil
	}
	var g *gaveUp
	attempts := 1
	if errors.As(err, &g) {
		attempts = g.attempts
		if g.err == nil && resp != nil {
			// A retried status (429, 5xx) that never went away, or one whose next wait
			// would exceed max_retry_wait.
			he := f.httpError(c, resp, attempts)
			if st.exceeded != nil {
				he.Cause = st.exceeded
			}
			return 0, he
		}
		err = g.err
	}
	var he *HTTPError
	if errors.As(err, &he) {
		he.Attempts = attempts
		if st.exceeded != nil {
			he.Cause = st.exceeded
		}
		return 0, he
	}
	msg := fmt.Sprintf("%s: %s %s", c.label(), c.method, shown)
	if attempts > 1 {
		msg += fmt.Sprintf(" (after %d attempts)", attempts)
	}
	if st.exceeded != nil {
		return 0, fmt.Errorf("%s: %w; the last attempt failed: %w", msg, st.exceeded, scrubbedError{err, f.scrub(err.Error())})
	}
	return 0, fmt.Errorf("%s: %w", msg, scrubbedError{err, f.scrub(err.Error())})
}

// fetch GETs one page and decodes it.
func (f *fetcher) fetch(ctx context.Context, num int, u *url.URL) (*page, error) {
	accept := "application/json"
	switch f.ent.Format {
	case "csv":
		accept = "text/csv"
	case "ndjson":
		accept = "application/x-ndjson, application/json;q=0.9"
	}
	var got *page
	c := &call{method: http.MethodGet, u: u, page: num, accept: accept, handle: func(resp *http.Response) error {
		p, err := readPage(resp, f.ent)
		if err != nil {
			return err
		}
		got = p
		return nil
	}}
	start := time.Now()
	status, err := f.do(ctx, c)
	if err != nil {
		return nil, err
	}
	if got == nil { // unreachable: the handler ran and succeeded
		return nil, fmt.Errorf("page %d: GET %s: no page decoded", num, f.scrub(redactURL(u)))
	}
	got.num = num
	got.url = u
	got.fetchedAt = time.Now().UTC()
	f.log.Debug("page fetched", "page", num, "url", f.scrub(redactURL(u)), "status", status, "records", len(got.records), "bytes", len(got.body), "seconds", time.Since(start).Seconds())
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
func (f *fetcher) httpError(c *call, resp *http.Response, attempts int) *HTTPError {
	var body []byte
	var detail string
	if resp.Body != nil {
		r, err := decodedBody(resp)
		if err == nil {
			body, _ = io.ReadAll(io.LimitReader(r, max(errorBodyBytes, c.errorBytes)))
		}
	}
	if c.errorBytes > 0 {
		detail = f.scrub(string(body))
	}
	if len(body) > errorBodyBytes {
		body = body[:errorBodyBytes]
	}
	for len(body) > 0 && !utf8.Valid(body) { // do not cut a character in half
		body = body[:len(body)-1]
	}
	e := &HTTPError{
		Source:   f.source,
		Entity:   f.entity,
		Page:     c.page,
		Method:   c.method,
		URL:      f.scrub(redactURL(c.u)),
		Status:   resp.StatusCode,
		Body:     f.scrub(strings.TrimSpace(string(body))),
		Attempts: attempts,
		Detail:   detail,
	}
	if c.page == 0 {
		e.Call = c.what
	}
	return e
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
		var he *HTTPError
		var pe *permanentError
		if errors.As(err, &he) || errors.As(err, &pe) {
			return false, err
		}
		var te *transientError
		if errors.As(err, &te) {
			return true, nil
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	if resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented) {
		return true, nil
	}
	return false, nil
}

// backoff waits what a 429/503 asks through Retry-After or a vendor's rate-limit reset
// headers (clamped to [RetryAfterMin, RetryAfterMax]), otherwise an exponential backoff
// with jitter between lo and hi.
func (rt retryTiming) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := serverWait(resp.Header, time.Now()); ok {
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

// serverWait is how long the response asks the client to wait: Retry-After first, then
// RateLimit-Reset / X-RateLimit-Reset, then HubSpot's interval when no request remains.
func serverWait(h http.Header, now time.Time) (time.Duration, bool) {
	if d, ok := retryAfter(h.Get("Retry-After"), now); ok {
		return d, true
	}
	for _, k := range []string{"RateLimit-Reset", "X-RateLimit-Reset"} {
		if d, ok := resetAfter(h.Get(k), now); ok {
			return d, true
		}
	}
	if strings.TrimSpace(h.Get("X-HubSpot-RateLimit-Remaining")) == "0" {
		if ms, err := parseUint(strings.TrimSpace(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))); err == nil {
			return time.Duration(min(ms, int64(24*time.Hour/time.Millisecond))) * time.Millisecond, true
		}
	}
	return 0, false
}

// Reset header values above these are points in time, not delays.
const (
	unixSecondsFloor = 1_000_000_000     // 2001-09-09 in Unix seconds
	unixMillisFloor  = 1_000_000_000_000 // the same in Unix milliseconds
)

// resetAfter reads a rate-limit reset header: whole seconds to wait, or a Unix time in
// seconds or milliseconds (told apart by size: no delay is decades long).
func resetAfter(v string, now time.Time) (time.Duration, bool) {
	n, err := parseUint(strings.TrimSpace(v))
	if err != nil {
		return 0, false
	}
	switch {
	case n >= unixMillisFloor:
		return max(time.UnixMilli(n).Sub(now), 0), true
	case n >= unixSecondsFloor:
		return max(time.Unix(n, 0).Sub(now), 0), true
	}
	return time.Duration(min(n, int64(24*time.Hour/time.Second))) * time.Second, true
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
		case time.Duration:
			out[i] = v.Seconds() // every duration in the logs is seconds
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
