package jobs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/report"
	"github.com/segpipe/segpipe/internal/warehouse"
	segsql "github.com/segpipe/segpipe/sql"
)

// SegmentResult is what a segment run built, checked and published.
type SegmentResult struct {
	RunID string
	// Inputs are the landings read, per configured source entity (lake.Snapshot).
	Inputs     []*lake.SnapshotRead
	Models     []warehouse.ModelRun
	Assertions []warehouse.AssertionResult
	// Publication is nil when nothing was published (a failed audit).
	Publication *lake.Publication
	// LatestMoved is false for a backfill of a date older than the published one.
	LatestMoved bool
	// NotBuilt are the models and assertions left out because an input they need is not
	// provided by any configured source (a CRM-only company has no billing marts).
	NotBuilt []warehouse.NotBuilt
	// Summary holds the small marts (segment_metrics, ltv_quintiles) for printing, those built.
	Summary map[string][]warehouse.Row
	// Totals is one row of headline figures (customers, ARR, ...).
	Totals warehouse.Row
	// Previous names, per history mart (tier_history, segment_history), the as_of of the
	// published partition the run carried forward ("" for none: a first run).
	Previous PreviousState
	// Report is what the run's report.html drew (published with the release).
	Report   report.Summary
	Duration time.Duration
}

// summaryTables are returned whole in SegmentResult.Summary; they have a handful of rows.
var summaryTables = []string{"segment_metrics", "ltv_quintiles"}

// Segment reads the newest landed data for as_of, runs every model in sql/, runs every
// assertion in sql/tests/ and, only if all pass, publishes the marts (write-audit-publish).
// A failed assertion returns an error wrapping warehouse.ErrAssertionsFailed and leaves the
// published tables as they were.
func Segment(ctx context.Context, p Params) (*SegmentResult, error) {
	if err := p.checkAsOf(); err != nil {
		return nil, err
	}
	rec := newRecord(&p, JobSegment)
	leaseCtx, release, err := start(ctx, &p, JobSegment, rec)
	if err != nil {
		return nil, err
	}
	defer release() // after finish has written the record
	// Registered before the first manifest is read, released after the last data file is:
	// while it is live no ingest deletes the files this run's manifests name (lake.SweepLanding).
	reader, err := lake.RegisterReader(leaseCtx, p.Lake, lake.NewHolder(p.RunID), p.Config.Lease.TTL.D())
	if err != nil {
		return nil, finish(ctx, &p, rec, fmt.Errorf("segment: %w", err))
	}
	runCtx := reader.Context()
	res, err := segment(runCtx, &p, rec)
	if lost := leaseLost(runCtx); lost != nil && err != nil {
		err = fmt.Errorf("segment stopped before publishing: %w", lost)
	}
	sweepAfterReading(leaseCtx, &p, rec, reader)
	if res != nil {
		rec.Inputs = inputReads(res.Inputs)
		rec.Publication = res.Publication
		for _, m := range res.Models {
			ms := ModelSummary{Name: m.Name, Rows: m.Rows, Seconds: m.Duration.Seconds(), Note: m.Note}
			for _, d := range m.Drops {
				ms.Dropped = append(ms.Dropped, DropSummary{Reason: d.Reason, Rows: d.Rows, Candidates: d.Candidates, Sample: d.Sample})
			}
			rec.Models = append(rec.Models, ms)
		}
		for _, a := range res.Assertions {
			as := AssertionSummary{Name: a.Name, Severity: a.Severity, Outcome: a.Outcome, Failures: a.Failures, ErrorIf: a.ErrorIf}
			if a.Population >= 0 {
				n := a.Population
				as.Population = &n
			}
			if a.Outcome != warehouse.Passed {
				as.Sample = a.Sample
			}
			rec.Assertions = append(rec.Assertions, as)
		}
	}
	return res, finish(ctx, &p, rec, err)
}

