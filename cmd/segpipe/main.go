// Command segpipe pulls CRM, billing and support exports into a lake, computes customer
// segments with DuckDB and publishes them for BI tools. Run `segpipe --help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/schedule"
	"github.com/segpipe/segpipe/jobs"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// usageError marks bad usage or bad config: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

const mainUsage = `segpipe: B2B SaaS customer segmentation, as a batch ETL job.

Usage:
  segpipe demo [flags]             run the whole pipeline on a synthetic company, print the segments
  segpipe run <job> [flags]        run a job: ingest, segment or nightly (ingest then segment)
  segpipe serve [flags]            run the configured schedules, with health and metrics endpoints
  segpipe backfill [flags]         run segment (or ingest,segment) as of each date from --from to --to
  segpipe runs [flags]             list run records, newest first
  segpipe status [flags]           last success per job, the published pointer, the next scheduled runs
  segpipe rollback --to D --reason R  publish an earlier kept release again (--list shows them)
  segpipe report [flags]           write report.html (charts of the segments) for a published date
  segpipe config check [flags]     validate a config file
  segpipe bench [flags]            time the nightly path on a synthetic company against its floors
  segpipe docs [flags]             write the data docs: model graph, tables, columns, assertions (one HTML file)
  segpipe version                  print the version

Run 'segpipe <command> --help' for a command's flags.
Exit codes: 0 ok, 1 the run failed, 2 bad usage or bad config.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, stdout, stderr)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, new(usageError)), errors.As(err, new(*config.Error)):
		fmt.Fprintln(stderr, "segpipe: "+oneLine(err))
		return exitUsage
	case errors.As(err, new(*lake.LeaseHeldError)):
		fmt.Fprintln(stderr, "segpipe: "+leaseConflict(err))
		return exitFailed
	default:
		fmt.Fprintln(stderr, "segpipe: "+oneLine(err))
		return exitFailed
	}
}

// leaseConflict is the one-line reason a run did not start: who holds its lease and until when.
func leaseConflict(err error) string {
	var held *lake.LeaseHeldError
	errors.As(err, &held)
	hint := "rerun after it finishes, or set lease.on_conflict: wait"
	if held.Waited > 0 {
		hint = "it is still running; raise lease.wait_timeout or rerun later"
	}
	return oneLine(err) + " (" + hint + ")"
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage)
		return usagef("no command given")
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, mainUsage)
		return nil
	case "version", "--version":
		fmt.Fprintln(stdout, "segpipe", version)
		return nil
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "backfill":
		return cmdBackfill(ctx, args[1:], stdout, stderr)
	case "runs":
		return cmdRuns(ctx, args[1:], stdout, stderr)
	case "status":
		return cmdStatus(ctx, args[1:], stdout, stderr)
	case "rollback":
		return cmdRollback(ctx, args[1:], stdout, stderr)
	case "report":
		return cmdReport(ctx, args[1:], stdout, stderr)
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "config":
		return cmdConfig(ctx, args[1:], stdout, stderr)
	case "bench":
		return cmdBench(ctx, args[1:], stdout, stderr)
	case "docs":
		return cmdDocs(ctx, args[1:], stdout, stderr)
	case "bench-serve":
		return cmdBenchServe(ctx, args[1:], stdout, stderr)
	default:
		return usagef("unknown command %q (commands: demo, run, backfill, serve, runs, status, rollback, report, docs, config check, bench, version)", args[0])
	}
}

// newFlags makes a flag set whose --help prints usage to stdout and whose errors are usage errors.
func newFlags(name, synopsis string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: %s\n\nFlags:\n", synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	// Allow flags after positional arguments: `segpipe run segment --as-of 2026-01-01`.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err // Parse printed the usage (fs.Usage) already
			}
			return usagef("%s: %v (see --help)", fs.Name(), err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	// Re-parse positionals into the set's Args.
	return fs.Parse(append([]string{"--"}, positional...))
}

func cmdConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, "Usage: segpipe config check [--config FILE] [--crm]")
			return nil
		}
		return usagef("config: the only subcommand is 'check' (segpipe config check --config FILE)")
	}
	fs := newFlags("config check", "segpipe config check [--config FILE] [--crm]", stdout)
	file := fs.String("config", defaultConfigPath(), "config file to validate")
	crm := fs.Bool("crm", false, "also ask the CRM of sync.target, read-only, whether every mapped field exists or can be created")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("config check takes no arguments, got %q", fs.Args())
	}
	cfg, err := loadConfig(*file)
	if err != nil {
		return err
	}
	// Build every model on empty landings of the configured types: what a run would fail on
	// with a DuckDB Binder Error fails here, naming the config key and the SQL file.
	notBuilt, err := jobs.CheckModels(context.Background(), cfg, os.TempDir())
	if err != nil {
		return err
	}
	entities := 0
	for _, s := range cfg.Sources {
		entities += len(s.Entities)
	}
	fmt.Fprintf(stdout, "%s: ok (%d sources, %d entities, lake %s, currency %s)\n", *file, len(cfg.Sources), entities, cfg.Lake, cfg.Currency)
	printNotBuilt(stdout, notBuilt)
	if *crm {
		return checkCRM(ctx, cfg, stdout)
	}
	return nil
}

func defaultConfigPath() string {
	if p := os.Getenv("SEGPIPE_CONFIG"); p != "" {
		return p
	}
	return "config/segpipe.yaml"
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "segpipe run <ingest|segment|nightly|sync> [--as-of YYYY-MM-DD] [--config FILE] [--lake URL] [--full-refresh] [--allow-stale] [--allow-future] [--dry-run] [--force] [--metrics-file FILE.prom]", stdout)
	asOfFlag := fs.String("as-of", "", "the date the run describes (default: yesterday in the config's time zone)")
	file := fs.String("config", defaultConfigPath(), "config file (or $SEGPIPE_CONFIG)")
	lakeURL := fs.String("lake", "", "lake path or URL, overriding the config's lake")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	fullRefresh := fs.Bool("full-refresh", false, "ingest: pull incremental entities whole, ignoring their saved cursors")
	allowStale := fs.Bool("allow-stale", false, "segment: compute from the newest landings even when they are older than --as-of (recorded in the run record and _published.json)")
	metricsPath := metricsFileFlag(fs)
	allowFuture := fs.Bool("allow-future", false, "run even when --as-of is after today in the config's time zone (refused without it: a typo would publish an empty release every later nightly sits behind)")
	dryRun := fs.Bool("dry-run", false, "sync: print what would change in the CRM (counts and a sample) and write nothing")
	forceSync := fs.Bool("force", false, "sync: send even when more than sync.max_changed_share of the synced records would change")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("run needs exactly one job (%s)", strings.Join(jobs.Names, ", "))
	}
	job := fs.Arg(0)
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*file)
	if err != nil {
		return err
	}
	p, err := buildParams(ctx, cfg, *asOfFlag, *lakeURL, logger, time.Now())
	if err != nil {
		return err
	}
	p.FullRefresh = *fullRefresh
	p.AllowStale = *allowStale
	p.AllowFuture = *allowFuture
	if err := jobs.CheckAsOf(cfg, p.AsOf, time.Now(), p.AllowFuture); err != nil {
		return usageError{fmt.Errorf("--as-of: %w", err)}
	}
	if !slices.Contains(jobs.Names, job) {
		return usagef("unknown job %q (jobs: %s)", job, strings.Join(jobs.Names, ", "))
	}
	if (*dryRun || *forceSync) && job != jobs.JobSync {
		return usagef("--dry-run and --force are sync flags (segpipe run sync --dry-run)")
	}
	if job == jobs.JobSync && *asOfFlag != "" {
		return usagef("sync writes the published release; it takes no --as-of (segpipe status shows which is published)")
	}
	mf, err := openMetricsFile(*metricsPath, cfg)
	if err != nil {
		return err
	}
	started := time.Now()
	switch job {
	case jobs.JobSync:
		res, err := jobs.Sync(ctx, p, jobs.SyncOptions{DryRun: *dryRun, Force: *forceSync})
		if res != nil {
			printSync(stdout, res)
		}
		if !*dryRun {
			mf.add(jobs.JobSync, time.Since(started), time.Now(), schedule.Outcome{}, err)
		}
		return mf.write(err)
	case jobs.JobIngest:
		res, err := jobs.Ingest(ctx, p)
		if res != nil {
			printIngest(stdout, res.Datasets)
		}
		mf.add(jobs.JobIngest, time.Since(started), time.Now(), ingestOutcome(res), err)
		return mf.write(err)
	case jobs.JobSegment:
		res, err := jobs.Segment(ctx, p)
		if res != nil {
			printSegment(stdout, p, res)
		}
		mf.add(jobs.JobSegment, time.Since(started), time.Now(), schedule.Outcome{}, err)
		return mf.write(err)
	default: // nightly
		res, err := jobs.Nightly(ctx, p)
		if res.Ingest != nil {
			printIngest(stdout, res.Ingest.Datasets)
		}
		if res.Segment != nil {
			printSegment(stdout, p, res.Segment)
		}
		// Nightly runs segment only after ingest succeeded.
		ingestErr, ingestTook := err, time.Since(started)
		if res.Segment != nil {
			ingestErr = nil
			if res.Ingest != nil {
				ingestTook = res.Ingest.Duration
			}
		}
		mf.add(jobs.JobIngest, ingestTook, started.Add(ingestTook), ingestOutcome(res.Ingest), ingestErr)
		if res.Segment != nil {
			mf.add(jobs.JobSegment, time.Since(started)-ingestTook, time.Now(), schedule.Outcome{}, err)
		}
		return mf.write(err)
	}
}

// buildParams resolves the as_of date and the lake for a run.
func buildParams(ctx context.Context, cfg *config.Config, asOfFlag, lakeURL string, logger *slog.Logger, now time.Time) (jobs.Params, error) {
	asOf := now.In(cfg.Location()).AddDate(0, 0, -1)
	if asOfFlag != "" {
		d, err := time.Parse(time.DateOnly, asOfFlag)
		if err != nil {
			return jobs.Params{}, usagef("--as-of %q is not a date like 2026-11-01", asOfFlag)
		}
		asOf = d
	}
	asOf = time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC)
	if lakeURL == "" {
		lakeURL = cfg.Lake
	}
	store, err := lake.Open(ctx, lakeURL, lake.Options{CredentialsFile: cfg.GCS.CredentialsFile})
	if errors.Is(err, lake.ErrBadLakeURL) {
		return jobs.Params{}, usageError{err}
	}
	if err != nil {
		return jobs.Params{}, err // the lake is configured right but could not be opened: a failed run
	}
	return jobs.Params{Config: cfg, Lake: store, AsOf: asOf, RunID: jobs.NewRunID(now), Logger: logger, Cache: lake.NewCache(cfg.GCS.CacheDir)}, nil
}

// newLogger logs JSON when stderr is not a terminal; on a terminal, a line per model built
// and per landing for people watching (termHandler) and slog's text lines for the rest.
// Durations are logged in one unit, seconds as a float, whatever a call site passes.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	terminal := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	return newLoggerFor(w, level, terminal)
}

func newLoggerFor(w io.Writer, level string, terminal bool) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: durationsInSeconds}
	if terminal {
		return slog.New(newTermHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

// durationsInSeconds makes a time.Duration attribute a float number of seconds.
func durationsInSeconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key, a.Value.Duration().Seconds())
	}
	return a
}

// demoConfig loads --config, or the embedded demo config when none is given.
func demoConfig(file string, env config.LookupEnv) (*config.Config, error) {
	if file != "" {
		return config.LoadWith(file, env)
	}
	return config.Parse(defaultconfig.DemoName, defaultconfig.DemoYAML, env)
}

// loadConfig loads --config; a missing file is a usage error.
func loadConfig(file string) (*config.Config, error) {
	cfg, err := config.Load(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, usagef("config file %s not found (give --config FILE)", file)
	}
	return cfg, err
}
