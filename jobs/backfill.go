package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
)

// Steps a backfill plan can take between dates.
const (
	EveryDay   = "day"
	EveryWeek  = "week"
	EveryMonth = "month"
)

// Statuses of one date of a backfill, as stored in backfills/<id>/<as_of>.json.
const (
	DatePending   = "pending"
	DateRunning   = "running"
	DatePublished = "published"
	DateFailed    = "failed"
)

// BackfillPrefix is where backfill status objects live: backfills/<id>/<as_of>.json.
const BackfillPrefix = "backfills/"

// ErrBadPlan marks a backfill plan that cannot run at all (a usage mistake).
var ErrBadPlan = errors.New("bad backfill plan")

// ErrBackfillIncomplete is returned (wrapped) when some dates of a backfill failed.
var ErrBackfillIncomplete = errors.New("backfill incomplete")

// BackfillPlan is the dates a backfill covers and the jobs it runs for each.
type BackfillPlan struct {
	From, To time.Time
	// Every is day, week or month. A month step keeps the day of month of From, clamped to
	// the month's length; when From is a month end, every date is a month end.
	Every string
	// Jobs run in order for each date: segment, or ingest then segment.
	Jobs []string
}

// Validate reports a plan that cannot run; the error wraps ErrBadPlan.
func (pl BackfillPlan) Validate() error {
	if pl.From.IsZero() || pl.To.IsZero() {
		return fmt.Errorf("%w: give both --from and --to", ErrBadPlan)
	}
	if pl.From.After(pl.To) {
		return fmt.Errorf("%w: --from %s is after --to %s", ErrBadPlan, pl.From.Format(time.DateOnly), pl.To.Format(time.DateOnly))
	}
	switch pl.Every {
	case EveryDay, EveryWeek, EveryMonth:
	default:
		return fmt.Errorf("%w: unknown step %q (use day, week or month)", ErrBadPlan, pl.Every)
	}
	if len(pl.Jobs) == 0 {
		return fmt.Errorf("%w: no jobs", ErrBadPlan)
	}
	seen := map[string]bool{}
	for _, j := range pl.Jobs {
		if j != JobIngest && j != JobSegment {
			return fmt.Errorf("%w: job %q cannot be backfilled (use segment or ingest,segment)", ErrBadPlan, j)
		}
		if seen[j] {
			return fmt.Errorf("%w: job %q given twice", ErrBadPlan, j)
		}
		seen[j] = true
	}
	return nil
}

// Dates returns the plan's dates from From to To inclusive, oldest first.
func (pl BackfillPlan) Dates() []time.Time {
	from := day(pl.From)
	to := day(pl.To)
	monthEnd := from.AddDate(0, 0, 1).Day() == 1
	var out []time.Time
	for i := 0; ; i++ {
		var d time.Time
		switch pl.Every {
		case EveryWeek:
			d = from.AddDate(0, 0, 7*i)
		case EveryMonth:
			d = addMonths(from, i, monthEnd)
		default:
			d = from.AddDate(0, 0, i)
		}
		if d.After(to) {
			return out
		}
		out = append(out, d)
	}
}

