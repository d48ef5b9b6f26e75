package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/warehouse"
	segsql "github.com/segpipe/segpipe/sql"
)

// IngestFloor is what one floor of the ingest job measured (extract.Floor): the same requests
// as an ingest with the same parallelism, stopped short of part of the work.
type IngestFloor struct {
	Floor         extract.Floor
	Pages         int
	Rows          int64
	ResponseBytes int64
	Duration      time.Duration
}

// MeasureIngestFloor runs floor f of a full ingest of every configured entity, sources side
// by side as Ingest runs them, and writes nothing (no lake, no state, no run record).
func MeasureIngestFloor(ctx context.Context, p Params, f extract.Floor) (*IngestFloor, error) {
	dir, cleanup, err := p.workDir("floor")
	if err != nil {
		return nil, fmt.Errorf("floor %s: %w", f, err)
	}
	defer cleanup()
	start := time.Now()
	all := eachEntity(ctx, p.Config, previousLandingSeconds(ctx, &p, p.logger()), func(ctx context.Context, l *landing) error {
		var err error
		l.floor, err = extract.MeasureFloor(ctx, f, l.source, l.src, l.entity, l.ent, extract.Options{
			Dt: p.asOf(), RunID: "floor", TempDir: dir, HTTPClient: p.HTTPClient, Limiter: l.limiter,
		})
		return err
	})
	out := &IngestFloor{Floor: f, Duration: time.Since(start)}
	var errs []error
	for _, l := range all {
		if l.err != nil {
			errs = append(errs, fmt.Errorf("floor %s %s/%s: %w", f, l.source, l.entity, l.err))
			continue
		}
		r := l.floor
		out.Pages += r.Pages
		out.Rows += r.Rows
		out.ResponseBytes += r.ResponseBytes
	}
	return out, errors.Join(errs...)
}

// TransformFloor is the time DuckDB takes to run the segment job's SQL, models and
// assertions, on data already landed as local Parquet: no registration, export or publish.
type TransformFloor struct {
	Models, Assertions time.Duration
	// Rows is the number of rows the models produced, all layers together.
	Rows int64
}

// MeasureTransformFloor builds every model and runs every assertion as of p.AsOf on the lake's
// landed data, the way the segment job does, and publishes nothing. The lake should be local
// (a FileStore) for the figure to be a floor.
func MeasureTransformFloor(ctx context.Context, p Params) (*TransformFloor, error) {
	dir, cleanup, err := p.workDir("floor")
	if err != nil {
		return nil, fmt.Errorf("transform floor: %w", err)
	}
	defer cleanup()
	sess, err := warehouse.Open(ctx, warehouse.Options{
		Threads: p.Config.Warehouse.Threads, MemoryLimit: p.Config.Warehouse.MemoryLimit, TempDir: dir,
	})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	if err := registerLanded(ctx, &p, sess, dir, &SegmentResult{}); err != nil {
		return nil, err
	}
	if _, err := registerPrevious(ctx, &p, sess); err != nil {
		return nil, err
	}
	landed, err := sess.Landed(ctx)
	if err != nil {
		return nil, err
	}
	models, err := warehouse.LoadModels(segsql.Files, landed)
	if err != nil {
		return nil, fmt.Errorf("transform floor: %w", err)
	}
	out := &TransformFloor{}
	t0 := time.Now()
	runs, err := sess.Build(ctx, segsql.Files, models, warehouse.ConfigVariables(p.Config, p.AsOf))
	if err != nil {
		return nil, err
	}
	out.Models = time.Since(t0)
	for _, r := range runs {
		out.Rows += r.Rows
	}
	assertions, err := warehouse.LoadAssertions(segsql.Files)
	if err != nil {
		return nil, err
	}
	t0 = time.Now()
	if _, err := sess.RunAssertions(ctx, assertions); err != nil {
		return nil, err
	}
	out.Assertions = time.Since(t0)
	return out, nil
}
