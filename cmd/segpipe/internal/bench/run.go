package bench

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/segpipe/segpipe/jobs"
)

// Run measures the nightly path on p (ingest, then segment, stage by stage) and adds the
// stages to rep; then, when floors, the three floors and the ratios against them.
// nightlyDone, when set, is called as soon as the nightly path ends (to stop a CPU profile
// before the floors).
func Run(ctx context.Context, p jobs.Params, rep *Report, floors bool, nightlyDone func()) error {
	if rep.Ratios == nil {
		rep.Ratios = map[string]float64{}
	}
	t0, u0 := time.Now(), cpuTime()
	ing, err := jobs.Ingest(ctx, p)
	if err != nil {
		return fmt.Errorf("bench ingest: %w", err)
	}
	extractStage := Stage{Stage: "extract + land", WallSeconds: time.Since(t0).Seconds(), CPUSeconds: cpuTime() - u0, PeakRSSBytes: peakRSS()}
	var parquetBytes int64
	for _, m := range ing.Datasets {
		extractStage.Rows += m.Rows + m.Quarantined
		extractStage.Bytes += m.ResponseBytes
		parquetBytes += m.Bytes
	}
	extractStage = rated(extractStage)
	rep.Stages = append(rep.Stages, extractStage)

	t1, u1 := time.Now(), cpuTime()
	seg, err := jobs.Segment(ctx, p)
	if err != nil {
		return fmt.Errorf("bench segment: %w", err)
	}
	segStage := Stage{Stage: "segment", WallSeconds: time.Since(t1).Seconds(), CPUSeconds: cpuTime() - u1,
		Rows: extractStage.Rows, Bytes: parquetBytes, PeakRSSBytes: peakRSS()}
	runs, err := jobs.ListRuns(ctx, p.Lake, jobs.JobSegment, 1)
	if err != nil || len(runs) == 0 {
		return fmt.Errorf("bench: read the segment run record: %v", err)
	}
	for _, name := range []string{"register", "transform", "audit", "export", "publish"} {
		if s, ok := runs[0].Stages[name]; ok {
			rep.Stages = append(rep.Stages, Stage{Stage: "  " + name, WallSeconds: s})
		}
	}
	rep.Stages = append(rep.Stages, rated(segStage))
	rep.TotalWall = time.Since(t0).Seconds()
	if nightlyDone != nil {
		nightlyDone()
	}
	rep.PeakRSS = peakRSS()
	for _, m := range seg.Models {
		rep.MartRows += m.Rows
		rep.Models = append(rep.Models, Model{Name: m.Name, Seconds: m.Duration.Seconds()})
	}
	slices.SortFunc(rep.Models, func(a, b Model) int { return cmp.Compare(b.Seconds, a.Seconds) })
	if !floors {
		return nil
	}

	for i, f := range []Floor{FloorDownload, FloorDecode} {
		u := cpuTime()
		fl, err := MeasureIngestFloor(ctx, p, f)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		rep.Floors = append(rep.Floors, rated(Stage{Stage: fmt.Sprintf("floor (%d) %s", i+1, f),
			WallSeconds: fl.Duration.Seconds(), CPUSeconds: cpuTime() - u, Rows: fl.Records, Bytes: fl.ResponseBytes}))
	}
	u := cpuTime()
	tf, err := MeasureTransformFloor(ctx, p)
	if err != nil {
		return fmt.Errorf("bench: transform floor: %w", err)
	}
	rep.Floors = append(rep.Floors, rated(Stage{Stage: "floor (3) duckdb sql", WallSeconds: (tf.Models + tf.Assertions).Seconds(),
		CPUSeconds: cpuTime() - u, Rows: extractStage.Rows, Bytes: parquetBytes}))
	if decode := rep.Floors[1]; decode.RowsPerSecond > 0 {
		rep.Ratios["extract_vs_decode_floor"] = extractStage.RowsPerSecond / decode.RowsPerSecond
	}
	transform := runs[0].Stages["transform"] + runs[0].Stages["audit"]
	if sql := rep.Floors[2].WallSeconds; sql > 0 && transform > 0 {
		rep.Ratios["transform_vs_sql_floor"] = transform / sql
	}
	return nil
}
