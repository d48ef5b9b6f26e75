package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/fakes"
	"github.com/segpipe/segpipe/jobs"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "segpipe demo [--accounts N] [--seed N] [--lake DIR] [--as-of YYYY-MM-DD] [--config FILE (e.g. config/examples/hubspot.yaml)]", stdout)
	accounts := fs.Int("accounts", 5000, "accounts in the synthetic company")
	seed := fs.Uint64("seed", 1, "seed of the synthetic company (same seed, same company)")
	lakeURL := fs.String("lake", "", "lake path or URL (default: the config's, ./segpipe-data)")
	asOfFlag := fs.String("as-of", "", "the date the run describes (default: the day before the company's reference date)")
	file := fs.String("config", "", "config file (default: the embedded config/segpipe.yaml)")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo takes no arguments, got %q", fs.Args())
	}
	if *accounts < 10 {
		return usagef("--accounts must be at least 10, got %d", *accounts)
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}

	t0 := time.Now()
	// Load the config first with a placeholder URL to learn which CRM it uses, then serve
	// the company with account ids in that CRM's style and point ${SEGPIPE_DEMO_URL} at it.
	probe, err := demoConfig(*file, os.LookupEnv)
	if err != nil {
		return err
	}
	company := demo.Generate(demo.Options{Accounts: *accounts, Seed: *seed})
	srv, err := fakes.Start(company, fakes.StyleFor(probe))
	if err != nil {
		return fmt.Errorf("start the demo export servers: %w", err)
	}
	defer srv.Close()
	env := func(name string) (string, bool) {
		if name == "SEGPIPE_DEMO_URL" {
			return srv.URL, true
		}
		return os.LookupEnv(name)
	}
	cfg, err := demoConfig(*file, env)
	if err != nil {
		return err
	}
	if *asOfFlag == "" {
		*asOfFlag = company.AsOf().Format(time.DateOnly)
	}
	p, err := buildParams(ctx, cfg, *asOfFlag, *lakeURL, logger, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "segpipe demo: a synthetic SaaS company of %s accounts (seed %d), served on %s\n",
		thousands(int64(*accounts)), *seed, srv.URL)
	fmt.Fprintf(stdout, "as of %s, run %s, lake %s\n\n", p.AsOf.Format(time.DateOnly), p.RunID, p.Lake.URL())
	res, err := jobs.Nightly(ctx, p)
	if res.Ingest != nil {
		printIngest(stdout, res.Ingest.Datasets)
	}
	if res.Segment != nil {
		printSegment(stdout, p, res.Segment)
	}
	if err != nil {
		return err
	}
	if cfg.Sync.Target != "" {
		// What a sync would write to the demo's CRM: a dry run, nothing is written.
		sp := p
		sp.RunID = jobs.NewRunID(time.Now())
		sres, err := jobs.Sync(ctx, sp, jobs.SyncOptions{DryRun: true})
		fmt.Fprintln(stdout)
		if sres != nil {
			printSync(stdout, sres)
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nDone in %.1fs.\n", time.Since(t0).Seconds())
	return nil
}
