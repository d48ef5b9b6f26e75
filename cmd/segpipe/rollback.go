package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/jobs"
)

const rollbackSynopsis = `segpipe rollback --to <as_of | run id | release> --reason TEXT [--config FILE] [--lake URL]
       segpipe rollback --list [--config FILE] [--lake URL]`

func cmdRollback(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rollback", rollbackSynopsis, stdout)
	to := fs.String("to", "", "the kept release to publish again: an as_of date (its newest release), a run id, or a release name")
	reason := fs.String("reason", "", "why (required with --to): recorded in the run record and marts/_published.json")
	list := fs.Bool("list", false, "list the kept releases a rollback can go back to, and write nothing")
	file := fs.String("config", defaultConfigPath(), "config file (or $SEGPIPE_CONFIG)")
	lakeURL := fs.String("lake", "", "lake path or URL, overriding the config's lake")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("rollback takes no arguments, got %q (give the release with --to)", fs.Args())
	}
	if *list == (*to != "") {
		return usagef("rollback needs --to <as_of | run id | release> (or --list to see the kept releases)")
	}
	if *to != "" && strings.TrimSpace(*reason) == "" {
		return usagef("rollback --to needs --reason: it is recorded with the rollback for whoever looks next")
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
	if *list {
		return printReleases(ctx, stdout, p.Lake)
	}
	res, err := jobs.Rollback(ctx, p, *to, *reason, jobs.Operator())
	if err != nil {
		return err
	}
	pub := res.Publication
	fmt.Fprintf(stdout, "Rolled back to as_of %s, run %s (%s), from as_of %s, run %s.\n", pub.AsOf, pub.RunID, pub.Release, pub.Rollback.FromAsOf, pub.Rollback.FromRunID)
	fmt.Fprintf(stdout, "Recorded as run %s, by %s: %s\n", res.RunID, pub.Rollback.By, pub.Rollback.Reason)
	if len(res.NewerHistory) > 0 {
		fmt.Fprintf(stdout, "History partitions after %s are kept (marts/<table>/as_of=...): %s. A run reads the newest one before its own as_of as its previous tier and segment state: rerun those dates (segpipe backfill --force) or remove them if they are wrong.\n",
			pub.AsOf, strings.Join(res.NewerHistory, ", "))
	}
	return nil
}

// printReleases lists the kept releases, newest first, marking the published one.
func printReleases(ctx context.Context, w io.Writer, s lake.Store) error {
	releases, err := lake.Releases(ctx, s)
	if err != nil {
		return err
	}
	if len(releases) == 0 {
		fmt.Fprintf(w, "No releases in %s.\n", s.URL())
		return nil
	}
	current := ""
	if pub, err := lake.ReadPublished(ctx, s); err == nil {
		current = pub.Release
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tas_of\trun\tpublished\taccount_segments\trelease")
	for i := len(releases) - 1; i >= 0; i-- {
		r := releases[i]
		mark, rows := "", ""
		if r.Key == current {
			mark = "*"
		}
		for _, t := range r.Publication.Tables {
			if t.Name == "account_segments" {
				rows = thousands(t.Rows)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, r.Publication.AsOf, r.Publication.RunID, r.Publication.PublishedAt.UTC().Format("2006-01-02 15:04 UTC"), rows, r.Key)
	}
	tw.Flush()
	fmt.Fprintln(w, "* published now; segpipe rollback --to <as_of | run> --reason TEXT publishes another")
	return nil
}
