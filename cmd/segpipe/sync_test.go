package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/fakes"
	"github.com/segpipe/segpipe/internal/demo/hubspot"
)

// The demo on the HubSpot example ends with a sync dry run against the demo's HubSpot: every
// account and open deal a create, the properties to be made, a sample, and nothing written.
func TestDemoShowsASyncDryRun(t *testing.T) {
	lakeDir := t.TempDir()
	code, out, errOut := runCLI(t, "demo", "--accounts", "300", "--lake", lakeDir, "--config", "../../config/examples/hubspot.yaml", "--log-level", "error")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Sync to crm (hubspot) of release", "(dry run: nothing written)",
		"accounts     300", "account.cs_tier -> segpipe_cs_tier (enumeration/select, would create)",
		"deal.fit_score -> segpipe_deal_fit_score (number/number, would create)",
		"Sample of the changes:", "(create): ", "segpipe_segment_as_of \"2026-10-31\"",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Rejected") {
		t.Errorf("a dry run rejected records:\n%s", out)
	}
}

// Against a running HubSpot fake: run nightly, config check --crm, a dry run (nothing
// written), a sync (written), a second (nothing sent), backfill --sync, and status.
func TestSyncCommands(t *testing.T) {
	company := demo.Generate(demo.Options{Accounts: 300, Seed: 3})
	srv, err := fakes.Start(company, demo.IDStyleHubSpot)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	api := srv.Fakes["hubspot"].(*hubspot.API)
	t.Setenv("SEGPIPE_DEMO_URL", srv.URL)
	t.Setenv("SEGPIPE_HUBSPOT_TOKEN", "demo-hubspot-token")
	lakeDir := t.TempDir()
	cfg := "../../config/examples/hubspot.yaml"
	asOf := company.AsOf().Format(time.DateOnly)
	common := []string{"--config", cfg, "--lake", lakeDir, "--log-level", "error"}
	if code, _, errOut := runCLI(t, append([]string{"run", "nightly", "--as-of", asOf}, common...)...); code != 0 {
		t.Fatalf("nightly: %s", errOut)
	}
	code, out, errOut := runCLI(t, "config", "check", "--config", cfg, "--crm")
	if code != 0 || !strings.Contains(out, "account.cs_tier -> segpipe_cs_tier: would create (enumeration/select)") {
		t.Fatalf("config check --crm: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, append([]string{"run", "sync", "--dry-run"}, common...)...)
	if code != 0 || !strings.Contains(out, "(dry run: nothing written)") || api.Writes() != 0 {
		t.Fatalf("dry run: exit %d, %d writes\n%s%s", code, api.Writes(), out, errOut)
	}
	code, out, errOut = runCLI(t, append([]string{"run", "sync"}, common...)...)
	if code != 0 || api.Writes() == 0 || !regexp.MustCompile(`accounts +300 +0 +0 +0 +0 +300 +300 +0`).MatchString(out) {
		t.Fatalf("sync: exit %d, %d writes\n%s%s", code, api.Writes(), out, errOut)
	}
	writes := api.Writes()
	code, out, _ = runCLI(t, "config", "check", "--config", cfg, "--crm")
	if code != 0 || !strings.Contains(out, "account.cs_tier -> segpipe_cs_tier: exists (enumeration/select)") {
		t.Errorf("config check after the sync:\n%s", out)
	}
	// A backfill of an earlier date leaves the published release, already synced: --sync
	// sends nothing.
	day := company.AsOf().AddDate(0, 0, -1).Format(time.DateOnly)
	code, out, errOut = runCLI(t, append([]string{"backfill", "--from", day, "--to", day, "--sync"}, common...)...)
	if code != 0 || !strings.Contains(out, "Sync to crm (hubspot)") || !regexp.MustCompile(`accounts +0 +0 +0 +300 +0 +0`).MatchString(out) || api.Writes() != writes {
		t.Errorf("backfill --sync: exit %d, %d more writes\n%s%s", code, api.Writes()-writes, out, errOut)
	}
	code, out, _ = runCLI(t, "status", "--config", cfg, "--lake", lakeDir)
	if code != 0 || !strings.Contains(out, "sync") {
		t.Errorf("status:\n%s", out)
	}
	code, out, _ = runCLI(t, "runs", "--config", cfg, "--lake", lakeDir, "--job", "sync")
	if code != 0 || strings.Count(out, "succeeded") != 2 {
		t.Errorf("runs --job sync:\n%s", out)
	}
	// The first sync's rows are the records the CRM took: the 300 accounts and the open deals.
	first := regexp.MustCompile(`(?m)^(\S+-\S+)\s+sync\s.*succeeded.*\s(3[0-9][0-9])\s*$`).FindStringSubmatch(out)
	if first == nil || first[2] == "300" {
		t.Fatalf("runs lists no sync that synced the accounts and deals:\n%s", out)
	}
	code, out, _ = runCLI(t, "runs", "--config", cfg, "--lake", lakeDir, "--show", first[1])
	if code != 0 || !strings.Contains(out, "sync to crm (hubspot) of releases/") || !regexp.MustCompile(`accounts +300 +0 +0 +0 +0 +300 +300 +0`).MatchString(out) {
		t.Errorf("runs --show %s:\n%s", first[1], out)
	}
}
