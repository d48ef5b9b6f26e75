package schedule

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// durationBuckets are the upper bounds (seconds) of the run duration histogram: batch jobs of
// a second to two hours.
var durationBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200}

// reasons are the failure reasons Classify gives; segpipe_failures_total has each at 0 from
// the start, so an alert on its increase sees the first failure after a restart.
var reasons = []string{ReasonError, ReasonLeaseConflict, ReasonAuditFailed, ReasonPanic, ReasonCancelled}

// Metric names (docs/operations.md, "Ops endpoints").
const (
	metricUp          = "segpipe_scheduler_up"
	metricBuildInfo   = "segpipe_build_info"
	metricRuns        = "segpipe_runs_total"
	metricFailures    = "segpipe_failures_total"
	metricDuration    = "segpipe_run_duration_seconds"
	metricLanded      = "segpipe_rows_landed_total"
	metricQuarantined = "segpipe_rows_quarantined_total"
	metricLastSuccess = "segpipe_last_success_timestamp_seconds"
	metricNextRun     = "segpipe_next_run_timestamp_seconds"
)

var (
	descRuns = prometheus.NewDesc(metricRuns,
		"Runs by job and final status (after retries): succeeded, failed or skipped.", []string{"job", "status"}, nil)
	descFailures = prometheus.NewDesc(metricFailures,
		"Failed run attempts by job and reason (error, lease_conflict, audit_failed, panic, cancelled).", []string{"job", "reason"}, nil)
	descDuration = prometheus.NewDesc(metricDuration, "Duration of run attempts by job.", []string{"job"}, nil)
	descLanded   = prometheus.NewDesc(metricLanded, "Rows landed by ingest runs, by source and entity.", []string{"source", "entity"}, nil)
	descQuarant  = prometheus.NewDesc(metricQuarantined, "Records quarantined by ingest runs, by source and entity.", []string{"source", "entity"}, nil)
	descLast     = prometheus.NewDesc(metricLastSuccess, "Unix time the job last succeeded (0: never, as far as this process or its metrics file knows).", []string{"job"}, nil)
	descNext     = prometheus.NewDesc(metricNextRun, "Unix time the job is next scheduled (0: not scheduled now).", []string{"job"}, nil)
	descUp       = prometheus.NewDesc(metricUp, "1 while the scheduler is running and taking runs.", nil, nil)
)

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

// Metrics holds segpipe's run metrics. It is a prometheus.Collector of constant metrics over
// its own state, so the same families come from `segpipe serve` (/metrics, with the Go and
// process collectors) and from a one-shot `segpipe run` or `backfill` (--metrics-file, whose
// counters carry on from the file the previous invocation wrote).
type Metrics struct {
	mu          sync.Mutex
	jobs        []string
	runs        map[[2]string]float64 // job, status
	failures    map[[2]string]float64 // job, reason
	durations   map[string]*histogram
	landed      map[[2]string]float64 // source, entity
	quarantined map[[2]string]float64
	lastSuccess map[string]float64 // unix seconds

	// up and next, when set, add segpipe_scheduler_up and segpipe_next_run_timestamp_seconds
	// (a scheduler's); a one-shot run has neither.
	up   func() bool
	next func(job string) time.Time
}

// NewMetrics has every counter of jobs (and of the datasets, source/entity pairs) at 0.
func NewMetrics(jobs []string, datasets [][2]string) *Metrics {
	m := &Metrics{
		runs: map[[2]string]float64{}, failures: map[[2]string]float64{}, durations: map[string]*histogram{},
		landed: map[[2]string]float64{}, quarantined: map[[2]string]float64{}, lastSuccess: map[string]float64{},
	}
	for _, j := range jobs {
		m.addJob(j)
	}
	for _, d := range datasets {
		m.landed[d] += 0
		m.quarantined[d] += 0
	}
	return m
}

func (m *Metrics) addJob(job string) {
	for _, j := range m.jobs {
		if j == job {
			return
		}
	}
	m.jobs = append(m.jobs, job)
	sort.Strings(m.jobs)
	m.durations[job] = &histogram{counts: make([]uint64, len(durationBuckets))}
	for _, st := range []string{StatusSucceeded, StatusFailed, StatusSkipped} {
		m.runs[[2]string{job, st}] += 0
	}
	for _, r := range reasons {
		m.failures[[2]string{job, r}] += 0
	}
	m.lastSuccess[job] += 0
}

// Attempt records one run attempt of job: its duration and what it landed.
func (m *Metrics) Attempt(job string, d time.Duration, out Outcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addJob(job)
	h := m.durations[job]
	sec := d.Seconds()
	h.sum += sec
	h.count++
	for i, b := range durationBuckets {
		if sec <= b {
			h.counts[i]++
			break
		}
	}
	for _, ds := range out.Datasets {
		k := [2]string{ds.Source, ds.Entity}
		m.landed[k] += float64(ds.Rows)
		m.quarantined[k] += float64(ds.Quarantined)
	}
}

