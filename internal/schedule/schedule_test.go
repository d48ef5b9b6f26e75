package schedule_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/segpipe/segpipe/internal/schedule"
	"github.com/segpipe/segpipe/internal/warehouse"
)

// secondsParser takes a leading seconds field, so tests schedule runs every second.
var secondsParser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// logBuffer collects JSON log lines from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// reports collects the scheduler's final reports.
type reports struct {
	mu   sync.Mutex
	list []schedule.Report
}

func (r *reports) add(rep schedule.Report) {
	r.mu.Lock()
	r.list = append(r.list, rep)
	r.mu.Unlock()
}

func (r *reports) all() []schedule.Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]schedule.Report(nil), r.list...)
}

func (r *reports) byStatus(job, status string) []schedule.Report {
	var out []schedule.Report
	for _, rep := range r.all() {
		if rep.Job == job && rep.Status == status {
			out = append(out, rep)
		}
	}
	return out
}

// newService builds a service with fast retries, a log buffer and a report collector.
func newService(t *testing.T, opts schedule.Options) (*schedule.Service, *reports, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	reps := &reports{}
	if opts.Parser == nil {
		opts.Parser = secondsParser
	}
	if opts.Schedule == nil {
		opts.Schedule = map[string]string{}
		for job := range opts.Jobs {
			opts.Schedule[job] = "0 0 3 * * *" // never fires during a test, unless it runs at 03:00
		}
	}
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = 20 * time.Millisecond
	}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.OnFinish = reps.add
	s, err := schedule.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, reps, logs
}

func wait(t *testing.T, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not finish")
	}
}

// scrape fetches /metrics and parses every sample into "name{labels}" -> value.
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	out := map[string]float64{}
	typed := map[string]string{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# TYPE ") {
			f := strings.Fields(line)
			typed[f[2]] = f[3]
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q: %v", line, err)
		}
		name := line[:i]
		base := name
		if j := strings.IndexByte(base, '{'); j >= 0 {
			base = base[:j]
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if typed[base] == "" && strings.HasSuffix(base, suffix) {
				base = strings.TrimSuffix(base, suffix)
			}
		}
		if typed[base] == "" {
			t.Errorf("sample %q has no # TYPE line", line)
		}
		out[name] = v
	}
	return out
}

func TestSegmentRunsOnlyAfterTheSameNightsIngest(t *testing.T) {
	var order []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	release := make(chan error)
	ingestStarted := make(chan struct{})
	s, reps, _ := newService(t, schedule.Options{Jobs: map[string]schedule.JobFunc{
		"ingest": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
			note("ingest start")
			ingestStarted <- struct{}{}
			err := <-release
			note("ingest end")
			return schedule.Outcome{}, err
		},
		"segment": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
			note("segment")
			return schedule.Outcome{}, nil
		},
	}})

	// No ingest for this as_of in this service yet: segment is skipped.
	wait(t, s.Fire("segment"))
	if got := reps.byStatus("segment", "skipped"); len(got) != 1 || !strings.Contains(got[0].Err.Error(), "has not run") {
		t.Fatalf("segment without ingest: %+v", reps.all())
	}

	// Segment fired while ingest runs waits for it, then runs.
	ingestDone := s.Fire("ingest")
	<-ingestStarted
	segDone := s.Fire("segment")
	time.Sleep(100 * time.Millisecond)
	release <- nil
	wait(t, ingestDone)
	wait(t, segDone)
	mu.Lock()
	got := strings.Join(order, ", ")
	mu.Unlock()
	if got != "ingest start, ingest end, segment" {
		t.Fatalf("order: %s", got)
	}

	// A failed ingest (no retries here) makes segment skip, naming why.
	ingestDone = s.Fire("ingest")
	<-ingestStarted
	segDone = s.Fire("segment")
	release <- errors.New("crm export returned HTTP 500")
	wait(t, ingestDone)
	wait(t, segDone)
	skipped := reps.byStatus("segment", "skipped")
	if len(skipped) != 2 || !strings.Contains(skipped[1].Err.Error(), "crm export returned HTTP 500") {
		t.Fatalf("segment after a failed ingest: %+v", reps.all())
	}
	if n := len(reps.byStatus("segment", "succeeded")); n != 1 {
		t.Errorf("segment succeeded %d times, want 1", n)
	}
}

