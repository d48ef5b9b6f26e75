package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/jobs"
)

// Every subcommand's --help prints its usage once, to stdout, and exits 0.
func TestHelpPrintsUsageOnce(t *testing.T) {
	for _, cmd := range [][]string{{"run"}, {"backfill"}, {"runs"}, {"status"}, {"rollback"}, {"report"}, {"docs"}, {"serve"}, {"demo"}, {"bench"}, {"config", "check"}} {
		for _, flag := range []string{"--help", "-h"} {
			code, out, errOut := runCLI(t, append(cmd, flag)...)
			if code != 0 || strings.Count(out, "Usage:") != 1 || errOut != "" {
				t.Errorf("%v %s: exit %d, %d usages on stdout, stderr %q:\n%s", cmd, flag, code, strings.Count(out, "Usage:"), errOut, out)
			}
		}
	}
}

func putRecord(t *testing.T, s lake.Store, r jobs.RunRecord) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := lake.PutBytes(context.Background(), s, "runs/"+r.RunID+".json", b); err != nil {
		t.Fatal(err)
	}
}

// status exits 1 when the last run of a job failed, for shell and monitoring use; --check
// prints only the problems; runs and status take --json.
func TestStatusExitCodeCheckAndJSON(t *testing.T) {
	dir := t.TempDir()
	s, err := lake.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := []string{"--config", "../../config/segpipe.yaml", "--lake", dir}
	t0 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	putRecord(t, s, jobs.RunRecord{RunID: "20261201T020000Z-aaaaaa-ingest", Job: "ingest", AsOf: "2026-11-30", Status: "succeeded", StartedAt: t0, FinishedAt: t0.Add(time.Minute)})
	putRecord(t, s, jobs.RunRecord{RunID: "20261201T020000Z-aaaaaa-segment", Job: "segment", AsOf: "2026-11-30", Status: "succeeded", StartedAt: t0.Add(2 * time.Minute), FinishedAt: t0.Add(3 * time.Minute)})

	// All well but nothing published: status exits 0, status --check 1.
	if code, out, errOut := runCLI(t, append([]string{"status"}, cfg...)...); code != 0 || !strings.Contains(out, "Published: nothing yet") {
		t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ := runCLI(t, append([]string{"status", "--check"}, cfg...)...)
	if code != exitFailed || strings.TrimSpace(out) != "nothing is published yet (marts/_published.json)" {
		t.Fatalf("status --check with nothing published: exit %d, %q", code, out)
	}
	publishFake(t, s, "2026-11-30", "20261201T020000Z-aaaaaa-segment")
	if code, out, _ := runCLI(t, append([]string{"status", "--check"}, cfg...)...); code != 0 || out != "" {
		t.Fatalf("status --check when all is well: exit %d, %q", code, out)
	}

	// The next segment fails.
	putRecord(t, s, jobs.RunRecord{RunID: "20261202T020000Z-bbbbbb-segment", Job: "segment", AsOf: "2026-12-01", Status: "failed", Error: "segment: assertions failed:\n assert_x", StartedAt: t0.Add(24 * time.Hour), FinishedAt: t0.Add(25 * time.Hour)})
	code, out, errOut := runCLI(t, append([]string{"status"}, cfg...)...)
	if code != exitFailed || !strings.Contains(out, "Published: as_of 2026-11-30") || !strings.Contains(out, "Problem: the last segment run 20261202T020000Z-bbbbbb-segment (as_of 2026-12-01) failed: segment: assertions failed: assert_x") {
		t.Fatalf("status after a failure: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "status: the last segment run") {
		t.Errorf("stderr %q", errOut)
	}
	code, out, _ = runCLI(t, append([]string{"status", "--check"}, cfg...)...)
	if code != exitFailed || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "the last segment run 20261202T020000Z-bbbbbb-segment") {
		t.Fatalf("status --check after a failure: exit %d, %q", code, out)
	}

	// An abandoned run (killed; a later job found it dead) is a problem too, with its reason.
	putRecord(t, s, jobs.RunRecord{RunID: "20261202T010000Z-cccccc-ingest", Job: "ingest", AsOf: "2026-12-01", Status: jobs.RunAbandoned, AbandonedReason: "its lease ingest-2026-12-01 is gone", StartedAt: t0.Add(23 * time.Hour)})
	code, out, _ = runCLI(t, append([]string{"status", "--check"}, cfg...)...)
	if code != exitFailed || !strings.Contains(out, "the last ingest run 20261202T010000Z-cccccc-ingest (as_of 2026-12-01) abandoned: its lease ingest-2026-12-01 is gone") {
		t.Fatalf("status --check with an abandoned run: exit %d, %q", code, out)
	}
	if _, out, _ := runCLI(t, append([]string{"runs"}, cfg...)...); !strings.Contains(out, "abandoned") || !strings.Contains(out, "its lease ingest-2026-12-01 is gone") {
		t.Errorf("runs does not show the abandoned run:\n%s", out)
	}
	code, out, _ = runCLI(t, append([]string{"status", "--json"}, cfg...)...)
	var st Status
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != exitFailed {
		t.Fatalf("status --json: exit %d, %v\n%s", code, err, out)
	}
	if st.Published == nil || st.Published.AsOf != "2026-11-30" || len(st.Jobs) < 2 || st.Jobs[1].Job != "segment" ||
		st.Jobs[1].LastRun.Status != "failed" || st.Jobs[1].LastSuccess.RunID != "20261201T020000Z-aaaaaa-segment" || len(st.Problems) != 2 || st.Jobs[0].NextRun == nil {
		t.Fatalf("status --json: %+v", st)
	}

	code, out, _ = runCLI(t, append([]string{"runs", "--json", "--job", "segment"}, cfg...)...)
	var runs []jobs.RunRecord
	if err := json.Unmarshal([]byte(out), &runs); err != nil || code != 0 {
		t.Fatalf("runs --json: exit %d, %v\n%s", code, err, out)
	}
	if len(runs) != 2 || runs[0].RunID != "20261202T020000Z-bbbbbb-segment" || runs[0].Error == "" || runs[1].Status != "succeeded" {
		t.Fatalf("runs --json: %+v", runs)
	}
	if code, out, _ := runCLI(t, "runs", "--json", "--config", "../../config/segpipe.yaml", "--lake", t.TempDir()); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("runs --json on an empty lake: exit %d, %q", code, out)
	}
}

