package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// A mistyped date in the future is refused before anything is written: it would publish an
// empty release that every later nightly sits behind. --allow-future lets it through.
func TestFutureAsOfIsRefused(t *testing.T) {
	lakeDir := t.TempDir()
	cfg := "../../config/segpipe.yaml"
	soon := time.Now().AddDate(0, 0, 3).Format(time.DateOnly) // past tomorrow in every zone
	for _, args := range [][]string{
		{"run", "nightly", "--as-of", "2031-01-01"},
		{"run", "segment", "--as-of", soon},
		{"run", "ingest", "--as-of", "2031-01-01"},
		{"backfill", "--from", "2026-11-01", "--to", "2031-01-01"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, append(args, "--config", cfg, "--lake", lakeDir)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", code, exitUsage, errOut)
			}
			for _, want := range []string{"is after today", "--allow-future"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q lacks %q", errOut, want)
				}
			}
		})
	}
	if entries, err := os.ReadDir(lakeDir); err != nil || len(entries) != 0 {
		t.Errorf("a refused run wrote to the lake: %v %v", entries, err)
	}
	// Allowed, the run goes ahead (and fails for the reason a run on an empty lake fails).
	code, _, errOut := runCLI(t, "run", "segment", "--as-of", "2031-01-01", "--allow-future", "--config", cfg, "--lake", lakeDir, "--log-level", "error")
	if code != exitFailed || !strings.Contains(errOut, "nothing landed") {
		t.Errorf("with --allow-future: exit %d, stderr %q; want the run to start", code, errOut)
	}
	// Today is not the future.
	today := time.Now().UTC().Format(time.DateOnly) // the config zone is UTC
	code, _, errOut = runCLI(t, "run", "segment", "--as-of", today, "--config", cfg, "--lake", lakeDir, "--log-level", "error")
	if code != exitFailed || strings.Contains(errOut, "after today") {
		t.Errorf("as of today: exit %d, stderr %q; want the run to start", code, errOut)
	}
}
