package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodesAndMessages(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("currency: USD\nlake: x\nsourcez: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyLake := t.TempDir()
	cases := []struct {
		args   []string
		code   int
		stdout string // substring of stdout
		stderr string // substring of stderr
	}{
		{nil, 2, "", "no command given"},
		{[]string{"--help"}, 0, "segpipe demo", ""},
		{[]string{"version"}, 0, "segpipe dev", ""},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"demo", "--help"}, 0, "--accounts", ""},
		{[]string{"run", "--help"}, 0, "--as-of", ""},
		{[]string{"config", "check", "--help"}, 0, "--config", ""},
		{[]string{"config", "check", "--config", "../../config/segpipe.yaml"}, 0, "ok (4 sources, 6 entities", ""},
		{[]string{"config", "check", "--config", bad}, 2, "", "bad.yaml:3: sourcez: unknown key"},
		{[]string{"config", "check", "--config", "/nonexistent.yaml"}, 2, "", "not found"},
		{[]string{"config", "lint"}, 2, "", "only subcommand is 'check'"},
		{[]string{"run"}, 2, "", "exactly one job"},
		{[]string{"run", "bogus", "--config", "../../config/segpipe.yaml", "--lake", emptyLake}, 2, "", `unknown job "bogus"`},
		{[]string{"run", "segment", "--as-of", "2026-13-01", "--config", "../../config/segpipe.yaml"}, 2, "", "not a date"},
		{[]string{"run", "segment", "--no-such-flag"}, 2, "", "flag provided but not defined"},
		{[]string{"run", "segment", "--config", "../../config/segpipe.yaml", "--lake", emptyLake, "--as-of", "2026-01-01", "--log-level", "error"}, 1, "", "nothing landed (run the ingest job first)"},
		{[]string{"demo", "--accounts", "3"}, 2, "", "at least 10"},
		{[]string{"run", "segment", "--dry-run", "--config", "../../config/segpipe.yaml"}, 2, "", "--dry-run and --force are sync flags"},
		{[]string{"run", "sync", "--as-of", "2026-01-01", "--config", "../../config/examples/hubspot.yaml"}, 2, "", "takes no --as-of"},
		{[]string{"run", "sync", "--config", "../../config/segpipe.yaml", "--lake", emptyLake}, 1, "", "no sync.target configured"},
		{[]string{"run", "sync", "--dry-run", "--config", "../../config/examples/hubspot.yaml", "--lake", emptyLake}, 1, "", "nothing published"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.code, errOut)
			}
			if !strings.Contains(out, c.stdout) {
				t.Errorf("stdout %q lacks %q", out, c.stdout)
			}
			if !strings.Contains(errOut, c.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, c.stderr)
			}
			if c.code != 0 && strings.Count(strings.TrimSpace(lastLine(errOut)), "\n") != 0 {
				t.Errorf("the reason is not one line: %q", errOut)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestDemoCommandPrintsSummaryAndWritesLayout(t *testing.T) {
	lakeDir := t.TempDir()
	code, out, errOut := runCLI(t, "demo", "--accounts", "400", "--lake", lakeDir)
	if code != 0 {
		t.Fatalf("demo exited %d: %s", code, errOut)
	}
	for _, want := range []string{"Landed", "crm/accounts", "assertions passed", "By size band", "By industry",
		"LTV quintiles", "Published as of", "latest/segments.duckdb"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	for _, p := range []string{"latest/account_segments.parquet", "latest/segment_metrics.parquet", "latest/ltv_quintiles.parquet",
		"latest/segments.duckdb", "marts/_published.json"} {
		if _, err := os.Stat(filepath.Join(lakeDir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(lakeDir, "raw", "crm", "accounts", "dt=*", "_manifest.json"))
	if len(matches) != 1 {
		t.Errorf("raw crm/accounts manifests: %v", matches)
	}
	if strings.Contains(out+errOut, "demo-crm-token") {
		t.Error("a token reached the output")
	}
}

func TestThousandsAndMoney(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %s, want %s", n, got, want)
		}
	}
	for f, want := range map[float64]string{950: "$950", 12345: "$12.3K", 4560000: "$4.56M"} {
		if got := money(f); got != want {
			t.Errorf("money(%v) = %s, want %s", f, got, want)
		}
	}
}

// A segment run whose lease another run holds exits 1 with one line naming the holder and
// when the lease expires.
func TestLeaseConflictExitsWithTheHolder(t *testing.T) {
	yaml, err := os.ReadFile("../../config/segpipe.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "segpipe.yaml")
	exitCfg := strings.Replace(string(yaml), "on_conflict: wait", "on_conflict: exit", 1)
	if err := os.WriteFile(cfgFile, []byte(exitCfg), 0o644); err != nil {
		t.Fatal(err)
	}
	lakeDir := t.TempDir()
	store, err := lake.NewFileStore(lakeDir)
	if err != nil {
		t.Fatal(err)
	}
	held, err := lake.Acquire(context.Background(), store, "segment-2026-10-31", lake.Holder{Host: "etl-1", PID: 42, RunID: "other-run"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(context.Background())
	code, _, errOut := runCLI(t, "run", "segment", "--config", cfgFile, "--lake", lakeDir, "--as-of", "2026-10-31", "--log-level", "error")
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	line := lastLine(errOut)
	for _, want := range []string{"lease segment-2026-10-31 is held by run other-run (host etl-1, pid 42) until 20", "lease.on_conflict: wait"} {
		if !strings.Contains(line, want) {
			t.Errorf("message %q lacks %q", line, want)
		}
	}
	if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("more than one line: %q", errOut)
	}
}
