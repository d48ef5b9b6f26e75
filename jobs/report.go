package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/report"
	"github.com/segpipe/segpipe/internal/warehouse"
)

// ReportResult says what Report drew and from where.
type ReportResult struct {
	AsOf string
	// Source is the release the tables came from, or "history" for the history partitions.
	Source  string
	File    string
	Tables  int
	Summary report.Summary
}

// ErrNothingPublished marks a report asked of a lake with no published run of that date.
var ErrNothingPublished = errors.New("nothing published")

// Report writes report.html for a published as_of into file: from the newest kept release of
// that date (the published one when asOf is ""), else from the history partitions
// marts/<table>/as_of=<asOf>/ (every date a run or backfill published, releases pruned or
// not). The tables are read from the lake by Go, as the segment job wrote them.
func Report(ctx context.Context, p Params, asOf, file string) (*ReportResult, error) {
	pub, err := lake.ReadPublished(ctx, p.Lake)
	if err != nil && !errors.Is(err, lake.ErrNotExist) {
		return nil, err
	}
	if asOf == "" {
		if pub == nil {
			return nil, fmt.Errorf("report: %w in %s yet (run segpipe run segment first)", ErrNothingPublished, p.Lake.URL())
		}
		asOf = pub.AsOf
	} else if _, err := time.Parse(time.DateOnly, asOf); err != nil {
		return nil, fmt.Errorf("report: as_of %q is not a date (YYYY-MM-DD)", asOf)
	}
	res := &ReportResult{AsOf: asOf, File: file}
	var tables []lake.PublishedFile
	var runID string
	if pub != nil && pub.AsOf == asOf {
		tables, runID, res.Source = pub.Tables, pub.RunID, pub.Release
	} else {
		releases, err := lake.Releases(ctx, p.Lake)
		if err != nil {
			return nil, err
		}
		for _, r := range releases {
			if r.Publication.AsOf == asOf {
				tables, runID, res.Source = r.Publication.Tables, r.Publication.RunID, r.Key
			}
		}
	}
	if tables == nil {
		if tables, err = historyTables(ctx, p.Lake, asOf); err != nil {
			return nil, err
		}
		res.Source = "history"
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("report: %w as of %s in %s: no release and no history partition marts/<table>/as_of=%s/ (segpipe runs lists the runs)", ErrNothingPublished, asOf, p.Lake.URL(), asOf)
	}

	dir, err := os.MkdirTemp("", "segpipe-report-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sess, err := warehouse.Open(ctx, warehouse.Options{Threads: p.Config.Warehouse.Threads, MemoryLimit: p.Config.Warehouse.MemoryLimit, TempDir: dir})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	meta := report.Meta{AsOf: asOf, RunID: runID, Currency: p.Config.Currency, GeneratedAt: time.Now()}
	for _, t := range tables {
		local, err := localCopy(ctx, &p, t.Key)
		if err != nil {
			return nil, fmt.Errorf("report: read %s: %w", t.Key, err)
		}
		if err := sess.RegisterParquet(ctx, t.Name, []string{local}); err != nil {
			return nil, fmt.Errorf("report: %s: %w", t.Key, err)
		}
		rows, err := sess.Query(ctx, "SELECT count(*) AS n FROM "+t.Name)
		if err != nil {
			return nil, fmt.Errorf("report: %s: %w", t.Key, err)
		}
		meta.Tables = append(meta.Tables, report.Table{Name: t.Name, Rows: int64(rows[0].Float("n"))})
	}
	res.Tables = len(tables)
	if res.Source == "history" {
		meta.Source = "from the history partitions of " + asOf
	} else {
		meta.Source = "from " + res.Source
		// The run's record holds its audit and what it left out; a pruned record just
		// leaves them out of the header.
		if rec, err := ReadRun(ctx, p.Lake, runID); err == nil {
			for _, a := range rec.Assertions {
				meta.Assertions = append(meta.Assertions, report.Assertion{Name: a.Name, Outcome: a.Outcome, Failures: a.Failures})
			}
		}
	}
	res.Summary, err = report.Write(ctx, sess, meta, file)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// historyTables lists the history partitions of asOf: marts/<table>/as_of=<asOf>/data.parquet.
func historyTables(ctx context.Context, s lake.Store, asOf string) ([]lake.PublishedFile, error) {
	objs, err := s.List(ctx, "marts/")
	if err != nil {
		return nil, err
	}
	var out []lake.PublishedFile
	for _, o := range objs {
		parts := strings.Split(o.Key, "/")
		if len(parts) == 4 && parts[2] == "as_of="+asOf && path.Base(o.Key) == "data.parquet" {
			out = append(out, lake.PublishedFile{Name: parts[1], Key: o.Key, Bytes: o.Size})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// writeReport draws the run's report.html from the audited marts in the session.
func writeReport(ctx context.Context, p *Params, sess *warehouse.Session, res *SegmentResult, marts []lake.LocalTable, file string) (report.Summary, error) {
	meta := report.Meta{AsOf: p.asOf(), RunID: p.RunID, Source: "this run", Currency: p.Config.Currency, GeneratedAt: time.Now(), NotBuilt: map[string][]string{}}
	for _, m := range marts {
		meta.Tables = append(meta.Tables, report.Table{Name: m.Name, Rows: m.Rows})
	}
	for _, nb := range res.NotBuilt {
		if nb.Layer == warehouse.Marts {
			meta.NotBuilt[nb.Name] = nb.Needs
		}
	}
	for _, a := range res.Assertions {
		meta.Assertions = append(meta.Assertions, report.Assertion{Name: a.Name, Outcome: a.Outcome, Failures: a.Failures})
	}
	return report.Write(ctx, sess, meta, file)
}
