package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/jobs"
)

// `segpipe runs --show RUN` prints one run from its record: every model in build order with
// its rows and seconds (the figures of the record), a landing per entity for an ingest, and
// the assertions; an unknown run id is an error naming it.
func TestRunsShow(t *testing.T) {
	lakeDir := t.TempDir()
	if code, _, errOut := runCLI(t, "demo", "--accounts", "200", "--lake", lakeDir, "--log-level", "error"); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	code, out, errOut := runCLI(t, "runs", "--config", demoConfigFile, "--lake", lakeDir, "--json")
	if code != 0 {
		t.Fatalf("runs --json: %d %s", code, errOut)
	}
	var runs []jobs.RunRecord
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		t.Fatal(err)
	}
	var seg, ing *jobs.RunRecord
	for i := range runs {
		switch runs[i].Job {
		case jobs.JobSegment:
			seg = &runs[i]
		case jobs.JobIngest:
			ing = &runs[i]
		}
	}
	if seg == nil || ing == nil || len(seg.Models) < 20 || len(ing.Datasets) == 0 {
		t.Fatalf("demo's runs: %+v", runs)
	}

	code, out, errOut = runCLI(t, "runs", "--config", demoConfigFile, "--lake", lakeDir, "--show", seg.RunID)
	if code != 0 {
		t.Fatalf("runs --show: %d %s", code, errOut)
	}
	n := len(seg.Models)
	for i, m := range seg.Models {
		line := regexp.MustCompile(fmt.Sprintf(`(?m)^%d of %d\s+%s\s+%s\s+%.3f\s+[\d.]+%%$`, i+1, n, m.Name, regexp.QuoteMeta(thousands(m.Rows)), m.Seconds))
		if !line.MatchString(out) {
			t.Errorf("no line for model %d %s (%d rows, %.3f s):\n%s", i+1, m.Name, m.Rows, m.Seconds, out)
			break
		}
	}
	for _, want := range []string{"Run " + seg.RunID + ": segment as of " + seg.AsOf + ", succeeded", "transform", fmt.Sprintf("%d models, ", n),
		fmt.Sprintf("assertions: %d passed, 0 warned, 0 failed", len(seg.Assertions))} {
		if !strings.Contains(out, want) {
			t.Errorf("--show lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runCLI(t, "runs", "--config", demoConfigFile, "--lake", lakeDir, "--show", ing.RunID)
	if code != 0 {
		t.Fatalf("runs --show ingest: %d", code)
	}
	for _, d := range ing.Datasets {
		line := regexp.MustCompile(fmt.Sprintf(`(?m)^%s/%s\s+%d\s+%s\s+%s\s`, d.Source, d.Entity, d.Pages, regexp.QuoteMeta(thousands(d.Rows)), regexp.QuoteMeta(thousands(d.Quarantined))))
		if !line.MatchString(out) {
			t.Errorf("no landing line for %s/%s:\n%s", d.Source, d.Entity, out)
		}
	}

	code, out, _ = runCLI(t, "runs", "--config", demoConfigFile, "--lake", lakeDir, "--show", seg.RunID, "--json")
	var one jobs.RunRecord
	if code != 0 || json.Unmarshal([]byte(out), &one) != nil || one.RunID != seg.RunID || len(one.Models) != n {
		t.Errorf("--show --json: exit %d, %.200s", code, out)
	}
	for _, bad := range []string{"20991231T000000Z-000000-segment", "../runs/x"} {
		code, _, errOut = runCLI(t, "runs", "--config", demoConfigFile, "--lake", lakeDir, "--show", bad)
		if code == 0 || !strings.Contains(errOut, bad) {
			t.Errorf("--show %s: exit %d, %s", bad, code, errOut)
		}
	}
}