func TestRunStillRunningIsSkipped(t *testing.T) {
	var started atomic.Int32
	s, reps, logs := newService(t, schedule.Options{
		Schedule: map[string]string{"ingest": "* * * * * *"}, // every second
		Jobs: map[string]schedule.JobFunc{"ingest": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
			started.Add(1)
			time.Sleep(2500 * time.Millisecond)
			return schedule.Outcome{}, nil
		}},
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = s.Run(ctx); close(stopped) }()
	time.Sleep(3200 * time.Millisecond)
	cancel()
	wait(t, stopped)
	// The first firing runs for 2.5 s; the firings in the meantime are skipped.
	if n := started.Load(); n < 1 || n > 2 {
		t.Fatalf("started %d runs in 3.2 s of a 2.5 s job fired every second", n)
	}
	if n := len(reps.byStatus("ingest", "skipped")); n < 1 {
		t.Fatalf("no firing was skipped: %+v", reps.all())
	}
	if !strings.Contains(logs.String(), "the previous run of this job is still running") {
		t.Errorf("the skip is not logged:\n%s", logs)
	}
	if n := len(reps.byStatus("ingest", "succeeded")); n != int(started.Load()) {
		t.Errorf("%d started, %d succeeded: the shutdown must let a running job finish", started.Load(), n)
	}
}

func TestFailedRunIsRetriedWithBackoff(t *testing.T) {
	var calls []time.Time
	var runIDs []string
	s, reps, _ := newService(t, schedule.Options{
		Retries: 2, RetryBackoff: 100 * time.Millisecond,
		Jobs: map[string]schedule.JobFunc{"ingest": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
			calls = append(calls, time.Now())
			runIDs = append(runIDs, r.RunID)
			if r.Attempt < 2 {
				return schedule.Outcome{}, fmt.Errorf("billing export: connection reset")
			}
			return schedule.Outcome{}, nil
		}},
	})
	wait(t, s.Fire("ingest"))
	rep := reps.all()[0]
	if rep.Status != "succeeded" || rep.Attempts != 3 || len(calls) != 3 {
		t.Fatalf("report %+v after %d calls", rep, len(calls))
	}
	if d := calls[1].Sub(calls[0]); d < 100*time.Millisecond {
		t.Errorf("first retry after %s, want the 100ms backoff", d)
	}
	if d := calls[2].Sub(calls[1]); d < 200*time.Millisecond {
		t.Errorf("second retry after %s, want the doubled 200ms backoff", d)
	}
	if runIDs[0] == runIDs[1] || runIDs[1] == runIDs[2] {
		t.Errorf("every attempt needs its own run id (its own run record): %v", runIDs)
	}
	m := scrape(t, s.Handler())
	if m[`segpipe_failures_total{job="ingest",reason="error"}`] != 2 || m[`segpipe_runs_total{job="ingest",status="succeeded"}`] != 1 {
		t.Errorf("metrics after 2 failures and a success: %v", m)
	}
}

func TestAuditFailureIsNotRetried(t *testing.T) {
	calls := 0
	s, reps, logs := newService(t, schedule.Options{
		Retries: 3,
		Jobs: map[string]schedule.JobFunc{"segment": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
			calls++
			return schedule.Outcome{}, fmt.Errorf("segment: %w: assert_known_currencies (3 rows)", warehouse.ErrAssertionsFailed)
		}},
	})
	wait(t, s.Fire("segment"))
	if rep := reps.all()[0]; calls != 1 || rep.Status != "failed" || rep.Attempts != 1 {
		t.Fatalf("%d calls, report %+v", calls, rep)
	}
	if !strings.Contains(logs.String(), "audit_failed needs a human") {
		t.Errorf("the log does not say why it was not retried:\n%s", logs)
	}
	if m := scrape(t, s.Handler()); m[`segpipe_failures_total{job="segment",reason="audit_failed"}`] != 1 {
		t.Errorf("audit failure not counted: %v", m)
	}
}

