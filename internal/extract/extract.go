// Package extract pulls one source entity from its HTTP export, page by page, and lands it
// in the lake as Parquet with a manifest written last.
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
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
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

	// floor, set by MeasureFloor, stops the landing short of part of its work.
	floor Floor
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
	return fmt.Sprintf("extract %s/%s dt=%s: %d of %d records quarantined (share %s), over max_bad_share %s; nothing landed; the rejected records and reasons are in %s/%s",
		e.Source, e.Entity, e.Dt, e.Quarantined, e.Total, pct(e.Share()), pct(e.Limit), e.Lake, e.QuarantineKey)
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
func LandEntity(ctx context.Context, store lake.Store, source string, src *config.Source, entity string, ent *config.Entity, opts Options) (*lake.Manifest, error) {
	l, err := newLanding(store, source, src, entity, ent, opts)
	if err != nil {
		return nil, err
	}
	defer l.release()
	prev, err := lake.ReadManifest(ctx, store, source, entity, opts.Dt)
	switch {
	case err == nil && prev.RunID == opts.RunID:
		return nil, fmt.Errorf("extract %s/%s dt=%s: run %s: %w; use a new run id", source, entity, opts.Dt, opts.RunID, ErrRunIDReused)
	case err != nil && !errors.Is(err, lake.ErrNotExist):
		return nil, fmt.Errorf("extract %s/%s dt=%s: read the current manifest: %w", source, entity, opts.Dt, err)
	}
	m, err := l.run(ctx)
	if err != nil && !l.committed {
		l.rollback(ctx)
		return nil, err
	}
	return m, err
}

// landing is the state of one LandEntity call.
type landing struct {
	store          lake.Store
	source, entity string
	src            *config.Source
	ent            *config.Entity
	opts           Options
	log            *slog.Logger

	schema *arrow.Schema
	names  []string
	kinds  []colKind
	// layouts read the text of timestamp and date columns configured with a layout or zone
	// (nil for the default RFC 3339 / YYYY-MM-DD reading).
	layouts  []*timeLayout
	jsonTop  map[string][]fieldRef // a JSON record's top-level key → the columns read through it
	csvCols  map[string][]int      // a CSV header name → the columns read from it
	pk       int
	seenKeys *keySet

	// Incremental loads.
	incremental bool  // this landing is incremental (Options.Since and entity config)
	filterLocal bool  // drop records whose cursor is not after Since (the API cannot filter)
	cursorCol   int   // the cursor column's index; -1 when the entity is not incremental
	sinceMicros int64 // Since in µs since the epoch
	cursorMax   int64 // the largest landed cursor value, µs
	haveCursor  bool
	filtered    int64

	// Which records carry each column's field, and the landed rows' nulls (shape.go).
	shape *shape

	// Records whose primary key came before in this landing (repeats.go).
	held           []heldRecord // records whose key came before, judged after the last page
	versions       *versionLog  // key hash and version word of every landed record
	superseded     int64        // landed versions of a key landed again, less one per such key
	repeatsDropped int64        // exact repeats, not landed

	rb       *array.RecordBuilder
	pending  int
	partRows int64        // rows sent to the current Parquet part
	sink     *partSink    // written only by writer's goroutine while it runs
	writer   *batchWriter // nil when measuring a floor
	q        *quarantine

	startedAt      time.Time
	pages          int
	bodyBytes      int64 // response bytes of every page, decompressed
	rows           int64
	quarantineKey  string // set once the quarantine file is uploaded
	keepQuarantine bool   // a bad-share failure keeps it for the user to read
	committed      bool   // the manifest is written

	// Scratch space reused for every record.
	spans    [][]byte
	absent   []bool // the column's field is not in the record (shape.go)
	cells    []cell
	problems []string
	csvMap   []int
	keyBuf   []byte
}

// fieldRef is a column read through a top-level key of a JSON record: rest is the remaining
// dot path below that key (nil when the key holds the value itself).
type fieldRef struct {
	col  int
	rest []string
}