// addMonths steps n months from d, keeping its day of month (clamped to the month's length),
// or landing on month ends when monthEnd is set.
func addMonths(d time.Time, n int, monthEnd bool) time.Time {
	first := time.Date(d.Year(), d.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	dom := d.Day()
	if monthEnd || dom > last {
		dom = last
	}
	return time.Date(first.Year(), first.Month(), dom, 0, 0, 0, 0, time.UTC)
}

func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// ID names the plan in the lake deterministically, so rerunning the same command finds its
// status: <from>_<to>_<every>_<jobs joined by +>, e.g. 2026-01-31_2026-12-31_month_segment.
func (pl BackfillPlan) ID() string {
	return day(pl.From).Format(time.DateOnly) + "_" + day(pl.To).Format(time.DateOnly) + "_" + pl.Every + "_" + strings.Join(pl.Jobs, "+")
}

// DateStatus is one date of a backfill: backfills/<id>/<as_of>.json.
type DateStatus struct {
	AsOf       string    `json:"as_of"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	RunID      string    `json:"run_id,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Rows is the row count of account_segments for the date (0 for ingest-only plans).
	Rows int64 `json:"rows,omitempty"`
	// LatestMoved is true when this date's publish moved latest/.
	LatestMoved bool `json:"latest_moved,omitempty"`

	// Skip, when not empty, says why this invocation did not run the date (not stored).
	Skip string `json:"-"`
}

// Seconds is how long the date's run took (0 when it has not finished).
func (s DateStatus) Seconds() float64 {
	if s.StartedAt.IsZero() || s.FinishedAt.IsZero() {
		return 0
	}
	return s.FinishedAt.Sub(s.StartedAt).Seconds()
}

// BackfillOptions says how to run a plan.
type BackfillOptions struct {
	Plan BackfillPlan
	// Parallel is how many dates may run at once (<= 1: one after another, in date order).
	// Later dates then run concurrently, each under its own lease.
	Parallel int
	// Force reruns dates already published.
	Force bool
	// OnlyFailed runs only dates whose last attempt failed (or never finished).
	OnlyFailed bool
	// DryRun decides what would run and writes nothing.
	DryRun bool
	// Progress, when set, is called (one call at a time) when a date starts and finishes.
	Progress func(done, total int, s DateStatus)
}

// BackfillResult is a backfill's plan id and the status of every date, oldest first.
type BackfillResult struct {
	ID    string
	Dates []DateStatus
}

// BackfillStatusKey is the status object of one date of a backfill.
func BackfillStatusKey(id, asOf string) string { return BackfillPrefix + id + "/" + asOf + ".json" }

// ReadBackfill returns the stored status of each date of backfill id, by as_of.
func ReadBackfill(ctx context.Context, s lake.Store, id string) (map[string]DateStatus, error) {
	objs, err := s.List(ctx, BackfillPrefix+id+"/")
	if err != nil {
		return nil, fmt.Errorf("read backfill %s: %w", id, err)
	}
	out := map[string]DateStatus{}
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".json") {
			continue
		}
		b, err := lake.GetBytes(ctx, s, o.Key)
		if err != nil {
			return nil, fmt.Errorf("read backfill %s: %w", id, err)
		}
		var st DateStatus
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("read %s: %w", o.Key, err)
		}
		out[st.AsOf] = st
	}
	return out, nil
}

func writeDateStatus(ctx context.Context, s lake.Store, id string, st DateStatus) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	// A cancelled date still records that it stopped.
	if err := lake.PutBytes(context.WithoutCancel(ctx), s, BackfillStatusKey(id, st.AsOf), append(b, '\n')); err != nil {
		return fmt.Errorf("backfill %s %s: write status: %w", id, st.AsOf, err)
	}
	return nil
}

