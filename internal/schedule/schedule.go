// Package schedule runs segpipe's jobs on cron schedules (`segpipe serve`): one run of a job
// at a time, retries with backoff, segment gated on the same night's ingest, graceful
// shutdown, failure notifications, and the ops HTTP endpoints (health, readiness, metrics).
//
// It does not import the jobs: the caller hands it each job as a JobFunc.
package schedule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
)

// Job names the scheduler knows about: segment is gated on ingest.
const (
	JobIngest  = "ingest"
	JobSegment = "segment"
)

// Run is one attempt of a scheduled job.
type Run struct {
	Job string
	// AsOf is the date the run describes (midnight UTC of that date).
	AsOf time.Time
	// RunID names the attempt in the lake (runs/<run_id>.json); every attempt has its own.
	RunID string
	// Attempt is 0 for the first try, 1 for the first retry, ...
	Attempt int
}

// Landed is one dataset an ingest run landed, for the metrics.
type Landed struct {
	Source, Entity    string
	Rows, Quarantined int64
}

// Outcome is what a job reports back to the scheduler.
type Outcome struct {
	Datasets []Landed
}

// JobFunc runs one attempt of a job; it must stop promptly when ctx is cancelled and leave
// nothing half-published.
type JobFunc func(ctx context.Context, r Run) (Outcome, error)

// Options configure a Service.
type Options struct {
	// Schedule maps a job name to its cron expression, parsed by Parser in Location.
	Schedule map[string]string
	// Jobs holds the function of every scheduled job.
	Jobs map[string]JobFunc
	// Parser parses Schedule; nil means five fields (config.CronParser's grammar). Tests
	// pass a parser with seconds.
	Parser cron.ScheduleParser
	// Location is the zone schedules run in and as_of (yesterday) is taken in; nil means UTC.
	Location *time.Location
	// Retries of a failed run, waiting RetryBackoff, then twice that, ... Lease conflicts
	// and failed audits are never retried.
	Retries      int
	RetryBackoff time.Duration
	// ShutdownGrace is how long running jobs may finish after shutdown starts before their
	// context is cancelled.
	ShutdownGrace time.Duration
	// Address is where Run serves Handler; "" serves nothing.
	Address string
	// Version is segpipe's version, for segpipe_build_info.
	Version string
	// Datasets are the configured source/entity pairs: their row counters are at 0 from the
	// start.
	Datasets [][2]string
	// Ready reports whether the lake is reachable, for /readyz; nil means always.
	Ready func(ctx context.Context) error
	// IngestSucceeded, when set, tells whether an ingest of asOf (YYYY-MM-DD) succeeded
	// outside this service's memory: by hand, in another process or before a restart. Segment
	// asks it when this service has no successful ingest of its as_of.
	IngestSucceeded func(ctx context.Context, asOf string) (bool, error)
	// Notifier, when set, is told about every run that failed for good.
	Notifier *Notifier
	// Logger gets the scheduler's structured logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock as_of is taken from; nil means time.Now.
	Now func() time.Time
	// NewRunID names an attempt; nil means a time-ordered id like jobs.NewRunID.
	NewRunID func(now time.Time) string
	// OnFinish, when set, is called with every finished (or skipped) scheduled run.
	OnFinish func(Report)
}

// Report is the final outcome of one scheduled run, after its retries.
type Report struct {
	Job      string
	AsOf     string
	RunID    string // of the last attempt; "" when skipped
	Status   string // succeeded, failed or skipped
	Attempts int
	Err      error // the last attempt's error, or why the run was skipped
}

// Statuses of a Report.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
)

// PanicError is a job's panic, turned into a failed run.
type PanicError struct {
	Value any
	Stack string
}

func (e *PanicError) Error() string { return fmt.Sprintf("job panicked: %v", e.Value) }

// Reasons a failed attempt is counted under (segpipe_failures_total's reason label).
const (
	ReasonError         = "error"
	ReasonLeaseConflict = "lease_conflict"
	ReasonAuditFailed   = "audit_failed"
	ReasonPanic         = "panic"
	ReasonCancelled     = "cancelled"
)

