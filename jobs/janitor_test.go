package jobs_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/jobs"
)

// putRecord writes a run record as a run would.
func putRecord(t *testing.T, s lake.Store, r jobs.RunRecord) {
	t.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := lake.PutBytes(context.Background(), s, jobs.RunsPrefix+r.RunID+".json", b); err != nil {
		t.Fatal(err)
	}
}

// putLease writes the lease name as holder would while running: unexpired for 30 minutes.
func putLease(t *testing.T, s lake.Store, name string, holder lake.Holder) {
	t.Helper()
	now := time.Now().UTC()
	b, _ := json.Marshal(map[string]any{"holder": holder, "acquired_at": now, "renewed_at": now, "expires_at": now.Add(30 * time.Minute), "ttl_seconds": 1800})
	if err := lake.PutBytes(context.Background(), s, lake.LeaseKey(name), b); err != nil {
		t.Fatal(err)
	}
}

// killedHolder is a holder on this host whose process has exited.
func killedHolder(t *testing.T, runID string) lake.Holder {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run a child process: %v", err)
	}
	h := lake.NewHolder(runID)
	h.PID = cmd.Process.Pid
	return h
}

// A segment killed mid-run leaves its record running and its lease behind (30 minutes to
// go). The next run of the same job and date takes the lease over at once (on_conflict
// exit would fail otherwise), marks the killed run abandoned, and publishes; ListRuns shows
// every status, and LastSuccess skips the running and abandoned runs.
func TestKilledRunIsAbandonedAndItsLeaseTakenOver(t *testing.T) {
	ctx := context.Background()
	p, _ := demoEnv(t, 200, func(c *config.Config) { c.Lease.OnConflict = lake.OnConflictExit })
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	asOf := p.AsOf.Format(time.DateOnly)
	started := time.Now().Add(-time.Minute).UTC()
	killed := jobs.NewRunID(started) + "-killed"
	putRecord(t, p.Lake, jobs.RunRecord{RunID: killed, Job: jobs.JobSegment, AsOf: asOf, Status: jobs.RunRunning, StartedAt: started})
	dead := killedHolder(t, killed)
	putLease(t, p.Lake, jobs.LeaseName(jobs.JobSegment, asOf), dead)
	// A run still running elsewhere (its lease is live, its process this one) is left alone.
	other := jobs.NewRunID(started) + "-other"
	putRecord(t, p.Lake, jobs.RunRecord{RunID: other, Job: jobs.JobIngest, AsOf: "2026-11-01", Status: jobs.RunRunning, StartedAt: started})
	putLease(t, p.Lake, jobs.LeaseName(jobs.JobIngest, "2026-11-01"), lake.NewHolder(other))

	seg := p
	seg.RunID = jobs.NewRunID(time.Now()) + "-rerun"
	t0 := time.Now()
	if _, err := jobs.Segment(ctx, seg); err != nil {
		t.Fatalf("the rerun after a killed segment: %v", err)
	}
	if took := time.Since(t0); took > 5*time.Minute {
		t.Fatalf("the rerun took %s: it waited for the dead lease", took)
	}

	rec := readRecordIn(t, p.Lake, killed)
	if rec.Status != jobs.RunAbandoned || rec.AbandonedAt.IsZero() || !rec.FinishedAt.IsZero() || !strings.Contains(rec.AbandonedReason, "process is gone") {
		t.Errorf("the killed run's record: status %s, abandoned at %s (%q), finished at %s; want abandoned because its process is gone",
			rec.Status, rec.AbandonedAt, rec.AbandonedReason, rec.FinishedAt)
	}
	rerun := readRecordIn(t, p.Lake, seg.RunID)
	if rerun.Status != jobs.RunSucceeded || rerun.Lease == nil || rerun.Lease.TookOver == nil ||
		rerun.Lease.TookOver.Previous.RunID != killed || rerun.Lease.TookOver.Reason != lake.ReasonProcessGone {
		t.Errorf("the rerun's record: status %s, lease %+v; want succeeded, taken over from %s", rerun.Status, rerun.Lease, killed)
	}
	if rerun.Janitor == nil || len(rerun.Janitor.Abandoned) != 1 || rerun.Janitor.Abandoned[0] != killed {
		t.Errorf("the rerun's janitor summary %+v, want %s abandoned", rerun.Janitor, killed)
	}
	if r := readRecordIn(t, p.Lake, other); r.Status != jobs.RunRunning {
		t.Errorf("a live run was marked %s (%s)", r.Status, r.AbandonedReason)
	}

	runs, err := jobs.ListRuns(ctx, p.Lake, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range runs {
		status[r.RunID] = r.Status
	}
	if status[killed] != jobs.RunAbandoned || status[other] != jobs.RunRunning || status[seg.RunID] != jobs.RunSucceeded || status[p.RunID] != jobs.RunSucceeded {
		t.Errorf("ListRuns statuses %v", status)
	}
	if last := jobs.LastSuccess(runs, jobs.JobIngest); last == nil || last.RunID != p.RunID {
		t.Errorf("last ingest success %+v, want %s (not the newer running one)", last, p.RunID)
	}
}

// LastSuccess never takes a running or abandoned run for a success, however new.
func TestLastSuccessSkipsRunningAndAbandoned(t *testing.T) {
	now := time.Now()
	runs := []jobs.RunRecord{
		{RunID: "d", Job: jobs.JobSegment, Status: jobs.RunRunning, StartedAt: now},
		{RunID: "c", Job: jobs.JobSegment, Status: jobs.RunAbandoned, StartedAt: now.Add(-time.Minute)},
		{RunID: "b", Job: jobs.JobSegment, Status: jobs.RunFailed, StartedAt: now.Add(-2 * time.Minute)},
		{RunID: "a", Job: jobs.JobSegment, Status: jobs.RunSucceeded, StartedAt: now.Add(-3 * time.Minute)},
	}
	if last := jobs.LastSuccess(runs, jobs.JobSegment); last == nil || last.RunID != "a" {
		t.Fatalf("last success %+v, want a", last)
	}
}

// The start of a job removes what killed runs left: temporary files untouched for longer than
// the lease TTL anywhere in the lake (a fresh one may be a write under way and stays), and
// staging folders of runs that are over (a live run's stays). The run record counts them.
func TestJobStartSweepsLeftovers(t *testing.T) {
	ctx := context.Background()
	p, _ := demoEnv(t, 200, nil)
	nightly, err := jobs.Nightly(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	fs := p.Lake.(*lake.FileStore)
	asOf := p.AsOf.Format(time.DateOnly)
	pub := nightly.Segment.Publication
	old := []string{
		"raw/crm/accounts/dt=" + asOf + "/.tmp-part-x-00000.parquet-1234",
		"runs/.tmp-" + nightly.Segment.RunID + ".json-5678",
		pub.Release + "/.tmp-segments.duckdb-91011",
		"marts/account_segments/as_of=" + asOf + "/.tmp-data.parquet-1213",
	}
	fresh := "runs/.tmp-fresh.json-1415"
	past := time.Now().Add(-2 * time.Hour)
	for _, k := range append(old, fresh) {
		if err := os.WriteFile(fs.LocalPath(k), []byte("half a file"), 0o644); err != nil {
			t.Fatal(err)
		}
		if k != fresh {
			if err := os.Chtimes(fs.LocalPath(k), past, past); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Staging of a failed run, and of a run still publishing.
	failed := jobs.NewRunID(past) + "-failed"
	putRecord(t, p.Lake, jobs.RunRecord{RunID: failed, Job: jobs.JobSegment, AsOf: asOf, Status: jobs.RunFailed, StartedAt: past, FinishedAt: past})
	publishing := jobs.NewRunID(past) + "-publishing"
	putRecord(t, p.Lake, jobs.RunRecord{RunID: publishing, Job: jobs.JobSegment, AsOf: "2026-11-01", Status: jobs.RunRunning, StartedAt: past})
	putLease(t, p.Lake, jobs.LeaseName(jobs.JobSegment, "2026-11-01"), lake.NewHolder(publishing))
	for _, k := range []string{"staging/" + failed + "/account_segments.parquet", "staging/" + failed + "/segments.duckdb", "staging/" + publishing + "/segments.duckdb"} {
		if err := lake.PutBytes(ctx, p.Lake, k, []byte("staged")); err != nil {
			t.Fatal(err)
		}
	}

	p.RunID = jobs.NewRunID(time.Now()) + "-next"
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, k := range old {
		if _, err := os.Stat(fs.LocalPath(k)); !os.IsNotExist(err) {
			t.Errorf("%s is left: %v", k, err)
		}
	}
	if _, err := os.Stat(fs.LocalPath(fresh)); err != nil {
		t.Errorf("a fresh temporary file was removed: %v", err)
	}
	if _, err := p.Lake.Stat(ctx, "staging/"+failed+"/segments.duckdb"); err == nil {
		t.Error("the failed run's staging folder is left")
	}
	if _, err := p.Lake.Stat(ctx, "staging/"+publishing+"/segments.duckdb"); err != nil {
		t.Errorf("the publishing run's staging folder was removed: %v", err)
	}
	rec := readRecordIn(t, p.Lake, p.RunID)
	if j := rec.Janitor; j == nil || j.TempFiles != len(old) || j.TempBytes != int64(len(old)*len("half a file")) || j.StagingRuns != 1 || j.StagingFiles != 2 {
		t.Errorf("the run record's janitor summary %+v, want %d temporary files and 1 staging folder of 2 files", rec.Janitor, len(old))
	}
	// The published run is still whole.
	if _, err := os.Stat(filepath.Join(fs.Root(), "latest", lake.DatabaseName)); err != nil {
		t.Errorf("latest: %v", err)
	}
}