// Backfill runs the plan's jobs as of each of its dates, in date order (up to Parallel at
// once), recording each date's status in the lake so that rerunning the same plan resumes:
// published dates are skipped unless Force. Each date is an ordinary run (its own run id,
// lease and run record); a rerun of a date replaces that date's partition and nothing else.
// When ctx is cancelled, the running dates stop unpublished and are recorded as failed.
func Backfill(ctx context.Context, p Params, opts BackfillOptions) (*BackfillResult, error) {
	pl := opts.Plan
	if err := pl.Validate(); err != nil {
		return nil, err
	}
	last := pl.Dates()
	if n := len(last); n > 0 {
		future := p
		future.AsOf = last[n-1]
		if err := future.checkAsOf(); err != nil {
			return nil, fmt.Errorf("backfill to %s: %w", last[n-1].Format(time.DateOnly), err)
		}
	}
	id := pl.ID()
	prior, err := ReadBackfill(ctx, p.Lake, id)
	if err != nil {
		return nil, err
	}
	res := &BackfillResult{ID: id}
	var todo []int
	for _, d := range pl.Dates() {
		asOf := d.Format(time.DateOnly)
		st, seen := prior[asOf]
		if !seen {
			st = DateStatus{AsOf: asOf, Status: DatePending}
		}
		switch {
		case st.Status == DatePublished && !opts.Force:
			st.Skip = "published by run " + st.RunID + " (--force reruns it)"
		case opts.OnlyFailed && st.Status != DateFailed && st.Status != DateRunning:
			st.Skip = "not failed (--only-failed)"
		default:
			todo = append(todo, len(res.Dates))
		}
		res.Dates = append(res.Dates, st)
	}
	if opts.DryRun {
		return res, nil
	}
	log := p.logger().With("backfill", id)
	for _, i := range todo {
		if res.Dates[i].Status == DatePending && res.Dates[i].RunID == "" {
			if err := writeDateStatus(ctx, p.Lake, id, res.Dates[i]); err != nil {
				return res, err
			}
		}
	}

	var mu sync.Mutex // guards res.Dates, done and Progress calls
	done := 0
	report := func(i int, st DateStatus) {
		mu.Lock()
		defer mu.Unlock()
		res.Dates[i] = st
		if st.Status != DateRunning {
			done++
		}
		if opts.Progress != nil {
			opts.Progress(done, len(todo), st)
		}
	}
	parallel := max(opts.Parallel, 1)
	sem := make(chan struct{}, parallel)
	// A segment run carries the previous date's tier and segment history forward, so however
	// many dates run at once, each date's segment starts only after the previous date's has
	// finished: ingests overlap, segments run in date order. turns[k] closes when the k-th
	// date's segment (or the whole date) is over.
	turns := make([]chan struct{}, len(todo)+1)
	for k := range turns {
		turns[k] = make(chan struct{})
	}
	close(turns[0])
	var wg sync.WaitGroup
	var writeErr error
	for k, i := range todo {
		sem <- struct{}{}
		if ctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func(k, i int) {
			defer wg.Done()
			defer func() { <-sem }()
			turn := &segmentTurn{wait: turns[k], done: turns[k+1]}
			defer turn.finish()
			mu.Lock()
			st := res.Dates[i]
			mu.Unlock()
			st = runDate(ctx, p, pl, id, st, report, i, turn)
			if st.Status == DateFailed {
				log.Warn("backfill date failed", "as_of", st.AsOf, "run_id", st.RunID, "error", st.Error)
			}
			if err := writeDateStatus(ctx, p.Lake, id, st); err != nil {
				mu.Lock()
				writeErr = errors.Join(writeErr, err)
				mu.Unlock()
			}
			report(i, st)
		}(k, i)
	}
	wg.Wait()
	if writeErr != nil {
		return res, writeErr
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("backfill %s stopped (rerun the same command to resume): %w", id, context.Cause(ctx))
	}
	var failed []string
	for _, i := range todo {
		if res.Dates[i].Status == DateFailed {
			failed = append(failed, res.Dates[i].AsOf)
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return res, fmt.Errorf("backfill %s: %w: %d of %d dates failed (%s); rerun with --only-failed", id, ErrBackfillIncomplete, len(failed), len(todo), strings.Join(failed, ", "))
	}
	return res, nil
}

// runDate runs the plan's jobs as of one date and returns its final status.
// segmentTurn orders the segment runs of a backfill: wait closes when the previous date's
// segment is over; finish closes done, once, when this date's is.
type segmentTurn struct {
	wait, done chan struct{}
	once       sync.Once
}

func (t *segmentTurn) finish() { t.once.Do(func() { close(t.done) }) }

func runDate(ctx context.Context, p Params, pl BackfillPlan, id string, st DateStatus, report func(int, DateStatus), i int, turn *segmentTurn) DateStatus {
	d, _ := time.Parse(time.DateOnly, st.AsOf)
	st = DateStatus{AsOf: st.AsOf, Status: DateRunning, RunID: NewRunID(time.Now()), StartedAt: time.Now().UTC()}
	if err := writeDateStatus(ctx, p.Lake, id, st); err != nil {
		st.Status, st.Error, st.FinishedAt = DateFailed, err.Error(), time.Now().UTC()
		return st
	}
	report(i, st)
	p.AsOf = d
	err := func() error {
		for _, job := range pl.Jobs {
			p.RunID = st.RunID
			if len(pl.Jobs) > 1 {
				p.RunID = st.RunID + "-" + job
			}
			switch job {
			case JobIngest:
				if _, err := Ingest(ctx, p); err != nil {
					return err
				}
			case JobSegment:
				select {
				case <-turn.wait: // the previous date's segment is over: go on
				default:
					select {
					case <-turn.wait:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				res, err := Segment(ctx, p)
				turn.finish()
				if err != nil {
					return err
				}
				st.LatestMoved = res.LatestMoved
				for _, m := range res.Models {
					if m.Name == "account_segments" {
						st.Rows = m.Rows
					}
				}
			}
		}
		return nil
	}()
	st.FinishedAt = time.Now().UTC()
	st.Status = DatePublished
	if err != nil {
		st.Status = DateFailed
		st.Error = err.Error()
		if ctx.Err() != nil {
			st.Error = "cancelled: " + err.Error()
		}
	}
	return st
}
