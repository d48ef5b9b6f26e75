package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/crmsync"
	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
)

// SyncOptions are the choices of one sync.
type SyncOptions struct {
	// DryRun plans and checks the CRM fields, writing nothing to the CRM or the lake.
	DryRun bool
	// Force sends a sync above sync.max_changed_share.
	Force bool
	// SampleSize is how many planned changes the result shows (default 5).
	SampleSize int
}

// SyncResult is what a sync planned and did.
type SyncResult struct {
	*crmsync.Result
	// Release is the release the values were read from.
	Release string
	// Skipped are the mapped fields the release cannot give (their mart was not built).
	Skipped []crmsync.Skipped
}

// ErrNoSyncTarget marks a sync asked of a config without sync.target.
var ErrNoSyncTarget = errors.New("no sync.target configured")

// syncTables are the marts a sync reads.
var syncTables = []string{"account_segments", "tier_assignments", "prospect_fit"}

// Sync writes the published release's segment values to the CRM of sync.target: it reads the
// tables of the release marts/_published.json names (never unaudited ones, whatever p.AsOf
// says), diffs them against the sync ledger and sends only what changed (internal/crmsync).
// A run takes the lease sync-<target>, so two syncs never write one CRM at once; a dry run
// takes none and writes nothing.
func Sync(ctx context.Context, p Params, o SyncOptions) (*SyncResult, error) {
	cfg := p.Config
	target := cfg.Sync.Target
	if target == "" {
		return nil, fmt.Errorf("sync: %w in %s (docs/sync.md)", ErrNoSyncTarget, cfg.File)
	}
	pub, err := lake.ReadPublished(ctx, p.Lake)
	if errors.Is(err, lake.ErrNotExist) {
		return nil, fmt.Errorf("sync: %w in %s yet (run segpipe run segment first)", ErrNothingPublished, p.Lake.URL())
	}
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	p.AsOf, err = time.Parse(time.DateOnly, pub.AsOf)
	if err != nil {
		return nil, fmt.Errorf("sync: the published as_of %q: %w", pub.AsOf, err)
	}
	if o.DryRun {
		return syncRelease(ctx, &p, pub, o)
	}
	rec := newRecord(&p, JobSync)
	tidy(ctx, &p, rec)
	leaseCtx, release, err := takeNamedLease(ctx, &p, JobSync, JobSync+"-"+target, "sync "+target, rec)
	if err != nil {
		return nil, finish(ctx, &p, rec, err)
	}
	defer release()
	rec.Status = RunRunning
	if err := writeRunRecord(leaseCtx, p.Lake, rec); err != nil {
		return nil, finish(ctx, &p, rec, err)
	}
	res, err := syncRelease(leaseCtx, &p, pub, o)
	if lost := leaseLost(leaseCtx); lost != nil && err != nil {
		err = fmt.Errorf("sync stopped: %w", lost)
	}
	if res != nil && res.Result != nil {
		rec.Extra = map[string]any{"sync": syncSummary(res)}
	}
	return res, finish(ctx, &p, rec, err)
}

// syncSummary is the run record's extra.sync.
func syncSummary(res *SyncResult) map[string]any {
	out := map[string]any{
		"target": res.Target, "vendor": res.Vendor, "release": res.Release, "objects": res.Objects,
		"changed_share": res.ChangedShare, "fields": res.Fields, "resumed": res.Resumed, "recovered": res.Recovered,
	}
	if len(res.Rejections) > 0 {
		out["rejections"] = res.Rejections
	}
	if len(res.Skipped) > 0 {
		var sk []string
		for _, s := range res.Skipped {
			sk = append(sk, s.Mapping.Field.Object+"."+s.Mapping.Field.Name+": "+s.Reason)
		}
		out["skipped"] = sk
	}
	return out
}

