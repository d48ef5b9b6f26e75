package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/segpipe/segpipe/internal/config"
)

func TestNewLimiter(t *testing.T) {
	if NewLimiter(&config.Source{}) != nil || NewLimiter(nil) != nil {
		t.Error("0 requests_per_second must mean no limiter")
	}
	for rps, burst := range map[float64]int{0.5: 1, 1: 1, 2.5: 3, 10: 10} {
		l := NewLimiter(&config.Source{RequestsPerSecond: rps})
		if l == nil || float64(l.Limit()) != rps || l.Burst() != burst {
			t.Errorf("rps %v: limit %v burst %d, want burst %d", rps, l.Limit(), l.Burst(), burst)
		}
	}
}

// stamped records when each request arrived.
type stamped struct {
	mu    sync.Mutex
	times []time.Time
}

func (s *stamped) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.times = append(s.times, time.Now())
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (s *stamped) span() (int, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	slices.SortFunc(s.times, func(a, b time.Time) int { return a.Compare(b) })
	return len(s.times), s.times[len(s.times)-1].Sub(s.times[0])
}

func TestLimiterWaitsOnEveryAttempt(t *testing.T) {
	const rps = 40 // one request per 25ms, burst 1
	var st stamped
	// (Not hangUp: net/http itself re-sends a GET whose reused connection was reset.)
	h, _ := flaky([]func(http.ResponseWriter, *http.Request){status(503), status(502)}, cursorAPI(t, jsonRecords(5), nil))
	srv := serve(t, st.wrap(h))
	opts := testOptions(t, "r1")
	opts.Limiter = rate.NewLimiter(rps, 1)
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), accountsJSON("/a", "data", cursorPaging), opts)
	if m.Rows != 5 {
		t.Fatalf("rows %d", m.Rows)
	}
	n, span := st.span()
	if n != 5 {
		t.Fatalf("%d requests, want 2 failures + 3 pages", n)
	}
	// 5 attempts through a 40/s bucket of 1 take at least 4 intervals (100ms), retries included.
	if min := time.Duration(n-1) * time.Second / rps * 9 / 10; span < min {
		t.Errorf("%d attempts in %v; the limiter allows no less than %v", n, span, min)
	}
}

