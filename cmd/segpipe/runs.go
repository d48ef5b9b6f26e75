package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/jobs"
)

func cmdRuns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("runs", "segpipe runs [--job ingest|segment|rollback] [--last N] [--config FILE] [--lake URL]", stdout)
	job := fs.String("job", "", "only runs of this job (ingest, segment or rollback)")
	last := fs.Int("last", 20, "show at most this many runs (0: all)")
	file := fs.String("config", defaultConfigPath(), "config file (or $SEGPIPE_CONFIG)")
	lakeURL := fs.String("lake", "", "lake path or URL, overriding the config's lake")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("runs takes no arguments, got %q", fs.Args())
	}
	if *job != "" && *job != jobs.JobIngest && *job != jobs.JobSegment && *job != jobs.JobRollback {
		return usagef("--job %q: run records are of ingest, segment or rollback", *job)
	}
	if *last < 0 {
		return usagef("--last must be 0 or more, got %d", *last)
	}
	_, store, err := openLake(ctx, *file, *lakeURL)
	if err != nil {
		return err
	}
	runs, err := jobs.ListRuns(ctx, store, *job, *last)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintf(stdout, "No runs in %s.\n", store.URL())
		return nil
	}
	printRuns(stdout, runs)
	return nil
}

// printRuns prints run records, one line each, in the order given.
func printRuns(w io.Writer, runs []jobs.RunRecord) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tjob\tas_of\tstatus\tstarted\tseconds\trows\terror")
	for _, r := range runs {
		secs := ""
		if !r.FinishedAt.IsZero() {
			secs = fmt.Sprintf("%.1f", r.FinishedAt.Sub(r.StartedAt).Seconds())
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.RunID, r.Job, r.AsOf, r.Status,
			r.StartedAt.UTC().Format("2006-01-02 15:04:05"), secs, runRows(r), truncate(oneLine(errors.New(r.Error)), 60))
	}
	tw.Flush()
}

// runRows is a run's headline row count: account_segments for segment, rows landed for ingest.
func runRows(r jobs.RunRecord) string {
	if n := r.Rows("account_segments"); n >= 0 {
		return thousands(n)
	}
	if len(r.Datasets) > 0 {
		var n int64
		for _, d := range r.Datasets {
			n += d.Rows
		}
		return thousands(n)
	}
	return ""
}

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status", "segpipe status [--config FILE] [--lake URL]", stdout)
	file := fs.String("config", defaultConfigPath(), "config file (or $SEGPIPE_CONFIG)")
	lakeURL := fs.String("lake", "", "lake path or URL, overriding the config's lake")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("status takes no arguments, got %q", fs.Args())
	}
	cfg, store, err := openLake(ctx, *file, *lakeURL)
	if err != nil {
		return err
	}
	runs, err := jobs.ListRuns(ctx, store, "", 0)
	if err != nil {
		return err
	}
	return printStatus(ctx, stdout, cfg, store, runs, time.Now())
}

// printStatus prints, per job, the last success and the next scheduled run, then the
// published pointer.
func printStatus(ctx context.Context, w io.Writer, cfg *config.Config, store lake.Store, runs []jobs.RunRecord, now time.Time) error {
	fmt.Fprintf(w, "Lake %s\n\n", store.URL())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "job\tlast success as_of\trun\tfinished\tlast run\tnext scheduled")
	names := []string{jobs.JobIngest, jobs.JobSegment}
	for name := range cfg.Schedule {
		if name != jobs.JobIngest && name != jobs.JobSegment {
			names = append(names, name)
		}
	}
	sort.Strings(names[2:])
	for _, job := range names {
		asOf, runID, when, lastRun := "never", "", "", ""
		if r := jobs.LastSuccess(runs, job); r != nil {
			asOf, runID, when = r.AsOf, r.RunID, r.FinishedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		for _, r := range runs {
			if r.Job == job {
				lastRun = r.Status + " (as_of " + r.AsOf + ")"
				break
			}
		}
		next := "not scheduled"
		if spec, ok := cfg.Schedule[job]; ok {
			sched, err := config.CronParser.Parse(spec)
			if err != nil {
				return usagef("schedule.%s %q: %v", job, spec, err)
			}
			next = sched.Next(now.In(cfg.Location())).Format("2006-01-02 15:04 MST") + " (" + spec + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", job, asOf, runID, when, lastRun, next)
	}
	tw.Flush()

	pub, err := lake.ReadPublished(ctx, store)
	switch {
	case errors.Is(err, lake.ErrNotExist):
		fmt.Fprintf(w, "\nPublished: nothing yet (%s)\n", lake.PublishedKey)
	case err != nil:
		return err
	default:
		fmt.Fprintf(w, "\nPublished: as_of %s, run %s, at %s (%s)\n", pub.AsOf, pub.RunID, pub.PublishedAt.UTC().Format("2006-01-02 15:04 UTC"), lake.PublishedKey)
		if rb := pub.Rollback; rb != nil {
			fmt.Fprintf(w, "Rolled back to it at %s by %s, from as_of %s, run %s (rollback run %s): %s\n",
				rb.At.UTC().Format("2006-01-02 15:04 UTC"), rb.By, rb.FromAsOf, rb.FromRunID, rb.RunID, rb.Reason)
		}
	}
	return nil
}

// openLake loads the config and opens its lake (or lakeURL when given).
func openLake(ctx context.Context, file, lakeURL string) (*config.Config, lake.Store, error) {
	cfg, err := loadConfig(file)
	if err != nil {
		return nil, nil, err
	}
	p, err := buildParams(ctx, cfg, "", lakeURL, nil, time.Now())
	if err != nil {
		return nil, nil, err
	}
	return cfg, p.Lake, nil
}