func newLanding(store lake.Store, source string, src *config.Source, entity string, ent *config.Entity, opts Options) (*landing, error) {
	if (store == nil && opts.floor == 0) || src == nil || ent == nil {
		return nil, fmt.Errorf("extract %s/%s: store, source and entity config are all required", source, entity)
	}
	for _, n := range []string{source, entity} {
		if n == "" || strings.ContainsAny(n, "/\\") || n == "." || n == ".." {
			return nil, fmt.Errorf("extract %s/%s: source and entity names must be non-empty and contain no slashes", source, entity)
		}
	}
	if d, err := time.Parse(time.DateOnly, opts.Dt); err != nil || d.Format(time.DateOnly) != opts.Dt {
		return nil, fmt.Errorf("extract %s/%s: dt %q is not a YYYY-MM-DD date", source, entity, opts.Dt)
	}
	if !runIDPattern.MatchString(opts.RunID) {
		return nil, fmt.Errorf("extract %s/%s: run id %q must be 1-128 letters, digits, '.', '_' or '-'", source, entity, opts.RunID)
	}
	if ent.Format != "json" && ent.Format != "ndjson" && ent.Format != "csv" {
		return nil, fmt.Errorf("extract %s/%s: format must be json, ndjson or csv, got %q", source, entity, ent.Format)
	}
	schema, err := LandedSchema(ent)
	if err != nil {
		return nil, fmt.Errorf("extract %s/%s: %w", source, entity, err)
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
	n := len(ent.Columns)
	l := &landing{
		store: store, source: source, src: src, entity: entity, ent: ent, opts: opts, log: log,
		schema:    schema,
		names:     make([]string, n),
		kinds:     make([]colKind, n),
		layouts:   make([]*timeLayout, n),
		jsonTop:   make(map[string][]fieldRef, n),
		csvCols:   make(map[string][]int, n),
		pk:        -1,
		cursorCol: -1,
		seenKeys:  newKeySet(),
		q:         &quarantine{source: source, entity: entity, tempDir: opts.TempDir},
		versions:  &versionLog{tempDir: opts.TempDir},
		spans:     make([][]byte, n),
		absent:    make([]bool, n),
		shape:     newShape(ent.Columns),
		cells:     make([]cell, n),
		csvMap:    make([]int, n),
	}
	seen := make(map[string]bool, n)
	for i, c := range ent.Columns {
		l.names[i] = c.Name
		l.kinds[i], _ = kindOf(c.Type) // checked by LandedSchema
		if c.Layout != "" || c.Timezone != "" {
			tl, err := newTimeLayout(c.Layout, c.Timezone)
			if err != nil {
				return nil, fmt.Errorf("extract %s/%s: column %s: %w", source, entity, c.Name, err)
			}
			l.layouts[i] = tl
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("extract %s/%s: column %s is listed twice", source, entity, c.Name)
		}
		seen[c.Name] = true
		field := c.Source()
		l.csvCols[field] = append(l.csvCols[field], i)
		top, rest, nested := strings.Cut(field, ".")
		ref := fieldRef{col: i}
		if nested {
			ref.rest = strings.Split(rest, ".")
		}
		if ent.Format != "csv" && (top == "" || slices.Contains(ref.rest, "")) {
			return nil, fmt.Errorf("extract %s/%s: column %s: field %q is not a dot path", source, entity, c.Name, field)
		}
		l.jsonTop[top] = append(l.jsonTop[top], ref)
		if c.Name == ent.PrimaryKey {
			l.pk = i
		}
	}
	if l.pk < 0 {
		return nil, fmt.Errorf("extract %s/%s: primary_key %q is not one of the columns", source, entity, ent.PrimaryKey)
	}
	if inc := ent.Incremental; inc != nil {
		for i, c := range ent.Columns {
			if c.Name == inc.CursorColumn && l.kinds[i] == kindTimestamp {
				l.cursorCol = i
			}
		}
		if l.cursorCol < 0 {
			return nil, fmt.Errorf("extract %s/%s: incremental cursor_column %q must name a timestamp column", source, entity, inc.CursorColumn)
		}
		switch inc.ParamFormat {
		case "", "unix", "rfc3339", "date":
		default:
			return nil, fmt.Errorf("extract %s/%s: incremental param_format must be unix, rfc3339 or date, got %q", source, entity, inc.ParamFormat)
		}
		switch inc.ParamOn {
		case "", "first", "every":
		default:
			return nil, fmt.Errorf("extract %s/%s: incremental param_on must be first or every, got %q", source, entity, inc.ParamOn)
		}
		if opts.Since != nil {
			since := opts.Since.UTC()
			l.opts.Since = &since
			l.incremental = true
			l.sinceMicros = since.UnixMicro()
			l.filterLocal = !l.serverFilters()
		}
	}
	l.rb = array.NewRecordBuilder(memory.DefaultAllocator, schema)
	l.sink = newPartSink(store, lake.RawPrefix(source, entity, opts.Dt), opts.RunID, opts.TempDir, schema, opts.RowsPerFile, opts.BatchRows, ent.PrimaryKey, log)
	return l, nil
}

// release frees local resources: builders, temporary files.
func (l *landing) release() {
	l.rb.Release()
	l.sink.abort()
	l.q.discard()
	l.versions.discard()
}

// rollback deletes what a failed landing uploaded; the previous manifest and its files
// are not touched. The quarantine file stays when the failure is about it.
func (l *landing) rollback(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	keys := make([]string, 0, len(l.sink.files)+1)
	for _, f := range l.sink.files {
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

func (l *landing) run(ctx context.Context) (*lake.Manifest, error) {
	l.startedAt = time.Now().UTC()
	start, err := entityURL(l.src, l.ent)
	if err != nil {
		return nil, fmt.Errorf("extract %s/%s: %w", l.source, l.entity, err)
	}
	pager, err := newPaginator(start, l.src, l.ent, l.incrementalParam())
	if err != nil {
		return nil, fmt.Errorf("extract %s/%s: %w", l.source, l.entity, err)
	}
	f, err := newFetcher(l.source, l.src, l.entity, l.ent, l.opts.HTTPClient, l.opts.Limiter, l.log)
	if err != nil {
		return nil, err
	}
	defer f.close()
	startLog := []any{"mode", l.mode(), "pagination", pager.cfg.Type}
	if l.incremental {
		filter := "server"
		if l.filterLocal {
			filter = "client"
		}
		startLog = append(startLog, "since", *l.opts.Since, "filter", filter)
	}
	if l.ent.BulkQuery != nil {
		l.log.Info("extract started", append(startLog, "bulk_query", true)...)
		if start, err = l.startBulkQuery(ctx, f); err != nil {
			return nil, err
		}
		if pager, err = newPaginator(start, l.src, l.ent, nil); err != nil {
			return nil, fmt.Errorf("extract %s/%s: %w", l.source, l.entity, err)
		}
	} else {
		l.log.Info("extract started", append(startLog, "url", f.scrub(redactURL(pager.first)))...)
	}

	feed := l.startPageFeed(ctx, f, pager)
	defer feed.stop()
	if l.opts.floor == 0 {
		l.writer = startBatchWriter(ctx, l.sink)
		defer l.writer.close()
	}
	for got := range feed.out {
		if pg := got.pg; pg != nil {
			l.pages++
			l.bodyBytes += int64(len(pg.body))
			if l.opts.floor == FloorDownload {
				l.rows += int64(len(pg.records))
			} else if err := l.addPage(ctx, pg); err != nil {
				return nil, err
			}
		}
		if got.err != nil {
			return nil, got.err
		}
	}
	if err := ctx.Err(); err != nil { // the feed ends early, without an error, when ctx ends
		return nil, fmt.Errorf("extract %s/%s: %w", l.source, l.entity, err)
	}
	if l.opts.floor == 0 {
		if err := l.judgeRepeats(ctx); err != nil {
			return nil, err
		}
		if err := l.checkShape(ctx); err != nil {
			return nil, err
		}
	}
	if err := l.flush(ctx); err != nil {
		return nil, err
	}
	if l.opts.floor != 0 {
		return nil, nil
	}
	if err := l.writer.close(); err != nil {
		return nil, fmt.Errorf("extract %s/%s: %w", l.source, l.entity, err)
	}
	if err := l.sink.finish(ctx); err != nil {
		return nil, fmt.Errorf("extract %s/%s: %w", l.source, l.entity, err)
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
			return nil, fmt.Errorf("extract %s/%s: %w", l.source, l.entity, err)
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
		Columns:        l.shape.counts(),
		Files:          l.sink.files,
	}
	if l.incremental {
		since := *l.opts.Since
		m.Since = &since
	}
	if l.haveCursor {
		cm := time.UnixMicro(l.cursorMax).UTC()
		m.CursorMax = &cm
	}
	for _, f := range l.sink.files {
		m.Bytes += f.Bytes
	}
	for _, fld := range l.schema.Fields() {
		m.Schema = append(m.Schema, lake.LandedColumn{Name: fld.Name, Type: fld.Type.String()})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("extract %s/%s: %w", l.source, l.entity, err)
	}
	if err := lake.WriteManifest(ctx, l.store, m); err != nil {
		return nil, fmt.Errorf("extract %s/%s: write manifest: %w", l.source, l.entity, err)
	}
	l.committed = true
	l.log.Info("extract landed", "mode", m.Mode, "pages", m.Pages, "rows", m.Rows, "quarantined", m.Quarantined, "filtered", m.Filtered, "superseded", m.Superseded, "repeats_dropped", m.RepeatsDropped, "files", len(m.Files), "bytes", m.Bytes, "seconds", time.Since(l.startedAt).Seconds())
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
		return fmt.Errorf("extract %s/%s dt=%s: landed, but %w: %w", l.source, l.entity, l.opts.Dt, ErrStaleFiles, err)
	}
	return nil
}

// addPage converts a page's records and appends the good ones to the batch.
func (l *landing) addPage(ctx context.Context, pg *page) error {
	if l.ent.Format == "csv" {
		for i := range l.csvMap {
			l.csvMap[i] = -1
		}
		for h, name := range pg.header {
			for _, ci := range l.csvCols[name] {
				if l.csvMap[ci] < 0 {
					l.csvMap[ci] = h
				}
			}
		}
	}
	defer l.shape.endPage(pg)
	for idx, rec := range pg.records {
		var reason string
		switch {
		case l.ent.Format == "csv":
			reason = l.convertCSV(pg, rec)
		case rec.bad != "":
			reason = rec.bad
		default:
			reason = l.convertJSON(rec.raw)
		}
		if reason == "" {
			l.shape.record(l.absent, rec.raw, pg.header)
		}
		if reason == "" && l.filterLocal {
			if c := l.cells[l.cursorCol]; !c.null && c.i <= l.sinceMicros {
				l.filtered++
				continue
			}
		}
		if reason == "" {
			held, why := l.admit(pg, idx, rec)
			if held {
				continue
			}
			reason = why
		}
		if reason != "" {
			if err := l.q.add(pg.num, idx, reason, rec.raw); err != nil {
				return fmt.Errorf("extract %s/%s page %d: %w", l.source, l.entity, pg.num, err)
			}
			continue
		}
		l.appendRow(pg, rec.raw)
		if l.pending >= l.opts.BatchRows || int64(l.pending) >= l.opts.RowsPerFile-l.partRows {
			if err := l.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// convertJSON fills l.cells from a JSON record, or says why the record is rejected.
func (l *landing) convertJSON(raw []byte) string {
	if !utf8.Valid(raw) {
		return "record is not valid UTF-8"
	}
	if raw[0] != '{' {
		return "record is not a JSON object (it is a JSON " + jsonKind(raw) + ")"
	}
	clear(l.spans)
	for i := range l.absent {
		l.absent[i] = true
	}
	eachField(raw, func(key, val []byte) {
		name, ok := keyName(key)
		if !ok {
			return
		}
		for _, ref := range l.jsonTop[string(name)] {
			if ref.rest == nil {
				l.spans[ref.col], l.absent[ref.col] = val, false
			} else {
				// nil (null) when the path is missing
				l.spans[ref.col], l.absent[ref.col] = lookupField(val, ref.rest)
			}
		}
	})
	l.problems = l.problems[:0]
	for i, k := range l.kinds {
		var c cell
		var p string
		if tl := l.layouts[i]; tl != nil {
			c, p = tl.fromJSON(k, l.spans[i])
		} else {
			c, p = fromJSON(k, l.spans[i])
		}
		if p != "" {
			l.problems = append(l.problems, "column "+l.names[i]+": "+snippet(string(l.spans[i]))+" "+p)
			continue
		}
		l.cells[i] = c
	}
	if len(l.problems) > 0 {
		return strings.Join(l.problems, "; ")
	}
	if l.cells[l.pk].null {
		if l.spans[l.pk] == nil {
			return "primary key " + l.names[l.pk] + " is missing"
		}
		return "primary key " + l.names[l.pk] + " is null or empty"
	}
	return ""
}

// convertCSV fills l.cells from a CSV row, or says why the row is rejected.
func (l *landing) convertCSV(pg *page, rec rawRecord) string {
	if rec.bad != "" {
		return rec.bad
	}
	if !utf8.Valid(rec.raw) {
		return "record is not valid UTF-8"
	}
	l.problems = l.problems[:0]
	for i, k := range l.kinds {
		h := l.csvMap[i]
		l.absent[i] = h < 0
		if h < 0 || rec.fields[h] == "" {
			l.cells[i] = nullCell()
			continue
		}
		var c cell
		var p string
		if tl := l.layouts[i]; tl != nil {
			c, p = tl.fromText(k, rec.fields[h])
		} else {
			c, p = fromText(k, rec.fields[h])
		}
		if p != "" {
			l.problems = append(l.problems, "column "+l.names[i]+": "+strconv.Quote(snippet(rec.fields[h]))+" "+p)
			continue
		}
		l.cells[i] = c
	}
	if len(l.problems) > 0 {
		return strings.Join(l.problems, "; ")
	}
	if l.cells[l.pk].null {
		if l.csvMap[l.pk] < 0 {
			return "primary key " + l.names[l.pk] + " is missing (no such column in the CSV header)"
		}
		return "primary key " + l.names[l.pk] + " is empty"
	}
	return ""
}

// appendRow appends l.cells and the lineage columns to the record builder.
func (l *landing) appendRow(pg *page, raw []byte) {
	for i, k := range l.kinds {
		b := l.rb.Field(i)
		c := l.cells[i]
		if c.null {
			l.shape.landedNull(i, l.absent[i])
			b.AppendNull()
			continue
		}
		switch k {
		case kindString:
			sb := b.(*array.StringBuilder)
			if c.isS {
				sb.Append(c.s)
			} else {
				sb.BinaryBuilder.Append(c.b)
			}
		case kindInt64:
			b.(*array.Int64Builder).Append(c.i)
		case kindFloat64:
			b.(*array.Float64Builder).Append(c.f)
		case kindBool:
			b.(*array.BooleanBuilder).Append(c.i == 1)
		case kindTimestamp:
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(c.i))
		case kindDate:
			b.(*array.Date32Builder).Append(arrow.Date32(c.i))
		}
	}
	if l.cursorCol >= 0 {
		if c := l.cells[l.cursorCol]; !c.null && (!l.haveCursor || c.i > l.cursorMax) {
			l.cursorMax, l.haveCursor = c.i, true
		}
	}
	n := len(l.kinds)
	l.rb.Field(n).(*array.StringBuilder).BinaryBuilder.Append(raw)
	l.rb.Field(n + 1).(*array.Int32Builder).Append(int32(pg.num))
	l.rb.Field(n + 2).(*array.StringBuilder).Append(l.opts.RunID)
	l.rb.Field(n + 3).(*array.TimestampBuilder).Append(arrow.Timestamp(pg.fetchedAt.UnixMicro()))
	l.pending++
	l.rows++
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

// flush writes the pending rows as one record batch.
func (l *landing) flush(ctx context.Context) error {
	if l.pending == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("extract %s/%s: %w", l.source, l.entity, err)
	}
	rows := l.pending
	var dataLen []int
	for _, b := range l.rb.Fields() {
		if sb, ok := b.(*array.StringBuilder); ok {
			dataLen = append(dataLen, sb.DataLen())
		}
	}
	rec := l.rb.NewRecordBatch()
	defer rec.Release()
	l.pending = 0
	// The next batch is likely the size of this one: reserve room once instead of growing
	// the builders' buffers step by step.
	l.rb.Reserve(rows)
	i := 0
	for _, b := range l.rb.Fields() {
		if sb, ok := b.(*array.StringBuilder); ok {
			sb.ReserveData(dataLen[i] + dataLen[i]/4)
			i++
		}
	}
	if l.opts.floor == FloorDecode {
		return nil
	}
	// The writer rolls to a new part after RowsPerFile rows, as counted here.
	if l.partRows += int64(rows); l.partRows >= l.opts.RowsPerFile {
		l.partRows = 0
	}
	rec.Retain() // the writer releases its reference when written
	if err := l.writer.send(ctx, rec); err != nil {
		return fmt.Errorf("extract %s/%s: %w", l.source, l.entity, err)
	}
	return nil
}
