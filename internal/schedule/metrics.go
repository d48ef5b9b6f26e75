package schedule

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// durationBuckets are the upper bounds (seconds) of the run duration histogram.
var durationBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	count  uint64
}

// metrics holds what /metrics exposes, in the Prometheus text format.
type metrics struct {
	mu          sync.Mutex
	jobs        []string
	runs        map[[2]string]uint64 // job, status
	failures    map[[2]string]uint64 // job, reason
	durations   map[string]*histogram
	landed      map[[2]string]int64 // source, entity
	quarantined map[[2]string]int64
	lastSuccess map[string]time.Time
}

func newMetrics(jobs []string) *metrics {
	m := &metrics{
		jobs: jobs, runs: map[[2]string]uint64{}, failures: map[[2]string]uint64{},
		durations: map[string]*histogram{}, landed: map[[2]string]int64{}, quarantined: map[[2]string]int64{},
		lastSuccess: map[string]time.Time{},
	}
	for _, j := range jobs {
		m.durations[j] = &histogram{counts: make([]uint64, len(durationBuckets))}
		for _, st := range []string{StatusSucceeded, StatusFailed, StatusSkipped} {
			m.runs[[2]string{j, st}] = 0
		}
	}
	return m
}

func (m *metrics) attempt(job string, d time.Duration, out Outcome) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.durations[job]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(durationBuckets))}
		m.durations[job] = h
	}
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
		m.landed[k] += ds.Rows
		m.quarantined[k] += ds.Quarantined
	}
}

func (m *metrics) finished(job, status string) {
	m.mu.Lock()
	m.runs[[2]string{job, status}]++
	m.mu.Unlock()
}

func (m *metrics) failure(job, reason string) {
	m.mu.Lock()
	m.failures[[2]string{job, reason}]++
	m.mu.Unlock()
}

func (m *metrics) succeeded(job string, at time.Time) {
	m.mu.Lock()
	m.lastSuccess[job] = at
	m.mu.Unlock()
}

// write renders every metric; next gives each job's next scheduled time.
func (m *metrics) write(w io.Writer, next func(job string) time.Time, up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	header := func(name, typ, help string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	header("segpipe_scheduler_up", "gauge", "1 while the scheduler is running and taking runs.")
	fmt.Fprintf(w, "segpipe_scheduler_up %s\n", boolNum(up))

	header("segpipe_runs_total", "counter", "Scheduled runs by job and final status (after retries): succeeded, failed or skipped.")
	for _, k := range sortedPairs(m.runs) {
		fmt.Fprintf(w, "segpipe_runs_total{job=%s,status=%s} %d\n", q(k[0]), q(k[1]), m.runs[k])
	}
	header("segpipe_failures_total", "counter", "Failed run attempts by job and reason (error, lease_conflict, audit_failed, panic, cancelled).")
	for _, k := range sortedPairs(m.failures) {
		fmt.Fprintf(w, "segpipe_failures_total{job=%s,reason=%s} %d\n", q(k[0]), q(k[1]), m.failures[k])
	}
	header("segpipe_run_duration_seconds", "histogram", "Duration of run attempts by job.")
	jobs := make([]string, 0, len(m.durations))
	for j := range m.durations {
		jobs = append(jobs, j)
	}
	sort.Strings(jobs)
	for _, j := range jobs {
		h := m.durations[j]
		var cum uint64
		for i, b := range durationBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "segpipe_run_duration_seconds_bucket{job=%s,le=%s} %d\n", q(j), q(num(b)), cum)
		}
		fmt.Fprintf(w, "segpipe_run_duration_seconds_bucket{job=%s,le=\"+Inf\"} %d\n", q(j), h.count)
		fmt.Fprintf(w, "segpipe_run_duration_seconds_sum{job=%s} %s\n", q(j), num(h.sum))
		fmt.Fprintf(w, "segpipe_run_duration_seconds_count{job=%s} %d\n", q(j), h.count)
	}
	header("segpipe_rows_landed_total", "counter", "Rows landed by ingest runs, by source and entity.")
	for _, k := range sortedPairs(m.landed) {
		fmt.Fprintf(w, "segpipe_rows_landed_total{source=%s,entity=%s} %d\n", q(k[0]), q(k[1]), m.landed[k])
	}
	header("segpipe_rows_quarantined_total", "counter", "Records quarantined by ingest runs, by source and entity.")
	for _, k := range sortedPairs(m.quarantined) {
		fmt.Fprintf(w, "segpipe_rows_quarantined_total{source=%s,entity=%s} %d\n", q(k[0]), q(k[1]), m.quarantined[k])
	}
	header("segpipe_last_success_timestamp_seconds", "gauge", "Unix time the job last succeeded (0: not since the service started).")
	for _, j := range m.jobs {
		var v float64
		if t, ok := m.lastSuccess[j]; ok {
			v = float64(t.UnixMilli()) / 1000
		}
		fmt.Fprintf(w, "segpipe_last_success_timestamp_seconds{job=%s} %s\n", q(j), num(v))
	}
	header("segpipe_next_run_timestamp_seconds", "gauge", "Unix time the job is next scheduled (0: not scheduled now).")
	for _, j := range m.jobs {
		var v int64
		if t := next(j); !t.IsZero() {
			v = t.Unix()
		}
		fmt.Fprintf(w, "segpipe_next_run_timestamp_seconds{job=%s} %d\n", q(j), v)
	}
}

func sortedPairs[V any](m map[[2]string]V) [][2]string {
	keys := make([][2]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	return keys
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// q quotes a label value for the text format.
func q(s string) string { return `"` + labelEscaper.Replace(s) + `"` }

func num(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func boolNum(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
