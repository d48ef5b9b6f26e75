package extract

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

func asHTTPError(err error, target **HTTPError) bool { return errors.As(err, target) }

// flaky serves failures for the first len(failures) requests, then the real handler.
func flaky(failures []func(w http.ResponseWriter, r *http.Request), then http.Handler) (http.Handler, *atomic.Int32) {
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(failures) {
			failures[i](w, r)
			return
		}
		then.ServeHTTP(w, r)
	}), &n
}

func status(code int, header ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":"status %d"}`, code)
	}
}

// hangUp closes the connection without a response.
func hangUp(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // a reset, not a clean close
	}
	conn.Close()
}

// cutOff promises a body of 1000 bytes, sends a few and closes the connection.
func cutOff(w http.ResponseWriter, r *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	fmt.Fprint(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"data\": [{\"id\":\"a0\"")
	buf.Flush()
	conn.Close()
}

// brokenJSON answers 200 with a complete but truncated JSON document.
func brokenJSON(w http.ResponseWriter, r *http.Request) {
	fmt.Fprint(w, `{"data": [{"id":"a0"},{"id":`)
}

func TestRetries(t *testing.T) {
	soon := func() string { return time.Now().Add(time.Second).UTC().Format(http.TimeFormat) }
	for _, tc := range []struct {
		name     string
		failures []func(w http.ResponseWriter, r *http.Request)
	}{
		{"429 with Retry-After seconds", []func(http.ResponseWriter, *http.Request){status(429, "Retry-After", "1")}},
		{"429 with Retry-After HTTP date", []func(http.ResponseWriter, *http.Request){func(w http.ResponseWriter, r *http.Request) { status(429, "Retry-After", soon())(w, r) }}},
		{"503 twice", []func(http.ResponseWriter, *http.Request){status(503), status(503, "Retry-After", "2")}},
		{"500 then 502", []func(http.ResponseWriter, *http.Request){status(500), status(502)}},
		{"connection reset", []func(http.ResponseWriter, *http.Request){hangUp}},
		{"body cut off", []func(http.ResponseWriter, *http.Request){cutOff}},
		{"truncated JSON", []func(http.ResponseWriter, *http.Request){brokenJSON}},
		{"everything once", []func(http.ResponseWriter, *http.Request){hangUp, cutOff, status(429, "Retry-After", "0")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, n := flaky(tc.failures, cursorAPI(t, jsonRecords(3), nil))
			srv := serve(t, h)
			store := newStore(t)
			m := mustLand(t, store, testSource(srv.URL), accountsJSON("/a", "data", cursorPaging), testOptions(t, "r1"))
			if rows := landedRows(t, store, m); len(rows) != 3 {
				t.Errorf("landed %d rows, want 3", len(rows))
			}
			if want := int32(len(tc.failures) + 2); n.Load() != want {
				t.Errorf("%d requests, want %d", n.Load(), want)
			}
		})
	}
}

func TestRetriesAreBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(w http.ResponseWriter, r *http.Request)
		want []string
	}{
		{"503 forever", status(503), []string{"HTTP 503", "after 4 attempts", `status 503`}},
		{"hang up forever", hangUp, []string{"after 4 attempts", "/a?limit=2"}},
		{"truncated forever", brokenJSON, []string{"after 4 attempts", "not valid JSON"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); tc.fail(w, r) }))
			store := newStore(t)
			src := testSource(srv.URL)
			src.MaxRetries = 3
			_, err := land(t, store, src, accountsJSON("/a", "data", cursorPaging), testOptions(t, "r1"))
			if err == nil {
				t.Fatal("no error")
			}
			mustContain(t, err.Error(), append(tc.want, "src/ent dt=2026-03-01: page 1")...)
			if n.Load() != 4 {
				t.Errorf("%d requests, want 1 + 3 retries", n.Load())
			}
			assertNoManifest(t, store)
		})
	}
}

