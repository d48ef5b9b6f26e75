package jobs_test

import (
	"context"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/lake/storetest"
	"github.com/segpipe/segpipe/jobs"
)

// The nightly run on a GCS lake (fake-gcs-server in process): ingest lands in the bucket,
// segment reads the landings through the local cache, and publish writes the pointer and
// the history partitions BI tools read.
func TestNightlyOnGCS(t *testing.T) {
	ctx := context.Background()
	p, company := demoEnv(t, 300, nil)
	fake := storetest.NewFakeGCS(t, "acme-segpipe")
	p.Lake = fake.Store(t, "prod")
	p.Cache = lake.NewCache(t.TempDir())

	res, err := jobs.Nightly(ctx, p)
	if res == nil || res.Ingest == nil {
		t.Fatalf("ingest did not run: %v", err)
	}

	// Landed: every dataset's manifest is an object in the bucket, under the lake's prefix.
	if len(res.Ingest.Datasets) == 0 {
		t.Fatalf("nothing landed: %v", err)
	}
	for _, m := range res.Ingest.Datasets {
		name := "prod/" + lake.ManifestKey(m.Source, m.Entity, m.Dt)
		if _, gerr := fake.Server.GetObject("acme-segpipe", name); gerr != nil {
			t.Errorf("manifest %s is not in the bucket: %v", name, gerr)
		}
		if m.Source == "crm" && m.Entity == "accounts" && m.Rows != int64(len(company.Accounts)) {
			t.Errorf("landed %d accounts, the company has %d", m.Rows, len(company.Accounts))
		}
	}
	if res.Segment == nil {
		t.Fatalf("segment did not run: %v", err)
	}

	// Segment read every landed file through the cache, each downloaded once.
	files := map[string]bool{}
	for _, r := range res.Segment.Inputs {
		for _, m := range r.Manifests {
			for _, f := range m.Files {
				files[f.Key] = true
			}
		}
	}
	first := p.Cache.Stats()
	if len(files) == 0 || first.Downloads != int64(len(files)) || first.Hits != 0 {
		t.Fatalf("cache after the first segment run: %+v for %d landed files; want one download each", first, len(files))
	}

	// A second segment run over the same landings downloads nothing.
	p2 := p
	p2.RunID = jobs.NewRunID(time.Now().Add(time.Second)) + "-segment"
	res2, err2 := jobs.Segment(ctx, p2)
	if res2 == nil {
		t.Fatalf("second segment run: %v", err2)
	}
	second := p.Cache.Stats()
	if second.Downloads != first.Downloads || second.Hits != int64(len(files)) {
		t.Fatalf("cache after the second segment run: %+v, want no new download and %d hits", second, len(files))
	}
	t.Logf("cache: %d files, %d downloads (%d bytes), then %d hits", len(files), first.Downloads, first.BytesDownloaded, second.Hits)

	// Published.
	for _, e := range []error{err, err2} {
		if e != nil {
			t.Fatal(e)
		}
	}
	pub, err := lake.ReadPublished(ctx, p.Lake)
	if err != nil || pub.RunID != res2.RunID || pub.AsOf != p.AsOf.Format(time.DateOnly) {
		t.Fatalf("pointer %+v, %v; want the second run", pub, err)
	}
	if _, err := fake.Server.GetObject("acme-segpipe", "prod/"+lake.PublishedKey); err != nil {
		t.Fatalf("%s is not in the bucket: %v", lake.PublishedKey, err)
	}
	history := map[string]bool{}
	for _, name := range fake.ObjectNames(t, "prod/marts/") {
		if strings.Contains(name, "/as_of=") {
			history[path.Base(path.Dir(path.Dir(name)))+"/"+path.Base(path.Dir(name))] = true
		}
	}
	asOf := "as_of=" + pub.AsOf
	for _, table := range []string{"account_segments", "ltv_quintiles", "segment_metrics"} {
		if !history[table+"/"+asOf] {
			t.Errorf("no history partition marts/%s/%s in the bucket (have %v)", table, asOf, history)
		}
	}

	// What a BI tool reads: the history partition, here through the cache.
	file, err := p.Cache.LocalPath(ctx, p.Lake, "marts/account_segments/"+asOf+"/data.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if rows := readTable(t, file); len(rows) != len(company.Accounts) {
		t.Fatalf("published account_segments has %d rows, the company %d accounts", len(rows), len(company.Accounts))
	}
}
