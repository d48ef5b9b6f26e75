// Package extract pulls one source entity from its HTTP export, page by page, and lands it
// in the lake as Parquet with a manifest written last.
//
// The files: extract.go is a landing's lifecycle (pull, land, commit, rollback, sweep) and
// the package's entry points; convert.go turns records into Arrow rows; client.go,
// paginate.go, bulk.go and decode.go fetch and split pages; pipeline.go runs the stages
// concurrently; parquet.go writes the parts; repeats.go and shape.go judge repeated keys
// and the export's shape. Every error an entry point returns starts "extract
// <source>/<entity> dt=<dt>:", added there once.
//
// Records stream from each page into Arrow builders and out to Parquet parts built in a
// temporary directory, so memory holds one page and one record batch whatever the size of
// the export. Records that do not fit the configured columns go to a quarantine file with
// the reason; every landed row keeps its original text in _raw.
package extract

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/time/rate"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
)

// Default sizes of Options.
const (
	DefaultRowsPerFile int64 = 1_000_000
	DefaultBatchRows   int   = 65_536
)

// Options for one landing.
type Options struct {
	// Dt is the partition date, YYYY-MM-DD.
	Dt string
	// RunID is the run's id, recorded in part names, rows and the manifest.
	RunID string
	// TempDir is where Parquet parts are built before upload ("" = os.TempDir()).
	TempDir string
	// Logger receives progress (info) and HTTP detail (debug); nil discards. LandEntity adds
	// source, entity and dt; the caller's logger carries the run id.
	Logger *slog.Logger
	// HTTPClient sends the requests; nil uses a default. Its Timeout is replaced by the
	// source's timeout and redirects are kept to the same host.
	HTTPClient *http.Client
	// RowsPerFile rolls to a new Parquet part after this many rows (default 1,000,000).
	RowsPerFile int64
	// BatchRows is the number of rows per Arrow record batch and Parquet row group
	// (default 65,536).
	BatchRows int
	// Since, when set and the entity has incremental config, makes this landing incremental:
	// only records changed after Since are asked for (or kept). The caller has already
	// subtracted the lookback. Nil, or an entity without incremental config, is a full load.
	Since *time.Time
	// Limiter, when set, is waited on before every HTTP attempt (retries included). Share one
	// per source (NewLimiter) across the source's concurrently landing entities.
	Limiter *rate.Limiter
	// OnSweep, when set, is told what the landing did with the files of earlier landings of
	// the dt once its manifest is written: removed them, or left them (deferred) because a
	// reader is registered (lake.SweepLanding).
	OnSweep func(lake.SweepResult)

	// keyBatch is how many records go through the key set at once (default keyBatch); 1
	// takes them one at a time, for tests.
	keyBatch int
}

// BadShareError is returned when more records were quarantined than the source's
// max_bad_share allows. Nothing is landed; the rejected records are at QuarantineKey.
type BadShareError struct {
	Source, Entity, Dt string
	// Quarantined of Total records were rejected.
	Quarantined, Total int64
	// Limit is the source's max_bad_share.
	Limit float64
	// QuarantineKey is the lake key of the rejected records (NDJSON).
	QuarantineKey string
	// Lake names the store, e.g. file:///srv/segpipe-data.
	Lake string
}

// Share is the quarantined share of all records.
func (e *BadShareError) Share() float64 { return float64(e.Quarantined) / float64(e.Total) }

func (e *BadShareError) Error() string {
	return fmt.Sprintf("%d of %d records quarantined (share %s), over max_bad_share %s; nothing landed; the rejected records and reasons are in %s/%s",
		e.Quarantined, e.Total, pct(e.Share()), pct(e.Limit), e.Lake, e.QuarantineKey)
}

func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) + "%" }

// ErrStaleFiles is returned (wrapped, together with the manifest) when the dataset landed
// but parts or quarantine files of an earlier landing of the same dt could not be removed.
// The manifest lists exactly the current files; the next landing removes the rest.
var ErrStaleFiles = errors.New("files of an earlier landing are left")

