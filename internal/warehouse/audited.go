package warehouse

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"time"
)

// Audited is what BuildAudited did: the models built, the assertions run, and the tables it
// dropped once nothing left to run read them.
type Audited struct {
	Models     []ModelRun
	Assertions []AssertionResult
	// AuditTime is the time spent in the assertions; the rest of the build is the models'.
	AuditTime time.Duration
	// Dropped are the tables dropped, in the order dropped.
	Dropped []string
}

// BuildAudited is Build followed by RunAssertions, interleaved so that DuckDB holds less at a
// time: each assertion runs as soon as every model it reads is built, and each model's table
// that keep does not name is dropped as soon as no model or assertion still to run reads it.
// DuckDB then spills less of its memory_limit to disk (docs/performance.md). The tables kept,
// the runs and the assertion results are Build's and RunAssertions' (assertions in the order
// run, which follows the models); failed assertions do not stop the build, and their error
// (ErrAssertionsFailed) comes after every model and assertion has run, as RunAssertions'
// does. A model or an assertion that cannot run stops it at once.
//
// What an assertion or a model reads is found by the names its SQL mentions (Model.Refs,
// Assertion.Reads): a table read another way (a name built at run time) must be kept.
func (s *Session) BuildAudited(ctx context.Context, fsys fs.FS, models []Model, vars []Variable, assertions []Assertion, keep func(table string) bool) (*Audited, error) {
	if err := s.prepare(ctx, fsys, models, vars); err != nil {
		return nil, err
	}
	if err := s.createDropsTable(ctx); err != nil {
		return nil, err
	}
	after, lastUse := auditSchedule(models, assertions)
	dropAfter := map[int][]string{} // by step, in model order
	for _, m := range models {
		if !keep(m.Name) {
			dropAfter[lastUse[m.Name]] = append(dropAfter[lastUse[m.Name]], m.Name)
		}
	}
	out := &Audited{}
	var failed []string
	audit := func(step int) error {
		t0 := time.Now()
		defer func() { out.AuditTime += time.Since(t0) }()
		for _, a := range after[step] {
			r, err := s.runAssertion(ctx, a)
			if err != nil {
				return err
			}
			if r.Outcome == Failed {
				failed = append(failed, r.failure())
			}
			out.Assertions = append(out.Assertions, r)
		}
		return nil
	}
	goNotes := map[string]string{}
	for i, m := range models {
		run, err := s.buildModel(ctx, m, models, goNotes)
		if err != nil {
			return out, err
		}
		out.Models = append(out.Models, run)
		if s.onModel != nil {
			s.onModel(len(out.Models), len(models), run)
		}
		if err := audit(i); err != nil {
			return out, err
		}
		for _, t := range dropAfter[i] {
			if err := s.Exec(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
				return out, fmt.Errorf("drop %s, which nothing left to run reads: %w", t, err)
			}
			out.Dropped = append(out.Dropped, t)
		}
	}
	if err := audit(-1); err != nil { // without models: every assertion
		return out, err
	}
	return out, assertionsFailed(failed)
}

// auditSchedule says, for models built in order, which assertions run after model i (every
// model they read is built by then; one reading StagingDropsTable waits for the last staging
// model, and one reading no model for the last model, or at step -1 when there is none), and
// the step after which each model's table is last read, by a model or an assertion (its own
// step when nothing reads it).
func auditSchedule(models []Model, assertions []Assertion) (after map[int][]Assertion, lastUse map[string]int) {
	idx := map[string]int{}
	lastUse = map[string]int{}
	lastStaging := -1
	for i, m := range models {
		idx[m.Name] = i
		lastUse[m.Name] = i
		if m.Layer == Staging {
			lastStaging = i
		}
		for _, r := range m.Refs {
			lastUse[r] = max(lastUse[r], i)
		}
	}
	after = map[int][]Assertion{}
	for _, a := range assertions {
		reads := a.Reads(models)
		if _, ok := idx[a.Population]; ok {
			reads = append(reads, a.Population)
		}
		step := -1
		for _, r := range reads {
			step = max(step, idx[r])
		}
		if slices.Contains(uniq(word.FindAllString(stripStrings(StripComments(a.SQL)), -1)), StagingDropsTable) {
			step = max(step, lastStaging)
		}
		if step < 0 {
			step = len(models) - 1
		}
		after[step] = append(after[step], a)
		for _, r := range reads {
			lastUse[r] = max(lastUse[r], step)
		}
	}
	return after, lastUse
}
