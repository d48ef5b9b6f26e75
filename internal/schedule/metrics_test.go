package schedule_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/segpipe/segpipe/internal/schedule"
)

// Every counter is there at 0 before the first run, so an alert on
// increase(segpipe_failures_total[1h]) sees the first failure after a restart; the Go and
// process collectors and the build info come with it.
func TestMetricsArePresentFromTheStart(t *testing.T) {
	noop := func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) { return schedule.Outcome{}, nil }
	s, _, _ := newService(t, schedule.Options{
		Version:  "v1.2.3",
		Jobs:     map[string]schedule.JobFunc{"ingest": noop, "segment": noop},
		Datasets: [][2]string{{"crm", "accounts"}, {"support", "tickets"}},
	})
	m := scrape(t, s.Handler())
	for _, job := range []string{"ingest", "segment"} {
		for _, reason := range []string{"error", "lease_conflict", "audit_failed", "panic", "cancelled"} {
			if v, ok := m[`segpipe_failures_total{job="`+job+`",reason="`+reason+`"}`]; !ok || v != 0 {
				t.Errorf("failures_total{%s,%s} = %v (present %v) before any run, want 0", job, reason, v, ok)
			}
		}
		for _, status := range []string{"succeeded", "failed", "skipped"} {
			if v, ok := m[`segpipe_runs_total{job="`+job+`",status="`+status+`"}`]; !ok || v != 0 {
				t.Errorf("runs_total{%s,%s} = %v (present %v), want 0", job, status, v, ok)
			}
		}
		if v, ok := m[`segpipe_run_duration_seconds_count{job="`+job+`"}`]; !ok || v != 0 {
			t.Errorf("run_duration_seconds_count{%s} = %v (present %v), want 0", job, v, ok)
		}
		if v, ok := m[`segpipe_last_success_timestamp_seconds{job="`+job+`"}`]; !ok || v != 0 {
			t.Errorf("last_success{%s} = %v (present %v), want 0", job, v, ok)
		}
	}
	if v, ok := m[`segpipe_rows_landed_total{entity="tickets",source="support"}`]; !ok || v != 0 {
		t.Errorf("rows_landed_total of a configured entity = %v (present %v), want 0", v, ok)
	}
	if m[`segpipe_build_info{goversion="`+runtime.Version()+`",version="v1.2.3"}`] != 1 {
		t.Errorf("no build info for v1.2.3: %v", keys(m, "segpipe_build_info"))
	}
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes", "segpipe_scheduler_up"} {
		if _, ok := m[name]; !ok {
			t.Errorf("%s missing from /metrics", name)
		}
	}
}

// A one-shot run writes the same families to a textfile for the node exporter; the next
// invocation carries its counters, histogram and last success forward.
func TestMetricsFileCarriesCountersAcrossRuns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "segpipe.prom")
	for i, fail := range []bool{false, true, false} {
		m := schedule.NewMetrics([]string{"ingest"}, [][2]string{{"crm", "accounts"}})
		if err := m.LoadFile(file); err != nil {
			t.Fatal(err)
		}
		m.Attempt("ingest", time.Duration(2+i*100)*time.Second, schedule.Outcome{Datasets: []schedule.Landed{{Source: "crm", Entity: "accounts", Rows: 10, Quarantined: 1}}})
		if fail {
			m.Failure("ingest", schedule.Classify(errors.New("boom")))
			m.Finished("ingest", schedule.StatusFailed)
		} else {
			m.Finished("ingest", schedule.StatusSucceeded)
			m.Succeeded("ingest", time.Unix(1_800_000_000+int64(i), 0))
		}
		if err := m.WriteFile(file, "v9"); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("metrics file: %v, mode %v (the node exporter reads it as another user)", err, st.Mode())
	}
	f, _ := os.Open(file)
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	val := func(name string, labels ...string) float64 {
		t.Helper()
		fam, ok := fams[name]
		if !ok {
			t.Fatalf("%s missing", name)
		}
	next:
		for _, mt := range fam.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				found := false
				for _, l := range mt.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				if !found {
					continue next
				}
			}
			switch {
			case mt.Counter != nil:
				return mt.GetCounter().GetValue()
			case mt.Gauge != nil:
				return mt.GetGauge().GetValue()
			case mt.Histogram != nil:
				return float64(mt.GetHistogram().GetSampleCount())
			}
		}
		t.Fatalf("%s%v missing", name, labels)
		return 0
	}
	checks := []struct {
		got, want float64
		what      string
	}{
		{val("segpipe_runs_total", "job", "ingest", "status", "succeeded"), 2, "succeeded runs"},
		{val("segpipe_runs_total", "job", "ingest", "status", "failed"), 1, "failed runs"},
		{val("segpipe_failures_total", "job", "ingest", "reason", "error"), 1, "failures"},
		{val("segpipe_failures_total", "job", "ingest", "reason", "audit_failed"), 0, "audit failures"},
		{val("segpipe_run_duration_seconds", "job", "ingest"), 3, "duration samples"},
		{val("segpipe_rows_landed_total", "source", "crm", "entity", "accounts"), 30, "rows landed"},
		{val("segpipe_rows_quarantined_total", "source", "crm", "entity", "accounts"), 3, "rows quarantined"},
		{val("segpipe_last_success_timestamp_seconds", "job", "ingest"), 1_800_000_002, "last success"},
		{val("segpipe_build_info", "version", "v9"), 1, "build info"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	h := fams["segpipe_run_duration_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleSum() != 2+102+202 {
		t.Errorf("duration sum %v, want 306", h.GetSampleSum())
	}
	for _, b := range h.GetBucket() {
		want := map[float64]uint64{1: 0, 5: 1, 120: 2, 300: 3}[b.GetUpperBound()]
		if _, ok := map[float64]uint64{1: 0, 5: 1, 120: 2, 300: 3}[b.GetUpperBound()]; ok && b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	if _, ok := fams["go_goroutines"]; ok {
		t.Error("a finished process's file carries Go runtime metrics")
	}
	// A file that is not the text format is an error naming it, not silently reset counters.
	if err := os.WriteFile(file, []byte("not metrics {{{\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := schedule.NewMetrics(nil, nil).LoadFile(file); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("corrupt metrics file: %v", err)
	}
}

func keys(m map[string]float64, prefix string) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}
