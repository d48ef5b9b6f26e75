// Package jobs holds the jobs users schedule or run by hand: ingest (pull every configured
// source into the lake), segment (build, audit and publish the marts) and nightly (both).
// A job is plain Go: func(ctx, Params) (Result, error).
package jobs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
)

// Params is what every job needs.
type Params struct {
	Config *config.Config
	Lake   lake.Store
	// AsOf is the date the run describes; facts after its end are ignored.
	AsOf time.Time
	// RunID names the run in the lake; NewRunID makes one.
	RunID  string
	Logger *slog.Logger
	// HTTPClient, when set, is used for every export request (tests inject one).
	HTTPClient *http.Client
	// WorkDir holds temporary files; "" means a fresh folder under os.TempDir().
	WorkDir string
	// FullRefresh makes ingest pull incremental entities whole, ignoring their saved cursors.
	FullRefresh bool
	// AllowStale lets a segment run read an entity whose every landing is older than AsOf
	// (the newest one); without it such a run fails with ErrStaleInputs. The run record and
	// _published.json name the landings read and the days they lack.
	AllowStale bool
	// AllowFuture lets a run describe a date after today in the config's time zone; without
	// it such a run is refused with ErrFutureAsOf before it writes anything.
	AllowFuture bool
	// Now is the wall clock the future-date guard reads; nil means time.Now (tests set it).
	Now func() time.Time
	// Cache keeps local copies of a remote (GCS) lake's files for DuckDB, one per object
	// generation; nil means one in the user cache directory. A local lake is read in place.
	Cache *lake.Cache
	// SQLProfileDir, when set, receives DuckDB's profile of every model the segment job
	// builds, as <model>.json (segpipe bench --sql-profile).
	SQLProfileDir string

	// stageHook, when set (tests only, through export_test.go), is called as a run reaches
	// named points, so a test can run another job exactly there.
	stageHook func(stage string)
}

// stage calls the test hook, if any, at a named point of a run.
func (p *Params) stage(name string) {
	if p.stageHook != nil {
		p.stageHook(name)
	}
}

// Names of the jobs, as `segpipe run` takes them.
const (
	JobIngest  = "ingest"
	JobSegment = "segment"
	JobNightly = "nightly"
	JobSync    = "sync"
)

// Names lists the jobs `segpipe run` accepts.
var Names = []string{JobIngest, JobSegment, JobNightly, JobSync}

// NewRunID returns a time-ordered, unique run id such as 20261101T023000Z-9f2c4a.
func NewRunID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func (p *Params) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

func (p *Params) asOf() string { return p.AsOf.Format(time.DateOnly) }

