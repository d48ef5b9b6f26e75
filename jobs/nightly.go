package jobs

import "context"

// NightlyResult is an ingest followed by a segment run.
type NightlyResult struct {
	Ingest  *IngestResult
	Segment *SegmentResult
}

// Nightly runs Ingest and then, if it succeeded, Segment, under one run id (the run records
// are runs/<run_id>-ingest.json and runs/<run_id>-segment.json).
func Nightly(ctx context.Context, p Params) (*NightlyResult, error) {
	res := &NightlyResult{}
	runID := p.RunID
	p.RunID = runID + "-ingest"
	ing, err := Ingest(ctx, p)
	res.Ingest = ing
	if err != nil {
		return res, err
	}
	p.RunID = runID + "-segment"
	seg, err := Segment(ctx, p)
	res.Segment = seg
	return res, err
}
