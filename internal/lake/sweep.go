package lake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// Superseded files and readers
//
// A landing replaces the dataset of its dt: once its manifest is written, the parts and
// quarantine files of earlier landings of that dt are superseded. A segment run reading the
// previous manifest may still need them (DuckDB reads a local lake's files lazily during the
// whole build; on GCS they are copied to the cache one by one), and ingest and segment take
// different run leases. So a superseded file is deleted only while no reader is registered
// (RegisterReader), in this order:
//
//	landing: write the manifest → mark the dt (sweeps/…) → read the manifest → list readers → delete
//	reader:  register           → read manifests → read the files they name → release
//
// Why this is safe: the sweep lists readers after it has read the manifest it keeps. A reader
// the listing does not see registered after the listing, hence read its manifests after the
// sweep read that one: it reads that manifest (or a newer one), never the superseded files.
// A reader the listing sees defers the sweep. The store makes this hold: a write is visible
// to every later read and listing (the local filesystem and GCS both are strongly consistent).
//
// A deferred sweep leaves its mark (sweeps/<source>/<entity>/dt=<dt>.json); SweepDeferred,
// which the jobs run when a segment ends and when any job starts, finishes it once no live
// reader remains. A sweep that runs without the dt's ingest lease could meet a landing of that
// dt in progress, whose parts are not in any manifest yet: it deletes only files last written
// before the manifest it keeps, and a landing's parts are written after the landing it
// replaces wrote its manifest.

// SweepPrefix holds the marks of superseded files not yet deleted:
// sweeps/<source>/<entity>/dt=<dt>.json.
const SweepPrefix = "sweeps/"

// SweepKey is the mark of a dt whose superseded files are not yet deleted.
func SweepKey(source, entity, dt string) string {
	return fmt.Sprintf("%s%s/%s/dt=%s.json", SweepPrefix, source, entity, dt)
}

// SweepResult counts what a sweep of superseded files did.
type SweepResult struct {
	// Removed counts the superseded files deleted.
	Removed int `json:"removed"`
	// Deferred counts the superseded files left in place because a reader is registered; a
	// later SweepDeferred deletes them.
	Deferred int `json:"deferred,omitempty"`
	// Readers are the live readers that deferred the sweep.
	Readers []Holder `json:"readers,omitempty"`
}

// sweepMark is the content of a mark.
type sweepMark struct {
	Source   string    `json:"source"`
	Entity   string    `json:"entity"`
	Dt       string    `json:"dt"`
	RunID    string    `json:"run_id"`
	MarkedAt time.Time `json:"marked_at"`
}

// SweepLanding deletes the parts and quarantine files under m's dt that m does not list,
// unless a live reader is registered: then it leaves them, and its mark, for SweepDeferred
// (see the order above). Call it after writing m, holding the dt's ingest lease.
func SweepLanding(ctx context.Context, s Store, m *Manifest, now time.Time) (SweepResult, error) {
	old, err := supersededFiles(ctx, s, m, time.Time{})
	if err != nil || len(old) == 0 {
		return SweepResult{}, err
	}
	key := SweepKey(m.Source, m.Entity, m.Dt)
	b, err := json.MarshalIndent(sweepMark{Source: m.Source, Entity: m.Entity, Dt: m.Dt, RunID: m.RunID, MarkedAt: now.UTC()}, "", "  ")
	if err != nil {
		return SweepResult{}, err
	}
	info, err := s.Put(ctx, key, strings.NewReader(string(b)+"\n"))
	if err != nil {
		return SweepResult{}, fmt.Errorf("mark %s: %w", key, err)
	}
	return sweepMarked(ctx, s, []ObjectInfo{info}, now)
}

// SweepDeferred finishes the sweeps that readers deferred, if no live reader remains.
func SweepDeferred(ctx context.Context, s Store, now time.Time) (SweepResult, error) {
	marks, err := s.List(ctx, SweepPrefix)
	if err != nil || len(marks) == 0 {
		return SweepResult{}, err
	}
	return sweepMarked(ctx, s, marks, now)
}

// sweepPlan is one marked dt: its superseded files as of the manifest read.
type sweepPlan struct {
	mark  ObjectInfo
	files []string
	skip  bool // the manifest changed while it was read: try again next time
}

