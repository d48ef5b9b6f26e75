package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/schedule"
	"github.com/segpipe/segpipe/jobs"
)

// metricsFileFlag adds --metrics-file to a one-shot command (run, backfill).
func metricsFileFlag(fs *flag.FlagSet) *string {
	return fs.String("metrics-file", "", "write the run's metrics (the families `serve` exposes on /metrics) to this file for the node exporter's textfile collector (name it *.prom; counters carry on from the file)")
}

// metricsFile records one-shot runs in the metrics file path names (nothing when path is ""):
// it carries on from what the file already holds, and is written after each run, succeeded or
// failed, atomically (schedule.Metrics.WriteFile).
type metricsFile struct {
	path string
	m    *schedule.Metrics
}

func openMetricsFile(path string, cfg *config.Config) (*metricsFile, error) {
	if path == "" {
		return &metricsFile{}, nil
	}
	if !strings.HasSuffix(path, ".prom") {
		return nil, usagef("--metrics-file %s: the node exporter's textfile collector reads only *.prom files", path)
	}
	m := schedule.NewMetrics([]string{jobs.JobIngest, jobs.JobSegment}, configuredDatasets(cfg))
	if err := m.LoadFile(path); err != nil {
		return nil, err
	}
	return &metricsFile{path: path, m: m}, nil
}

// add counts a run of job that took d, finished at finished and ended with err (landing what
// out says).
func (f *metricsFile) add(job string, d time.Duration, finished time.Time, out schedule.Outcome, err error) {
	if f.path == "" {
		return
	}
	f.m.Attempt(job, d, out)
	if err == nil {
		f.m.Finished(job, schedule.StatusSucceeded)
		f.m.Succeeded(job, finished)
	} else {
		f.m.Failure(job, schedule.Classify(err))
		f.m.Finished(job, schedule.StatusFailed)
	}
}

// write rewrites the file; runErr is the run's own error, which wins: a metrics file that
// could not be written then only adds to the message.
func (f *metricsFile) write(runErr error) error {
	if f.path == "" {
		return runErr
	}
	err := f.m.WriteFile(f.path, version)
	switch {
	case err == nil:
		return runErr
	case runErr == nil:
		return err
	default:
		return fmt.Errorf("%w (and %v)", runErr, err)
	}
}