// Classify names why an attempt failed.
func Classify(err error) string {
	switch {
	case errors.As(err, new(*lake.LeaseHeldError)):
		return ReasonLeaseConflict
	case errors.Is(err, warehouse.ErrAssertionsFailed):
		return ReasonAuditFailed
	case errors.As(err, new(*PanicError)):
		return ReasonPanic
	case errors.Is(err, context.Canceled):
		return ReasonCancelled
	}
	return ReasonError
}

// retryable is false for failures that need a human: a lease held by another run, a failed
// audit, and a run cancelled by shutdown.
func retryable(err error) bool {
	switch Classify(err) {
	case ReasonLeaseConflict, ReasonAuditFailed, ReasonCancelled:
		return false
	}
	return true
}

// ingestDay is the state of one as_of's ingest in this process, for segment's gate.
type ingestDay struct {
	done chan struct{}
	err  error
}

// Service is the running scheduler.
type Service struct {
	opts     Options
	log      *slog.Logger
	cron     *cron.Cron
	entries  map[string]cron.EntryID
	running  map[string]*atomic.Bool
	metrics  *Metrics
	registry *prometheus.Registry

	runCtx     context.Context // every attempt runs under it; cancelled when the grace ends
	cancelRuns context.CancelFunc

	mu       sync.Mutex
	stopping chan struct{} // closed when shutdown starts: no new runs or retries
	stopped  bool
	inflight sync.WaitGroup
	ingests  map[string]*ingestDay // as_of -> this process's latest ingest of it
	started  atomic.Bool
}

// New checks the options and registers every schedule; Run starts it.
func New(opts Options) (*Service, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Parser == nil {
		opts.Parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewRunID == nil {
		opts.NewRunID = newRunID
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = time.Minute
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(opts.Schedule) == 0 {
		return nil, errors.New("schedule: no job is scheduled (add schedule.ingest and/or schedule.segment to the config)")
	}
	s := &Service{
		opts: opts, log: log, entries: map[string]cron.EntryID{}, running: map[string]*atomic.Bool{},
		stopping: make(chan struct{}), ingests: map[string]*ingestDay{},
	}
	s.runCtx, s.cancelRuns = context.WithCancel(context.Background())
	s.cron = cron.New(cron.WithLocation(opts.Location), cron.WithParser(opts.Parser),
		cron.WithChain(cron.Recover(cronLogger{log})))
	jobNames := make([]string, 0, len(opts.Schedule))
	for job := range opts.Schedule {
		jobNames = append(jobNames, job)
	}
	sort.Strings(jobNames)
	for _, job := range jobNames {
		if opts.Jobs[job] == nil {
			return nil, fmt.Errorf("schedule.%s: no such job", job)
		}
		s.running[job] = new(atomic.Bool)
		id, err := s.cron.AddFunc(opts.Schedule[job], func() { s.fire(job) })
		if err != nil {
			return nil, fmt.Errorf("schedule.%s: %q: %w", job, opts.Schedule[job], err)
		}
		s.entries[job] = id
	}
	s.metrics = NewMetrics(jobNames, opts.Datasets)
	s.metrics.up = s.started.Load
	s.metrics.next = func(job string) time.Time {
		if !s.started.Load() {
			return time.Time{}
		}
		return s.Next(job)
	}
	s.registry = s.metrics.Registry(opts.Version, true)
	return s, nil
}

// Run starts the schedules (and the ops HTTP server when Options.Address is set) and blocks
// until ctx is cancelled; then it stops taking new runs, lets running ones finish within
// the grace, cancels what is left, and returns nil. It returns an error only when the HTTP
// server cannot listen.
func (s *Service) Run(ctx context.Context) error {
	var srv *http.Server
	if s.opts.Address != "" {
		ln, err := net.Listen("tcp", s.opts.Address)
		if err != nil {
			return fmt.Errorf("serve.address %s: %w", s.opts.Address, err)
		}
		srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("ops HTTP server stopped", "error", err)
			}
		}()
		s.log.Info("ops HTTP server listening", "address", ln.Addr().String())
	}
	s.cron.Start()
	s.started.Store(true)
	for _, job := range s.jobNames() {
		s.log.Info("scheduled", "job", job, "cron", s.opts.Schedule[job], "timezone", s.opts.Location.String(),
			"next", s.cron.Entry(s.entries[job]).Next)
	}
	<-ctx.Done()
	s.Shutdown()
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
	}
	return nil
}