func TestPanicBecomesAFailedRun(t *testing.T) {
	panics := true
	s, reps, logs := newService(t, schedule.Options{
		Jobs: map[string]schedule.JobFunc{"ingest": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
			if panics {
				var m map[string]int
				m["boom"]++ // nil map write
			}
			return schedule.Outcome{}, nil
		}},
	})
	wait(t, s.Fire("ingest"))
	rep := reps.all()[0]
	var pe *schedule.PanicError
	if rep.Status != "failed" || !errors.As(rep.Err, &pe) || !strings.Contains(pe.Stack, "schedule_test.go") {
		t.Fatalf("report %+v", rep)
	}
	if !strings.Contains(logs.String(), `"reason":"panic"`) {
		t.Errorf("the panic is not logged as one:\n%s", logs)
	}
	// The service lives on: the next run is taken (the job is no longer marked running).
	panics = false
	wait(t, s.Fire("ingest"))
	if n := len(reps.byStatus("ingest", "succeeded")); n != 1 {
		t.Fatalf("the run after a panic: %+v", reps.all())
	}
	m := scrape(t, s.Handler())
	if m[`segpipe_failures_total{job="ingest",reason="panic"}`] != 1 || m[`segpipe_runs_total{job="ingest",status="failed"}`] != 1 {
		t.Errorf("metrics: %v", m)
	}
}

func TestShutdownLetsARunFinishWithinTheGrace(t *testing.T) {
	var cancelled atomic.Bool
	started := make(chan struct{})
	s, reps, _ := newService(t, schedule.Options{
		ShutdownGrace: 5 * time.Second,
		Jobs: map[string]schedule.JobFunc{"ingest": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
			close(started)
			select {
			case <-time.After(400 * time.Millisecond):
				return schedule.Outcome{}, nil
			case <-ctx.Done():
				cancelled.Store(true)
				return schedule.Outcome{}, ctx.Err()
			}
		}},
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- s.Run(ctx) }()
	s.Fire("ingest")
	<-started
	t0 := time.Now()
	cancel() // SIGTERM
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if cancelled.Load() || time.Since(t0) < 300*time.Millisecond {
		t.Fatalf("the run was cancelled or not waited for (%s)", time.Since(t0))
	}
	if rep := reps.all(); len(rep) != 1 || rep[0].Status != "succeeded" {
		t.Fatalf("reports %+v", rep)
	}
	// No new runs after shutdown.
	wait(t, s.Fire("ingest"))
	if n := len(reps.byStatus("ingest", "skipped")); n != 1 {
		t.Errorf("a run after shutdown was not skipped: %+v", reps.all())
	}
}

func TestShutdownCancelsARunPastTheGrace(t *testing.T) {
	var published atomic.Bool
	started := make(chan struct{})
	var once sync.Once
	s, reps, logs := newService(t, schedule.Options{
		ShutdownGrace: 200 * time.Millisecond, Retries: 2,
		Schedule: map[string]string{"segment": "* * * * * *"}, // fired by cron, every second
		Jobs: map[string]schedule.JobFunc{"segment": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
			once.Do(func() { close(started) })
			select {
			case <-time.After(30 * time.Second):
				published.Store(true)
				return schedule.Outcome{}, nil
			case <-ctx.Done():
				return schedule.Outcome{}, fmt.Errorf("segment stopped before publishing: %w", ctx.Err())
			}
		}},
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- s.Run(ctx) }()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("cron did not fire the job")
	}
	t0 := time.Now()
	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the grace")
	}
	if d := time.Since(t0); d < 200*time.Millisecond || d > 3*time.Second {
		t.Errorf("returned after %s, want just after the 200ms grace", d)
	}
	if published.Load() {
		t.Fatal("the job ran to completion past the grace")
	}
	rep := reps.byStatus("segment", "failed")
	if len(rep) != 1 || rep[0].Attempts != 1 || !errors.Is(rep[0].Err, context.Canceled) || len(reps.byStatus("segment", "succeeded")) != 0 {
		t.Fatalf("a cancelled run is failed and not retried: %+v", reps.all())
	}
	if !strings.Contains(logs.String(), "shutdown grace exceeded") {
		t.Errorf("cancellation not logged:\n%s", logs)
	}
}

