package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/crmsync"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

func cmdRuns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("runs", "segpipe runs [--job ingest|segment|sync|rollback] [--last N] [--show RUN] [--json] [--config FILE] [--lake URL]", stdout)
	job := fs.String("job", "", "only runs of this job (ingest, segment, sync or rollback)")
	last := fs.Int("last", 20, "show at most this many runs (0: all)")
	file := fs.String("config", defaultConfigPath(), "config file (or $SEGPIPE_CONFIG)")
	lakeURL := fs.String("lake", "", "lake path or URL, overriding the config's lake")
	asJSON := fs.Bool("json", false, "print the run records as a JSON array (newest first), as stored in runs/<run_id>.json")
	show := fs.String("show", "", "print one run in full: its stages, landings, and every model with its rows and seconds in build order (with --json: its record)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("runs takes no arguments, got %q", fs.Args())
	}
	if *show != "" {
		_, store, err := openLake(ctx, *file, *lakeURL)
		if err != nil {
			return err
		}
		r, err := jobs.ReadRun(ctx, store, *show)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, r)
		}
		printRun(stdout, r)
		return nil
	}
	if *job != "" && *job != jobs.JobIngest && *job != jobs.JobSegment && *job != jobs.JobRollback && *job != jobs.JobSync {
		return usagef("--job %q: run records are of ingest, segment, sync or rollback", *job)
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
	if *asJSON {
		if runs == nil {
			runs = []jobs.RunRecord{}
		}
		return writeJSON(stdout, runs)
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
		why := r.Error
		if r.Status == jobs.RunAbandoned {
			why = r.AbandonedReason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.RunID, r.Job, r.AsOf, r.Status,
			r.StartedAt.UTC().Format("2006-01-02 15:04:05"), secs, runRows(r), truncate(oneLine(errors.New(why)), 60))
	}
	tw.Flush()
}

// printRun prints one run record in full: what it was, its stages, its landings, its models
// in build order with their share of the models' time, and its assertions.
func printRun(w io.Writer, r *jobs.RunRecord) {
	fmt.Fprintf(w, "Run %s: %s as of %s, %s\n", r.RunID, r.Job, r.AsOf, r.Status)
	fmt.Fprintf(w, "  started %s", r.StartedAt.UTC().Format("2006-01-02 15:04:05"))
	if !r.FinishedAt.IsZero() {
		fmt.Fprintf(w, ", took %.1f s", r.FinishedAt.Sub(r.StartedAt).Seconds())
	}
	fmt.Fprintln(w)
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", oneLine(errors.New(r.Error)))
	}
	if r.Status == jobs.RunAbandoned {
		fmt.Fprintf(w, "  abandoned: %s\n", r.AbandonedReason)
	}
	if len(r.Stages) > 0 {
		names := make([]string, 0, len(r.Stages))
		for n := range r.Stages {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "stage\tseconds")
		for _, n := range names {
			fmt.Fprintf(tw, "%s\t%.2f\n", n, r.Stages[n])
		}
		tw.Flush()
	}
	if len(r.Datasets) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "landing\tpages\trows\tquarantined\tMB\tseconds")
		for _, d := range r.Datasets {
			secs := ""
			if s, ok := r.Stages["extract "+d.Source+"/"+d.Entity]; ok {
				secs = fmt.Sprintf("%.2f", s)
			}
			fmt.Fprintf(tw, "%s/%s\t%d\t%s\t%s\t%.1f\t%s\n", d.Source, d.Entity, d.Pages, thousands(d.Rows), thousands(d.Quarantined), float64(d.Bytes)/1e6, secs)
		}
		tw.Flush()
	}
	if len(r.Models) > 0 {
		var total float64
		for _, m := range r.Models {
			total += m.Seconds
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "n\tmodel\trows\tseconds\tshare")
		for i, m := range r.Models {
			share := ""
			if total > 0 {
				share = fmt.Sprintf("%.1f%%", 100*m.Seconds/total)
			}
			fmt.Fprintf(tw, "%d of %d\t%s\t%s\t%.3f\t%s\n", i+1, len(r.Models), m.Name, thousands(m.Rows), m.Seconds, share)
		}
		tw.Flush()
		fmt.Fprintf(w, "%d models, %.2f s in all\n", len(r.Models), total)
	}
	if len(r.Assertions) > 0 {
		count := map[string]int{}
		for _, a := range r.Assertions {
			count[a.Outcome]++
		}
		fmt.Fprintf(w, "\nassertions: %d passed, %d warned, %d failed\n", count[warehouse.Passed], count[warehouse.Warned], count[warehouse.Failed])
		for _, a := range r.Assertions {
			if a.Outcome != warehouse.Passed {
				fmt.Fprintf(w, "  %s %s: %d rows\n", a.Outcome, a.Name, a.Failures)
			}
		}
	}
	if s := syncExtra(r); s != nil {
		fmt.Fprintf(w, "\nsync to %s (%s) of %s\n", s.Target, s.Vendor, s.Release)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "records\tcreate\tupdate\tretry\tunchanged\tgone\tsent\tsynced\trejected\t")
		for _, obj := range []string{"account", "deal"} {
			if c := s.Objects[obj]; c != nil {
				fmt.Fprintf(tw, "%ss\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", obj, c.Create, c.Update, c.Retry, c.Unchanged, c.Gone, c.Sent, c.Synced, c.Rejected)
			}
		}
		tw.Flush()
		for _, o := range s.Rejections {
			fmt.Fprintf(w, "  rejected %s: %s\n", o.Key, o.Reason)
		}
		for _, sk := range s.Skipped {
			fmt.Fprintf(w, "  not written: %s\n", sk)
		}
	}
}