// Shutdown stops taking new runs and retries, waits up to the grace for running ones, then
// cancels them and waits for them to return.
func (s *Service) Shutdown() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	close(s.stopping)
	s.mu.Unlock()
	s.started.Store(false)
	// No new firings. Cron's own wait (Stop's context) would wait for running jobs without a
	// bound: the grace below is ours, over inflight.
	s.cron.Stop()

	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	grace := s.opts.ShutdownGrace.Seconds()
	s.log.Info("shutting down: no new runs; a running job may finish within the grace", "grace_seconds", grace)
	select {
	case <-done:
		s.log.Info("scheduler stopped")
	case <-time.After(s.opts.ShutdownGrace):
		s.log.Warn("shutdown grace exceeded: cancelling running jobs", "grace_seconds", grace)
		s.cancelRuns()
		<-done
		s.log.Info("scheduler stopped: running jobs cancelled")
	}
	s.cancelRuns()
}

// Fire runs job now, as if its schedule had fired (same gate, skip and retry rules). The
// channel is closed when the run has finished or was skipped.
func (s *Service) Fire(job string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.fire(job)
	}()
	return done
}

// Next is when job is next scheduled (zero when the scheduler is not running).
func (s *Service) Next(job string) time.Time {
	id, ok := s.entries[job]
	if !ok {
		return time.Time{}
	}
	return s.cron.Entry(id).Next
}

func (s *Service) jobNames() []string {
	names := make([]string, 0, len(s.entries))
	for j := range s.entries {
		names = append(names, j)
	}
	sort.Strings(names)
	return names
}

// asOf is yesterday in the schedule's zone, as midnight UTC of that date.
func (s *Service) asOf() time.Time {
	d := s.opts.Now().In(s.opts.Location).AddDate(0, 0, -1)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// fire runs one scheduled run of job unless the service is stopping or the job is running.
func (s *Service) fire(job string) {
	asOf := s.asOf()
	day := asOf.Format(time.DateOnly)
	log := s.log.With("job", job, "as_of", day)
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		s.skip(log, job, day, "the scheduler is shutting down")
		return
	}
	running := s.running[job]
	if running == nil || !running.CompareAndSwap(false, true) {
		s.mu.Unlock()
		s.skip(log, job, day, "the previous run of this job is still running")
		return
	}
	s.inflight.Add(1)
	var ingest *ingestDay
	if job == JobIngest {
		ingest = &ingestDay{done: make(chan struct{})}
		s.ingests[day] = ingest
		for d := range s.ingests { // keep a week: segment only looks at its own as_of
			if d < asOf.AddDate(0, 0, -7).Format(time.DateOnly) {
				delete(s.ingests, d)
			}
		}
	}
	s.mu.Unlock()
	defer s.inflight.Done()
	defer running.Store(false)

	if job == JobSegment {
		if reason := s.awaitIngest(log, day); reason != "" {
			s.skip(log, job, day, reason)
			return
		}
	}
	rep := Report{Job: job, AsOf: day, Status: StatusFailed, Err: errors.New("the run did not finish")}
	if ingest != nil {
		defer func() { // deferred: a segment waiting on it must never wait forever
			ingest.err = rep.Err
			if rep.Status != StatusSucceeded && ingest.err == nil {
				ingest.err = errors.New(rep.Status)
			}
			close(ingest.done)
		}()
	}
	rep = s.attempts(log, job, asOf)
	if s.opts.OnFinish != nil {
		s.opts.OnFinish(rep)
	}
}