// workDir returns the folder for temporary files and a function removing what it made.
func (p *Params) workDir(job string) (string, func(), error) {
	base := p.WorkDir
	if base == "" {
		base = os.TempDir()
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp(base, "segpipe-"+job+"-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// The status of a run record.
const (
	// RunRunning is written when a run has taken its lease and starts.
	RunRunning = "running"
	// RunSucceeded and RunFailed are written when the run ends.
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	// RunAbandoned marks a record left running by a run that is no longer live (killed, its
	// machine lost): a later job found its lease gone, expired, held by another run, or its
	// process gone from this host.
	RunAbandoned = "abandoned"
)

// RunRecord is runs/<run_id>.json: what a run did, for operators and `segpipe runs`. It is
// written when the run starts (status running) and again when it ends.
type RunRecord struct {
	RunID string `json:"run_id"`
	Job   string `json:"job"`
	AsOf  string `json:"as_of"`
	// Status is RunRunning, RunSucceeded, RunFailed or RunAbandoned.
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// FinishedAt is zero while the run is running, and for an abandoned run.
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// AbandonedAt and AbandonedReason say when a later job found the run dead, and why.
	AbandonedAt     time.Time        `json:"abandoned_at,omitzero"`
	AbandonedReason string           `json:"abandoned_reason,omitempty"`
	ConfigDigest    string           `json:"config_digest"`
	Datasets        []DatasetSummary `json:"datasets,omitempty"`
	// Inputs are the landings a segment run read, per source entity.
	Inputs      []lake.InputRead   `json:"inputs,omitempty"`
	Models      []ModelSummary     `json:"models,omitempty"`
	Assertions  []AssertionSummary `json:"assertions,omitempty"`
	Publication *lake.Publication  `json:"publication,omitempty"`
	Lease       *LeaseSummary      `json:"lease,omitempty"`
	// Janitor is what the run's start removed of what killed or deferred work left (tidy).
	Janitor *JanitorSummary `json:"janitor,omitempty"`
	// Sweep is what became of superseded landed files: for an ingest, the files its landings
	// replaced (removed, or deferred while a segment read them); for a segment, the deferred
	// files it removed when it ended.
	Sweep  *lake.SweepResult  `json:"sweep,omitempty"`
	Stages map[string]float64 `json:"stage_seconds,omitempty"`
	Extra  map[string]any     `json:"extra,omitempty"`
}

// LeaseSummary is the run lease a run held (or found held) in a run record.
type LeaseSummary struct {
	Name   string      `json:"name"`
	Holder lake.Holder `json:"holder"`
	// Held is true when this run held the lease, false when another run did.
	Held bool `json:"held"`
	// TookOver names the holder this run took the lease over from (expired, or its process
	// gone from this host), if it did.
	TookOver *lake.Takeover `json:"took_over,omitempty"`
}

// DatasetSummary is one landed dataset in a run record.
type DatasetSummary struct {
	Source      string `json:"source"`
	Entity      string `json:"entity"`
	Rows        int64  `json:"rows"`
	Quarantined int64  `json:"quarantined"`
	Bytes       int64  `json:"bytes"`
	Pages       int    `json:"pages"`
	// Superseded and RepeatsDropped count records that came more than once in the export
	// (lake.Manifest): older versions landed beside the newer, and exact repeats not landed.
	Superseded     int64 `json:"superseded,omitempty"`
	RepeatsDropped int64 `json:"repeats_dropped,omitempty"`
	// OlderEvents counts the events of an event feed left out for a newer event of the same
	// object in the same landing (lake.Manifest).
	OlderEvents int64 `json:"older_events,omitempty"`
}

// ModelSummary is one model in a run record.
type ModelSummary struct {
	Name    string  `json:"name"`
	Rows    int64   `json:"rows"`
	Seconds float64 `json:"seconds"`
	// Dropped are the candidate rows a staging model left out, by reason (docs/staging.md).
	Dropped []DropSummary `json:"dropped,omitempty"`
	// Note is what a Go model's transform said of its run: the k it chose, or why its tables
	// are empty (warehouse.ModelRun.Note).
	Note string `json:"note,omitempty"`
}

// DropSummary counts the rows a staging model left out for one reason.
type DropSummary struct {
	Reason string `json:"reason"`
	Rows   int64  `json:"rows"`
	// Candidates is the model's row count before any row was left out.
	Candidates int64 `json:"candidates"`
	// Sample is up to three of their keys.
	Sample []string `json:"sample,omitempty"`
}

// AssertionSummary is one assertion in a run record.
type AssertionSummary struct {
	Name string `json:"name"`
	// Severity is error or warn (config audit.assertions).
	Severity string `json:"severity"`
	// Outcome is passed, warned (reported; the run published) or failed (the run stopped).
	Outcome  string `json:"outcome"`
	Failures int64  `json:"failures"`
	// Population is the row count of the assertion's population, when it declares one.
	Population *int64 `json:"population,omitempty"`
	// ErrorIf is the configured threshold, when one is set.
	ErrorIf string `json:"error_if,omitempty"`
	// Sample is up to three failing rows of a warned or failed assertion.
	Sample []string `json:"sample,omitempty"`
}

// ConfigDigest fingerprints a config (secrets redacted) so run records show what ran.
func ConfigDigest(cfg *config.Config) string {
	b, err := json.Marshal(cfg)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func writeRunRecord(ctx context.Context, s lake.Store, r *RunRecord) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	// A cancelled run still records why it stopped.
	ctx = context.WithoutCancel(ctx)
	if err := lake.PutBytes(ctx, s, "runs/"+r.RunID+".json", append(b, '\n')); err != nil {
		return fmt.Errorf("write run record: %w", err)
	}
	return nil
}

func newRecord(p *Params, job string) *RunRecord {
	return &RunRecord{
		RunID: p.RunID, Job: job, AsOf: p.asOf(), StartedAt: time.Now().UTC(),
		ConfigDigest: ConfigDigest(p.Config), Stages: map[string]float64{},
	}
}

// start tidies the lake (tidy: what killed runs left), takes the job's lease and writes the
// run record with status running. It returns the context the job runs under (cancelled if
// the lease is lost) and a release function; on error the run is over and its error is
// returned (recorded).
func start(ctx context.Context, p *Params, job string, rec *RunRecord) (context.Context, func(), error) {
	tidy(ctx, p, rec)
	leaseCtx, release, err := takeLease(ctx, p, job, rec)
	if err != nil {
		return nil, nil, finish(ctx, p, rec, err)
	}
	rec.Status = RunRunning
	if err := writeRunRecord(leaseCtx, p.Lake, rec); err != nil {
		err = finish(ctx, p, rec, err)
		release()
		return nil, nil, err
	}
	return leaseCtx, release, nil
}

// finish stamps the record with the outcome and stores it; the job's error wins over a
// failure to store the record. Call it before releasing the lease: a record still running
// while the run's lease is gone reads as abandoned.
func finish(ctx context.Context, p *Params, r *RunRecord, jobErr error) error {
	r.FinishedAt = time.Now().UTC()
	r.Status = RunSucceeded
	if jobErr != nil {
		r.Status = RunFailed
		r.Error = jobErr.Error()
	}
	if err := writeRunRecord(ctx, p.Lake, r); err != nil {
		if jobErr != nil {
			return jobErr
		}
		return err
	}
	return jobErr
}

// LeaseName is the run lease a job takes for an as_of: <job>-<as_of>, e.g. segment-2026-10-31.
func LeaseName(job, asOf string) string { return job + "-" + asOf }

// takeLease acquires the job's lease for p's as_of under the config's lease policy and
// records it in rec. It returns the context the job runs under (cancelled if the lease is
// lost) and a release function to defer.
func takeLease(ctx context.Context, p *Params, job string, rec *RunRecord) (context.Context, func(), error) {
	return takeNamedLease(ctx, p, job, LeaseName(job, p.asOf()), job+" "+p.asOf(), rec)
}

// takeNamedLease is takeLease for any lease name (sync-<target>); what names the run in a
// conflict ("segment 2026-10-31").
func takeNamedLease(ctx context.Context, p *Params, job, name, what string, rec *RunRecord) (context.Context, func(), error) {
	holder := lake.NewHolder(p.RunID)
	lc := p.Config.Lease
	l, err := lake.AcquireWait(ctx, p.Lake, name, holder, lc.TTL.D(), lc.OnConflict, lc.WaitTimeout.D())
	if err != nil {
		var held *lake.LeaseHeldError
		if errors.As(err, &held) {
			rec.Lease = &LeaseSummary{Name: name, Holder: held.Holder}
			return nil, nil, fmt.Errorf("%s: another run is writing it: %w", what, err)
		}
		return nil, nil, fmt.Errorf("%s: %w", job, err)
	}
	rec.Lease = &LeaseSummary{Name: name, Holder: holder, Held: true, TookOver: l.TookOver}
	log := p.logger().With("job", job, "run_id", p.RunID, "lease", name)
	log.Debug("lease acquired", "expires_at", l.ExpiresAt())
	if t := l.TookOver; t != nil {
		log.Info("took the run lease over", "previous", t.Previous.String(), "reason", t.Reason)
	}
	release := func() {
		if err := l.Release(context.WithoutCancel(ctx)); err != nil {
			log.Warn("releasing the run lease failed", "error", err)
		}
	}
	return l.Context(), release, nil
}

// leaseLost returns the lease-lost cause when ctx was cancelled because the lease was lost.
func leaseLost(ctx context.Context) error {
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, lake.ErrLeaseLost) {
		return cause
	}
	return nil
}
