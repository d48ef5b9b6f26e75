package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
	segsql "github.com/segpipe/segpipe/sql"
)

// Floor is a part of the nightly path measured on its own: what that part cannot be faster
// than.
type Floor int

// The floors (docs/performance.md, "Floors").
const (
	// FloorDownload fetches every page of every entity as the ingest does (extract.Download):
	// the pagination followed, no record decoded.
	FloorDownload Floor = iota + 1
	// FloorDecode also decodes and checks every record into Arrow record batches
	// (extract.Decode: quarantine, incremental filter and repeated keys included) and drops
	// the batches: nothing is written.
	FloorDecode
)

func (f Floor) String() string {
	switch f {
	case FloorDownload:
		return "download"
	case FloorDecode:
		return "decode"
	}
	return fmt.Sprintf("Floor(%d)", int(f))
}

// IngestFloor is what one floor of the ingest measured, every entity together.
type IngestFloor struct {
	Floor         Floor
	Pages         int
	Records       int64
	ResponseBytes int64
	Duration      time.Duration
}

// MeasureIngestFloor runs floor f of a full ingest of every configured entity, scheduled as
// Ingest schedules its landings (jobs.ForEachEntity), and writes nothing: no lake, no state,
// no run record.
func MeasureIngestFloor(ctx context.Context, p jobs.Params, f Floor) (*IngestFloor, error) {
	if f != FloorDownload && f != FloorDecode {
		return nil, fmt.Errorf("unknown floor %d", int(f))
	}
	dir, err := os.MkdirTemp(p.WorkDir, "segpipe-floor-")
	if err != nil {
		return nil, fmt.Errorf("floor %s: %w", f, err)
	}
	defer os.RemoveAll(dir)
	out := &IngestFloor{Floor: f}
	var mu sync.Mutex
	start := time.Now()
	err = jobs.ForEachEntity(ctx, p, func(ctx context.Context, e jobs.Entity) error {
		opts := extract.Options{Dt: p.AsOf.Format(time.DateOnly), RunID: "floor", TempDir: dir, HTTPClient: p.HTTPClient, Limiter: e.Limiter}
		var res extract.PullResult
		var err error
		if f == FloorDownload {
			res, err = extract.Download(ctx, e.Source, e.Src, e.Name, e.Ent, opts)
		} else {
			res, err = extract.Decode(ctx, e.Source, e.Src, e.Name, e.Ent, opts, func(arrow.RecordBatch) error { return nil })
		}
		mu.Lock()
		defer mu.Unlock()
		out.Pages += res.Pages
		out.Records += res.Records
		out.ResponseBytes += res.ResponseBytes
		return err
	})
	out.Duration = time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("floor %s: %w", f, err)
	}
	return out, nil
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
func MeasureTransformFloor(ctx context.Context, p jobs.Params) (*TransformFloor, error) {
	dir, err := os.MkdirTemp(p.WorkDir, "segpipe-floor-")
	if err != nil {
		return nil, fmt.Errorf("transform floor: %w", err)
	}
	defer os.RemoveAll(dir)
	sess, err := jobs.OpenLanded(ctx, p, dir)
	if err != nil {
		return nil, fmt.Errorf("transform floor: %w", err)
	}
	defer sess.Close()
	landed, err := sess.Landed(ctx)
	if err != nil {
		return nil, err
	}
	models, err := warehouse.LoadModels(segsql.Files, landed)
	if err != nil {
		return nil, fmt.Errorf("transform floor: %w", err)
	}
	assertions, err := warehouse.LoadAssertions(segsql.Files)
	if err != nil {
		return nil, err
	}
	out := &TransformFloor{}
	t0 := time.Now()
	// As the segment job builds: assertions between the models, and every table but the
	// marts dropped once nothing left reads it.
	build, err := sess.BuildAudited(ctx, segsql.Files, models, warehouse.ConfigVariables(p.Config, p.AsOf), assertions,
		func(t string) bool {
			return slices.ContainsFunc(models, func(m warehouse.Model) bool { return m.Name == t && m.Layer == warehouse.Marts })
		})
	if err != nil {
		return nil, err
	}
	out.Models = time.Since(t0) - build.AuditTime
	for _, r := range build.Models {
		out.Rows += r.Rows
	}
	out.Assertions = build.AuditTime
	return out, nil
}