// awaitIngest gates segment on the same as_of's ingest when ingest is scheduled too: it waits
// for an ingest still running (retries included) and returns why segment must be skipped,
// or "" when it may run.
func (s *Service) awaitIngest(log *slog.Logger, day string) string {
	if _, scheduled := s.entries[JobIngest]; !scheduled {
		return ""
	}
	s.mu.Lock()
	in := s.ingests[day]
	s.mu.Unlock()
	if in != nil {
		select {
		case <-in.done:
		default:
			log.Info("waiting for the same as_of's ingest to finish")
			select {
			case <-in.done:
			case <-s.stopping:
				return "the scheduler is shutting down while ingest for " + day + " runs"
			}
		}
		if in.err == nil {
			return ""
		}
	}
	if s.opts.IngestSucceeded != nil {
		ok, err := s.opts.IngestSucceeded(s.runCtx, day)
		switch {
		case err != nil:
			return "cannot tell whether ingest for " + day + " succeeded: " + err.Error()
		case ok:
			log.Info("ingest for this as_of succeeded outside this service's memory (run records)")
			return ""
		}
	}
	if in != nil {
		return "ingest for " + day + " failed: " + in.err.Error()
	}
	return "ingest for " + day + " has not run (run `segpipe run segment` by hand once it has landed)"
}

func (s *Service) skip(log *slog.Logger, job, day, reason string) {
	log.Warn("scheduled run skipped", "reason", reason)
	s.metrics.Finished(job, StatusSkipped)
	if s.opts.OnFinish != nil {
		s.opts.OnFinish(Report{Job: job, AsOf: day, Status: StatusSkipped, Err: errors.New(reason)})
	}
}

// attempts runs job for asOf, retrying failures that may pass on a second try.
func (s *Service) attempts(log *slog.Logger, job string, asOf time.Time) Report {
	day := asOf.Format(time.DateOnly)
	rep := Report{Job: job, AsOf: day}
	for attempt := 0; ; attempt++ {
		started := time.Now()
		r := Run{Job: job, AsOf: asOf, RunID: s.opts.NewRunID(started), Attempt: attempt}
		alog := log.With("run_id", r.RunID, "attempt", attempt+1)
		alog.Info("scheduled run started")
		out, err := s.call(job, r)
		finished := time.Now()
		rep.RunID, rep.Attempts, rep.Err = r.RunID, attempt+1, err
		s.metrics.Attempt(job, finished.Sub(started), out)
		if err == nil {
			alog.Info("scheduled run succeeded", "seconds", finished.Sub(started).Seconds())
			rep.Status = StatusSucceeded
			s.metrics.Finished(job, StatusSucceeded)
			s.metrics.Succeeded(job, finished)
			return rep
		}
		reason := Classify(err)
		s.metrics.Failure(job, reason)
		attrs := []any{"error", err.Error(), "reason", reason, "seconds", finished.Sub(started).Seconds()}
		if pe := (*PanicError)(nil); errors.As(err, &pe) {
			attrs = append(attrs, "stack", pe.Stack)
		}
		final := func(why string) Report {
			alog.Error("scheduled run failed", append(attrs, "not_retried", why)...)
			rep.Status = StatusFailed
			s.metrics.Finished(job, StatusFailed)
			s.opts.Notifier.notify(s.log, Failure{
				Job: job, AsOf: day, RunID: r.RunID, Error: err.Error(), StartedAt: started.UTC(), FinishedAt: finished.UTC(),
			})
			return rep
		}
		switch {
		case !retryable(err):
			return final(reason + " needs a human")
		case attempt >= s.opts.Retries:
			return final(fmt.Sprintf("no retries left (%d)", s.opts.Retries))
		}
		wait := s.opts.RetryBackoff << attempt
		alog.Warn("scheduled run failed, will retry", append(attrs, "retry_in_seconds", wait.Seconds())...)
		select {
		case <-time.After(wait):
		case <-s.stopping:
			return final("the scheduler is shutting down")
		}
	}
}

// call runs one attempt, turning a panic into a *PanicError.
func (s *Service) call(job string, r Run) (out Outcome, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: string(debug.Stack())}
		}
	}()
	return s.opts.Jobs[job](s.runCtx, r)
}

// newRunID is jobs.NewRunID's format: 20261101T023000Z-9f2c4a.
func newRunID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// cronLogger sends robfig/cron's own messages to slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "error", err)...)
}
