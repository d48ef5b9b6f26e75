package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
)

// JanitorSummary is what a run's start removed, or marked, of what killed or deferred work
// left in the lake (tidy).
type JanitorSummary struct {
	lake.TidyReport
	// Abandoned are the runs whose records this run marked abandoned.
	Abandoned []string `json:"abandoned,omitempty"`
}

// abandonedScan is how many of the newest run records each start checks for runs that never
// finished. Every job start checks, so a killed run's record is among them at the next start.
const abandonedScan = 50

// minTempAge is the least time a temporary file must be untouched before tidy removes it,
// whatever the lease TTL.
const minTempAge = 10 * time.Minute

// tempAge is how long a temporary file must be untouched to be a leftover: the lease TTL (a
// process silent that long has lost its lease too), at least minTempAge.
func tempAge(p *Params) time.Duration { return max(p.Config.Lease.TTL.D(), minTempAge) }

// tidy runs at the start of every job, before it takes its lease (so a killed run's record is
// judged against the lease it left, not this run's takeover of it): it marks records of runs that never finished as abandoned, then removes temporary files of
// killed writes, stale reader registrations, superseded landed files no reader needs and
// staging folders of runs that are over (lake.Tidy). What it did goes in rec.Janitor and the
// log; a failure is logged and does not fail the run.
func tidy(ctx context.Context, p *Params, rec *RunRecord) {
	log := p.logger().With("job", rec.Job, "run_id", p.RunID)
	now := time.Now()
	sum := &JanitorSummary{}
	var err error
	if sum.Abandoned, err = markAbandoned(ctx, p, now); err != nil {
		log.Warn("checking for abandoned runs failed", "error", err)
	}
	sum.TidyReport, err = lake.Tidy(ctx, p.Lake, lake.TidyOptions{
		TempCutoff: now.Add(-tempAge(p)),
		RunLive:    func(ctx context.Context, runID string) (bool, error) { return runLive(ctx, p, runID, now) },
		Now:        now,
	})
	if err != nil {
		log.Warn("tidying the lake failed; the next run retries", "error", err)
	}
	if len(sum.Abandoned) == 0 && sum.Empty() {
		return
	}
	rec.Janitor = sum
	log.Info("tidied the lake", "abandoned_runs", strings.Join(sum.Abandoned, ", "),
		"temp_files", sum.TempFiles, "temp_bytes", sum.TempBytes, "stale_readers", sum.StaleReaders,
		"superseded_removed", sum.Superseded.Removed, "superseded_deferred", sum.Superseded.Deferred,
		"staging_runs", sum.StagingRuns, "staging_files", sum.StagingFiles)
}

// markAbandoned marks the records still running among the newest abandonedScan whose run is
// not live (notLive) as abandoned, each with a conditional write at the generation listed, so
// a run that writes its own record meanwhile keeps it. It returns their run ids.
func markAbandoned(ctx context.Context, p *Params, now time.Time) ([]string, error) {
	objs, err := p.Lake.List(ctx, RunsPrefix)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key > objs[j].Key })
	var marked []string
	var errs []error
	seen := 0
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".json") {
			continue
		}
		if seen++; seen > abandonedScan {
			break
		}
		b, err := lake.GetBytes(ctx, p.Lake, o.Key)
		if errors.Is(err, lake.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var r RunRecord
		if json.Unmarshal(b, &r) != nil || r.Status != RunRunning || r.RunID == p.RunID {
			continue
		}
		why, err := notLive(ctx, p, &r, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if why == "" {
			continue
		}
		r.Status, r.AbandonedAt, r.AbandonedReason = RunAbandoned, now.UTC(), why
		body, err := json.MarshalIndent(&r, "", "  ")
		if err != nil {
			return marked, err
		}
		_, err = p.Lake.PutIf(ctx, o.Key, strings.NewReader(string(body)+"\n"), o.Generation)
		switch {
		case err == nil:
			marked = append(marked, r.RunID)
		case errors.Is(err, lake.ErrPrecondition) || errors.Is(err, lake.ErrNotExist):
			// The record changed since it was listed: judged again at the next start.
		default:
			errs = append(errs, err)
		}
	}
	return marked, errors.Join(errs...)
}

// notLive returns why the run of a record still running is not live, "" when it is: its
// lease <job>-<as_of> is absent, held by another run, expired, or its holder's process is
// gone from this host. A run writes its record running only once it holds that lease, and
// its final record before releasing it.
func notLive(ctx context.Context, p *Params, r *RunRecord, now time.Time) (string, error) {
	name := LeaseName(r.Job, r.AsOf)
	st, err := lake.ReadLease(ctx, p.Lake, name, p.Config.Lease.TTL.D())
	switch {
	case errors.Is(err, lake.ErrNotExist):
		return fmt.Sprintf("its lease %s is gone", name), nil
	case err != nil:
		return "", fmt.Errorf("read lease %s: %w", name, err)
	case st.Holder.RunID != r.RunID:
		return fmt.Sprintf("its lease %s is held by another run, %s", name, st.Holder), nil
	}
	switch st.Why(now) {
	case lake.ReasonExpired:
		return fmt.Sprintf("its lease %s expired at %s", name, st.ExpiresAt.UTC().Format(time.RFC3339)), nil
	case lake.ReasonProcessGone:
		return fmt.Sprintf("its process is gone (host %s, pid %d)", st.Holder.Host, st.Holder.PID), nil
	}
	return "", nil
}

// runLive reports whether the run runID may still be writing: its record says running and
// notLive finds it live; or, without a record, an unexpired lease names it.
func runLive(ctx context.Context, p *Params, runID string, now time.Time) (bool, error) {
	b, err := lake.GetBytes(ctx, p.Lake, RunsPrefix+runID+".json")
	switch {
	case err == nil:
		var r RunRecord
		if json.Unmarshal(b, &r) == nil && r.RunID == runID {
			if r.Status != RunRunning {
				return false, nil
			}
			why, err := notLive(ctx, p, &r, now)
			return why == "", err
		}
	case !errors.Is(err, lake.ErrNotExist):
		return false, err
	}
	objs, err := p.Lake.List(ctx, lake.LeasePrefix)
	if err != nil {
		return false, err
	}
	for _, o := range objs {
		name, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, lake.LeasePrefix), ".json")
		if !ok || strings.HasPrefix(o.Key, lake.ReaderPrefix) {
			continue
		}
		st, err := lake.ReadLease(ctx, p.Lake, name, p.Config.Lease.TTL.D())
		if errors.Is(err, lake.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, err
		}
		if st.Holder.RunID == runID && st.Live(now) {
			return true, nil
		}
	}
	return false, nil
}