// sweepAfterReading releases the run's reader registration (its DuckDB session is closed)
// and sweeps the superseded files that readers deferred, if no other reader remains.
func sweepAfterReading(ctx context.Context, p *Params, rec *RunRecord, reader *lake.Lease) {
	log := p.logger().With("job", JobSegment, "run_id", p.RunID)
	if err := reader.Release(context.WithoutCancel(ctx)); err != nil {
		log.Warn("releasing the reader registration failed", "error", err)
	}
	res, err := lake.SweepDeferred(ctx, p.Lake, time.Now())
	if err != nil {
		log.Warn("sweeping superseded files failed; the next job retries", "error", err)
	}
	if res.Removed > 0 {
		rec.Sweep = &res
		log.Info("swept superseded files no reader needs any more", "removed", res.Removed)
	}
}

func segment(ctx context.Context, p *Params, rec *RunRecord) (*SegmentResult, error) {
	start := time.Now()
	log := p.logger().With("job", JobSegment, "run_id", p.RunID, "as_of", p.asOf())
	res := &SegmentResult{RunID: p.RunID, Summary: map[string][]warehouse.Row{}}
	dir, cleanup, err := p.workDir(JobSegment)
	if err != nil {
		return nil, fmt.Errorf("segment: %w", err)
	}
	defer cleanup()

	stage := func(name string, t0 time.Time) { rec.Stages[name] = time.Since(t0).Seconds() }
	t0 := time.Now()
	// DuckDB allocates outside the Go heap: hand back what an ingest just before (nightly)
	// freed but the Go runtime still holds, so it is not counted twice at the peak.
	debug.FreeOSMemory()
	sess, err := warehouse.Open(ctx, warehouse.Options{
		Threads: p.Config.Warehouse.Threads, MemoryLimit: p.Config.Warehouse.MemoryLimit, TempDir: filepath.Join(dir, "duckdb"),
		ProfileDir: p.SQLProfileDir,
	})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	if err := registerLanded(ctx, p, sess, dir, res); err != nil {
		return res, err
	}
	for _, r := range res.Inputs {
		if r.StaleDays > 0 {
			log.Warn("reading stale data (--allow-stale)", "source", r.Source, "entity", r.Entity, "known_at", r.KnownAt, "days_short", r.StaleDays)
		}
	}
	res.Previous, err = registerPrevious(ctx, p, sess)
	if err != nil {
		return res, err
	}
	if rec.Extra == nil {
		rec.Extra = map[string]any{}
	}
	rec.Extra["previous_as_of"] = res.Previous
	for _, table := range slices.Sorted(maps.Keys(res.Previous)) {
		d := res.Previous[table]
		if d == "" {
			d = "none (first run)"
		}
		log.Info("previous history", "table", table, "previous_as_of", d)
	}
	stage("register", t0)

	t0 = time.Now()
	landed, err := sess.Landed(ctx)
	if err != nil {
		return res, err
	}
	files, replaced, err := warehouse.RunFiles(p.Config, segsql.Files)
	if err != nil {
		return res, fmt.Errorf("segment: %w", err)
	}
	if len(replaced) > 0 {
		rec.Extra["replaced_models"] = replaced
		log.Info("built-in SQL replaced by the models folder", "files", strings.Join(replaced, ", "))
	}
	plan, err := warehouse.PlanModels(files, landed)
	if err != nil {
		return res, fmt.Errorf("segment: %w", err)
	}
	models := plan.Models
	res.NotBuilt = plan.NotBuilt
	sess.OnModel(func(n, total int, r warehouse.ModelRun) {
		args := []any{"n", n, "of", total, "model", r.Name, "layer", r.Layer, "rows", r.Rows, "seconds", r.Duration.Seconds()}
		if r.Note != "" {
			args = append(args, "note", r.Note)
		}
		log.Info("model built", args...)
	})
	assertions, err := warehouse.LoadAssertions(files)
	if err != nil {
		return res, err
	}
	if err := warehouse.ApplyRules(assertions, p.Config.Audit); err != nil {
		return res, fmt.Errorf("segment: config: %w", err)
	}
	assertions, skipped := plan.PlanAssertions(assertions)
	res.NotBuilt = append(res.NotBuilt, skipped...)
	rec.Extra["provided_tables"] = plan.Provided
	if len(res.NotBuilt) > 0 {
		rec.Extra["not_built"] = res.NotBuilt
		for _, nb := range res.NotBuilt {
			if nb.Layer == warehouse.Marts || nb.Layer == "tests" {
				log.Warn("not built: an input it needs is not provided", "model", nb.Name, "layer", nb.Layer, "needs", strings.Join(nb.Needs, ", "))
			}
		}
	}
	// Each assertion runs as soon as what it reads is built, and a table that is not a mart
	// is dropped once nothing left reads it, so DuckDB spills less (docs/performance.md). The
	// marts stay for the export, the summary and the report.
	layer := map[string]warehouse.Layer{}
	for _, m := range models {
		layer[m.Name] = m.Layer
	}
	build, err := sess.BuildAudited(ctx, files, models, warehouse.ConfigVariables(p.Config, p.AsOf), assertions,
		func(t string) bool { return layer[t] == warehouse.Marts })
	if build != nil {
		res.Models, res.Assertions = build.Models, build.Assertions
		// transform is the models' time, audit the assertions' run between them.
		rec.Stages["audit"] = build.AuditTime.Seconds()
		rec.Stages["transform"] = time.Since(t0).Seconds() - build.AuditTime.Seconds()
	}
	for _, m := range res.Models {
		for _, d := range m.Drops {
			log.Warn("rows left out in staging", "table", m.Name, "reason", d.Reason, "rows", d.Rows, "of", d.Candidates, "sample", strings.Join(d.Sample, ", "))
		}
	}
	for _, a := range res.Assertions {
		if a.Outcome == warehouse.Warned {
			log.Warn("assertion warned", "assertion", a.Name, "rows", a.Failures, "error_if", a.ErrorIf, "sample", strings.Join(a.Sample, " | "))
		}
	}
	if errors.Is(err, warehouse.ErrAssertionsFailed) {
		log.Error("audit failed: nothing published", "error", err)
		return res, err
	}
	if err != nil {
		return res, err
	}
	log.Info("models built", "models", len(res.Models), "seconds", rec.Stages["transform"])
	log.Info("audit passed", "assertions", len(res.Assertions))

	t0 = time.Now()
	var marts []lake.LocalTable
	var names []string
	for _, m := range models {
		if m.Layer != warehouse.Marts || !plan.Published(m.Name) {
			continue
		}
		file := filepath.Join(dir, m.Name+".parquet")
		n, err := sess.ExportParquet(ctx, m.Name, file)
		if err != nil {
			return res, err
		}
		marts = append(marts, lake.LocalTable{Name: m.Name, Path: file, Rows: n})
		names = append(names, m.Name)
	}
	dbFile := filepath.Join(dir, lake.DatabaseName)
	if err := sess.ExportDatabase(ctx, names, dbFile); err != nil {
		return res, err
	}
	built := map[string]bool{}
	for _, n := range names {
		built[n] = true
	}
	for _, t := range summaryTables {
		if !built[t] {
			continue
		}
		rows, err := sess.Query(ctx, "SELECT * FROM "+t)
		if err != nil {
			return res, fmt.Errorf("summary %s: %w", t, err)
		}
		res.Summary[t] = rows
	}
	if built["account_segments"] {
		totals, err := sess.Query(ctx, `SELECT
		count(*) AS accounts,
		count(*) FILTER (WHERE customer_status = 'active') AS active_customers,
		count(*) FILTER (WHERE customer_status = 'churned') AS churned_customers,
		count(*) FILTER (WHERE customer_status = 'trialing') AS trialing,
		count(*) FILTER (WHERE customer_status = 'prospect') AS prospects,
		count(*) FILTER (WHERE customer_status = 'unknown') AS status_unknown,
		coalesce(sum(arr), 0) AS arr,
		coalesce(sum(realized_revenue), 0) AS realized_revenue
		FROM account_segments`)
		if err != nil || len(totals) != 1 {
			return res, fmt.Errorf("summary totals: %v", err)
		}
		res.Totals = totals[0]
	}
	stage("export", t0)

	t0 = time.Now()
	reportFile := filepath.Join(dir, lake.ReportName)
	res.Report, err = writeReport(ctx, p, sess, res, marts, reportFile)
	if err != nil {
		return res, err
	}
	for _, nd := range res.Report.NotDrawn {
		log.Warn("report section not drawn", "section", nd)
	}
	rec.Extra["report"] = res.Report
	log.Info("report written", "sections", res.Report.Sections, "charts", res.Report.Charts, "not_built", len(res.Report.NotBuilt), "not_drawn", len(res.Report.NotDrawn))
	stage("report", t0)

	t0 = time.Now()
	if lost := leaseLost(ctx); lost != nil {
		return res, lost
	}
	for attempt := 1; ; attempt++ {
		res.Publication, err = lake.Publish(ctx, p.Lake, p.asOf(), p.RunID, marts, dbFile, inputReads(res.Inputs), time.Now(), p.Config.Publish.KeepReleases,
			lake.LocalFile{Name: lake.ReportName, Path: reportFile})
		// Another run published (or an operator rolled back) between this publish's read of
		// the pointer and its write: publish again against the pointer as it is now (a newer
		// date there makes this a history-only publish).
		if !errors.Is(err, lake.ErrPublishConflict) || attempt == 3 {
			break
		}
		log.Warn("the published pointer moved while publishing; publishing again", "attempt", attempt, "detail", err)
	}
	res.LatestMoved = err == nil
	if errors.Is(err, lake.ErrOlderThanPublished) {
		log.Info("backfill of an older date: history written, latest kept", "detail", err)
		err = nil
	}
	if err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	stage("publish", t0)
	res.Duration = time.Since(start)
	log.Info("published", "tables", len(marts), "latest_moved", res.LatestMoved, "seconds", res.Duration.Seconds())
	return res, nil
}