func TestLimiterSharedAcrossEntities(t *testing.T) {
	const rps = 50
	var st stamped
	srv := serve(t, st.wrap(cursorAPI(t, jsonRecords(6), nil))) // 3 pages an entity
	src := testSource(srv.URL)
	lim := NewLimiter(&config.Source{RequestsPerSecond: rps})
	lim.SetBurst(1)
	store := newStore(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			opts := testOptions(t, "r1")
			opts.Limiter = lim
			_, errs[i] = LandEntity(t.Context(), store, "src", src, fmt.Sprintf("ent%d", i), accountsJSON("/a", "data", cursorPaging), opts)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	n, span := st.span()
	if n != 9 {
		t.Fatalf("%d requests", n)
	}
	// One shared bucket: 9 requests take 8 intervals (160ms). Three separate buckets would
	// let them through in 2 intervals.
	if min := time.Duration(n-1) * time.Second / rps * 9 / 10; span < min {
		t.Errorf("%d requests of 3 entities in %v; a shared 50/s limiter allows no less than %v", n, span, min)
	}
}

func TestLimiterWaitIsCancellable(t *testing.T) {
	srv := serve(t, cursorAPI(t, jsonRecords(5), nil))
	ctx, cancel := context.WithCancel(t.Context())
	opts := testOptions(t, "r1")
	opts.Limiter = rate.NewLimiter(rate.Every(time.Hour), 1) // the first request takes the only token
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	store := newStore(t)
	_, err := LandEntity(ctx, store, "src", testSource(srv.URL), "ent", accountsJSON("/a", "data", cursorPaging), opts)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	mustContain(t, err.Error(), "src/ent dt=2026-03-01: page 2")
	assertNoManifest(t, store)
}

func TestVendorResetHeaders(t *testing.T) {
	rt := retryTiming{Min: 100 * time.Millisecond, Max: time.Second, RetryAfterMin: 200 * time.Millisecond, RetryAfterMax: time.Minute}
	now := time.Now()
	resp := func(code int, kv ...string) *http.Response {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	near := func(d, want time.Duration) bool { return d >= want-1500*time.Millisecond && d <= want }
	for _, tc := range []struct {
		name string
		resp *http.Response
		ok   func(time.Duration) bool
	}{
		{"RateLimit-Reset seconds", resp(429, "RateLimit-Reset", "7"), func(d time.Duration) bool { return d == 7*time.Second }},
		{"X-RateLimit-Reset seconds on 503", resp(503, "X-RateLimit-Reset", "3"), func(d time.Duration) bool { return d == 3*time.Second }},
		{"X-RateLimit-Reset Unix time", resp(429, "X-RateLimit-Reset", strconv.FormatInt(now.Add(9*time.Second).Unix(), 10)), func(d time.Duration) bool { return near(d, 9*time.Second) }},
		{"X-RateLimit-Reset Unix milliseconds", resp(429, "X-RateLimit-Reset", strconv.FormatInt(now.Add(4*time.Second).UnixMilli(), 10)), func(d time.Duration) bool { return near(d, 4*time.Second) }},
		{"reset in the past: the minimum", resp(429, "X-RateLimit-Reset", strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)), func(d time.Duration) bool { return d == rt.RetryAfterMin }},
		{"reset 0: the minimum", resp(429, "RateLimit-Reset", "0"), func(d time.Duration) bool { return d == rt.RetryAfterMin }},
		{"reset far: the cap", resp(429, "RateLimit-Reset", "86400"), func(d time.Duration) bool { return d == rt.RetryAfterMax }},
		{"HubSpot interval when none remain", resp(429, "X-HubSpot-RateLimit-Interval-Milliseconds", "10000", "X-HubSpot-RateLimit-Remaining", "0"), func(d time.Duration) bool { return d == 10*time.Second }},
		{"HubSpot with some remaining: backoff", resp(429, "X-HubSpot-RateLimit-Interval-Milliseconds", "10000", "X-HubSpot-RateLimit-Remaining", "3"), func(d time.Duration) bool { return d <= rt.Min }},
		{"Retry-After wins", resp(429, "Retry-After", "2", "RateLimit-Reset", "30"), func(d time.Duration) bool { return d == 2*time.Second }},
		{"garbage reset: backoff", resp(429, "RateLimit-Reset", "soon"), func(d time.Duration) bool { return d <= rt.Min }},
		{"not on a 500", resp(500, "RateLimit-Reset", "7"), func(d time.Duration) bool { return d <= rt.Min }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := rt.backoff(rt.Min, rt.Max, 0, tc.resp); !tc.ok(d) {
				t.Errorf("waited %v", d)
			}
		})
	}
}

// faultAt serves fault for the k-th request (1-based) and the real handler otherwise.
func faultAt(k int32, fault func(w http.ResponseWriter, r *http.Request), then http.Handler) (http.Handler, *atomic.Int32) {
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == k {
			fault(w, r)
			return
		}
		then.ServeHTTP(w, r)
	}), &n
}

// cutAnswer sends the real answer's status and headers, promises its full length, sends half
// of its body and drops the connection.
func cutAnswer(real http.Handler) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		real.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(buf, "HTTP/1.1 %d OK\r\n", rec.Code)
		for k, vs := range rec.Header() {
			for _, v := range vs {
				fmt.Fprintf(buf, "%s: %s\r\n", k, v)
			}
		}
		fmt.Fprintf(buf, "Content-Length: %d\r\n\r\n", len(body))
		buf.Write(body[:len(body)/2])
		buf.Flush()
		conn.Close()
	}
}