// Durations are logged as seconds (a float) in JSON and text alike, whatever the call site
// passed.
func TestLogDurationsAreSeconds(t *testing.T) {
	var buf strings.Builder
	log, err := newLogger(&buf, "debug")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("step", "seconds", 2.5, "wait", 1500*time.Millisecond, "grace", 5*time.Minute)
	var line map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if line["seconds"] != 2.5 || line["wait"] != 1.5 || line["grace"] != 300.0 {
		t.Errorf("durations not in seconds: %s", buf.String())
	}
}

// readProm parses a metrics file into "name{labels sorted}" -> value (histograms as _count).
func readProm(t *testing.T, path string) map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			sort.Strings(labels)
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[strings.Replace(key, name, name+"_count", 1)] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// segpipe run --metrics-file writes the run's outcome for the node exporter, failed runs too,
// carrying the counters on from the file.
func TestRunWritesItsMetricsFile(t *testing.T) {
	lakeDir := t.TempDir()
	prom := filepath.Join(t.TempDir(), "segpipe.prom")
	args := []string{"run", "segment", "--as-of", "2026-01-01", "--config", "../../config/segpipe.yaml", "--lake", lakeDir, "--log-level", "error", "--metrics-file", prom}
	for range 2 {
		if code, _, errOut := runCLI(t, args...); code != exitFailed || !strings.Contains(errOut, "nothing landed") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	}
	m := readProm(t, prom)
	for key, want := range map[string]float64{
		`segpipe_runs_total{job="segment",status="failed"}`:                       2,
		`segpipe_runs_total{job="segment",status="succeeded"}`:                    0,
		`segpipe_failures_total{job="segment",reason="error"}`:                    2,
		`segpipe_failures_total{job="ingest",reason="error"}`:                     0,
		`segpipe_run_duration_seconds_count{job="segment"}`:                       2,
		`segpipe_last_success_timestamp_seconds{job="segment"}`:                   0,
		`segpipe_rows_landed_total{entity="accounts",source="crm"}`:               0,
		`segpipe_build_info{goversion="` + runtime.Version() + `",version="dev"}`: 1,
	} {
		if got, ok := m[key]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	if code, _, errOut := runCLI(t, "run", "segment", "--metrics-file", filepath.Join(t.TempDir(), "m.txt"), "--config", "../../config/segpipe.yaml", "--lake", lakeDir); code != exitUsage || !strings.Contains(errOut, "*.prom") {
		t.Errorf("a metrics file not named *.prom: exit %d, %s", code, errOut)
	}
}
