package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/schedule"
	"github.com/segpipe/segpipe/jobs"
)

// cmdServe runs the configured schedules until SIGTERM or SIGINT (ctx cancelled), then shuts
// down gracefully and returns nil (exit 0).
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "segpipe serve [--config FILE] [--lake URL] [--log-level L]", stdout)
	file := fs.String("config", defaultConfigPath(), "config file (or $SEGPIPE_CONFIG)")
	lakeURL := fs.String("lake", "", "lake path or URL, overriding the config's lake")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments, got %q", fs.Args())
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*file)
	if err != nil {
		return err
	}
	if len(cfg.Schedule) == 0 {
		return usagef("serve: %s has no schedule (add schedule.ingest and/or schedule.segment)", cfg.File)
	}
	base, err := buildParams(ctx, cfg, "", *lakeURL, logger, time.Now())
	if err != nil {
		return err
	}
	opts := serveOptions(cfg, base)
	svc, err := schedule.New(opts)
	if err != nil {
		return usageError{err}
	}
	logger.Info("segpipe serve starting", "version", version, "config", cfg.File, "lake", base.Lake.URL(),
		"address", cfg.Serve.Address, "timezone", cfg.Location().String())
	return svc.Run(ctx)
}

// serveOptions wires the real jobs, with base's config, lake, logger and cache, into the
// scheduler's options.
func serveOptions(cfg *config.Config, base jobs.Params) schedule.Options {
	params := func(r schedule.Run) jobs.Params {
		p := base
		p.AsOf, p.RunID = r.AsOf, r.RunID
		return p
	}
	opts := schedule.Options{
		Schedule: cfg.Schedule,
		Jobs: map[string]schedule.JobFunc{
			jobs.JobIngest: func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
				res, err := jobs.Ingest(ctx, params(r))
				return ingestOutcome(res), err
			},
			jobs.JobSegment: func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
				_, err := jobs.Segment(ctx, params(r))
				return schedule.Outcome{}, err
			},
			// Sync writes whatever release is published when it fires: schedule it after
			// segment; a night whose segment failed resends nothing (the release is synced).
			jobs.JobSync: func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
				_, err := jobs.Sync(ctx, params(r), jobs.SyncOptions{})
				return schedule.Outcome{}, err
			},
		},
		Location:      cfg.Location(),
		Retries:       *cfg.Serve.Retries,
		RetryBackoff:  cfg.Serve.RetryBackoff.D(),
		ShutdownGrace: cfg.Serve.ShutdownGrace.D(),
		Address:       cfg.Serve.Address,
		Ready: func(ctx context.Context) error {
			_, err := base.Lake.Stat(ctx, "marts/_published.json")
			if err != nil && !errors.Is(err, lake.ErrNotExist) {
				return err
			}
			return nil
		},
		IngestSucceeded: func(ctx context.Context, asOf string) (bool, error) {
			return ingestSucceeded(ctx, base.Lake, asOf)
		},
		Logger:   base.Logger,
		NewRunID: jobs.NewRunID,
		Version:  version,
		Datasets: configuredDatasets(cfg),
	}
	if u := cfg.Notify.WebhookURL.Reveal(); u != "" {
		opts.Notifier = schedule.NewNotifier(u, cfg.Notify.Timeout.D(), nil)
	}
	return opts
}

// configuredDatasets lists every source/entity of the config, for counters at 0 from the start.
func configuredDatasets(cfg *config.Config) [][2]string {
	var out [][2]string
	for _, s := range cfg.SourceNames() {
		for _, e := range cfg.Sources[s].EntityNames() {
			out = append(out, [2]string{s, e})
		}
	}
	return out
}

// ingestOutcome reports an ingest's landed manifests to the scheduler's metrics.
func ingestOutcome(res *jobs.IngestResult) schedule.Outcome {
	var out schedule.Outcome
	if res == nil {
		return out
	}
	for _, m := range res.Datasets {
		out.Datasets = append(out.Datasets, schedule.Landed{Source: m.Source, Entity: m.Entity, Rows: m.Rows, Quarantined: m.Quarantined})
	}
	return out
}

// ingestSucceeded tells whether a run record (runs/<run_id>.json) shows an ingest of asOf that
// succeeded. Run ids start with their UTC start time, and an ingest of asOf starts on asOf's
// day or later in any zone, so only records from that day on are read.
func ingestSucceeded(ctx context.Context, store lake.Store, asOf string) (bool, error) {
	d, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		return false, err
	}
	from := d.Format("20060102")
	objs, err := store.List(ctx, "runs/")
	if err != nil {
		return false, fmt.Errorf("list run records: %w", err)
	}
	for _, o := range objs {
		name := strings.TrimSuffix(strings.TrimPrefix(o.Key, "runs/"), ".json")
		if len(name) < len(from) || name[:len(from)] < from || !strings.HasSuffix(o.Key, ".json") {
			continue
		}
		b, err := lake.GetBytes(ctx, store, o.Key)
		if err != nil {
			return false, err
		}
		var rec jobs.RunRecord
		if json.Unmarshal(b, &rec) != nil {
			continue // not a run record
		}
		if rec.Job == jobs.JobIngest && rec.AsOf == asOf && rec.Status == "succeeded" {
			return true, nil
		}
	}
	return false, nil
}
