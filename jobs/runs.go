package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/segpipe/segpipe/internal/lake"
)

// RunsPrefix is where run records live: runs/<run_id>.json.
const RunsPrefix = "runs/"

// ListRuns reads the run records in the lake, newest first (by start time), keeping only
// those of job when job is not empty and at most last of them when last > 0. Run ids begin
// with their start time, so with last > 0 it reads records newest key first and stops early.
func ListRuns(ctx context.Context, s lake.Store, job string, last int) ([]RunRecord, error) {
	objs, err := s.List(ctx, RunsPrefix)
	if err != nil {
		return nil, fmt.Errorf("list runs in %s: %w", s.URL(), err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key > objs[j].Key })
	var out []RunRecord
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".json") {
			continue
		}
		if last > 0 && len(out) >= last {
			break
		}
		b, err := lake.GetBytes(ctx, s, o.Key)
		if err != nil {
			return nil, fmt.Errorf("read run record: %w", err)
		}
		var r RunRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("read %s: %w", o.Key, err)
		}
		if job != "" && r.Job != job {
			continue
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].StartedAt.Equal(out[j].StartedAt) {
			return out[i].StartedAt.After(out[j].StartedAt)
		}
		return out[i].RunID > out[j].RunID
	})
	if last > 0 && len(out) > last {
		out = out[:last]
	}
	return out, nil
}

// ErrNoSuchRun is returned (wrapped) by ReadRun when the lake has no record of the run.
var ErrNoSuchRun = errors.New("no such run")

// ReadRun reads the record of one run, runs/<run_id>.json.
func ReadRun(ctx context.Context, s lake.Store, runID string) (*RunRecord, error) {
	if runID == "" || strings.ContainsAny(runID, "/\\") || strings.Contains(runID, "..") {
		return nil, fmt.Errorf("run id %q: run ids have no slashes (segpipe runs lists them)", runID)
	}
	key := RunsPrefix + runID + ".json"
	b, err := lake.GetBytes(ctx, s, key)
	if errors.Is(err, lake.ErrNotExist) {
		return nil, fmt.Errorf("run %s: %w in %s (segpipe runs lists them)", runID, ErrNoSuchRun, s.URL())
	}
	if err != nil {
		return nil, fmt.Errorf("read run record %s: %w", key, err)
	}
	var r RunRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return &r, nil
}

// LastSuccess returns the newest succeeded run of job among runs (newest first, as ListRuns
// returns them), or nil when there is none.
func LastSuccess(runs []RunRecord, job string) *RunRecord {
	for i := range runs {
		if runs[i].Job == job && runs[i].Status == RunSucceeded {
			return &runs[i]
		}
	}
	return nil
}

// Rows returns the row count of a model (e.g. account_segments) in the record, or -1 when the
// run did not build it.
func (r *RunRecord) Rows(model string) int64 {
	for _, m := range r.Models {
		if m.Name == model {
			return m.Rows
		}
	}
	return -1
}