// syncRelease reads the release's records and runs the sync against the target.
func syncRelease(ctx context.Context, p *Params, pub *lake.Publication, o SyncOptions) (*SyncResult, error) {
	cfg := p.Config
	res := &SyncResult{Release: pub.Release}
	dir, cleanup, err := p.workDir("sync")
	if err != nil {
		return res, err
	}
	defer cleanup()
	sess, err := warehouse.Open(ctx, warehouse.Options{Threads: cfg.Warehouse.Threads, MemoryLimit: cfg.Warehouse.MemoryLimit, TempDir: dir})
	if err != nil {
		return res, err
	}
	defer sess.Close()
	tables := map[string]bool{}
	for _, t := range pub.Tables {
		if !slices.Contains(syncTables, t.Name) {
			continue
		}
		local, err := localCopy(ctx, p, t.Key)
		if err != nil {
			return res, fmt.Errorf("sync: read %s: %w", t.Key, err)
		}
		if err := sess.RegisterParquet(ctx, t.Name, []string{local}); err != nil {
			return res, fmt.Errorf("sync: %s: %w", t.Key, err)
		}
		tables[t.Name] = true
	}
	if !tables["account_segments"] {
		return res, fmt.Errorf("sync: release %s has no account_segments", pub.Release)
	}
	recs, used, skipped, err := crmsync.Records(ctx, sess, cfg.SyncMappings(), tables)
	if err != nil {
		return res, err
	}
	res.Skipped = skipped
	for _, s := range skipped {
		p.logger().Warn("sync field not written", "object", s.Mapping.Field.Object, "field", s.Mapping.Field.Name, "crm_field", s.Mapping.CRMName, "reason", s.Reason)
	}
	t, closeTarget, err := newSyncTarget(p)
	if err != nil {
		return res, err
	}
	defer closeTarget()
	res.Result, err = crmsync.Run(ctx, p.Lake, t, used, recs, crmsync.Options{
		Target: cfg.Sync.Target, AsOf: pub.AsOf, RunID: p.RunID, DryRun: o.DryRun, Force: o.Force,
		MaxChangedShare: cfg.Sync.MaxChangedShare, SampleSize: o.SampleSize, Logger: p.logger().With("job", JobSync, "run_id", p.RunID),
	})
	return res, err
}

// newSyncTarget builds the CRM target of sync.target, with the extract's HTTP client.
func newSyncTarget(p *Params) (crmsync.Target, func(), error) {
	cfg := p.Config
	name := cfg.Sync.Target
	src := cfg.Sources[name]
	caller, err := extract.NewCaller(name, src, cfg.SyncAuth(), p.HTTPClient, p.logger().With("job", JobSync))
	if err != nil {
		return nil, nil, fmt.Errorf("sync: %w", err)
	}
	switch src.Vendor {
	case "hubspot":
		return &crmsync.HubSpot{BaseURL: src.BaseURL, Group: cfg.Sync.PropertyGroup, Caller: caller, Config: cfg}, caller.Close, nil
	case "salesforce":
		return &crmsync.Salesforce{BaseURL: src.BaseURL, APIVersion: cfg.Sync.APIVersion, Caller: caller,
			PollInterval: cfg.Sync.PollInterval.D(), JobTimeout: cfg.Sync.JobTimeout.D()}, caller.Close, nil
	}
	caller.Close()
	return nil, nil, fmt.Errorf("sync: source %s is vendor %q: a sync writes to %v", name, src.Vendor, config.SyncVendors)
}

// SyncCheck checks, read-only, that the CRM of sync.target has every mapped field or can
// create it (config check --crm).
func SyncCheck(ctx context.Context, p Params) ([]crmsync.FieldStatus, error) {
	if p.Config.Sync.Target == "" {
		return nil, fmt.Errorf("sync: %w in %s (docs/sync.md)", ErrNoSyncTarget, p.Config.File)
	}
	t, closeTarget, err := newSyncTarget(&p)
	if err != nil {
		return nil, err
	}
	defer closeTarget()
	st, err := t.Prepare(ctx, p.Config.SyncMappings(), nil, true)
	return st, err
}