// TestFaultsMidExport injects one fault into the second request of an export in each format,
// followed by success: what lands is exactly the source's records.
func TestFaultsMidExport(t *testing.T) {
	const n = 7
	future := func() string { return time.Now().Add(time.Second).UTC().Format(http.TimeFormat) }
	formats := []struct {
		name string
		ent  *config.Entity
		h    http.Handler
		pk   string
	}{
		{"json cursor", accountsJSON("/a", "data", cursorPaging), cursorAPI(t, jsonRecords(n), nil), "id"},
		{"json stripe", accountsJSON("/a", "data", stripePaging), stripeList(jsonRecords(n), nil), "id"},
		{"ndjson page", func() *config.Entity {
			e := accountsJSON("/a", "", config.Pagination{Type: "page", PageParam: "page", LimitParam: "per_page"})
			e.Format = "ndjson"
			return e
		}(), ndjsonPages(jsonRecords(n)), "id"},
		{"csv link", ticketsCSV("/t.csv"), linkCSV(t, "ticket_id,subject,created_at,csat,escalated", ticketRows(n), nil), "ticket_id"},
	}
	faults := []struct {
		name  string
		fault func(real http.Handler) func(w http.ResponseWriter, r *http.Request)
	}{
		{"429 Retry-After seconds", func(http.Handler) func(http.ResponseWriter, *http.Request) { return status(429, "Retry-After", "1") }},
		{"429 Retry-After date", func(http.Handler) func(http.ResponseWriter, *http.Request) {
			return func(w http.ResponseWriter, r *http.Request) { status(429, "Retry-After", future())(w, r) }
		}},
		{"429 RateLimit-Reset only", func(http.Handler) func(http.ResponseWriter, *http.Request) {
			return status(429, "RateLimit-Reset", "1")
		}},
		{"429 X-RateLimit-Reset Unix time only", func(http.Handler) func(http.ResponseWriter, *http.Request) {
			return func(w http.ResponseWriter, r *http.Request) {
				status(429, "X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10))(w, r)
			}
		}},
		{"429 HubSpot headers only", func(http.Handler) func(http.ResponseWriter, *http.Request) {
			return status(429, "X-HubSpot-RateLimit-Interval-Milliseconds", "10000", "X-HubSpot-RateLimit-Remaining", "0")
		}},
		{"503", func(http.Handler) func(http.ResponseWriter, *http.Request) { return status(503) }},
		{"connection reset", func(http.Handler) func(http.ResponseWriter, *http.Request) { return hangUp }},
		{"body cut mid-page", cutAnswer},
	}
	for _, f := range formats {
		for _, fault := range faults {
			t.Run(f.name+"/"+fault.name, func(t *testing.T) {
				h, count := faultAt(2, fault.fault(f.h), f.h)
				srv := serve(t, h)
				store := newStore(t)
				m := mustLand(t, store, testSource(srv.URL), f.ent, testOptions(t, "r1"))
				got := column(landedRows(t, store, m), f.pk)
				want := make([]any, n)
				for i := range want {
					want[i] = fmt.Sprintf("%s%d", map[string]string{"id": "a", "ticket_id": "t"}[f.pk], i)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) || m.Quarantined != 0 {
					t.Errorf("landed %v (quarantined %d), want %v", got, m.Quarantined, want)
				}
				if count.Load() != int32(m.Pages+1) {
					t.Errorf("%d requests for %d pages: want one retry", count.Load(), m.Pages)
				}
			})
		}
	}
}

// ndjsonPages serves records as NDJSON, paged by ?page= and ?per_page=.
func ndjsonPages(records []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pageNo, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		off := min((pageNo-1)*per, len(records))
		end := min(off+per, len(records))
		w.Header().Set("Content-Type", "application/x-ndjson")
		for _, rec := range records[off:end] {
			fmt.Fprintln(w, rec)
		}
	}
}

// ticketRows are n CSV rows t0..t<n-1>.
func ticketRows(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("t%d,\"Subject, %d\",2026-01-%02dT10:00:00Z,%d,%t\r\n", i, i, 1+i%28, i%5+1, i%2 == 0)
	}
	return out
}

