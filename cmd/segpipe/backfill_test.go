package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/jobs"
)

const demoConfigFile = "../../config/segpipe.yaml"

func TestBackfillUsageErrors(t *testing.T) {
	lakeDir := t.TempDir()
	base := []string{"backfill", "--config", demoConfigFile, "--lake", lakeDir}
	cases := []struct {
		args   []string
		stderr string
	}{
		{nil, "needs --from and --to"},
		{[]string{"--from", "2026-01-31"}, "needs --from and --to"},
		{[]string{"--from", "2026-02-30", "--to", "2026-03-31"}, `--from "2026-02-30" is not a date`},
		{[]string{"--from", "2026-01-31", "--to", "31/12/2026"}, `--to "31/12/2026" is not a date`},
		{[]string{"--from", "2026-03-01", "--to", "2026-01-01"}, "--from 2026-03-01 is after --to 2026-01-01"},
		{[]string{"--from", "2026-01-01", "--to", "2026-03-01", "--every", "fortnight"}, `unknown step "fortnight"`},
		{[]string{"--from", "2026-01-01", "--to", "2026-03-01", "--jobs", "nightly"}, `job "nightly" cannot be backfilled`},
		{[]string{"--from", "2026-01-01", "--to", "2026-03-01", "--parallel", "0"}, "--parallel must be at least 1"},
		{[]string{"--from", "2026-01-01", "--to", "2026-03-01", "--force", "--only-failed"}, "contradict"},
		{[]string{"--from", "2026-01-01", "--to", "2026-03-01", "extra"}, "takes no arguments"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, append(append([]string{}, base...), c.args...)...)
			if code != exitUsage || !strings.Contains(errOut, c.stderr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, c.stderr)
			}
		})
	}
	if code, _, errOut := runCLI(t, "runs", "--job", "nightly", "--config", demoConfigFile, "--lake", lakeDir); code != exitUsage {
		t.Errorf("runs --job nightly: exit %d (%s)", code, errOut)
	}
	if code, out, _ := runCLI(t, "backfill", "--help"); code != 0 || !strings.Contains(out, "--only-failed") {
		t.Errorf("backfill --help: exit %d, %q", code, out)
	}
	if code, out, _ := runCLI(t, "runs", "--config", demoConfigFile, "--lake", lakeDir); code != 0 || !strings.Contains(out, "No runs") {
		t.Errorf("runs on an empty lake: exit %d, %q", code, out)
	}
	if entries, _ := os.ReadDir(lakeDir); len(entries) != 0 {
		t.Errorf("usage errors wrote to the lake: %v", entries)
	}
}

// On a lake the demo filled: a backfill prints its summary table, a dry run its plan, and
// runs and status show what ran.
func TestBackfillRunsAndStatusCommands(t *testing.T) {
	lakeDir := t.TempDir()
	code, out, errOut := runCLI(t, "demo", "--accounts", "200", "--lake", lakeDir, "--log-level", "error")
	if code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	m := regexp.MustCompile(`as of (\d{4}-\d\d-\d\d), run (\S+),`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo output lacks its as_of: %s", out)
	}
	demoAsOf, _ := time.Parse(time.DateOnly, m[1])
	demoRun := m[2]
	to := time.Date(demoAsOf.Year(), demoAsOf.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	from := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	d1, d2 := from.Format(time.DateOnly), to.Format(time.DateOnly)
	args := []string{"backfill", "--from", d1, "--to", d2, "--every", "month", "--config", demoConfigFile, "--lake", lakeDir, "--log-level", "error"}

	prom := filepath.Join(t.TempDir(), "segpipe.prom")
	code, out, errOut = runCLI(t, append(args, "--metrics-file", prom)...)
	if code != 0 {
		t.Fatalf("backfill: exit %d: %s", code, errOut)
	}
	// The metrics file counts each date run as a segment run.
	metrics := readProm(t, prom)
	if metrics[`segpipe_runs_total{job="segment",status="succeeded"}`] != 2 || metrics[`segpipe_run_duration_seconds_count{job="segment"}`] != 2 ||
		metrics[`segpipe_last_success_timestamp_seconds{job="segment"}`] < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("backfill metrics file: %v", metrics)
	}
	for _, want := range []string{"Backfill " + d1 + "_" + d2 + "_month_segment: 2 published, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`as_of\s+status\s+account_segments\s+seconds\s+run\s+error`).MatchString(out) {
		t.Errorf("summary has no table header:\n%s", out)
	}
	for _, d := range []string{d1, d2} {
		if !regexp.MustCompile(d + `\s+published\s+\d+\s+[\d.]+\s+\d{8}T`).MatchString(out) {
			t.Errorf("summary has no published line for %s:\n%s", d, out)
		}
		if !strings.Contains(errOut, d+" published (run ") {
			t.Errorf("progress (not a terminal) lacks a plain line for %s:\n%s", d, errOut)
		}
	}

	// A dry run of the same plan skips both dates and writes nothing.
	before := lakeKeys(t, lakeDir)
	code, out, _ = runCLI(t, append(args, "--dry-run")...)
	if code != 0 || !strings.Contains(out, "0 of 2 dates would run") || strings.Count(out, "skip") != 2 || !strings.Contains(out, "published by run") {
		t.Errorf("dry run: exit %d:\n%s", code, out)
	}
	if after := lakeKeys(t, lakeDir); after != before {
		t.Errorf("the dry run wrote to the lake")
	}

	code, out, errOut = runCLI(t, "runs", "--config", demoConfigFile, "--lake", lakeDir)
	if code != 0 {
		t.Fatalf("runs: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "run ") {
		t.Fatalf("runs: want a header and 4 runs (demo ingest and segment, 2 backfilled):\n%s", out)
	}
	// Newest first: the backfill's second date, its first, then the demo's segment and ingest.
	for i, want := range []string{d2, d1, m[1], m[1]} {
		if !strings.Contains(lines[i+1], want) || !strings.Contains(lines[i+1], "succeeded") {
			t.Errorf("runs line %d %q lacks %s", i+1, lines[i+1], want)
		}
	}
	if !strings.Contains(lines[3], demoRun+"-segment") || !strings.Contains(lines[4], demoRun+"-ingest") {
		t.Errorf("demo runs not last:\n%s", out)
	}
	code, out, _ = runCLI(t, "runs", "--job", "ingest", "--last", "1", "--config", demoConfigFile, "--lake", lakeDir)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 || !strings.Contains(lines[1], demoRun+"-ingest") {
		t.Errorf("runs --job ingest --last 1: exit %d:\n%s", code, out)
	}

	code, out, errOut = runCLI(t, "status", "--config", demoConfigFile, "--lake", lakeDir)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Published: as_of " + m[1] + ", run " + demoRun + "-segment",
		"(0 2 * * *)", "(30 2 * * *)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`ingest\s+` + m[1] + `\s+` + demoRun + `-ingest`).MatchString(out) {
		t.Errorf("status: ingest's last success is not the demo's:\n%s", out)
	}
	if !regexp.MustCompile(`segment\s+` + d2 + `\s+`).MatchString(out) {
		t.Errorf("status: segment's last success is not the newest backfilled run:\n%s", out)
	}
}