// Finished counts a run of job that ended (after its retries) with status.
func (m *Metrics) Finished(job, status string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addJob(job)
	m.runs[[2]string{job, status}]++
}

// Failure counts a failed attempt of job, by reason (Classify).
func (m *Metrics) Failure(job, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addJob(job)
	m.failures[[2]string{job, reason}]++
}

// Succeeded records when job last succeeded.
func (m *Metrics) Succeeded(job string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addJob(job)
	m.lastSuccess[job] = float64(at.UnixMilli()) / 1000
}

// Describe sends the descriptors of Collect's metrics (the families are fixed).
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRuns, descFailures, descDuration, descLanded, descQuarant, descLast} {
		ch <- d
	}
	if m.up != nil {
		ch <- descUp
	}
	if m.next != nil {
		ch <- descNext
	}
}

// Collect sends the current value of every metric.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.runs {
		ch <- prometheus.MustNewConstMetric(descRuns, prometheus.CounterValue, v, k[0], k[1])
	}
	for k, v := range m.failures {
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, v, k[0], k[1])
	}
	for job, h := range m.durations {
		buckets := make(map[float64]uint64, len(durationBuckets))
		var cum uint64
		for i, b := range durationBuckets {
			cum += h.counts[i]
			buckets[b] = cum
		}
		ch <- prometheus.MustNewConstHistogram(descDuration, h.count, h.sum, buckets, job)
	}
	for k, v := range m.landed {
		ch <- prometheus.MustNewConstMetric(descLanded, prometheus.CounterValue, v, k[0], k[1])
	}
	for k, v := range m.quarantined {
		ch <- prometheus.MustNewConstMetric(descQuarant, prometheus.CounterValue, v, k[0], k[1])
	}
	for job, v := range m.lastSuccess {
		ch <- prometheus.MustNewConstMetric(descLast, prometheus.GaugeValue, v, job)
	}
	if m.up != nil {
		v := 0.0
		if m.up() {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, v)
	}
	if m.next != nil {
		for _, job := range m.jobs {
			var v float64
			if t := m.next(job); !t.IsZero() {
				v = float64(t.Unix())
			}
			ch <- prometheus.MustNewConstMetric(descNext, prometheus.GaugeValue, v, job)
		}
	}
}

// Registry is a registry holding m and segpipe_build_info{version, goversion} (1); with
// process set, also the Go runtime and process collectors (what a long-running serve exposes;
// a metrics file of a finished process leaves them out).
func (m *Metrics) Registry(version string, process bool) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: metricBuildInfo, Help: "segpipe's version and the Go it was built with; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	info.Set(1)
	reg.MustRegister(info, m)
	if process {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return reg
}

// WriteFile writes m (and build info) to path in the Prometheus text format, for the node
// exporter's textfile collector: a temporary file in the same folder, renamed into place
// (mode 0644), so the collector never reads half a file. Name it *.prom.
func (m *Metrics) WriteFile(path, version string) error {
	if err := prometheus.WriteToTextfile(path, m.Registry(version, false)); err != nil {
		return fmt.Errorf("write metrics file %s: %w", path, err)
	}
	return nil
}

// LoadFile adds the counters, histograms and last-success times of a metrics file an earlier
// invocation wrote (WriteFile) to m, so a cron job's counters carry on across runs. A missing
// file is a first run: nothing is added.
func (m *Metrics) LoadFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read metrics file %s: %w", path, err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(f)
	if err != nil {
		return fmt.Errorf("read metrics file %s: %w (delete it to start the counters afresh)", path, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	label := func(mt *dto.Metric, name string) string {
		for _, l := range mt.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	for name, fam := range families {
		for _, mt := range fam.GetMetric() {
			job := label(mt, "job")
			if job != "" && name != metricLanded && name != metricQuarantined {
				m.addJob(job)
			}
			switch name {
			case metricRuns:
				m.runs[[2]string{job, label(mt, "status")}] += mt.GetCounter().GetValue()
			case metricFailures:
				m.failures[[2]string{job, label(mt, "reason")}] += mt.GetCounter().GetValue()
			case metricLanded:
				m.landed[[2]string{label(mt, "source"), label(mt, "entity")}] += mt.GetCounter().GetValue()
			case metricQuarantined:
				m.quarantined[[2]string{label(mt, "source"), label(mt, "entity")}] += mt.GetCounter().GetValue()
			case metricLastSuccess:
				if v := mt.GetGauge().GetValue(); v > m.lastSuccess[job] {
					m.lastSuccess[job] = v
				}
			case metricDuration:
				h := m.durations[job]
				hist := mt.GetHistogram()
				var prev uint64
				for _, b := range hist.GetBucket() {
					for i, le := range durationBuckets {
						if le == b.GetUpperBound() {
							h.counts[i] += b.GetCumulativeCount() - prev
						}
					}
					prev = b.GetCumulativeCount()
				}
				h.count += hist.GetSampleCount()
				h.sum += hist.GetSampleSum()
			}
		}
	}
	return nil
}