func TestMaxRetryWait(t *testing.T) {
	t.Run("429 forever", func(t *testing.T) {
		var n atomic.Int32
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			status(429, "Retry-After", "1")(w, r) // clamped to 20ms in tests
		}))
		src := testSource(srv.URL)
		src.MaxRetries = 50
		src.MaxRetryWait = config.Duration(50 * time.Millisecond)
		store := newStore(t)
		_, err := land(t, store, src, accountsJSON("/a", "data", cursorPaging), testOptions(t, "r1"))
		var he *HTTPError
		if !errors.As(err, &he) || !errors.Is(err, ErrRetryWaitExceeded) {
			t.Fatalf("err = %v, want an *HTTPError wrapping ErrRetryWaitExceeded", err)
		}
		// 20ms + 20ms waited; a third wait would make 60ms > 50ms.
		if he.Status != 429 || he.Attempts != 3 || n.Load() != 3 {
			t.Errorf("status %d attempts %d requests %d", he.Status, he.Attempts, n.Load())
		}
		mustContain(t, err.Error(), "src/ent dt=2026-03-01: page 1", "GET "+srv.URL+"/a?limit=2", "HTTP 429", "max_retry_wait 50ms")
		assertNoManifest(t, store)
	})
	t.Run("server asks more than the budget: no pointless wait", func(t *testing.T) {
		old := timing
		t.Cleanup(func() { timing = old })
		timing.RetryAfterMax = time.Hour
		var n atomic.Int32
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			status(503, "X-RateLimit-Reset", "600")(w, r)
		}))
		src := testSource(srv.URL)
		src.MaxRetryWait = config.Duration(time.Minute)
		start := time.Now()
		_, err := land(t, newStore(t), src, accountsJSON("/a", "data", cursorPaging), testOptions(t, "r1"))
		if !errors.Is(err, ErrRetryWaitExceeded) || n.Load() != 1 || time.Since(start) > 2*time.Second {
			t.Fatalf("err = %v after %d requests and %v", err, n.Load(), time.Since(start))
		}
		mustContain(t, err.Error(), "HTTP 503", "waiting 10m0s more would exceed max_retry_wait 1m0s")
	})
	t.Run("network errors", func(t *testing.T) {
		srv := serve(t, http.HandlerFunc(hangUp))
		src := testSource(srv.URL)
		src.MaxRetries = 1000
		src.MaxRetryWait = config.Duration(20 * time.Millisecond)
		_, err := land(t, newStore(t), src, accountsJSON("/a", "data", cursorPaging), testOptions(t, "r1"))
		if !errors.Is(err, ErrRetryWaitExceeded) {
			t.Fatalf("err = %v", err)
		}
		mustContain(t, err.Error(), "src/ent dt=2026-03-01: page 1", "GET "+srv.URL+"/a?limit=2", "max_retry_wait 20ms", "the last attempt failed")
	})
}

func TestSecretsStayOutOfLogsEverywhere(t *testing.T) {
	// Debug logs of a landing with retries, a bulk job and a failure: the token is never in them.
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fake := &salesforceBulk{t: t, version: "v60.0", opps: opportunities(3), polls: 1, final: "JobComplete"}
	h, _ := faultAt(3, status(429, "RateLimit-Reset", "1"), fake)
	srv := serve(t, h)
	opts := testOptions(t, "r1")
	opts.Logger = log
	mustLand(t, newStore(t), testSource(srv.URL), opportunitiesBulk(), opts)

	failing := &salesforceBulk{t: t, version: "v60.0", polls: 0, final: "Failed", errMsg: "bad token " + testToken}
	opts = testOptions(t, "r2")
	opts.Logger = log
	_, err := land(t, newStore(t), testSource(serve(t, failing).URL), opportunitiesBulk(), opts)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(logs.String(), testToken) || strings.Contains(err.Error(), testToken) {
		t.Errorf("the token leaked:\n%s\n%v", logs.String(), err)
	}
	mustContain(t, logs.String(), "bulk query job created", "retrying request")
}