func sweepMarked(ctx context.Context, s Store, marks []ObjectInfo, now time.Time) (SweepResult, error) {
	var plans []sweepPlan
	for _, mk := range marks {
		source, entity, dt, ok := parseSweepKey(mk.Key)
		if !ok {
			continue
		}
		m, info, err := readManifestAt(ctx, s, source, entity, dt)
		switch {
		case errors.Is(err, ErrNotExist):
			plans = append(plans, sweepPlan{mark: mk}) // no dataset any more: nothing to keep
			continue
		case errors.Is(err, errManifestMoving):
			plans = append(plans, sweepPlan{mark: mk, skip: true})
			continue
		case err != nil:
			return SweepResult{}, err
		}
		old, err := supersededFiles(ctx, s, m, info.Updated)
		if err != nil {
			return SweepResult{}, err
		}
		p := sweepPlan{mark: mk}
		for _, o := range old {
			p.files = append(p.files, o.Key)
		}
		plans = append(plans, p)
	}
	// Every manifest kept above was read before this listing: see the order above.
	live, _, err := Readers(ctx, s, now)
	if err != nil {
		return SweepResult{}, err
	}
	var res SweepResult
	if len(live) > 0 {
		for _, p := range plans {
			res.Deferred += len(p.files)
		}
		for _, r := range live {
			res.Readers = append(res.Readers, r.Holder)
		}
		return res, nil
	}
	var errs []error
	for _, p := range plans {
		if p.skip {
			continue
		}
		failed := false
		for _, k := range p.files {
			if err := s.Delete(ctx, k); err != nil {
				errs = append(errs, err)
				failed = true
				continue
			}
			res.Removed++
		}
		if failed {
			continue
		}
		// A landing that marked the dt again since keeps its mark.
		err := s.DeleteIf(ctx, p.mark.Key, p.mark.Generation)
		if err != nil && !errors.Is(err, ErrPrecondition) && !errors.Is(err, ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("sweep superseded files: %w", errors.Join(errs...))
	}
	return res, nil
}

// parseSweepKey reads sweeps/<source>/<entity>/dt=<dt>.json.
func parseSweepKey(key string) (source, entity, dt string, ok bool) {
	rest, ok := strings.CutSuffix(strings.TrimPrefix(key, SweepPrefix), ".json")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 || !strings.HasPrefix(parts[2], "dt=") {
		return "", "", "", false
	}
	return parts[0], parts[1], strings.TrimPrefix(parts[2], "dt="), true
}

var errManifestMoving = errors.New("the manifest changed while it was read")

// readManifestAt reads a manifest and the object info of the generation read.
func readManifestAt(ctx context.Context, s Store, source, entity, dt string) (*Manifest, ObjectInfo, error) {
	key := ManifestKey(source, entity, dt)
	before, err := s.Stat(ctx, key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	m, err := ReadManifest(ctx, s, source, entity, dt)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	after, err := s.Stat(ctx, key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	if after.Generation != before.Generation {
		return nil, ObjectInfo{}, errManifestMoving
	}
	return m, before, nil
}

// supersededFiles lists the parts and quarantine files under m's dt that m does not list;
// with before set, only those last written before it.
func supersededFiles(ctx context.Context, s Store, m *Manifest, before time.Time) ([]ObjectInfo, error) {
	keep := map[string]bool{m.QuarantineKey: true}
	for _, f := range m.Files {
		keep[f.Key] = true
	}
	var out []ObjectInfo
	for _, d := range []struct{ prefix, ext string }{
		{RawPrefix(m.Source, m.Entity, m.Dt), ".parquet"},
		{QuarantinePrefix(m.Source, m.Entity, m.Dt), ".ndjson"},
	} {
		objs, err := s.List(ctx, d.prefix)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			dir, base := path.Split(o.Key)
			if dir != d.prefix || keep[o.Key] || !strings.HasPrefix(base, "part-") || !strings.HasSuffix(base, d.ext) {
				continue
			}
			if !before.IsZero() && !o.Updated.Before(before) {
				continue
			}
			out = append(out, o)
		}
	}
	return out, nil
}
