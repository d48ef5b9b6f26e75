package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/segpipe/segpipe/internal/config"
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
// raw/<source>/<entity>/dt=<as_of>/. Sources are pulled at the same time, each with up to its
// `concurrency` entities at once and one shared rate limiter. Incremental entities start from
// their saved cursor (state/<source>/<entity>.json) less the lookback, unless Params.FullRefresh;
// the cursor moves only after the landing's manifest is written. The first failure cancels the
// rest; entities landed before it stay landed, and a rerun replaces them.
func Ingest(ctx context.Context, p Params) (*IngestResult, error) {
	if err := p.checkAsOf(); err != nil {
		return nil, err
	}
	rec := newRecord(&p, JobIngest)
	leaseCtx, release, err := start(ctx, &p, JobIngest, rec)
	if err != nil {
		return nil, err
	}
	defer release() // after finish has written the record
	res, err := ingest(leaseCtx, &p, rec)
	if lost := leaseLost(leaseCtx); lost != nil && err != nil {
		err = fmt.Errorf("ingest stopped: %w", lost)
	}
	return res, finish(ctx, &p, rec, err)
}

// landing is one entity to pull, and what became of it.
type landing struct {
	source, entity string
	src            *config.Source
	ent            *config.Entity
	limiter        *rate.Limiter
	manifest       *lake.Manifest
	seconds        float64
	err            error
}

func ingest(ctx context.Context, p *Params, rec *RunRecord) (*IngestResult, error) {
	start := time.Now()
	log := p.logger().With("job", JobIngest, "run_id", p.RunID, "as_of", p.asOf())
	dir, cleanup, err := p.workDir(JobIngest)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer cleanup()

	swept := &sweepTally{}
	all := eachEntity(ctx, p.Config, previousLandingSeconds(ctx, p, log), func(ctx context.Context, l *landing) error {
		t0 := time.Now()
		var err error
		l.manifest, err = landEntity(ctx, p, l, dir, log, swept.add)
		l.seconds = time.Since(t0).Seconds()
		return err
	})

	res := &IngestResult{RunID: p.RunID}
	var failures, cancelled []error
	for _, l := range all {
		if l.err != nil {
			e := fmt.Errorf("ingest %s/%s: %w", l.source, l.entity, l.err)
			if errors.Is(l.err, context.Canceled) {
				cancelled = append(cancelled, e) // stopped because another failed, or by the caller
			} else {
				failures = append(failures, e)
			}
			continue
		}
		m := l.manifest
		res.Datasets = append(res.Datasets, m)
		rec.Datasets = append(rec.Datasets, DatasetSummary{
			Source: m.Source, Entity: m.Entity, Rows: m.Rows, Quarantined: m.Quarantined, Bytes: m.Bytes, Pages: m.Pages,
			Superseded: m.Superseded, RepeatsDropped: m.RepeatsDropped, OlderEvents: m.OlderEvents,
		})
		rec.Stages["extract "+l.source+"/"+l.entity] = l.seconds
	}
	if r := swept.result(); r.Removed > 0 || r.Deferred > 0 {
		rec.Sweep = &r
		if r.Deferred > 0 {
			log.Info("superseded files kept for the segment runs reading them; the next job sweeps them", "deferred", r.Deferred, "removed", r.Removed, "readers", len(r.Readers))
		}
	}
	res.Duration = time.Since(start)
	if len(failures) == 0 && len(cancelled) > 0 {
		failures = cancelled[:1]
	}
	return res, errors.Join(failures...)
}

// Entity is one configured entity as Ingest pulls it, with its source's shared rate limiter.
type Entity struct {
	Source, Name string
	Src          *config.Source
	Ent          *config.Entity
	Limiter      *rate.Limiter
}

// ForEachEntity runs fn for every configured entity exactly as Ingest schedules its landings
// (eachEntity): for measuring a part of a landing on its own (the bench's floors). It returns
// every entity's error, joined.
func ForEachEntity(ctx context.Context, p Params, fn func(context.Context, Entity) error) error {
	all := eachEntity(ctx, p.Config, previousLandingSeconds(ctx, &p, p.logger()), func(ctx context.Context, l *landing) error {
		return fn(ctx, Entity{Source: l.source, Name: l.entity, Src: l.src, Ent: l.ent, Limiter: l.limiter})
	})
	var errs []error
	for _, l := range all {
		errs = append(errs, l.err)
	}
	return errors.Join(errs...)
}

// eachEntity runs fn for every entity of every configured source the way ingest pulls them:
// sources at the same time, each with up to its `concurrency` entities at once, started in
// startOrder's order. The first failure cancels the rest. It returns every entity with its
// error, in config order.
func eachEntity(ctx context.Context, cfg *config.Config, took map[string]float64, fn func(context.Context, *landing) error) []*landing {
	var all []*landing
	bySource := map[string][]*landing{}
	for _, sourceName := range cfg.SourceNames() {
		src := cfg.Sources[sourceName]
		limiter := extract.NewLimiter(src)
		for _, entityName := range src.EntityNames() {
			l := &landing{source: sourceName, entity: entityName, src: src, ent: src.Entities[entityName], limiter: limiter}
			all = append(all, l)
			bySource[sourceName] = append(bySource[sourceName], l)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, sourceName := range cfg.SourceNames() {
		queue := make(chan *landing, len(bySource[sourceName]))
		for _, l := range startOrder(bySource[sourceName], took) {
			queue <- l
		}
		close(queue)
		for range max(cfg.Sources[sourceName].Concurrency, 1) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for l := range queue {
					if err := ctx.Err(); err != nil {
						l.err = err
						continue
					}
					if l.err = fn(ctx, l); l.err != nil {
						cancel()
					}
				}
			}()
		}
	}
	wg.Wait()
	return all
}

