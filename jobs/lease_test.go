package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/jobs"
)

// leaseEnv is a lake with one ingest landed, and a short lease TTL so renewals happen.
func leaseEnv(t *testing.T, onConflict string) jobs.Params {
	t.Helper()
	p, _ := demoEnv(t, 200, func(c *config.Config) {
		c.Lease.TTL = config.Duration(time.Second)
		c.Lease.OnConflict = onConflict
		c.Lease.WaitTimeout = config.Duration(60 * time.Second)
	})
	if _, err := jobs.Ingest(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// twoSegments runs two segment jobs on the same as_of at once.
func twoSegments(t *testing.T, p jobs.Params) [2]error {
	t.Helper()
	var errs [2]error
	var wg sync.WaitGroup
	for i := range 2 {
		q := p
		q.RunID = jobs.NewRunID(time.Now()) + "-" + string(rune('a'+i))
		q.WorkDir = t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = jobs.Segment(context.Background(), q)
		}()
	}
	wg.Wait()
	return errs
}

// checkPublishedIntact follows marts/_published.json: every file it names exists with the
// recorded checksum, and latest resolves to a complete release of that run.
func checkPublishedIntact(t *testing.T, p jobs.Params) *lake.Publication {
	t.Helper()
	ctx := context.Background()
	pub, err := lake.ReadPublished(ctx, p.Lake)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(append([]lake.PublishedFile{pub.Database}, pub.Tables...), pub.History...) {
		b, err := lake.GetBytes(ctx, p.Lake, f.Key)
		if err != nil {
			t.Fatalf("pointer names %s: %v", f.Key, err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Fatalf("%s does not match the pointer's sha256", f.Key)
		}
	}
	fs := p.Lake.(*lake.FileStore)
	if target, _ := fs.LinkTarget(lake.LatestDir); target != pub.Release {
		t.Fatalf("latest -> %s, pointer names %s", target, pub.Release)
	}
	for _, f := range pub.Tables {
		if _, err := os.Stat(filepath.Join(fs.Root(), "latest", f.Name+".parquet")); err != nil {
			t.Fatalf("latest lacks %s: %v", f.Name, err)
		}
	}
	if objs, _ := p.Lake.List(ctx, lake.LeasePrefix); len(objs) != 0 {
		t.Fatalf("leases left behind: %v", objs)
	}
	return pub
}

func readRecord(t *testing.T, p jobs.Params, runID string) jobs.RunRecord {
	t.Helper()
	b, err := lake.GetBytes(context.Background(), p.Lake, "runs/"+runID+".json")
	if err != nil {
		t.Fatal(err)
	}
	var r jobs.RunRecord
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// Two segment runs on one as_of with on_conflict exit: one publishes, the other stops at once
// naming the holder, and the published run is intact.
func TestConcurrentSegmentsExit(t *testing.T) {
	p := leaseEnv(t, lake.OnConflictExit)
	errs := twoSegments(t, p)
	var held *lake.LeaseHeldError
	ok, conflicted := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.As(err, &held):
			conflicted++
			if !strings.Contains(err.Error(), "segment-"+p.AsOf.Format(time.DateOnly)) || held.Holder.RunID == "" || held.ExpiresAt.IsZero() {
				t.Errorf("conflict message lacks the lease, holder or expiry: %v", err)
			}
		default:
			t.Errorf("segment: %v", err)
		}
	}
	if ok != 1 || conflicted != 1 {
		t.Fatalf("%d succeeded and %d found the lease held, want 1 and 1: %v", ok, conflicted, errs)
	}
	pub := checkPublishedIntact(t, p)
	if pub.RunID != held.Holder.RunID {
		t.Errorf("published %s, but the holder was %s", pub.RunID, held.Holder.RunID)
	}
	rec := readRecord(t, p, pub.RunID)
	if rec.Lease == nil || !rec.Lease.Held || rec.Lease.Holder.RunID != pub.RunID || rec.Lease.Name != "segment-"+p.AsOf.Format(time.DateOnly) {
		t.Errorf("the winner's run record lease: %+v", rec.Lease)
	}
}

// With on_conflict wait the second run waits for the first and then publishes too.
func TestConcurrentSegmentsWait(t *testing.T) {
	p := leaseEnv(t, lake.OnConflictWait)
	errs := twoSegments(t, p)
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("segments: %v", errs)
	}
	pub := checkPublishedIntact(t, p)
	objs, err := p.Lake.List(context.Background(), "releases/")
	if err != nil {
		t.Fatal(err)
	}
	releases := map[string]bool{}
	for _, o := range objs {
		releases[strings.Join(strings.SplitN(o.Key, "/", 3)[:2], "/")] = true
	}
	if len(releases) != 2 || !releases[pub.Release] {
		t.Errorf("releases %v, want both runs' with the pointer's among them", releases)
	}
}

// A lease left by a run that died (expires_at and its last write in the past) is taken over.
func TestStaleLeaseIsTakenOver(t *testing.T) {
	p := leaseEnv(t, lake.OnConflictExit)
	fs := p.Lake.(*lake.FileStore)
	key := lake.LeaseKey(jobs.LeaseName(jobs.JobSegment, p.AsOf.Format(time.DateOnly)))
	past := time.Now().Add(-2 * time.Hour)
	stale := `{"holder":{"host":"gone","pid":1,"run_id":"dead"},"acquired_at":"` + past.Format(time.RFC3339) +
		`","expires_at":"` + past.Add(30*time.Minute).Format(time.RFC3339) + `","ttl_seconds":1800}`
	if err := lake.PutBytes(context.Background(), fs, key, []byte(stale)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(fs.LocalPath(key), past, past); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Segment(context.Background(), p); err != nil {
		t.Fatalf("segment with a stale lease: %v", err)
	}
	checkPublishedIntact(t, p)
	if rec := readRecord(t, p, p.RunID); rec.Lease == nil || rec.Lease.Holder.RunID != p.RunID {
		t.Errorf("run record lease %+v", rec.Lease)
	}
}