func TestReadinessAndMetrics(t *testing.T) {
	lakeDown := errors.New("bucket not reachable")
	var ready atomic.Pointer[error]
	s, _, _ := newService(t, schedule.Options{
		Schedule: map[string]string{"ingest": "0 30 2 * * *", "segment": "0 0 3 * * *"},
		Jobs: map[string]schedule.JobFunc{
			"ingest": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
				return schedule.Outcome{Datasets: []schedule.Landed{
					{Source: "crm", Entity: "accounts", Rows: 120, Quarantined: 0},
					{Source: "support", Entity: "tickets", Rows: 300, Quarantined: 4},
				}}, nil
			},
			"segment": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
				return schedule.Outcome{}, nil
			},
		},
		Ready: func(context.Context) error {
			if e := ready.Load(); e != nil {
				return *e
			}
			return nil
		},
	})
	h := s.Handler()
	get := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code
	}
	if get("/healthz") != 200 || get("/readyz") != 503 {
		t.Fatalf("before start: healthz %d, readyz %d", get("/healthz"), get("/readyz"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = s.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	deadline := time.Now().Add(5 * time.Second)
	for get("/readyz") != 200 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if get("/readyz") != 200 {
		t.Fatal("not ready after start")
	}
	ready.Store(&lakeDown)
	if get("/readyz") != 503 {
		t.Error("ready while the lake is unreachable")
	}
	ready.Store(nil)

	wait(t, s.Fire("ingest"))
	wait(t, s.Fire("ingest"))
	wait(t, s.Fire("segment"))
	m := scrape(t, h)
	want := map[string]float64{
		`segpipe_scheduler_up`:                                              1,
		`segpipe_runs_total{job="ingest",status="succeeded"}`:               2,
		`segpipe_runs_total{job="segment",status="succeeded"}`:              1,
		`segpipe_runs_total{job="segment",status="failed"}`:                 0,
		`segpipe_run_duration_seconds_count{job="ingest"}`:                  2,
		`segpipe_run_duration_seconds_bucket{job="ingest",le="+Inf"}`:       2,
		`segpipe_run_duration_seconds_bucket{job="ingest",le="1"}`:          2,
		`segpipe_rows_landed_total{entity="accounts",source="crm"}`:         240,
		`segpipe_rows_landed_total{entity="tickets",source="support"}`:      600,
		`segpipe_rows_quarantined_total{entity="tickets",source="support"}`: 8,
		`segpipe_rows_quarantined_total{entity="accounts",source="crm"}`:    0,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	now := float64(time.Now().Unix())
	if ls := m[`segpipe_last_success_timestamp_seconds{job="ingest"}`]; ls < now-60 || ls > now+1 {
		t.Errorf("last success %v, now %v", ls, now)
	}
	next := m[`segpipe_next_run_timestamp_seconds{job="segment"}`]
	if want := float64(s.Next("segment").Unix()); next != want || next < now || next > now+86400 {
		t.Errorf("next segment run %v, want %v within a day", next, want)
	}
	if time.Unix(int64(next), 0).UTC().Format("15:04:05") != "03:00:00" {
		t.Errorf("next segment run at %s, want 03:00:00 UTC", time.Unix(int64(next), 0).UTC())
	}
}

func TestWebhookGetsTheFailureAndTheTokenStaysOutOfLogs(t *testing.T) {
	const token = "s3cr3t-t0ken"
	got := make(chan schedule.Failure, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Query().Get("token") != token || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", 400)
			return
		}
		var f schedule.Failure
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		got <- f
	}))
	defer hook.Close()
	for _, c := range []struct {
		name, url string
		delivered bool
	}{
		{"delivered", hook.URL + "/hooks/segpipe?token=" + token, true},
		// A webhook that is down: the error is logged without the URL, and the service goes on.
		{"unreachable", "http://127.0.0.1:1/hooks/" + token + "?token=" + token, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := schedule.NewNotifier(c.url, 2*time.Second, nil)
			n.RetryWait = 10 * time.Millisecond
			s, reps, logs := newService(t, schedule.Options{
				Retries: 1, Notifier: n,
				Jobs: map[string]schedule.JobFunc{"segment": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
					return schedule.Outcome{}, errors.New("warehouse: out of memory")
				}},
			})
			wait(t, s.Fire("segment"))
			rep := reps.all()[0]
			if rep.Status != "failed" || rep.Attempts != 2 {
				t.Fatalf("report %+v", rep)
			}
			if c.delivered {
				select {
				case f := <-got:
					if f.Job != "segment" || f.RunID != rep.RunID || f.AsOf != rep.AsOf || f.Error != "warehouse: out of memory" ||
						f.StartedAt.IsZero() || f.FinishedAt.Before(f.StartedAt) {
						t.Errorf("webhook body %+v, report %+v", f, rep)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the webhook got nothing")
				}
				if len(got) != 0 {
					t.Error("one failed run (after its retry) must notify once")
				}
			} else if !strings.Contains(logs.String(), "failure notification not sent") {
				t.Errorf("the notification failure is not logged:\n%s", logs)
			}
			if strings.Contains(logs.String(), token) {
				t.Fatalf("the webhook token is in the logs:\n%s", logs)
			}
		})
	}
}

