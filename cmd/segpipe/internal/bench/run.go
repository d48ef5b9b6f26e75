package bench

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/segpipe/segpipe/jobs"
)

// Nights are the two runs the bench measures on one lake: the first load (full) and the
// next night's steady-state run (incremental), with the hooks around the second.
type Nights struct {
	// Full is the first night's params: a fresh lake, every export pulled whole.
	Full jobs.Params
	// Nightly is the next night's params (as_of a day later, the same lake).
	Nightly jobs.Params
	// SecondNight switches the export server to the second night's changes.
	SecondNight func() error
	// NightlyStarts, when set, is called just before the nightly run (to start a CPU
	// profile of it); NightlyDone as soon as it ends.
	NightlyStarts func() error
	NightlyDone   func()
}

// night is what one measured night gave.
type night struct {
	wall, extractRowsPerSecond, transform float64
	peakRSS, landed                       int64
	models                                []Model
	martRows                              int64
}

// runNight measures ingest, then segment, stage by stage, on p, adding the stages (names
// prefixed by label) to rep.
func runNight(ctx context.Context, p jobs.Params, label string, rep *Report) (*night, error) {
	resetPeakRSS()
	t0, u0 := time.Now(), cpuTime()
	ing, err := jobs.Ingest(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("bench %s ingest: %w", label, err)
	}
	extractStage := Stage{Stage: label + ": extract + land", WallSeconds: time.Since(t0).Seconds(), CPUSeconds: cpuTime() - u0, PeakRSSBytes: peakRSS()}
	for _, m := range ing.Datasets {
		extractStage.Rows += m.Rows + m.Quarantined + m.Filtered
		extractStage.Bytes += m.ResponseBytes
	}
	extractStage = rated(extractStage)
	rep.Stages = append(rep.Stages, extractStage)

	t1, u1 := time.Now(), cpuTime()
	seg, err := jobs.Segment(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("bench %s segment: %w", label, err)
	}
	segStage := Stage{Stage: label + ": segment", WallSeconds: time.Since(t1).Seconds(), CPUSeconds: cpuTime() - u1, PeakRSSBytes: peakRSS()}
	runs, err := jobs.ListRuns(ctx, p.Lake, jobs.JobSegment, 1)
	if err != nil || len(runs) == 0 {
		return nil, fmt.Errorf("bench: read the %s segment run record: %v", label, err)
	}
	for _, name := range []string{"register", "transform", "audit", "export", "publish"} {
		if s, ok := runs[0].Stages[name]; ok {
			rep.Stages = append(rep.Stages, Stage{Stage: "  " + name, WallSeconds: s})
		}
	}
	rep.Stages = append(rep.Stages, segStage)
	n := &night{wall: time.Since(t0).Seconds(), extractRowsPerSecond: extractStage.RowsPerSecond, peakRSS: peakRSS(), landed: extractStage.Rows,
		transform: runs[0].Stages["transform"] + runs[0].Stages["audit"]}
	for _, m := range seg.Models {
		n.martRows += m.Rows
		n.models = append(n.models, Model{Name: m.Name, Seconds: m.Duration.Seconds()})
	}
	slices.SortFunc(n.models, func(a, b Model) int { return cmp.Compare(b.Seconds, a.Seconds) })
	return n, nil
}

// Run measures the first load (ingest and segment on a fresh lake), then, when floors, the
// three floors on the first night's data and the ratios against them, then the next night
// (ingest of the day's changes and segment) on the same lake, and adds all to rep.
func Run(ctx context.Context, nights Nights, rep *Report, floors bool) error {
	if rep.Ratios == nil {
		rep.Ratios = map[string]float64{}
	}
	full, err := runNight(ctx, nights.Full, "full", rep)
	if err != nil {
		return err
	}
	rep.FullWall, rep.FullPeakRSS, rep.FullRecords = full.wall, full.peakRSS, full.landed

	if floors {
		p := nights.Full
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
			CPUSeconds: cpuTime() - u, Rows: full.landed}))
		if decode := rep.Floors[1]; decode.RowsPerSecond > 0 {
			rep.Ratios["extract_vs_decode_floor"] = full.extractRowsPerSecond / decode.RowsPerSecond
		}
		if sql := rep.Floors[2].WallSeconds; sql > 0 && full.transform > 0 {
			rep.Ratios["transform_vs_sql_floor"] = full.transform / sql
		}
	}

	if err := nights.SecondNight(); err != nil {
		return err
	}
	if nights.NightlyStarts != nil {
		if err := nights.NightlyStarts(); err != nil {
			return err
		}
	}
	p := nights.Nightly
	p.RunID = jobs.NewRunID(time.Now()) // named when it starts, after the first night's
	nightly, err := runNight(ctx, p, "nightly", rep)
	if nights.NightlyDone != nil {
		nights.NightlyDone()
	}
	if err != nil {
		return err
	}
	rep.TotalWall, rep.PeakRSS, rep.NightlyRecords = nightly.wall, nightly.peakRSS, nightly.landed
	rep.MartRows, rep.Models = nightly.martRows, nightly.models
	return nil
}