func lakeKeys(t *testing.T, dir string) string {
	t.Helper()
	s, err := lake.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, o := range objs {
		b.WriteString(o.Key + "\n")
	}
	return b.String()
}

// The next scheduled run is computed in the config's time zone.
func TestStatusNextRunInTheConfigZone(t *testing.T) {
	cfg, err := config.Load(demoConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timezone = "Europe/Paris"
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	runs := []jobs.RunRecord{
		{RunID: "r2", Job: "segment", AsOf: "2026-11-21", Status: "failed", Error: "boom", StartedAt: time.Date(2026, 11, 22, 2, 30, 0, 0, time.UTC)},
		{RunID: "r1", Job: "segment", AsOf: "2026-11-20", Status: "succeeded", StartedAt: time.Date(2026, 11, 21, 2, 30, 0, 0, time.UTC), FinishedAt: time.Date(2026, 11, 21, 2, 31, 0, 0, time.UTC)},
	}
	var out bytes.Buffer
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	st, err := lakeStatus(context.Background(), cfg, store, runs, now)
	if err != nil {
		t.Fatal(err)
	}
	printStatus(&out, st)
	if len(st.Problems) != 1 || !strings.Contains(st.Problems[0], "the last segment run r2 (as_of 2026-11-21) failed: boom") {
		t.Errorf("problems: %q", st.Problems)
	}
	for _, want := range []string{
		"2026-11-24 02:00 CET (0 2 * * *)",
		"2026-11-24 02:30 CET (30 2 * * *)",
		"failed (as_of 2026-11-21)",
		"Published: nothing yet",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	if !regexp.MustCompile(`segment\s+2026-11-20\s+r1\s+2026-11-21 02:31 UTC`).MatchString(out.String()) {
		t.Errorf("status: segment's last success:\n%s", out.String())
	}
	if !regexp.MustCompile(`ingest\s+never`).MatchString(out.String()) {
		t.Errorf("status: ingest never ran:\n%s", out.String())
	}
}

func TestBackfillProgress(t *testing.T) {
	events := []jobs.DateStatus{
		{AsOf: "2026-01-31", Status: jobs.DateRunning},
		{AsOf: "2026-01-31", Status: jobs.DatePublished, RunID: "r1", StartedAt: time.Unix(0, 0), FinishedAt: time.Unix(2, 0)},
		{AsOf: "2026-02-28", Status: jobs.DateFailed, RunID: "r2", Error: "segment: assert_known_currencies\nfailed"},
	}
	var plain, tty bytes.Buffer
	p1, p2 := newProgress(&plain, false), newProgress(&tty, true)
	for i, e := range events {
		done := min(i, 2)
		p1(done, 2, e)
		p2(done, 2, e)
	}
	want := "backfill 0/2 2026-01-31 running\n" +
		"backfill 1/2 2026-01-31 published (run r1, 2.0s)\n" +
		"backfill 2/2 2026-02-28 failed (run r2, 0.0s): segment: assert_known_currencies failed\n"
	if plain.String() != want {
		t.Errorf("plain progress:\n%q\nwant\n%q", plain.String(), want)
	}
	// The terminal's bar: dates done, the elapsed time and the estimate of the time left
	// ([elapsed:left]), the date and its state; a failed date also on a line of its own.
	got := tty.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`2026-01-31 running +0% \[\.{30}\] \(0/2\) \[\d+s:\d+s\]`),
		regexp.MustCompile(`2026-01-31 published +50% \[=+>\.+\] \(1/2\) \[\d+s:\d+s\]`),
		regexp.MustCompile(`\r\x1b\[K2026-02-28 failed: segment: assert_known_currencies failed\n`),
		regexp.MustCompile(`2026-02-28 failed 100% \[={30}\] \(2/2\) \[\d+s\]`),
	} {
		if !want.MatchString(got) {
			t.Errorf("terminal progress %q lacks %s", got, want)
		}
	}
}
