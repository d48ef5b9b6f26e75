package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
)

// publishFake publishes tiny stand-in tables, as a segment run would, without DuckDB.
func publishFake(t *testing.T, s lake.Store, asOf, run string) {
	t.Helper()
	dir := t.TempDir()
	var tables []lake.LocalTable
	for _, name := range []string{"account_segments", "ltv_quintiles"} {
		p := filepath.Join(dir, name+".parquet")
		if err := os.WriteFile(p, []byte(name+" "+run), 0o644); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, lake.LocalTable{Name: name, Path: p, Rows: 12})
	}
	db := filepath.Join(dir, lake.DatabaseName)
	if err := os.WriteFile(db, []byte("db "+run), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := lake.Publish(context.Background(), s, asOf, run, tables, db, nil, time.Now(), 0); err != nil {
		t.Fatal(err)
	}
}

func TestRollbackCommand(t *testing.T) {
	dir := t.TempDir()
	s, err := lake.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	publishFake(t, s, "2026-11-01", "20261102T020000Z-aaaaaa-segment")
	publishFake(t, s, "2026-11-02", "20261103T020000Z-bbbbbb-segment")
	publishFake(t, s, "2031-01-01", "20261103T090000Z-cccccc-segment")
	cfg := []string{"--config", "../../config/segpipe.yaml", "--lake", dir}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rollback"}, "rollback needs --to"},
		{[]string{"rollback", "--to", "2026-11-02"}, "needs --reason"},
		{[]string{"rollback", "--to", "2026-11-02", "--list"}, "rollback needs --to"},
	} {
		if code, _, errOut := runCLI(t, append(c.args, cfg...)...); code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut, exitUsage, c.want)
		}
	}
	code, out, errOut := runCLI(t, append([]string{"rollback", "--list"}, cfg...)...)
	if code != 0 || !strings.Contains(out, "*  2031-01-01  20261103T090000Z-cccccc-segment") || !strings.Contains(out, "   2026-11-01  20261102T020000Z-aaaaaa-segment") {
		t.Fatalf("--list: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, append([]string{"rollback", "--to", "2026-10-01", "--reason", "x"}, cfg...)...)
	if code != exitFailed || !strings.Contains(errOut, `no kept release matches "2026-10-01"`) {
		t.Fatalf("unknown release: exit %d, %s", code, errOut)
	}

	code, out, errOut = runCLI(t, append([]string{"rollback", "--to", "2026-11-02", "--reason", "typo in --as-of (2031)"}, cfg...)...)
	if code != 0 {
		t.Fatalf("rollback: exit %d, %s", code, errOut)
	}
	for _, want := range []string{
		"Rolled back to as_of 2026-11-02, run 20261103T020000Z-bbbbbb-segment (releases/2026-11-02_20261103T020000Z-bbbbbb-segment), from as_of 2031-01-01",
		"typo in --as-of (2031)",
		"History partitions after 2026-11-02 are kept (marts/<table>/as_of=...): 2031-01-01",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rollback output lacks %q:\n%s", want, out)
		}
	}
	if target, _ := s.LinkTarget(lake.LatestDir); target != "releases/2026-11-02_20261103T020000Z-bbbbbb-segment" {
		t.Errorf("latest -> %s", target)
	}

	// status shows it; runs lists the rollback's record with who and why.
	_, out, _ = runCLI(t, append([]string{"status"}, cfg...)...)
	if !strings.Contains(out, "Published: as_of 2026-11-02, run 20261103T020000Z-bbbbbb-segment") || !strings.Contains(out, "Rolled back to it at") || !strings.Contains(out, "from as_of 2031-01-01") || !strings.Contains(out, ": typo in --as-of (2031)") {
		t.Errorf("status does not show the rollback:\n%s", out)
	}
	code, out, _ = runCLI(t, append([]string{"runs", "--job", "rollback"}, cfg...)...)
	if code != 0 || !strings.Contains(out, "rollback  2026-11-02  succeeded") {
		t.Errorf("runs --job rollback:\n%s", out)
	}
	objs, err := s.List(context.Background(), "runs/")
	if err != nil || len(objs) != 2 { // the refused rollback to 2026-10-01 and this one
		t.Fatalf("run records %v, %v", objs, err)
	}
	var rec struct {
		Job, Status string
		Extra       map[string]any
	}
	for _, o := range objs {
		b, _ := lake.GetBytes(context.Background(), s, o.Key)
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Status == "succeeded" {
			break
		}
	}
	if rec.Job != "rollback" || rec.Extra["reason"] != "typo in --as-of (2031)" || !strings.Contains(rec.Extra["by"].(string), "@") || rec.Extra["from_release"] != "releases/2031-01-01_20261103T090000Z-cccccc-segment" {
		t.Errorf("rollback run record: %+v", rec)
	}
}
