package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/schedule"
	"github.com/segpipe/segpipe/jobs"
)

func TestServeUsage(t *testing.T) {
	noSchedule := filepath.Join(t.TempDir(), "c.yaml")
	b, err := os.ReadFile("../../config/segpipe.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := regexp.MustCompile(`(?m)^schedule:.*\n(  .*\n)*`).ReplaceAllString(string(b), "")
	if yaml == string(b) {
		t.Fatal("the demo config's schedule block moved; update this test")
	}
	if err := os.WriteFile(noSchedule, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"serve", "--help"}, 0, "--log-level", ""},
		{[]string{"serve", "extra"}, 2, "", "serve takes no arguments"},
		{[]string{"serve", "--config", noSchedule, "--lake", t.TempDir()}, 2, "", "has no schedule"},
		{[]string{"--help"}, 0, "segpipe serve", ""},
	} {
		code, out, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(out, c.stdout) || !strings.Contains(errOut, c.stderr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, out, errOut)
		}
	}
}

// segpipe serve starts, answers its ops endpoints, and exits 0 when signalled.
func TestServeRunsUntilSignalled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	b, err := os.ReadFile("../../config/segpipe.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "c.yaml")
	yaml := string(b) + "\nserve:\n  address: " + addr + "\n  shutdown_grace: 1s\n"
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	exited := make(chan int)
	go func() {
		exited <- run(ctx, []string{"serve", "--config", cfgFile, "--lake", t.TempDir()}, io.Discard, &stderr)
	}()

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for code, _ := get("/readyz"); code != 200; code, _ = get("/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 10s (stderr %s)", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz %d", code)
	}
	code, metrics := get("/metrics")
	if code != 200 || !strings.Contains(metrics, `segpipe_next_run_timestamp_seconds{job="ingest"}`) ||
		!strings.Contains(metrics, `segpipe_runs_total{job="segment",status="failed"} 0`) {
		t.Errorf("/metrics %d:\n%s", code, metrics)
	}
	cancel() // SIGTERM
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("exit %d after the signal, want 0 (stderr %s)", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit after the signal")
	}
}

func TestIngestSucceededReadsRunRecords(t *testing.T) {
	ctx := context.Background()
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(id, job, asOf, status string) {
		b, _ := json.Marshal(jobs.RunRecord{RunID: id, Job: job, AsOf: asOf, Status: status})
		if err := lake.PutBytes(ctx, store, "runs/"+id+".json", b); err != nil {
			t.Fatal(err)
		}
	}
	put("20261123T020000Z-aaaaaa", "ingest", "2026-11-22", "failed")
	put("20261123T023000Z-bbbbbb", "segment", "2026-11-22", "succeeded")
	put("20261123T030000Z-cccccc-ingest", "ingest", "2026-11-21", "succeeded") // a backfill of another date
	if ok, err := ingestSucceeded(ctx, store, "2026-11-22"); ok || err != nil {
		t.Fatalf("no succeeded ingest of 2026-11-22 yet: %v %v", ok, err)
	}
	put("20261123T031500Z-dddddd-ingest", "ingest", "2026-11-22", "succeeded") // nightly by hand
	if ok, err := ingestSucceeded(ctx, store, "2026-11-22"); !ok || err != nil {
		t.Fatalf("the succeeded ingest is not found: %v %v", ok, err)
	}
	// Records older than the as_of are not read.
	put("20261101T020000Z-eeeeee", "ingest", "2026-11-25", "succeeded")
	if ok, _ := ingestSucceeded(ctx, store, "2026-11-25"); ok {
		t.Error("a record started before its own as_of cannot be a scheduled ingest of it")
	}
}

// schedule.sync runs the sync job: the HubSpot example schedules it, the scheduler accepts
// it, and a fire on a lake with nothing published fails with that reason.
func TestServeSchedulesSync(t *testing.T) {
	cfg, err := loadConfig("../../config/examples/hubspot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Schedule["sync"] == "" {
		t.Fatal("the HubSpot example schedules no sync")
	}
	base, err := buildParams(context.Background(), cfg, "", t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	opts := serveOptions(cfg, base)
	if _, err := schedule.New(opts); err != nil {
		t.Fatal(err)
	}
	_, err = opts.Jobs[jobs.JobSync](context.Background(), schedule.Run{AsOf: time.Now(), RunID: "r1"})
	if !errors.Is(err, jobs.ErrNothingPublished) {
		t.Errorf("sync on an empty lake: %v", err)
	}
}