func TestClientErrorsFailAtOnce(t *testing.T) {
	long := strings.Repeat("x", 1000)
	for _, code := range []int{400, 401, 403, 404, 410, 422} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			var n atomic.Int32
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(code)
				// A careless server echoes the credential; it must not reach the error.
				fmt.Fprintf(w, `{"error":"bad request","auth":%q,"pad":"%s"}`, r.Header.Get("Authorization"), long)
			}))
			store := newStore(t)
			_, err := land(t, store, testSource(srv.URL+"/crm/v1"), accountsJSON("/accounts?view=all", "data", cursorPaging), testOptions(t, "r1"))
			var he *HTTPError
			if !asHTTPError(err, &he) {
				t.Fatalf("err = %v, want *HTTPError", err)
			}
			if he.Status != code || he.Page != 1 || he.Attempts != 1 || n.Load() != 1 {
				t.Errorf("status %d page %d attempts %d requests %d", he.Status, he.Page, he.Attempts, n.Load())
			}
			msg := err.Error()
			mustContain(t, msg, "src/ent", "page 1", "GET "+srv.URL+"/crm/v1/accounts?limit=2&view=all", fmt.Sprintf("HTTP %d", code), `{\"error\":\"bad request\"`, "[redacted]")
			if strings.Contains(msg, testToken) {
				t.Errorf("the error leaks the token: %s", msg)
			}
			if len(he.Body) > errorBodyBytes+20 {
				t.Errorf("body quoted at %d bytes; keep it short", len(he.Body))
			}
			assertNoManifest(t, store)
		})
	}
}

func TestAuth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		auth   config.Auth
		header string
		want   string
	}{
		{"bearer", config.Auth{Type: "bearer", Token: "tok-1"}, "Authorization", "Bearer tok-1"},
		{"basic", config.Auth{Type: "basic", Username: "ann", Password: "pw-2"}, "Authorization", "Basic YW5uOnB3LTI="},
		{"header", config.Auth{Type: "header", Header: "X-API-Key", Token: "key-3"}, "X-Api-Key", "key-3"},
		{"none", config.Auth{Type: "none"}, "Authorization", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got atomic.Value
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got.Store(r.Header.Get(tc.header))
				if tc.name != "none" && r.Header.Get("Authorization") != "" && tc.header != "Authorization" {
					t.Errorf("header auth also sent Authorization")
				}
				fmt.Fprint(w, `[{"id":"a"}]`)
			}))
			src := testSource(srv.URL)
			src.Auth = tc.auth
			mustLand(t, newStore(t), src, accountsJSON("/a", "", config.Pagination{Type: "none"}), testOptions(t, "r1"))
			if got.Load() != tc.want {
				t.Errorf("%s = %q, want %q", tc.header, got.Load(), tc.want)
			}
		})
	}
}

func TestSecretsStayOutOfLogs(t *testing.T) {
	var logs bytes.Buffer
	h, _ := flaky([]func(http.ResponseWriter, *http.Request){status(503), hangUp}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		fmt.Fprintf(w, "token %s is not valid", strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	srv := serve(t, h)
	opts := testOptions(t, "r1")
	opts.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, err := land(t, newStore(t), testSource(srv.URL), accountsJSON("/a", "data", cursorPaging), opts)
	if err == nil {
		t.Fatal("want a 401 error")
	}
	if strings.Contains(logs.String(), testToken) || strings.Contains(err.Error(), testToken) {
		t.Errorf("the token leaked:\n%s\n%v", logs.String(), err)
	}
	mustContain(t, logs.String(), "retrying request", "/a?limit=2")
}

func TestGzip(t *testing.T) {
	body := `{"data":[` + strings.Join(jsonRecords(3), ",") + `],"next_cursor":null}`
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(body))
	zw.Close()
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Sent compressed whether or not the client asked for it.
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		w.Write(zipped.Bytes())
	}))
	for _, tc := range []struct {
		name   string
		client *http.Client
	}{
		{"transport decodes", nil},
		{"extract decodes", &http.Client{Transport: &http.Transport{DisableCompression: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newStore(t)
			opts := testOptions(t, "r1")
			opts.HTTPClient = tc.client
			m := mustLand(t, store, testSource(srv.URL), accountsJSON("/a", "data", cursorPaging), opts)
			if rows := landedRows(t, store, m); len(rows) != 3 || rows[2]["name"] != "Acme 2" {
				t.Errorf("rows = %v", rows)
			}
		})
	}
}

func TestRedirectToAnotherHostIsRefused(t *testing.T) {
	var leaked atomic.Value
	other := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization") + r.Header.Get("X-Api-Key"))
		fmt.Fprint(w, `[]`)
	}))
	srv := serve(t, http.RedirectHandler(other.URL+"/a", http.StatusFound))
	src := testSource(srv.URL)
	src.Auth = config.Auth{Type: "header", Header: "X-API-Key", Token: testToken}
	_, err := land(t, newStore(t), src, accountsJSON("/a", "", config.Pagination{Type: "none"}), testOptions(t, "r1"))
	if err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("err = %v", err)
	}
	if leaked.Load() != nil {
		t.Errorf("the other host was called with %q", leaked.Load())
	}
}

