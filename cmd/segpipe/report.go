package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/jobs"
)

const reportSynopsis = `segpipe report [--as-of YYYY-MM-DD] [--out FILE] [--config FILE] [--lake URL]`

// cmdReport writes report.html for a published as_of (the published one by default).
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", reportSynopsis, stdout)
	asOf := fs.String("as-of", "", "the published date to report on (default: the published one); any date a run or backfill published, kept release or not")
	out := fs.String("out", "", "the file to write (default: report-<as_of>.html in the current folder)")
	file := fs.String("config", defaultConfigPath(), "config file (or $SEGPIPE_CONFIG)")
	lakeURL := fs.String("lake", "", "lake path or URL, overriding the config's lake")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("report takes no arguments, got %q (give the date with --as-of)", fs.Args())
	}
	if *asOf != "" {
		if _, err := time.Parse(time.DateOnly, *asOf); err != nil {
			return usagef("--as-of %q is not a date (YYYY-MM-DD)", *asOf)
		}
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
	target := *out
	if target == "" {
		d := *asOf
		if d == "" {
			if pub, err := lake.ReadPublished(ctx, p.Lake); err == nil {
				d = pub.AsOf
			}
		}
		target = "report-" + d + ".html"
	}
	res, err := jobs.Report(ctx, p, *asOf, target)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(res.File)
	fmt.Fprintf(stdout, "Report as of %s (%s, %d tables): %s\n", res.AsOf, res.Source, res.Tables, abs)
	fmt.Fprintf(stdout, "  %d sections, %d charts", res.Summary.Sections, res.Summary.Charts)
	if n := len(res.Summary.NotBuilt); n > 0 {
		fmt.Fprintf(stdout, "; %d not in this run", n)
	}
	fmt.Fprintln(stdout)
	for _, nd := range res.Summary.NotDrawn {
		fmt.Fprintf(stdout, "  not drawn: %s\n", nd)
	}
	return nil
}