// startOrder is the order in which a source's entities start: the longest landing of the
// previous ingest first (took holds its seconds by "source/entity"), so that the longest one
// does not start last and run alone at the end; entities it has no figure for go before
// those, in config order.
func startOrder(ls []*landing, took map[string]float64) []*landing {
	out := slices.Clone(ls)
	slices.SortStableFunc(out, func(a, b *landing) int {
		ta, okA := took[a.source+"/"+a.entity]
		tb, okB := took[b.source+"/"+b.entity]
		switch {
		case !okA && !okB:
			return 0
		case !okA:
			return -1
		case !okB:
			return 1
		}
		return cmp.Compare(tb, ta)
	})
	return out
}

// previousLandingSeconds returns how long each entity's landing took in the newest succeeded
// ingest among the last five ("source/entity" to seconds), for startOrder. Without one it
// returns nil: the order is then the config's. A lake whose run records cannot be read only costs the order, so that
// is logged, not returned.
func previousLandingSeconds(ctx context.Context, p *Params, log *slog.Logger) map[string]float64 {
	runs, err := ListRuns(ctx, p.Lake, JobIngest, 5)
	if err != nil {
		log.Warn("entities start in config order: the previous ingest's timings could not be read", "error", err)
		return nil
	}
	last := LastSuccess(runs, JobIngest)
	if last == nil {
		return nil
	}
	took := map[string]float64{}
	for stage, sec := range last.Stages {
		if key, ok := strings.CutPrefix(stage, "extract "); ok {
			took[key] = sec
		}
	}
	return took
}

// sweepTally adds up what the landings of an ingest did with the files they superseded.
type sweepTally struct {
	mu  sync.Mutex
	sum lake.SweepResult
}

func (t *sweepTally) add(r lake.SweepResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sum.Removed += r.Removed
	t.sum.Deferred += r.Deferred
	for _, h := range r.Readers {
		if !slices.ContainsFunc(t.sum.Readers, func(o lake.Holder) bool { return o.RunID == h.RunID }) {
			t.sum.Readers = append(t.sum.Readers, h)
		}
	}
}

func (t *sweepTally) result() lake.SweepResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sum
}

// landEntity lands one entity and, for an incremental one, moves its cursor afterwards.
func landEntity(ctx context.Context, p *Params, l *landing, dir string, log *slog.Logger, onSweep func(lake.SweepResult)) (*lake.Manifest, error) {
	since, prev, err := incrementalStart(ctx, p, l)
	if err != nil {
		return nil, err
	}
	m, err := extract.LandEntity(ctx, p.Lake, l.source, l.src, l.entity, l.ent, extract.Options{
		Dt: p.asOf(), RunID: p.RunID, TempDir: dir, Logger: log, HTTPClient: p.HTTPClient,
		Since: since, Limiter: l.limiter, OnSweep: onSweep,
	})
	if err != nil {
		return nil, err
	}
	log.Info("landed", "source", l.source, "entity", l.entity, "mode", m.Mode, "rows", m.Rows,
		"quarantined", m.Quarantined, "filtered", m.Filtered, "superseded", m.Superseded, "repeats_dropped", m.RepeatsDropped, "older_events", m.OlderEvents,
		"pages", m.Pages, "bytes", m.Bytes)
	if m.CursorMax != nil && (prev == nil || m.CursorMax.After(prev.Cursor)) {
		st := &lake.State{Source: l.source, Entity: l.entity, Cursor: m.CursorMax.UTC(), Dt: m.Dt, RunID: m.RunID, UpdatedAt: time.Now().UTC()}
		if err := lake.WriteState(ctx, p.Lake, st); err != nil {
			return m, fmt.Errorf("landed, but saving the cursor failed (the next run re-reads from the old one): %w", err)
		}
	}
	return m, nil
}

// incrementalStart decides where an entity's landing starts: nil for a full load (no
// incremental config, --full-refresh, no saved cursor, or this dt already holds a full
// landing), else the saved cursor less the lookback. Rerunning a dt that holds an incremental
// landing starts where that landing started, so the rerun replaces it with the same records
// and newer versions, never fewer.
func incrementalStart(ctx context.Context, p *Params, l *landing) (*time.Time, *lake.State, error) {
	inc := l.ent.Incremental
	if inc == nil {
		return nil, nil, nil
	}
	prev, err := lake.ReadState(ctx, p.Lake, l.source, l.entity)
	if err != nil && !errors.Is(err, lake.ErrNotExist) {
		return nil, nil, err
	}
	if p.FullRefresh || prev == nil {
		return nil, prev, nil
	}
	existing, err := lake.ReadManifest(ctx, p.Lake, l.source, l.entity, p.asOf())
	switch {
	case err == nil && existing.IsFull():
		return nil, prev, nil
	case err == nil && existing.Since != nil:
		return existing.Since, prev, nil
	case err != nil && !errors.Is(err, lake.ErrNotExist):
		return nil, nil, err
	}
	since := prev.Cursor.Add(-inc.Lookback.D())
	if ev := inc.Events; ev != nil {
		// The vendor keeps events this long: older changes can only be found by listing the
		// whole export again.
		if oldest := p.now().Add(-ev.Retention.D()); since.Before(oldest) {
			p.logger().Warn("the saved cursor is older than the vendor keeps events: loading in full",
				"source", l.source, "entity", l.entity, "since", since, "events_kept_from", oldest.UTC(), "retention", ev.Retention.D().String())
			return nil, prev, nil
		}
	}
	return &since, prev, nil
}
