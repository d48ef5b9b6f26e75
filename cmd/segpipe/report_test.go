package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
)

// Every published release carries report.html (and latest/ shows it); `segpipe report`
// writes one for the published date from the release and for a backfilled date from its
// history partitions, and refuses a date nothing was published for.
func TestReportCommand(t *testing.T) {
	lakeDir := t.TempDir()
	code, out, errOut := runCLI(t, "demo", "--accounts", "300", "--lake", lakeDir, "--log-level", "error")
	if code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	latest := filepath.Join(lakeDir, lake.LatestDir, lake.ReportName)
	if !strings.Contains(out, "The report, to open in a browser: file://"+latest) {
		t.Errorf("the demo does not print where the report is:\n%s", out)
	}
	s, err := lake.NewFileStore(lakeDir)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := lake.ReadPublished(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(pub.Files) != 1 || pub.Files[0].Key != pub.Release+"/"+lake.ReportName || pub.Files[0].Bytes < 50_000 {
		t.Fatalf("the publication does not name its report: %+v", pub.Files)
	}
	published, err := os.ReadFile(latest)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(published), "Run "+pub.RunID) || !regexp.MustCompile(`Audit: (\d+) of (\d+) assertions passed`).Match(published) {
		t.Errorf("latest/report.html does not name its run and audit")
	}

	// The published date, from its release.
	dir := t.TempDir()
	file := filepath.Join(dir, "now.html")
	code, out, errOut = runCLI(t, "report", "--lake", lakeDir, "--config", demoConfigFile, "--out", file)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Report as of "+pub.AsOf+" ("+pub.Release+", 21 tables)") || !strings.Contains(out, "10 sections, 18 charts") {
		t.Errorf("report output:\n%s", out)
	}
	again, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The same page as the run's own report, but for when it was generated and from where.
	strip := regexp.MustCompile(`generated [^<·]*|· (this run|from releases/[^ ]*) ·`)
	if strip.ReplaceAllString(string(again), "") != strip.ReplaceAllString(string(published), "") {
		t.Errorf("segpipe report and the run's report differ for the same release")
	}

	// A backfilled older date: history only, the report comes from its partitions.
	asOf, _ := time.Parse(time.DateOnly, pub.AsOf)
	old := time.Date(asOf.Year(), asOf.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1).Format(time.DateOnly)
	code, _, errOut = runCLI(t, "backfill", "--from", old, "--to", old, "--config", demoConfigFile, "--lake", lakeDir, "--log-level", "error")
	if code != 0 {
		t.Fatalf("backfill: exit %d: %s", code, errOut)
	}
	file = filepath.Join(dir, "old.html")
	code, out, errOut = runCLI(t, "report", "--as-of", old, "--lake", lakeDir, "--config", demoConfigFile, "--out", file)
	if code != 0 {
		t.Fatalf("report --as-of %s: exit %d: %s", old, code, errOut)
	}
	if !strings.Contains(out, "Report as of "+old+" (history, 21 tables)") {
		t.Errorf("report of the backfilled date:\n%s", out)
	}
	b, _ := os.ReadFile(file)
	if !strings.Contains(string(b), "Customer segments as of "+old) || !strings.Contains(string(b), "from the history partitions of "+old) {
		t.Errorf("the backfilled date's report does not say what it is of")
	}

	// Nothing published that day; and a mistyped date.
	code, _, errOut = runCLI(t, "report", "--as-of", "2020-01-31", "--lake", lakeDir, "--config", demoConfigFile, "--out", filepath.Join(dir, "none.html"))
	if code != exitFailed || !strings.Contains(errOut, "nothing published as of 2020-01-31") {
		t.Errorf("report of an unpublished date: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "report", "--as-of", "2026-13-01", "--lake", lakeDir)
	if code != exitUsage || !strings.Contains(errOut, `--as-of "2026-13-01" is not a date`) {
		t.Errorf("report of a mistyped date: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.html")); err == nil {
		t.Errorf("a refused report wrote a file")
	}
}
