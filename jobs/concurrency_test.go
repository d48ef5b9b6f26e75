package jobs_test

import (
	"context"
	"encoding/json"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/lake/storetest"
	"github.com/segpipe/segpipe/jobs"
)

// readRecordIn reads runs/<runID>.json.
func readRecordIn(t *testing.T, s lake.Store, runID string) jobs.RunRecord {
	t.Helper()
	b, err := lake.GetBytes(context.Background(), s, "runs/"+runID+".json")
	if err != nil {
		t.Fatal(err)
	}
	var r jobs.RunRecord
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// dataFiles lists the part and quarantine files under raw/ and quarantine/.
func dataFiles(t *testing.T, s lake.Store) []string {
	t.Helper()
	var out []string
	for _, prefix := range []string{"raw/", "quarantine/"} {
		objs, err := s.List(context.Background(), prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if strings.HasPrefix(path.Base(o.Key), "part-") {
				out = append(out, o.Key)
			}
		}
	}
	sort.Strings(out)
	return out
}

// manifestFiles lists the files the ingest's manifests name (parts and quarantine files).
func manifestFiles(res *jobs.IngestResult) []string {
	var out []string
	for _, m := range res.Datasets {
		for _, f := range m.Files {
			out = append(out, f.Key)
		}
		if m.QuarantineKey != "" {
			out = append(out, m.QuarantineKey)
		}
	}
	sort.Strings(out)
	return out
}

// An ingest of the same as_of runs to the end while a segment has read its manifests and not
// yet its data files (the stage hook): the segment reads the landing it started with and
// publishes, the ingest lands and leaves the files it superseded in place (deferred), and the
// segment, once finished, sweeps them. On the local lake DuckDB reads the files in place, on
// GCS through the cache; both used to fail with "No files found".
func TestSegmentWithConcurrentIngest(t *testing.T) {
	for _, store := range []string{"file", "gcs"} {
		t.Run(store, func(t *testing.T) {
			ctx := context.Background()
			p, _ := demoEnv(t, 200, nil)
			if store == "gcs" {
				p.Lake = storetest.NewFakeGCS(t, "acme-segpipe").Store(t, "prod")
				p.Cache = lake.NewCache(t.TempDir())
			}
			first, err := jobs.Ingest(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			before := dataFiles(t, p.Lake)
			if !slices.Equal(before, manifestFiles(first)) {
				t.Fatalf("after the first ingest the lake holds %v, its manifests name %v", before, manifestFiles(first))
			}

			ing := p
			ing.RunID = jobs.NewRunID(time.Now()) + "-ingest2"
			ing.WorkDir = t.TempDir()
			seg := p
			seg.RunID = jobs.NewRunID(time.Now()) + "-segment"
			seg.WorkDir = t.TempDir()
			var second *jobs.IngestResult
			var ingErr error
			var during []string
			hooked := false
			seg = jobs.WithStageHook(seg, func(stage string) {
				if stage != "snapshots" || hooked {
					return
				}
				hooked = true
				if r := readRecordIn(t, p.Lake, seg.RunID); r.Status != jobs.RunRunning || !r.FinishedAt.IsZero() {
					t.Errorf("the segment's record while it runs: status %s, finished at %s; want running", r.Status, r.FinishedAt)
				}
				second, ingErr = jobs.Ingest(ctx, ing)
				during = dataFiles(t, p.Lake)
			})
			res, err := jobs.Segment(ctx, seg)
			if !hooked {
				t.Fatal("the segment never reached the snapshots stage")
			}
			if ingErr != nil {
				t.Fatalf("the concurrent ingest failed: %v", ingErr)
			}
			if err != nil {
				t.Fatalf("the segment failed because of the concurrent ingest: %v", err)
			}

			// The segment read the first ingest's landings, and published.
			for _, in := range res.Inputs {
				for _, l := range in.Landings {
					if l.RunID != p.RunID {
						t.Errorf("%s/%s: the segment read landing %s, want the one it started with (%s)", in.Source, in.Entity, l.RunID, p.RunID)
					}
				}
			}
			pub, err := lake.ReadPublished(ctx, p.Lake)
			if err != nil || pub.RunID != seg.RunID {
				t.Fatalf("published %+v, %v; want run %s", pub, err, seg.RunID)
			}

			// While the segment read, the ingest left the superseded files in place.
			for _, k := range before {
				if !slices.Contains(during, k) {
					t.Errorf("the concurrent ingest removed %s while the segment was reading", k)
				}
			}
			if rec := readRecordIn(t, p.Lake, ing.RunID); rec.Sweep == nil || rec.Sweep.Deferred < len(before) || len(rec.Sweep.Readers) != 1 || rec.Sweep.Readers[0].RunID != seg.RunID {
				t.Errorf("the ingest's run record sweep %+v; want at least %d files deferred by reader %s", rec.Sweep, len(before), seg.RunID)
			}

			// Once the segment ended, nothing is left but the second landing's files.
			if after, want := dataFiles(t, p.Lake), manifestFiles(second); !slices.Equal(after, want) {
				t.Errorf("after the segment the lake holds %v, the current manifests name %v", after, want)
			}
			for _, prefix := range []string{lake.SweepPrefix, lake.LeasePrefix} {
				if objs, _ := p.Lake.List(ctx, prefix); len(objs) != 0 {
					t.Errorf("left behind under %s: %v", prefix, objs)
				}
			}
			if rec := readRecordIn(t, p.Lake, seg.RunID); rec.Status != jobs.RunSucceeded || rec.Sweep == nil || rec.Sweep.Removed < len(before) {
				t.Errorf("segment run record: status %s, sweep %+v; want succeeded and %d files swept", rec.Status, rec.Sweep, len(before))
			}
		})
	}
}

// Segment and ingest of one as_of started at the same moment, a few times over, without any
// hook: both succeed every time, and once both have ended the lake holds exactly the files
// the current manifests name (whichever of the two finished last swept the rest).
func TestSegmentAndIngestAtOnce(t *testing.T) {
	ctx := context.Background()
	p, _ := demoEnv(t, 200, nil)
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	for trial := range 3 {
		seg, ing := p, p
		seg.RunID = jobs.NewRunID(time.Now()) + "-segment"
		ing.RunID = jobs.NewRunID(time.Now()) + "-ingest"
		seg.WorkDir, ing.WorkDir = t.TempDir(), t.TempDir()
		var segErr, ingErr error
		var landed *jobs.IngestResult
		done := make(chan struct{})
		go func() {
			defer close(done)
			landed, ingErr = jobs.Ingest(ctx, ing)
		}()
		_, segErr = jobs.Segment(ctx, seg)
		<-done
		if segErr != nil || ingErr != nil {
			t.Fatalf("trial %d: segment: %v; ingest: %v", trial, segErr, ingErr)
		}
		if got, want := dataFiles(t, p.Lake), manifestFiles(landed); !slices.Equal(got, want) {
			t.Fatalf("trial %d: the lake holds %v, the manifests name %v", trial, got, want)
		}
		if objs, _ := p.Lake.List(ctx, lake.SweepPrefix); len(objs) != 0 {
			t.Fatalf("trial %d: marks left: %v", trial, objs)
		}
	}
}