// OpenLanded opens a DuckDB session over the lake's landed data as of p.AsOf, registered as
// the segment job registers it (registerLanded, registerPrevious), to run the SQL on its own
// (the bench's transform floor). dir holds the session's temporary files; the caller closes
// the session.
func OpenLanded(ctx context.Context, p Params, dir string) (*warehouse.Session, error) {
	sess, err := warehouse.Open(ctx, warehouse.Options{
		Threads: p.Config.Warehouse.Threads, MemoryLimit: p.Config.Warehouse.MemoryLimit, TempDir: dir,
	})
	if err != nil {
		return nil, err
	}
	if err := registerLanded(ctx, &p, sess, dir, &SegmentResult{}); err != nil {
		sess.Close()
		return nil, err
	}
	if _, err := registerPrevious(ctx, &p, sess); err != nil {
		sess.Close()
		return nil, err
	}
	return sess, nil
}

// registerLanded creates a raw_<vendor>__<entity> view over each configured entity's snapshot
// as of the run: the landings that hold every fact up to as_of (lake.Snapshot). When an
// entity has nothing landed on or after as_of, the run stops naming every such entity, unless
// p.AllowStale. Files of a local lake are read in place; others through p.Cache (localCopy).
func registerLanded(ctx context.Context, p *Params, sess *warehouse.Session, dir string, res *SegmentResult) error {
	var stale []*lake.StaleError
	type view struct {
		name string
		read *lake.SnapshotRead
	}
	var views []view
	for _, sourceName := range p.Config.SourceNames() {
		src := p.Config.Sources[sourceName]
		for _, entityName := range src.EntityNames() {
			read, err := lake.Snapshot(ctx, p.Lake, sourceName, entityName, p.asOf(), p.AllowStale)
			var se *lake.StaleError
			if errors.As(err, &se) {
				stale = append(stale, se)
				continue
			}
			if err != nil {
				return fmt.Errorf("segment: %w", err)
			}
			res.Inputs = append(res.Inputs, read)
			views = append(views, view{p.Config.ViewOf(sourceName, entityName), read})
		}
	}
	if len(stale) > 0 {
		return staleInputsError(p.asOf(), stale)
	}
	p.stage("snapshots")
	var names, knownAt []string
	for _, v := range views {
		var files []string
		for _, m := range v.read.Manifests {
			for _, f := range m.Files {
				local, err := localCopy(ctx, p, f.Key)
				if err != nil {
					return fmt.Errorf("segment: read %s: %w", f.Key, err)
				}
				files = append(files, local)
			}
		}
		if err := sess.RegisterLanded(ctx, v.name, files); err != nil {
			return fmt.Errorf("segment: %w", err)
		}
		names, knownAt = append(names, v.name), append(knownAt, v.read.KnownAt)
	}
	// Staging's as_of_rank(updated, view) trusts a version updated before as_of only when
	// the view's landings reach as_of without a gap (sql/prelude.sql, known_at).
	return sess.SetVariables(ctx, []warehouse.Variable{{Name: "known_at_views", Value: names}, {Name: "known_at_dates", Value: knownAt}})
}