// syncRecord is a sync run's extra.sync, as runs/<run_id>.json holds it.
type syncRecord struct {
	Target     string                     `json:"target"`
	Vendor     string                     `json:"vendor"`
	Release    string                     `json:"release"`
	Objects    map[string]*crmsync.Counts `json:"objects"`
	Rejections []crmsync.Outcome          `json:"rejections"`
	Skipped    []string                   `json:"skipped"`
}

// syncExtra reads a run record's extra.sync; nil for other runs.
func syncExtra(r *jobs.RunRecord) *syncRecord {
	raw, ok := r.Extra["sync"]
	if !ok {
		return nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil
	}
	var s syncRecord
	if json.Unmarshal(b, &s) != nil {
		return nil
	}
	return &s
}

// runRows is a run's headline row count: account_segments for segment, rows landed for ingest.
func runRows(r jobs.RunRecord) string {
	if s := syncExtra(&r); s != nil { // a sync: the records the CRM took
		var n int64
		for _, c := range s.Objects {
			n += int64(c.Synced)
		}
		return thousands(n)
	}
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
	fs := newFlags("status", "segpipe status [--check] [--json] [--config FILE] [--lake URL]", stdout)
	file := fs.String("config", defaultConfigPath(), "config file (or $SEGPIPE_CONFIG)")
	lakeURL := fs.String("lake", "", "lake path or URL, overriding the config's lake")
	check := fs.Bool("check", false, "print only the problems, one per line (nothing when all is well); exit 1 if there are any, also when nothing is published yet")
	asJSON := fs.Bool("json", false, "print the status as one JSON object")
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
	st, err := lakeStatus(ctx, cfg, store, runs, time.Now())
	if err != nil {
		return err
	}
	problems := st.Problems
	if *check && st.Published == nil {
		problems = append(problems, "nothing is published yet ("+lake.PublishedKey+")")
	}
	switch {
	case *asJSON:
		st.Problems = problems
		if err := writeJSON(stdout, st); err != nil {
			return err
		}
	case *check:
		for _, p := range problems {
			fmt.Fprintln(stdout, p)
		}
	default:
		printStatus(stdout, st)
	}
	if len(problems) > 0 {
		return statusProblems{problems}
	}
	return nil
}

// statusProblems is the error `segpipe status` returns (exit 1) when the last run of a job
// failed or was abandoned: for shell and monitoring use.
type statusProblems struct{ list []string }

func (e statusProblems) Error() string {
	if len(e.list) == 1 {
		return "status: " + e.list[0]
	}
	return fmt.Sprintf("status: %d problems; first: %s", len(e.list), e.list[0])
}

// Status is what `segpipe status` reports (--json prints it as is).
type Status struct {
	Lake string      `json:"lake"`
	Jobs []JobStatus `json:"jobs"`
	// Published is marts/_published.json (without its file lists); nil before the first publish.
	Published *PublishedStatus `json:"published"`
	// Problems are the jobs whose last run failed or was abandoned.
	Problems []string `json:"problems"`
}

// JobStatus is one job's line of `segpipe status`.
type JobStatus struct {
	Job         string     `json:"job"`
	LastSuccess *RunRef    `json:"last_success"`
	LastRun     *RunRef    `json:"last_run"`
	Schedule    string     `json:"schedule,omitempty"`
	NextRun     *time.Time `json:"next_run,omitempty"`
}