// ErrRunIDReused is returned when the dataset for this dt was already landed by the same
// run id: part names carry the run id, so landing again would overwrite live files.
var ErrRunIDReused = errors.New("this run id already landed the dataset")

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// LandEntity pulls every page of one entity and lands it: Parquet parts under
// lake.RawPrefix(source, entity, dt), rejected records under lake.QuarantinePrefix, then
// the manifest, which it returns. Once the manifest is written, parts and quarantine files
// of earlier landings of the same dt are deleted, or left for a later sweep while a reader
// (a segment run) is registered (lake.SweepLanding): a rerun replaces, never duplicates. A
// landing that fails or is cancelled writes no manifest and leaves the previous one, and its
// files, untouched.
//
// ent need not have come through config.Load: config.PrepareEntity applies its defaults and
// checks it first.
func LandEntity(ctx context.Context, store lake.Store, source string, src *config.Source, entity string, ent *config.Entity, opts Options) (*lake.Manifest, error) {
	m, err := landEntity(ctx, store, source, src, entity, ent, opts)
	return m, named(source, entity, opts.Dt, err)
}

// named prefixes an entry point's error with what it was about, once for all of its
// errors: "extract crm/accounts dt=2026-03-01: page 3: GET ...". Nil stays nil.
func named(source, entity, dt string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("extract %s/%s dt=%s: %w", source, entity, dt, err)
}

func landEntity(ctx context.Context, store lake.Store, source string, src *config.Source, entity string, ent *config.Entity, opts Options) (*lake.Manifest, error) {
	if store == nil {
		return nil, errors.New("no lake store to land in")
	}
	l, err := newLanding(source, src, entity, ent, opts)
	if err != nil {
		return nil, err
	}
	defer l.release()
	prev, err := lake.ReadManifest(ctx, store, source, entity, opts.Dt)
	switch {
	case err == nil && prev.RunID == opts.RunID:
		return nil, fmt.Errorf("run %s: %w; use a new run id", opts.RunID, ErrRunIDReused)
	case err != nil && !errors.Is(err, lake.ErrNotExist):
		return nil, fmt.Errorf("read the current manifest: %w", err)
	}
	l.store = store
	l.parts = newPartSink(store, lake.RawPrefix(source, entity, l.opts.Dt), l.opts.RunID, l.opts.TempDir, l.conv.schema, l.opts.RowsPerFile, l.opts.BatchRows, l.ent.PrimaryKey, l.log)
	m, err := l.land(ctx)
	if err != nil && !l.committed {
		l.rollback(ctx)
		return nil, err
	}
	return m, err
}

// PullResult is what Download or Decode saw of one entity.
type PullResult struct {
	Pages int
	// ResponseBytes is the size of every page's body, decompressed.
	ResponseBytes int64
	// Records is every record the pages held, whatever became of it.
	Records int64
	// Rows went into record batches and Quarantined were rejected (Decode only).
	Rows, Quarantined int64
}

// Download fetches every page of one entity as LandEntity would with the same options: the
// same requests, retries, rate limit, pagination and bulk query job, each page split into
// its records and next address. It converts nothing and writes nothing: what a landing
// cannot be faster than (the bench's download floor).
func Download(ctx context.Context, source string, src *config.Source, entity string, ent *config.Entity, opts Options) (PullResult, error) {
	var res PullResult
	l, err := newLanding(source, src, entity, ent, opts)
	if err == nil {
		defer l.release()
		err = l.pull(ctx, func(context.Context, *page) error { return nil })
		res = l.result()
	}
	return res, named(source, entity, opts.Dt, err)
}

// Decode does all of LandEntity's work but writing and committing: it fetches every page and
// converts every record into Arrow record batches (the incremental filter, quarantine and
// repeated keys judged as a landing judges them), handing each batch to sink, which must not
// keep it after it returns. Nothing is written to a lake; the quarantined records and the
// key log stay in temporary files, removed before it returns. The export's shape is not
// checked (that needs the lake's earlier landings).
func Decode(ctx context.Context, source string, src *config.Source, entity string, ent *config.Entity, opts Options, sink func(arrow.RecordBatch) error) (PullResult, error) {
	var res PullResult
	l, err := newLanding(source, src, entity, ent, opts)
	if err == nil {
		defer l.release()
		err = l.decode(ctx, funcSink(sink))
		res = l.result()
	}
	return res, named(source, entity, opts.Dt, err)
}