// staleInputsError names the entities with nothing landed on or after asOf, grouped by their
// newest landing: "crm/accounts, crm/opportunities: newest landing dt=2026-11-30, 4 days short".
func staleInputsError(asOf string, stale []*lake.StaleError) error {
	var groups []*lake.StaleError // the first of each newest dt
	byNewest := map[string][]string{}
	for _, se := range stale {
		if _, ok := byNewest[se.Newest]; !ok {
			groups = append(groups, se)
		}
		byNewest[se.Newest] = append(byNewest[se.Newest], se.Source+"/"+se.Entity)
	}
	parts := make([]string, 0, len(groups))
	for _, g := range groups {
		parts = append(parts, fmt.Sprintf("%s: newest landing dt=%s, %d day%s short", strings.Join(byNewest[g.Newest], ", "), g.Newest, g.Days, plural(g.Days)))
	}
	return fmt.Errorf("%w: segment as of %s: no landing holds the facts up to as_of for %s; run ingest for %s first (segpipe run ingest --as-of %s), or pass --allow-stale to compute from the newest landings (the run record and _published.json then name them and the days they lack)",
		ErrStaleInputs, asOf, strings.Join(parts, "; "), asOf, asOf)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ErrStaleInputs is wrapped by a segment run's error when an entity has no landing on or after
// its as_of and the run was not allowed stale data (Params.AllowStale).
var ErrStaleInputs = errors.New("landed data is older than as_of")

// inputReads returns what the run record and the publication say was read.
func inputReads(reads []*lake.SnapshotRead) []lake.InputRead {
	out := make([]lake.InputRead, len(reads))
	for i, r := range reads {
		out[i] = r.InputRead
	}
	return out
}

// localCopy returns a file DuckDB can read for the object at key: the lake's own file when
// the lake is local, else the cache's copy of the object's current generation (downloaded
// only when the cache does not have that generation yet).
func localCopy(ctx context.Context, p *Params, key string) (string, error) {
	if lr, ok := p.Lake.(lake.LocalReader); ok {
		return lr.LocalPath(key), nil
	}
	if p.Cache == nil {
		p.Cache = lake.NewCache("")
	}
	return p.Cache.LocalPath(ctx, p.Lake, key)
}
