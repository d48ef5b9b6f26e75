package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/segpipe/segpipe/internal/schedule"
	"github.com/segpipe/segpipe/jobs"
)

const backfillSynopsis = "segpipe backfill --from YYYY-MM-DD --to YYYY-MM-DD [--every day|week|month] [--jobs segment|ingest,segment] [--parallel N] [--force] [--only-failed] [--dry-run] [--allow-stale] [--allow-future] [--sync] [--metrics-file FILE.prom] [--config FILE] [--lake URL]"

func cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backfill", backfillSynopsis, stdout)
	fromFlag := fs.String("from", "", "first as_of date of the plan (required)")
	toFlag := fs.String("to", "", "last as_of date of the plan, inclusive (required)")
	every := fs.String("every", jobs.EveryDay, "step between dates: day, week, or month (same day of month, clamped; month ends when --from is one)")
	jobList := fs.String("jobs", jobs.JobSegment, "jobs to run for each date, in order: segment, or ingest,segment")
	parallel := fs.Int("parallel", 1, "dates to run at once (1: one after another, in date order)")
	force := fs.Bool("force", false, "rerun dates this plan already published")
	onlyFailed := fs.Bool("only-failed", false, "rerun only the dates whose last attempt failed")
	dryRun := fs.Bool("dry-run", false, "print which dates would run and which would be skipped, and write nothing")
	file := fs.String("config", defaultConfigPath(), "config file (or $SEGPIPE_CONFIG)")
	lakeURL := fs.String("lake", "", "lake path or URL, overriding the config's lake")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	allowStale := fs.Bool("allow-stale", false, "segment: compute dates past the newest landing from it (recorded in each run record and _published.json)")
	allowFuture := fs.Bool("allow-future", false, "allow dates after today in the config's time zone (refused without it)")
	syncAfter := fs.Bool("sync", false, "after every date succeeded, sync the published release to the CRM (sync.target) once; a backfill never syncs without it")
	metricsPath := metricsFileFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("backfill takes no arguments, got %q", fs.Args())
	}
	plan, err := parsePlan(*fromFlag, *toFlag, *every, *jobList)
	if err != nil {
		return err
	}
	if *parallel < 1 {
		return usagef("--parallel must be at least 1, got %d", *parallel)
	}
	if *force && *onlyFailed {
		return usagef("--force and --only-failed contradict each other: give one")
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*file)
	if err != nil {
		return err
	}
	p, err := buildParams(ctx, cfg, "", *lakeURL, logger, time.Now())
	if err != nil {
		return err
	}
	p.AllowStale = *allowStale
	p.AllowFuture = *allowFuture
	if dates := plan.Dates(); len(dates) > 0 {
		if err := jobs.CheckAsOf(cfg, dates[len(dates)-1], time.Now(), p.AllowFuture); err != nil {
			return usageError{fmt.Errorf("--to: %w", err)}
		}
	}
	mf, err := openMetricsFile(*metricsPath, cfg)
	if err != nil {
		return err
	}
	opts := jobs.BackfillOptions{Plan: plan, Parallel: *parallel, Force: *force, OnlyFailed: *onlyFailed, DryRun: *dryRun}
	tty := isTerminal(stderr)
	if !*dryRun {
		opts.Progress = newProgress(stderr, tty)
	}
	res, err := jobs.Backfill(ctx, p, opts)
	if tty && !*dryRun {
		fmt.Fprint(stderr, "\r\033[K") // the summary table replaces the bar
	}
	if res != nil {
		if *dryRun {
			printPlan(stdout, p.Lake.URL(), res)
		} else {
			printBackfill(stdout, res)
		}
	}
	if *dryRun && *syncAfter && err == nil {
		fmt.Fprintln(stdout, "Then: segpipe run sync of the release published at the end (--sync)")
	}
	if *dryRun || res == nil {
		return err
	}
	if *syncAfter && err == nil {
		sp := p
		sp.RunID = jobs.NewRunID(time.Now())
		started := time.Now()
		sres, serr := jobs.Sync(ctx, sp, jobs.SyncOptions{})
		if sres != nil {
			fmt.Fprintln(stdout)
			printSync(stdout, sres)
		}
		mf.add(jobs.JobSync, time.Since(started), time.Now(), schedule.Outcome{}, serr)
		err = serr
	}
	// Each date this invocation ran counts as one run of the plan's last job.
	last := plan.Jobs[len(plan.Jobs)-1]
	for _, d := range res.Dates {
		if d.Skip != "" || d.FinishedAt.IsZero() {
			continue
		}
		var dateErr error
		if d.Status == jobs.DateFailed {
			dateErr = errors.New(d.Error)
		}
		mf.add(last, d.FinishedAt.Sub(d.StartedAt), d.FinishedAt, schedule.Outcome{}, dateErr)
	}
	return mf.write(err)
}