// landing is the state of one entity's pull: LandEntity's, Download's or Decode's.
type landing struct {
	source, entity string
	src            *config.Source
	ent            *config.Entity
	opts           Options
	log            *slog.Logger
	conv           *rowConverter
	seenKeys       *keySet

	// addRecords' scratch: the records of a run, their keys and which keys were new.
	win       []winRecord
	winHashes []uint64
	winFresh  []bool

	// Incremental loads.
	incremental bool  // this landing is incremental (Options.Since and entity config)
	filterLocal bool  // drop records whose cursor is not after Since (the API cannot filter)
	sinceMicros int64 // Since in µs since the epoch
	cursorMax   int64 // the largest landed cursor value, µs
	haveCursor  bool
	filtered    int64
	// An incremental landing of an entity with an event feed reads events (events.go).
	events *eventReader

	// Records whose primary key came before in this landing (repeats.go).
	held           []heldRecord // records whose key came before, judged after the last page
	versions       *versionLog  // key hash and version word of every landed record
	superseded     int64        // landed versions of a key landed again, less one per such key
	repeatsDropped int64        // exact repeats, not landed

	out      batchSink // where record batches go
	partRows int64     // rows sent to the current Parquet part
	q        *quarantine

	startedAt time.Time
	pages     int
	bodyBytes int64 // response bytes of every page, decompressed
	records   int64 // records in the pages
	rows      int64 // rows sent to out

	// Set by LandEntity only.
	store          lake.Store
	parts          *partSink // written only by the batch writer's goroutine while it runs
	quarantineKey  string    // set once the quarantine file is uploaded
	keepQuarantine bool      // a bad-share failure keeps it for the user to read
	committed      bool      // the manifest is written
}

// batchSink takes a landing's record batches, and with each its ownership.
type batchSink interface {
	send(ctx context.Context, rec arrow.RecordBatch) error
}

// funcSink hands each batch to a function, then releases it.
type funcSink func(arrow.RecordBatch) error

func (f funcSink) send(_ context.Context, rec arrow.RecordBatch) error {
	defer rec.Release()
	return f(rec)
}