// RunRef names a run in a status.
type RunRef struct {
	RunID      string     `json:"run_id"`
	AsOf       string     `json:"as_of"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// PublishedStatus is the published pointer, in short.
type PublishedStatus struct {
	AsOf        string             `json:"as_of"`
	RunID       string             `json:"run_id"`
	Release     string             `json:"release"`
	PublishedAt time.Time          `json:"published_at"`
	Rollback    *lake.RollbackInfo `json:"rollback,omitempty"`
}

func runRef(r *jobs.RunRecord) *RunRef {
	why := r.Error
	if r.Status == jobs.RunAbandoned {
		why = r.AbandonedReason
	}
	ref := &RunRef{RunID: r.RunID, AsOf: r.AsOf, Status: r.Status, StartedAt: r.StartedAt.UTC(), Error: oneLine(errors.New(why))}
	if !r.FinishedAt.IsZero() {
		f := r.FinishedAt.UTC()
		ref.FinishedAt = &f
	}
	return ref
}

// lakeStatus gathers, per job, the last success, the last run and the next scheduled run, and
// the published pointer.
func lakeStatus(ctx context.Context, cfg *config.Config, store lake.Store, runs []jobs.RunRecord, now time.Time) (*Status, error) {
	st := &Status{Lake: store.URL(), Problems: []string{}}
	names := []string{jobs.JobIngest, jobs.JobSegment}
	for name := range cfg.Schedule {
		if name != jobs.JobIngest && name != jobs.JobSegment {
			names = append(names, name)
		}
	}
	if _, scheduled := cfg.Schedule[jobs.JobSync]; cfg.Sync.Target != "" && !scheduled {
		names = append(names, jobs.JobSync) // run by hand: its last run still matters
	}
	sort.Strings(names[2:])
	for _, job := range names {
		js := JobStatus{Job: job}
		if r := jobs.LastSuccess(runs, job); r != nil {
			js.LastSuccess = runRef(r)
		}
		for i := range runs {
			if runs[i].Job == job {
				js.LastRun = runRef(&runs[i])
				break
			}
		}
		if r := js.LastRun; r != nil && (r.Status == "failed" || r.Status == "abandoned") {
			msg := fmt.Sprintf("the last %s run %s (as_of %s) %s", job, r.RunID, r.AsOf, r.Status)
			if r.Error != "" {
				msg += ": " + truncate(r.Error, 200)
			}
			st.Problems = append(st.Problems, msg)
		}
		if spec, ok := cfg.Schedule[job]; ok {
			sched, err := config.CronParser.Parse(spec)
			if err != nil {
				return nil, usagef("schedule.%s %q: %v", job, spec, err)
			}
			next := sched.Next(now.In(cfg.Location()))
			js.Schedule, js.NextRun = spec, &next
		}
		st.Jobs = append(st.Jobs, js)
	}
	pub, err := lake.ReadPublished(ctx, store)
	switch {
	case errors.Is(err, lake.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		st.Published = &PublishedStatus{AsOf: pub.AsOf, RunID: pub.RunID, Release: pub.Release, PublishedAt: pub.PublishedAt.UTC(), Rollback: pub.Rollback}
	}
	return st, nil
}

// printStatus prints a Status as tables for people.
func printStatus(w io.Writer, st *Status) {
	fmt.Fprintf(w, "Lake %s\n\n", st.Lake)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "job\tlast success as_of\trun\tfinished\tlast run\tnext scheduled")
	for _, js := range st.Jobs {
		asOf, runID, when, lastRun := "never", "", "", ""
		if r := js.LastSuccess; r != nil {
			asOf, runID = r.AsOf, r.RunID
			if r.FinishedAt != nil {
				when = r.FinishedAt.Format("2006-01-02 15:04 UTC")
			}
		}
		if r := js.LastRun; r != nil {
			lastRun = r.Status + " (as_of " + r.AsOf + ")"
		}
		next := "not scheduled"
		if js.NextRun != nil {
			next = js.NextRun.Format("2006-01-02 15:04 MST") + " (" + js.Schedule + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", js.Job, asOf, runID, when, lastRun, next)
	}
	tw.Flush()

	if pub := st.Published; pub == nil {
		fmt.Fprintf(w, "\nPublished: nothing yet (%s)\n", lake.PublishedKey)
	} else {
		fmt.Fprintf(w, "\nPublished: as_of %s, run %s, at %s (%s)\n", pub.AsOf, pub.RunID, pub.PublishedAt.Format("2006-01-02 15:04 UTC"), lake.PublishedKey)
		if rb := pub.Rollback; rb != nil {
			fmt.Fprintf(w, "Rolled back to it at %s by %s, from as_of %s, run %s (rollback run %s): %s\n",
				rb.At.UTC().Format("2006-01-02 15:04 UTC"), rb.By, rb.FromAsOf, rb.FromRunID, rb.RunID, rb.Reason)
		}
	}
	if len(st.Problems) > 0 {
		fmt.Fprintln(w)
		for _, p := range st.Problems {
			fmt.Fprintln(w, "Problem: "+p)
		}
	}
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
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
