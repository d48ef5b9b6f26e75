package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/lake"
)

// IngestResult lists what an ingest run landed.
type IngestResult struct {
	RunID    string
	Datasets []*lake.Manifest
	Duration time.Duration
}

// Ingest extracts every entity of every configured source and lands it under
// raw/<source>/<entity>/dt=<as_of>/. It stops at the first entity that fails; entities landed
// before it stay landed (each has its own manifest), and a rerun replaces them.
func Ingest(ctx context.Context, p Params) (*IngestResult, error) {
	rec := newRecord(&p, JobIngest)
	res, err := ingest(ctx, &p, rec)
	return res, finish(ctx, &p, rec, err)
}

func ingest(ctx context.Context, p *Params, rec *RunRecord) (*IngestResult, error) {
	start := time.Now()
	log := p.logger().With("job", JobIngest, "run_id", p.RunID, "as_of", p.asOf())
	dir, cleanup, err := p.workDir(JobIngest)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer cleanup()
	res := &IngestResult{RunID: p.RunID}
	for _, sourceName := range p.Config.SourceNames() {
		src := p.Config.Sources[sourceName]
		for _, entityName := range src.EntityNames() {
			t0 := time.Now()
			m, err := extract.LandEntity(ctx, p.Lake, sourceName, src, entityName, src.Entities[entityName], extract.Options{
				Dt: p.asOf(), RunID: p.RunID, TempDir: dir, Logger: log, HTTPClient: p.HTTPClient,
			})
			if err != nil {
				return res, fmt.Errorf("ingest %s/%s: %w", sourceName, entityName, err)
			}
			res.Datasets = append(res.Datasets, m)
			rec.Datasets = append(rec.Datasets, DatasetSummary{
				Source: m.Source, Entity: m.Entity, Rows: m.Rows, Quarantined: m.Quarantined, Bytes: m.Bytes, Pages: m.Pages,
			})
			rec.Stages["extract "+sourceName+"/"+entityName] = time.Since(t0).Seconds()
			log.Info("landed", "source", sourceName, "entity", entityName, "rows", m.Rows,
				"quarantined", m.Quarantined, "pages", m.Pages, "bytes", m.Bytes, "seconds", time.Since(t0).Seconds())
		}
	}
	res.Duration = time.Since(start)
	return res, nil
}