// newLanding checks the options and readies the conversion of ent's records, checked by
// config.PrepareEntity (the rules config.Load applies), so that an entity built in code is
// held to the same rules as one from a YAML file.
func newLanding(source string, src *config.Source, entity string, ent *config.Entity, opts Options) (*landing, error) {
	if src == nil || ent == nil {
		return nil, errors.New("source and entity config are both required")
	}
	for _, n := range []string{source, entity} {
		if n == "" || strings.ContainsAny(n, "/\\") || n == "." || n == ".." {
			return nil, errors.New("source and entity names must be non-empty and contain no slashes")
		}
	}
	if d, err := time.Parse(time.DateOnly, opts.Dt); err != nil || d.Format(time.DateOnly) != opts.Dt {
		return nil, fmt.Errorf("dt %q is not a YYYY-MM-DD date", opts.Dt)
	}
	if !runIDPattern.MatchString(opts.RunID) {
		return nil, fmt.Errorf("run id %q must be 1-128 letters, digits, '.', '_' or '-'", opts.RunID)
	}
	ent, err := config.PrepareEntity(entity, ent)
	if err != nil {
		return nil, fmt.Errorf("entity config: %w", err)
	}
	conv, err := newRowConverter(ent, opts.RunID)
	if err != nil {
		return nil, fmt.Errorf("entity config: %w", err)
	}
	if opts.RowsPerFile <= 0 {
		opts.RowsPerFile = DefaultRowsPerFile
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultBatchRows
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("source", source, "entity", entity, "dt", opts.Dt)
	l := &landing{
		source: source, src: src, entity: entity, ent: ent, opts: opts, log: log,
		conv:     conv,
		seenKeys: newKeySet(),
		q:        &quarantine{source: source, entity: entity, tempDir: opts.TempDir},
		versions: &versionLog{tempDir: opts.TempDir},
	}
	if ent.Incremental != nil && opts.Since != nil {
		since := opts.Since.UTC()
		l.opts.Since = &since
		l.incremental = true
		l.sinceMicros = since.UnixMicro()
		l.filterLocal = !l.serverFilters()
		if ent.Incremental.Events != nil {
			l.events = newEventReader(ent)
		}
	}
	return l, nil
}

// release frees local resources: builders, temporary files.
func (l *landing) release() {
	l.conv.release()
	if l.parts != nil {
		l.parts.abort()
	}
	l.q.discard()
	l.versions.discard()
}

func (l *landing) result() PullResult {
	return PullResult{Pages: l.pages, ResponseBytes: l.bodyBytes, Records: l.records, Rows: l.rows, Quarantined: l.q.n}
}

// rollback deletes what a failed landing uploaded; the previous manifest and its files
// are not touched. The quarantine file stays when the failure is about it.
func (l *landing) rollback(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	keys := make([]string, 0, len(l.parts.files)+1)
	for _, f := range l.parts.files {
		keys = append(keys, f.Key)
	}
	if l.quarantineKey != "" && !l.keepQuarantine {
		keys = append(keys, l.quarantineKey)
	}
	for _, k := range keys {
		if err := l.store.Delete(ctx, k); err != nil {
			l.log.Warn("could not remove a file of the failed landing", "key", k, "error", err)
		}
	}
}

// pull follows the entity's pages from the first (after running its bulk query job, if it
// has one) and hands each page to each, in order, counting pages, bytes and records.
func (l *landing) pull(ctx context.Context, each func(context.Context, *page) error) error {
	l.startedAt = time.Now().UTC()
	start, err := entityURL(l.src, l.ent)
	if l.events != nil {
		start, err = eventsURL(l.src, l.ent.Incremental.Events)
	}
	if err != nil {
		return err
	}
	pager := newPaginator(start, l.src, l.ent, l.incrementalParam())
	f, err := newFetcher(l.source, l.src, l.entity, l.ent, l.opts.HTTPClient, l.opts.Limiter, l.log)
	if err != nil {
		return err
	}
	defer f.close()
	startLog := []any{"mode", l.mode(), "pagination", pager.cfg.Type}
	if l.incremental {
		filter := "server"
		if l.filterLocal {
			filter = "client"
		}
		startLog = append(startLog, "since", *l.opts.Since, "filter", filter)
		if l.events != nil {
			startLog = append(startLog, "events", l.ent.Incremental.Events.Path)
		}
	}
	if l.ent.BulkQuery != nil {
		l.log.Info("extract started", append(startLog, "bulk_query", true)...)
		if start, err = l.startBulkQuery(ctx, f); err != nil {
			return err
		}
		pager = newPaginator(start, l.src, l.ent, nil)
	} else {
		l.log.Info("extract started", append(startLog, "url", f.scrub(redactURL(pager.first)))...)
	}

	feed := l.startPageFeed(ctx, f, pager)
	defer feed.stop()
	for got := range feed.out {
		if pg := got.pg; pg != nil {
			l.pages++
			l.bodyBytes += int64(len(pg.body))
			l.records += int64(len(pg.records))
			if l.events != nil {
				if err := l.events.unwrap(pg, l.q); err != nil {
					return err
				}
			}
			if err := each(ctx, pg); err != nil {
				return err
			}
		}
		if got.err != nil {
			return got.err
		}
	}
	return ctx.Err() // the feed ends early, without an error, when ctx ends
}

// decode pulls every page, converts its records and sends the rows to out in record batches,
// the held repeats judged after the last page.
func (l *landing) decode(ctx context.Context, out batchSink) error {
	l.out = out
	if err := l.pull(ctx, l.addPage); err != nil {
		return err
	}
	if err := l.judgeRepeats(ctx); err != nil {
		return err
	}
	return l.flush(ctx)
}

// land decodes into the Parquet parts, checks the export's shape, then commits.
func (l *landing) land(ctx context.Context) (*lake.Manifest, error) {
	w := startBatchWriter(ctx, l.parts)
	defer w.close()
	if err := l.decode(ctx, w); err != nil {
		return nil, err
	}
	if err := l.checkShape(ctx); err != nil {
		return nil, err
	}
	if err := w.close(); err != nil {
		return nil, err
	}
	if err := l.parts.finish(ctx); err != nil {
		return nil, err
	}
	return l.commit(ctx)
}

// commit uploads the quarantine, checks the bad share, writes the manifest and removes
// the files of earlier landings.
func (l *landing) commit(ctx context.Context) (*lake.Manifest, error) {
	bad := l.q.n
	if bad > 0 {
		key := lake.QuarantinePrefix(l.source, l.entity, l.opts.Dt) + "part-" + l.opts.RunID + ".ndjson"
		if err := l.q.upload(ctx, l.store, key); err != nil {
			return nil, err
		}
		l.quarantineKey = key
		l.log.Warn("records quarantined", "quarantined", bad, "landed", l.rows, "key", key)
		total := l.rows + bad
		if float64(bad)/float64(total) > l.src.MaxBadShare {
			l.keepQuarantine = true
			return nil, &BadShareError{Source: l.source, Entity: l.entity, Dt: l.opts.Dt, Quarantined: bad, Total: total, Limit: l.src.MaxBadShare, QuarantineKey: key, Lake: l.store.URL()}
		}
	}
	m := &lake.Manifest{
		Source:         l.source,
		Entity:         l.entity,
		Dt:             l.opts.Dt,
		RunID:          l.opts.RunID,
		ExtractedAt:    l.startedAt,
		Pages:          l.pages,
		ResponseBytes:  l.bodyBytes,
		Rows:           l.rows,
		Quarantined:    bad,
		Mode:           l.mode(),
		Filtered:       l.filtered,
		Superseded:     l.superseded,
		RepeatsDropped: l.repeatsDropped,
		QuarantineKey:  l.quarantineKey,
		Columns:        l.conv.shape.counts(),
		Files:          l.parts.files,
	}
	if l.incremental {
		since := *l.opts.Since
		m.Since = &since
	}
	if l.haveCursor {
		cm := time.UnixMicro(l.cursorMax).UTC()
		m.CursorMax = &cm
	}
	if l.events != nil {
		// The cursor is the newest event's time, not the objects' (their creation). Without
		// events it stays where it was.
		m.OlderEvents = l.events.older
		m.CursorMax = nil
		if l.events.haveTime {
			cm := time.Unix(l.events.newest, 0).UTC()
			m.CursorMax = &cm
		}
	}
	for _, f := range l.parts.files {
		m.Bytes += f.Bytes
	}
	for _, fld := range l.conv.schema.Fields() {
		m.Schema = append(m.Schema, lake.LandedColumn{Name: fld.Name, Type: fld.Type.String()})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := lake.WriteManifest(ctx, l.store, m); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	l.committed = true
	secs := time.Since(l.startedAt).Seconds()
	l.log.Info("extract landed", "mode", m.Mode, "pages", m.Pages, "rows", m.Rows, "quarantined", m.Quarantined, "filtered", m.Filtered, "superseded", m.Superseded, "repeats_dropped", m.RepeatsDropped,
		"files", len(m.Files), "bytes", m.Bytes, "response_bytes", m.ResponseBytes, "mb_per_second", float64(m.ResponseBytes)/1e6/max(secs, 1e-9), "seconds", secs)
	if err := l.sweep(ctx, m); err != nil {
		return m, err
	}
	return m, nil
}

// sweep deletes parts and quarantine files under this dt that the manifest does not list,
// or leaves them for a later sweep while a reader is registered (lake.SweepLanding).
func (l *landing) sweep(ctx context.Context, m *lake.Manifest) error {
	res, err := lake.SweepLanding(ctx, l.store, m, time.Now())
	if l.opts.OnSweep != nil {
		l.opts.OnSweep(res)
	}
	switch {
	case res.Deferred > 0:
		readers := make([]string, len(res.Readers))
		for i, r := range res.Readers {
			readers[i] = r.String()
		}
		l.log.Info("files of an earlier landing kept while a reader reads them", "deferred", res.Deferred, "readers", strings.Join(readers, "; "))
	case res.Removed > 0:
		l.log.Debug("removed the files of an earlier landing", "removed", res.Removed)
	}
	if err != nil {
		return fmt.Errorf("landed, but %w: %w", ErrStaleFiles, err)
	}
	return nil
}

// keyBatch is how many records a landing converts before it looks their primary keys up in
// the key set, all at once (keySet.addBatch).
const keyBatch = 16

// addPage converts a page's records and sends the good ones on in record batches.
func (l *landing) addPage(ctx context.Context, pg *page) error {
	c := l.conv
	c.beginPage(pg)
	defer c.shape.endPage(pg)
	n := l.opts.keyBatch
	if n <= 0 {
		n = keyBatch
	}
	for lo := 0; lo < len(pg.records); lo += n {
		if err := l.addRecords(ctx, pg, lo, min(lo+n, len(pg.records))); err != nil {
			return err
		}
	}
	return nil
}

// winRecord is what addRecords knows of a converted record before it lands it.
type winRecord struct {
	reason   string // why it is quarantined; "" when it is not
	filtered bool   // not after Since (a local incremental filter)
	keyed    bool   // its key is in the batch for the key set
}

// addRecords lands records lo to hi of pg: it converts each into a slot of its own, puts the
// keys of those that converted into the key set in one batch, then lands, holds or
// quarantines each in order. The outcome is that of taking one record at a time: a
// record's conversion and filter do not depend on the key set, and the keys go in in order.
func (l *landing) addRecords(ctx context.Context, pg *page, lo, hi int) error {
	c := l.conv
	win := l.win[:0]
	hs := l.winHashes[:0]
	for idx := lo; idx < hi; idx++ {
		rec := pg.records[idx]
		c.useSlot(idx - lo)
		var w winRecord
		w.reason = c.convert(rec)
		if w.reason == "" {
			c.shape.record(c.absent, rec.raw, pg.header)
			if l.filterLocal {
				if cur, ok := c.cursor(); ok && cur <= l.sinceMicros {
					l.filtered++
					w.filtered = true
				}
			}
		}
		if w.reason == "" && !w.filtered {
			kb, why := c.primaryKey()
			if w.reason = why; why == "" {
				w.keyed = true
				hs = append(hs, keyHash(kb))
			}
		}
		win = append(win, w)
	}
	fresh := l.winFresh[:0]
	for range hs {
		fresh = append(fresh, false)
	}
	l.seenKeys.addBatch(hs, fresh)
	l.win, l.winHashes, l.winFresh = win, hs, fresh

	k := 0 // the next key of hs
	for i, w := range win {
		if w.filtered {
			continue
		}
		idx, rec := lo+i, pg.records[lo+i]
		c.useSlot(i)
		if w.keyed {
			h, isNew := hs[k], fresh[k]
			k++
			if l.admit(pg, idx, rec, h, isNew) {
				continue
			}
		}
		if w.reason != "" {
			if err := l.q.add(pg.num, idx, w.reason, rec.raw); err != nil {
				return fmt.Errorf("page %d: %w", pg.num, err)
			}
			continue
		}
		if err := l.landRow(ctx, pg, rec.raw); err != nil {
			return err
		}
	}
	return nil
}

// landRow appends the converted record as a row, sending the batch on when it is full or
// the Parquet part it goes to is.
func (l *landing) landRow(ctx context.Context, pg *page, raw []byte) error {
	c := l.conv
	c.appendRow(pg, raw)
	if cur, ok := c.cursor(); ok && (!l.haveCursor || cur > l.cursorMax) {
		l.cursorMax, l.haveCursor = cur, true
	}
	l.rows++
	if c.pending >= l.opts.BatchRows || int64(c.pending) >= l.opts.RowsPerFile-l.partRows {
		return l.flush(ctx)
	}
	return nil
}

// mode is the manifest's Mode: incremental or full.
func (l *landing) mode() string {
	if l.incremental {
		return "incremental"
	}
	return "full"
}

// sincePtr is Since when this landing is incremental, else nil.
func (l *landing) sincePtr() *time.Time {
	if l.incremental {
		return l.opts.Since
	}
	return nil
}

// serverFilters reports whether the API filters by the cursor itself: an incremental
// parameter, or a bulk query whose SOQL uses {{cursor}}.
func (l *landing) serverFilters() bool {
	if bq := l.ent.BulkQuery; bq != nil {
		return strings.Contains(bq.SOQL, "{{cursor}}")
	}
	return l.ent.Incremental != nil && l.ent.Incremental.Param != ""
}

// incrementalParam is the cursor parameter of an incremental landing, nil when none is sent.
func (l *landing) incrementalParam() *queryParam {
	inc := l.ent.Incremental
	if !l.incremental || inc.Param == "" || l.ent.BulkQuery != nil {
		return nil
	}
	return &queryParam{name: inc.Param, value: formatCursor(*l.opts.Since, inc.ParamFormat), every: inc.ParamOn != "first"}
}

// formatCursor renders an incremental cursor: unix (whole seconds), date (YYYY-MM-DD) or
// rfc3339 (whole seconds, UTC). Each rounds down, so nothing after t is missed.
func formatCursor(t time.Time, format string) string {
	t = t.UTC()
	switch format {
	case "unix":
		return strconv.FormatInt(t.Unix(), 10)
	case "date":
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

// flush sends the pending rows on as one record batch.
func (l *landing) flush(ctx context.Context) error {
	if l.conv.pending == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The writer rolls to a new part after RowsPerFile rows, as counted here.
	if l.partRows += int64(l.conv.pending); l.partRows >= l.opts.RowsPerFile {
		l.partRows = 0
	}
	return l.out.send(ctx, l.conv.batch())
}