// parsePlan turns the backfill flags into a plan; every mistake is a usage error.
func parsePlan(from, to, every, jobList string) (jobs.BackfillPlan, error) {
	var pl jobs.BackfillPlan
	if from == "" || to == "" {
		return pl, usagef("backfill needs --from and --to (dates like 2026-01-31)")
	}
	var err error
	if pl.From, err = time.Parse(time.DateOnly, from); err != nil {
		return pl, usagef("--from %q is not a date like 2026-01-31", from)
	}
	if pl.To, err = time.Parse(time.DateOnly, to); err != nil {
		return pl, usagef("--to %q is not a date like 2026-12-31", to)
	}
	pl.Every = every
	for _, j := range strings.Split(jobList, ",") {
		if j = strings.TrimSpace(j); j != "" {
			pl.Jobs = append(pl.Jobs, j)
		}
	}
	if err := pl.Validate(); err != nil {
		return pl, usageError{err}
	}
	return pl, nil
}

// isTerminal reports whether w is a character device (an interactive terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newProgress reports each date as it starts and ends: on a terminal a bar redrawn in place
// with the dates done, the elapsed time and an estimate of the time left
// (schollz/progressbar), failed dates also getting a line of their own; one plain line per
// event otherwise.
func newProgress(w io.Writer, tty bool) func(done, total int, s jobs.DateStatus) {
	var bar *progressbar.ProgressBar
	return func(done, total int, s jobs.DateStatus) {
		if !tty {
			line := fmt.Sprintf("backfill %d/%d %s %s", done, total, s.AsOf, s.Status)
			if s.Status != jobs.DateRunning {
				line += fmt.Sprintf(" (run %s, %.1fs)", s.RunID, s.Seconds())
			}
			if s.Error != "" {
				line += ": " + oneLine(errors.New(s.Error))
			}
			fmt.Fprintln(w, line)
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetTheme(progressbar.ThemeASCII),
				progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(),
				progressbar.OptionSetElapsedTime(true),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionShowElapsedTimeOnFinish(),
				progressbar.OptionSetRenderBlankState(true),
				progressbar.OptionUseANSICodes(true),
			)
		}
		if s.Status == jobs.DateFailed {
			bar.Clear()
			fmt.Fprintf(w, "\r\033[K%s failed: %s\n", s.AsOf, truncate(oneLine(errors.New(s.Error)), 200))
		}
		bar.Describe(s.AsOf + " " + s.Status)
		bar.Set(done)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// printPlan prints what a dry run found: which dates would run and which would be skipped.
func printPlan(w io.Writer, lakeURL string, res *jobs.BackfillResult) {
	run := 0
	for _, s := range res.Dates {
		if s.Skip == "" {
			run++
		}
	}
	fmt.Fprintf(w, "Backfill %s in %s: %d of %d dates would run (dry run: nothing written)\n", res.ID, lakeURL, run, len(res.Dates))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  as_of\taction\tstatus now\twhy")
	for _, s := range res.Dates {
		action, why := "run", ""
		if s.Skip != "" {
			action, why = "skip", s.Skip
		} else if s.Status == jobs.DateFailed {
			why = "failed last time: " + truncate(oneLine(errors.New(s.Error)), 80)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.AsOf, action, s.Status, why)
	}
	tw.Flush()
}

// printBackfill prints the summary table of a backfill: one line per date of the plan.
func printBackfill(w io.Writer, res *jobs.BackfillResult) {
	counts := map[string]int{}
	for _, s := range res.Dates {
		counts[s.Status]++
	}
	fmt.Fprintf(w, "Backfill %s: %d published, %d failed, %d pending (status in backfills/%s/)\n",
		res.ID, counts[jobs.DatePublished], counts[jobs.DateFailed], counts[jobs.DatePending]+counts[jobs.DateRunning], res.ID)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  as_of\tstatus\taccount_segments\tseconds\trun\terror")
	for _, s := range res.Dates {
		status, rows, secs, msg := s.Status, "", "", truncate(oneLine(errors.New(s.Error)), 80)
		if s.Skip != "" {
			status = "skipped (" + s.Status + ")"
		}
		if s.Status == jobs.DatePublished {
			rows = thousands(s.Rows)
		}
		if s.Seconds() > 0 {
			secs = fmt.Sprintf("%.1f", s.Seconds())
		}
		if s.Error == "" {
			msg = ""
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", s.AsOf, status, rows, secs, s.RunID, msg)
	}
	tw.Flush()
}
