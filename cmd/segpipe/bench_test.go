package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/cmd/segpipe/internal/bench"
)

// TestMain lets the bench smoke test start this test binary as its export-server child
// (`segpipe bench-serve`), the way the real binary starts itself.
func TestMain(m *testing.M) {
	if os.Getenv(bench.ChildEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// A short run of the bench command keeps it working: every stage and floor is measured and
// the JSON report holds the same figures. (Benchmark figures are never asserted: see
// docs/performance.md.)
func TestBenchSmoke(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"bench", "--accounts", "1000", "--out", out}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"full: extract + land", "full: segment", "full total", "nightly: extract + land", "nightly: segment",
		"nightly total", "floor (1) download", "floor (2) decode", "floor (3) duckdb sql", "of floor (2)'s rows/s", "x floor (3)",
		"slowest models:", "target (issue #21)", "nightly peak RSS"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Accounts != 1000 || rep.PerEntity["accounts"] != 1000 || len(rep.Floors) != 3 || rep.PeakRSS <= 0 || rep.FullPeakRSS <= 0 || rep.ServerRSS <= 0 {
		t.Fatalf("report: %+v", rep)
	}
	// Bench volume: about 24 invoices, 3 deals, 5 tickets and 30 usage rows an account.
	if per := float64(rep.Records) / 1000; rep.Volume != "bench" || per < 50 || per > 75 {
		t.Errorf("volume %q with %.1f records an account, want bench with about 62", rep.Volume, per)
	}
	stage := func(name string) bench.Stage {
		for _, s := range rep.Stages {
			if s.Stage == name {
				return s
			}
		}
		t.Fatalf("no stage %q in %+v", name, rep.Stages)
		return bench.Stage{}
	}
	extract, nightly := stage("full: extract + land"), stage("nightly: extract + land")
	// The first night lands or quarantines every record the server holds, and each floor sees
	// them all; the second pulls only what changed, which the server holds for it.
	if extract.Rows != rep.Records || rep.FullRecords != rep.Records || extract.Bytes <= 0 || extract.CPUSeconds <= 0 {
		t.Errorf("extract stage %+v, want %d records", extract, rep.Records)
	}
	var changes int64
	for _, n := range rep.Changes {
		changes += n
	}
	if nightly.Rows <= 0 || nightly.Rows != rep.NightlyRecords || nightly.Rows > changes || nightly.Rows > rep.Records/10 {
		t.Errorf("nightly extract stage %+v: want some of the %d changed records, and few of the %d", nightly, changes, rep.Records)
	}
	for _, f := range rep.Floors[:2] {
		if f.Rows != rep.Records || f.Bytes != extract.Bytes {
			t.Errorf("%s saw %d records and %d bytes; the landing %d and %d", f.Stage, f.Rows, f.Bytes, rep.Records, extract.Bytes)
		}
	}
	if rep.Ratios["extract_vs_decode_floor"] <= 0 || rep.Ratios["transform_vs_sql_floor"] <= 0 {
		t.Errorf("ratios %v", rep.Ratios)
	}
	if rep.TotalWall <= 0 || rep.FullWall <= 0 || len(rep.Targets) != 1 || rep.Targets[0].Name != "nightly peak RSS" {
		t.Errorf("walls %.2f / %.2f s, targets %+v: at 1,000 accounts only the peak RSS target applies", rep.TotalWall, rep.FullWall, rep.Targets)
	}

	// --growth-from takes a report at a tenth of the accounts only.
	stdout.Reset()
	if code := run(context.Background(), []string{"bench", "--accounts", "2000", "--growth-from", out}, &stdout, &stderr); code != exitUsage {
		t.Errorf("--growth-from a report of 1,000 accounts at 2,000: exit %d, want %d", code, exitUsage)
	}
}

func TestBenchServeIsInternal(t *testing.T) {
	t.Setenv(bench.ChildEnv, "")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"bench-serve"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("bench-serve run by hand: exit %d, want %d", code, exitUsage)
	}
}

// TestBenchConfigReachesTheServer: with --config, the export server renders its pages at
// that config's page sizes, so the landing can page through them.
func TestBenchConfigReachesTheServer(t *testing.T) {
	yaml, err := os.ReadFile(filepath.Join("..", "..", "config", "segpipe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(yaml), "page_size: 2000", "page_size: 700", 1)
	if changed == string(yaml) {
		t.Fatal("the demo config has no support page_size: 2000 to change")
	}
	cfg := filepath.Join(t.TempDir(), "segpipe.yaml")
	if err := os.WriteFile(cfg, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"bench", "--accounts", "200", "--volume", "demo", "--no-floors", "--config", cfg}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "(demo volume)") {
		t.Errorf("output does not name the volume:\n%s", stdout.String())
	}
	if code := run(context.Background(), []string{"bench", "--volume", "huge"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("--volume huge: exit %d, want %d", code, exitUsage)
	}
}