func TestBackoff(t *testing.T) {
	rt := retryTiming{Min: 100 * time.Millisecond, Max: time.Second, RetryAfterMin: 200 * time.Millisecond, RetryAfterMax: 10 * time.Second}
	resp := func(code int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	if d := rt.backoff(rt.Min, rt.Max, 0, resp(429, "3")); d != 3*time.Second {
		t.Errorf("Retry-After: 3 → %v", d)
	}
	if d := rt.backoff(rt.Min, rt.Max, 0, resp(503, time.Now().Add(5*time.Second).UTC().Format(http.TimeFormat))); d < 3*time.Second || d > 5*time.Second {
		t.Errorf("Retry-After: date in 5s → %v", d)
	}
	if d := rt.backoff(rt.Min, rt.Max, 0, resp(429, "0")); d != rt.RetryAfterMin {
		t.Errorf("Retry-After: 0 → %v, want the minimum %v", d, rt.RetryAfterMin)
	}
	if d := rt.backoff(rt.Min, rt.Max, 0, resp(429, "3600")); d != rt.RetryAfterMax {
		t.Errorf("Retry-After: 3600 → %v, want the cap %v", d, rt.RetryAfterMax)
	}
	if d := rt.backoff(rt.Min, rt.Max, 0, resp(500, "3")); d > rt.Min {
		t.Errorf("Retry-After on a 500 is not honoured; got %v", d)
	}
	for attempt, hi := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		hi *= time.Millisecond
		if attempt >= 4 {
			hi = time.Second
		}
		for range 20 {
			d := rt.backoff(rt.Min, rt.Max, attempt, nil)
			if d < hi/2 || d > hi {
				t.Errorf("attempt %d: %v not in [%v, %v]", attempt, d, hi/2, hi)
			}
		}
	}
	for _, bad := range []string{"", "soon", "-1", "1.5"} {
		if _, ok := retryAfter(bad, time.Now()); ok {
			t.Errorf("retryAfter(%q) accepted", bad)
		}
	}
	if d, ok := retryAfter("Mon, 02 Jan 2006 15:04:05 GMT", time.Now()); !ok || d != 0 {
		t.Errorf("a past date → %v %v, want 0", d, ok)
	}
}

func TestCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan struct{})
	api := cursorAPI(t, jsonRecords(6), nil)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "c4" {
			close(served)
			<-r.Context().Done() // hang until the client gives up
			return
		}
		api(w, r)
	}))
	store := newStore(t)
	// An earlier landing that must survive the cancelled one.
	first := mustLand(t, store, testSource(serve(t, cursorAPI(t, jsonRecords(1), nil)).URL), accountsJSON("/a", "data", cursorPaging), testOptions(t, "r0"))

	go func() { <-served; cancel() }()
	opts := testOptions(t, "r1")
	opts.RowsPerFile = 2 // parts of this run are uploaded before it is cancelled
	start := time.Now()
	_, err := LandEntity(ctx, store, "src", testSource(srv.URL), "ent", accountsJSON("/a", "data", cursorPaging), opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("cancellation took %v", time.Since(start))
	}
	m, err := readManifest(store)
	if err != nil || m.RunID != "r0" {
		t.Fatalf("manifest after a cancelled run: %+v, %v; want r0's", m, err)
	}
	for _, k := range lakeKeys(t, store) {
		if strings.Contains(k, "r1") {
			t.Errorf("the cancelled run left %s", k)
		}
	}
	if rows := landedRows(t, store, first); len(rows) != 1 {
		t.Errorf("the earlier landing now has %d rows", len(rows))
	}
}

func TestSlowResponseTimesOutAndIsRetried(t *testing.T) {
	var n atomic.Int32
	api := cursorAPI(t, jsonRecords(1), nil)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select { // slower than the source's timeout
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		api(w, r)
	}))
	src := testSource(srv.URL)
	src.Timeout = config.Duration(100 * time.Millisecond)
	store := newStore(t)
	m := mustLand(t, store, src, accountsJSON("/a", "data", cursorPaging), testOptions(t, "r1"))
	if m.Rows != 1 || n.Load() != 2 {
		t.Errorf("rows %d requests %d", m.Rows, n.Load())
	}
}