func TestNewRejectsAJobWithoutAFunction(t *testing.T) {
	_, err := schedule.New(schedule.Options{Schedule: map[string]string{"segment": "0 2 * * *"}, Jobs: map[string]schedule.JobFunc{}})
	if err == nil || !strings.Contains(err.Error(), "schedule.segment") {
		t.Fatalf("got %v", err)
	}
	_, err = schedule.New(schedule.Options{Schedule: map[string]string{"segment": "61 2 * * *"},
		Jobs: map[string]schedule.JobFunc{"segment": func(context.Context, schedule.Run) (schedule.Outcome, error) { return schedule.Outcome{}, nil }}})
	if err == nil || !strings.Contains(err.Error(), "schedule.segment") {
		t.Fatalf("got %v", err)
	}
}

// as_of is yesterday in the schedule's zone, and the schedule fires in that zone.
func TestAsOfAndScheduleFollowTheTimeZone(t *testing.T) {
	pacific := time.FixedZone("PST", -8*3600)
	var asOf time.Time
	s, _, _ := newService(t, schedule.Options{
		Location: pacific,
		Now:      func() time.Time { return time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC) }, // 22 Nov, 19:00 in PST
		Schedule: map[string]string{"ingest": "0 0 2 * * *"},
		Jobs: map[string]schedule.JobFunc{"ingest": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
			asOf = r.AsOf
			return schedule.Outcome{}, nil
		}},
	})
	wait(t, s.Fire("ingest"))
	if want := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC); !asOf.Equal(want) {
		t.Errorf("as_of %s, want %s (yesterday in PST)", asOf, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { _ = s.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	deadline := time.Now().Add(5 * time.Second)
	for s.Next("ingest").IsZero() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if next := s.Next("ingest").UTC(); next.Hour() != 10 || next.Minute() != 0 {
		t.Errorf("next ingest at %s, want 02:00 PST = 10:00 UTC", next)
	}
}

// After a restart, segment asks the lake's run records whether its as_of's ingest succeeded.
func TestSegmentAsksTheRunRecordsAfterARestart(t *testing.T) {
	var asked []string
	succeeded := false
	ran := 0
	s, reps, _ := newService(t, schedule.Options{
		Jobs: map[string]schedule.JobFunc{
			"ingest": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) { return schedule.Outcome{}, nil },
			"segment": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
				ran++
				return schedule.Outcome{}, nil
			},
		},
		IngestSucceeded: func(ctx context.Context, asOf string) (bool, error) {
			asked = append(asked, asOf)
			return succeeded, nil
		},
	})
	wait(t, s.Fire("segment"))
	succeeded = true
	wait(t, s.Fire("segment"))
	if ran != 1 || len(asked) != 2 || len(reps.byStatus("segment", "skipped")) != 1 {
		t.Fatalf("ran %d, asked %v, reports %+v", ran, asked, reps.all())
	}
}
