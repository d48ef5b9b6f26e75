package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// PageSizes are the page sizes the pre-rendered server serves: CRM limit, billing per_page,
// support and product CSV per_page.
type PageSizes struct{ CRM, Billing, Support, Product int }

// prerenderBlock is the number of accounts Prerender generates and renders at a time per worker.
const prerenderBlock = 500

// The entities of a company, in the order of Paths.
const (
	entAccounts = iota
	entOpportunities
	entSubscriptions
	entInvoices
	entTickets
	entUsage
	numEntities
)

// pagination is how an export pages: CRM cursors, billing page numbers or CSV Link headers.
type pagination int

const (
	pagedByCursor pagination = iota
	pagedByNumber
	pagedByLink
)

// exportSpec describes one export: its path, page file name, pagination and CSV columns.
type exportSpec struct {
	path, file string
	paged      pagination
	columns    []string
}

// exportSpecs are the exports of a company, indexed by entity.
var exportSpecs = [numEntities]exportSpec{
	entAccounts:      {PathAccounts, "accounts.chunks", pagedByCursor, nil},
	entOpportunities: {PathOpportunities, "opportunities.chunks", pagedByCursor, nil},
	entSubscriptions: {PathSubscriptions, "subscriptions.chunks", pagedByNumber, nil},
	entInvoices:      {PathInvoices, "invoices.chunks", pagedByNumber, nil},
	entTickets:       {PathTickets, "tickets.chunks", pagedByLink, TicketColumns},
	entUsage:         {PathUsage, "usage.chunks", pagedByLink, UsageColumns},
}

// blockPages is one block's records rendered as page chunk fragments, per entity: the bytes,
// and the positions in them where a page begins.
type blockPages struct {
	out    [numEntities][]byte
	starts [numEntities][]int
	// csvBuf and csv write the CSV fragments (out of a CSV entity is csvBuf's bytes).
	csvBuf [numEntities]bytes.Buffer
	csv    [numEntities]*csv.Writer
	// rows is the number of records rendered of each entity.
	rows [numEntities]int
}

// Prerendered serves a company pre-rendered to page files by Prerender: the same exports,
// authentication, errors and bytes as NewHandler, without the company in memory and with no
// encoding at request time. Only the rendered page sizes are served.
//
// Made by PrerenderNights, it serves two nights of the company: first the company as its
// systems showed it at the first night's instant, in full, from the page files; after
// SecondNight, only the records changed since then, to requests that carry updated_since.
type Prerendered struct {
	tokens  Tokens
	exports [numEntities]renderedExport
	bytes   int64
	closed  atomic.Bool

	// first is the first night's instant (zero: one night, the company at End).
	first time.Time
	// changes holds the company's records (as at End) updated at or after changesFrom, and
	// serves them; second is set by SecondNight.
	changes     *Company
	changesFrom time.Time
	changed     *exportHandler
	second      atomic.Bool
}

// ChangeWindow is how far before the first night a two-night Prerendered keeps the changed
// records: the second night may ask from as early as its saved cursor less its lookback, and
// the cursor of a monthly usage rollup is the last month end, up to a month before.
const ChangeWindow = 35 * 24 * time.Hour

// renderedExport is one entity's page file and its page index.
type renderedExport struct {
	exportSpec
	// name is the page file's path.
	name string
	// per is the page size rendered; total the number of records.
	per, total int
	// offsets index the page file: page p (from 0) is bytes [offsets[p], offsets[p+1]).
	offsets []int64
}

// Prerender streams the company (opts) into page files under dir, rendering every page of
// every export at the given sizes, and returns the server for them. The files (one per
// entity, *.chunks) stay in dir, which the caller owns; on failure, or when ctx ends (checked
// between blocks of accounts), Prerender removes the files it created.
func Prerender(ctx context.Context, opts Options, dir string, sizes PageSizes, tokens Tokens) (*Prerendered, error) {
	return PrerenderNights(ctx, opts, dir, sizes, tokens, time.Time{})
}

// PrerenderNights is Prerender for two nights of the company (when first is not zero): the
// page files hold the company as KnownAt(first) gives it, and the records (as at End) updated
// at or after first less ChangeWindow are kept in memory for the second night (SecondNight).
// first must be before End and no more than 31 days before it.
func PrerenderNights(ctx context.Context, opts Options, dir string, sizes PageSizes, tokens Tokens, first time.Time) (*Prerendered, error) {
	if !first.IsZero() {
		end := opts.withDefaults().End
		if !first.Before(end) || first.Before(end.AddDate(0, 0, -31)) {
			return nil, fmt.Errorf("demo: prerender: the first night %s must be in the 31 days before End %s", first.Format(time.RFC3339), end.Format(time.RFC3339))
		}
		first = first.UTC()
	}
	pers := [numEntities]int{sizes.CRM, sizes.CRM, sizes.Billing, sizes.Billing, sizes.Support, sizes.Product}
	for e, spec := range exportSpecs {
		maxV := map[pagination]int{pagedByCursor: CursorMaxLimit, pagedByNumber: PageMaxPerPage, pagedByLink: CSVMaxPerPage}[spec.paged]
		if pers[e] < 1 || pers[e] > maxV {
			return nil, fmt.Errorf("demo: prerender %s: page size must be from 1 to %d, got %d", spec.path, maxV, pers[e])
		}
	}
	p := &Prerendered{tokens: tokens, first: first}
	if !first.IsZero() {
		p.changes = &Company{}
		p.changesFrom = first.Add(-ChangeWindow)
	}
	var files [numEntities]*os.File
	var sizesOnDisk [numEntities]int64
	cleanup := func() {
		for e, f := range files {
			if f != nil {
				_ = f.Close()
				_ = os.Remove(p.exports[e].name)
			}
		}
	}
	for e, spec := range exportSpecs {
		x := &p.exports[e]
		x.exportSpec, x.per, x.name = spec, pers[e], filepath.Join(dir, spec.file)
		f, err := os.Create(x.name)
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("demo: prerender: %w", err)
		}
		files[e] = f
	}

	render := func(b *streamBlock) error {
		if first.IsZero() {
			return b.pages.render(&b.company, b.first, b.base, &p.exports)
		}
		view := b.company.KnownAt(first)
		return b.pages.render(view, b.keptBase.accounts, b.keptBase, &p.exports)
	}
	write := func(b *streamBlock) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("demo: prerender stopped at account %d of %d: %w", b.first+1, opts.withDefaults().Accounts, err)
		}
		for e := range numEntities {
			x := &p.exports[e]
			for _, s := range b.pages.starts[e] {
				x.offsets = append(x.offsets, sizesOnDisk[e]+int64(s))
			}
			n, err := files[e].Write(b.pages.out[e])
			sizesOnDisk[e] += int64(n)
			if err != nil {
				return fmt.Errorf("demo: prerender: write %s pages of accounts %d-%d: %w", x.path, b.first+1, b.last, err)
			}
		}
		for e := range numEntities {
			p.exports[e].total += b.pages.rows[e]
		}
		if p.changes != nil {
			p.changes.keepChanged(&b.company, p.changesFrom)
		}
		return nil
	}
	if err := streamBlocks(opts, prerenderBlock, first, render, write); err != nil {
		cleanup()
		return nil, err
	}
	for e := range numEntities {
		x := &p.exports[e]
		// The last page of a JSON export is closed once its length is known.
		if x.paged != pagedByLink && x.total%x.per != 0 {
			n, err := files[e].Write([]byte{']'})
			sizesOnDisk[e] += int64(n)
			if err != nil {
				cleanup()
				return nil, fmt.Errorf("demo: prerender: write %s: %w", x.name, err)
			}
		}
		x.offsets = append(x.offsets, sizesOnDisk[e])
		p.bytes += sizesOnDisk[e]
	}
	var closeErr error
	for _, f := range files {
		closeErr = errors.Join(closeErr, f.Close())
	}
	if closeErr != nil {
		cleanup()
		return nil, fmt.Errorf("demo: prerender: %w", closeErr)
	}
	if p.changes != nil {
		o := opts.withDefaults()
		p.changes.Options, p.changes.End = o, o.End
		p.changes.Start = o.End.AddDate(-o.Years, 0, 0)
		p.changed = newExportHandler(p.changes, tokens)
	}
	return p, nil
}

// keepChanged appends to c the records of block b updated at or after from, in their order.
func (c *Company) keepChanged(b *Company, from time.Time) {
	c.Accounts = appendSince(c.Accounts, b.Accounts, from, func(a *Account) time.Time { return a.UpdatedAt })
	c.Opportunities = appendSince(c.Opportunities, b.Opportunities, from, func(o *Opportunity) time.Time { return o.UpdatedAt })
	c.Subscriptions = appendSince(c.Subscriptions, b.Subscriptions, from, func(s *Subscription) time.Time { return s.UpdatedAt })
	c.Invoices = appendSince(c.Invoices, b.Invoices, from, func(inv *Invoice) time.Time { return inv.UpdatedAt })
	c.Tickets = appendSince(c.Tickets, b.Tickets, from, func(t *Ticket) time.Time { return t.UpdatedAt })
	c.Usage = appendSince(c.Usage, b.Usage, from, func(u *Usage) time.Time { return u.UpdatedAt })
}

// SecondNight switches a two-night server (PrerenderNights) to the second night: from now on
// it serves the records changed since the first night, to requests with updated_since, and
// refuses requests for a whole export.
func (p *Prerendered) SecondNight() error {
	if p.changes == nil {
		return errors.New("demo: this pre-rendered server serves one night (made by Prerender, not PrerenderNights)")
	}
	p.second.Store(true)
	return nil
}

// ChangeCounts returns the number of records of each entity the second night can serve: those
// updated at or after the first night less ChangeWindow (zero for a one-night server).
func (p *Prerendered) ChangeCounts() RowCounts {
	if p.changes == nil {
		return RowCounts{}
	}
	return p.changes.RowCounts()
}

// render renders the block's finished records (b.company, numbered after b.base) into page
// chunk fragments: in a JSON export each page is a JSON array, opened before its first record
// and closed after its last (the company's last page is closed by Prerender); in a CSV export
// a page is its data rows.
func (bp *blockPages) render(c *Company, accountBase int, base idCounters, exports *[numEntities]renderedExport) error {
	bp.rows = [numEntities]int{len(c.Accounts), len(c.Opportunities), len(c.Subscriptions), len(c.Invoices), len(c.Tickets), len(c.Usage)}
	renderJSON(bp, entAccounts, c.Accounts, accountBase, exports[entAccounts].per, appendAccountJSON)
	renderJSON(bp, entOpportunities, c.Opportunities, base.opps, exports[entOpportunities].per, appendOpportunityJSON)
	renderJSON(bp, entSubscriptions, c.Subscriptions, base.subs, exports[entSubscriptions].per, appendSubscriptionJSON)
	renderJSON(bp, entInvoices, c.Invoices, base.invs, exports[entInvoices].per, appendInvoiceJSON)
	if err := bp.renderCSV(entTickets, len(c.Tickets), base.tickets, exports[entTickets].per, func(i int) []string { return c.Tickets[i].CSVRecord() }); err != nil {
		return err
	}
	return bp.renderCSV(entUsage, len(c.Usage), base.usage, exports[entUsage].per, func(i int) []string { return c.Usage[i].CSVRecord() })
}

// renderJSON renders records, the company's records base, base+1, ..., into entity e's
// fragment: each record as appendRec appends it, exactly as encoding/json encodes it inside
// a slice.
func renderJSON[T any](bp *blockPages, e int, records []T, base, per int, appendRec func([]byte, *T) []byte) {
	out := bp.out[e][:0]
	bp.starts[e] = bp.starts[e][:0]
	for i := range records {
		n := base + i
		if n%per == 0 {
			bp.starts[e] = append(bp.starts[e], len(out))
			out = append(out, '[')
		} else {
			out = append(out, ',')
		}
		out = appendRec(out, &records[i])
		if (n+1)%per == 0 {
			out = append(out, ']')
		}
	}
	bp.out[e] = out
}

// renderCSV renders n rows, the company's rows base, base+1, ..., into entity e's fragment
// as encoding/csv writes them.
func (bp *blockPages) renderCSV(e, n, base, per int, row func(i int) []string) error {
	buf := &bp.csvBuf[e]
	buf.Reset()
	bp.starts[e] = bp.starts[e][:0]
	if bp.csv[e] == nil {
		bp.csv[e] = csv.NewWriter(buf)
	}
	cw := bp.csv[e]
	for i := range n {
		if (base+i)%per == 0 {
			cw.Flush()
			bp.starts[e] = append(bp.starts[e], buf.Len())
		}
		if err := cw.Write(row(i)); err != nil {
			return fmt.Errorf("demo: prerender %s row %d: %w", exportSpecs[e].path, base+i+1, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("demo: prerender %s rows %d-%d: %w", exportSpecs[e].path, base+1, base+n, err)
	}
	bp.out[e] = buf.Bytes()
	return nil
}

// StartPrerendered serves p on 127.0.0.1 on a free port until the server's Close.
func StartPrerendered(p *Prerendered) (*Server, error) { return listenAndServe(p, nil) }

// RowCounts returns the number of records of each entity served.
func (p *Prerendered) RowCounts() RowCounts {
	x := &p.exports
	return RowCounts{
		Accounts:      x[entAccounts].total,
		Opportunities: x[entOpportunities].total,
		Subscriptions: x[entSubscriptions].total,
		Invoices:      x[entInvoices].total,
		Tickets:       x[entTickets].total,
		Usage:         x[entUsage].total,
	}
}

// Bytes returns the size of the page files on disk: the body bytes of every page, less the
// envelopes and CSV header rows added at serve time.
func (p *Prerendered) Bytes() int64 { return p.bytes }

// Close stops serving: later requests get 503. The page files stay on disk.
func (p *Prerendered) Close() error {
	p.closed.Store(true)
	return nil
}

// ServeHTTP answers like NewHandler's handler: 404 for an unknown path, 405, 401, 400 for a
// bad parameter or a page size other than the one rendered, then one page from its file.
func (p *Prerendered) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var x *renderedExport
	for e := range p.exports {
		if p.exports[e].path == r.URL.Path {
			x = &p.exports[e]
		}
	}
	if x == nil {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no export at %s", r.URL.Path), "")
		return
	}
	if p.closed.Load() {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the export server is shutting down", "")
		return
	}
	if p.first.IsZero() {
		serveExport(w, r, p.tokens, x.serve)
		return
	}
	serveExport(w, r, p.tokens, func(w http.ResponseWriter, r *http.Request) error { return p.serveNight(w, r, x) })
}

// serveNight answers a request to a two-night server: the first night from the page files,
// whole exports only; the second night from the changed records, updated_since only.
func (p *Prerendered) serveNight(w http.ResponseWriter, r *http.Request, x *renderedExport) error {
	since, err := sinceParam(r.URL.Query())
	if err != nil {
		return err
	}
	if !p.second.Load() {
		if since != nil {
			return &badParam{SinceParam, fmt.Sprintf("this bench server serves the first night (%s) as whole exports: %s is answered from the second night on",
				p.first.Format(time.RFC3339), SinceParam)}
		}
		return x.serve(w, r)
	}
	if since == nil {
		return &badParam{SinceParam, fmt.Sprintf("this bench server serves the second night as the records changed since the first: %s is required", SinceParam)}
	}
	if since.Before(p.changesFrom) {
		return &badParam{SinceParam, fmt.Sprintf("this bench server holds the changes from %s on: %s %s is earlier",
			p.changesFrom.Format(time.RFC3339), SinceParam, since.Format(time.RFC3339))}
	}
	return p.changed.routes[x.path](w, r)
}

// pageSize reads a page size parameter and checks it is the size rendered.
func (x *renderedExport) pageSize(r *http.Request, name string, def, maxV int) error {
	per, err := intParam(r.URL.Query(), name, def, maxV)
	if err != nil {
		return err
	}
	if per != x.per {
		return &badParam{name, fmt.Sprintf("this server serves %s in pages of %d records: %s must be %d, got %d", x.path, x.per, name, x.per, per)}
	}
	return nil
}

// serve answers one page of the export.
func (x *renderedExport) serve(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	switch x.paged {
	case pagedByCursor:
		if err := x.pageSize(r, "limit", CursorDefaultLimit, CursorMaxLimit); err != nil {
			return err
		}
		off := 0
		if c := q.Get("cursor"); c != "" {
			var err error
			if off, err = decodeCursor(c, x.total); err != nil {
				return err
			}
			if off%x.per != 0 && off != x.total {
				return &badParam{"cursor", "cursor is not one this server issued"}
			}
		}
		end := min(off+x.per, x.total)
		next := "null"
		if end < x.total {
			next = `"` + encodeCursor(end) + `"`
		}
		return x.writePage(w, r, "application/json; charset=utf-8", `{"data":`, off/x.per, off < x.total, `,"next_cursor":`+next+"}\n")
	case pagedByNumber:
		page, err := intParam(q, "page", 1, 0)
		if err != nil {
			return err
		}
		if err := x.pageSize(r, "per_page", PageDefaultPerPage, PageMaxPerPage); err != nil {
			return err
		}
		lo, hi := pageBounds(page, x.per, x.total)
		suffix := `,"page":` + strconv.Itoa(page) + `,"per_page":` + strconv.Itoa(x.per) + `,"total_pages":` +
			strconv.Itoa((x.total+x.per-1)/x.per) + `,"total":` + strconv.Itoa(x.total) + "}\n"
		return x.writePage(w, r, "application/json; charset=utf-8", `{"items":`, page-1, lo < hi, suffix)
	default:
		page, err := intParam(q, "page", 1, 0)
		if err != nil {
			return err
		}
		if err := x.pageSize(r, "per_page", CSVDefaultPerPage, CSVMaxPerPage); err != nil {
			return err
		}
		lo, hi := pageBounds(page, x.per, x.total)
		if hi < x.total {
			w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, nextPageURL(r, page+1, x.per)))
		}
		var header bytes.Buffer
		cw := csv.NewWriter(&header)
		if err := cw.Write(x.columns); err != nil {
			return fmt.Errorf("write %s header: %w", r.URL.Path, err)
		}
		cw.Flush()
		return x.writePage(w, r, "text/csv; charset=utf-8", header.String(), page-1, lo < hi, "")
	}
}

// writePage writes prefix, page (from 0) of the page file when has (else, for JSON, an empty
// array) and suffix, with the response's length. The page is copied from the file to the
// connection by the kernel (sendfile) where it can.
func (x *renderedExport) writePage(w http.ResponseWriter, r *http.Request, contentType, prefix string, page int, has bool, suffix string) error {
	var lo, n int64
	if has {
		lo, n = x.offsets[page], x.offsets[page+1]-x.offsets[page]
	} else if x.paged != pagedByLink {
		prefix += "[]"
	}
	var f *os.File
	if has && r.Method != http.MethodHead {
		var err error
		if f, err = os.Open(x.name); err != nil {
			return fmt.Errorf("serve %s page %d: %w", r.URL.Path, page+1, err)
		}
		defer f.Close()
		if _, err := f.Seek(lo, io.SeekStart); err != nil {
			return fmt.Errorf("serve %s page %d: %w", r.URL.Path, page+1, err)
		}
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.FormatInt(int64(len(prefix))+n+int64(len(suffix)), 10))
	if r.Method == http.MethodHead {
		return nil
	}
	// Once the header is out, a failure can only cut the response short: log it.
	if _, err := io.WriteString(w, prefix); err != nil {
		return nil
	}
	if f != nil {
		copied, err := io.Copy(w, io.LimitReader(f, n))
		if err == nil && copied < n {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				return nil // the client went away
			}
			slog.Error("demo prerendered export: page file cut short", "path", r.URL.Path, "page", page+1, "file", x.name, "want", n, "got", copied)
			return nil
		}
	}
	_, _ = io.WriteString(w, suffix)
	return nil
}

// Hand-written JSON appenders: each appends a record exactly as encoding/json encodes it (the
// crawl test and TestAppendersMatchEncodingJSON hold them to that), several times faster.

// appendJSONString appends s as encoding/json encodes a string (HTML-escaped). Strings of
// plain printable ASCII are quoted directly; any other goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil { // cannot happen for a string
				return append(b, `""`...)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONFloat appends f as encoding/json encodes a float64 (f is finite).
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 to e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONTime appends t as time.Time.MarshalJSON does.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONOptTime appends t, or null when t is nil.
func appendJSONOptTime(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	return appendJSONTime(b, *t)
}

// appendJSONBool appends true or false.
func appendJSONBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// appendAccountJSON appends a as encoding/json encodes an Account.
func appendAccountJSON(b []byte, a *Account) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, a.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, a.Name)
	b = append(b, `,"industry":`...)
	b = appendJSONString(b, a.Industry)
	b = append(b, `,"employee_count":`...)
	b = strconv.AppendInt(b, int64(a.EmployeeCount), 10)
	b = append(b, `,"annual_revenue":`...)
	b = appendJSONFloat(b, a.AnnualRevenue)
	b = append(b, `,"country":`...)
	b = appendJSONString(b, a.Country)
	b = append(b, `,"region":`...)
	b = appendJSONString(b, a.Region)
	b = append(b, `,"owner":`...)
	b = appendJSONString(b, a.Owner)
	b = append(b, `,"is_strategic":`...)
	b = appendJSONBool(b, a.IsStrategic)
	b = append(b, `,"strategic_reasons":`...)
	b = appendJSONString(b, a.StrategicReasons)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, a.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, a.UpdatedAt)
	return append(b, '}')
}

// appendOpportunityJSON appends o as encoding/json encodes an Opportunity.
func appendOpportunityJSON(b []byte, o *Opportunity) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, o.ID)
	b = append(b, `,"account_id":`...)
	b = appendJSONString(b, o.AccountID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, o.Name)
	b = append(b, `,"amount":`...)
	b = appendJSONFloat(b, o.Amount)
	b = append(b, `,"currency":`...)
	b = appendJSONString(b, o.Currency)
	b = append(b, `,"stage":`...)
	b = appendJSONString(b, o.Stage)
	b = append(b, `,"stage_entered_at":`...)
	b = appendJSONTime(b, o.StageEnteredAt)
	b = append(b, `,"is_closed":`...)
	b = appendJSONBool(b, o.IsClosed)
	b = append(b, `,"is_won":`...)
	b = appendJSONBool(b, o.IsWon)
	b = append(b, `,"motion":`...)
	b = appendJSONString(b, o.Motion)
	b = append(b, `,"lead_source":`...)
	b = appendJSONString(b, o.LeadSource)
	b = append(b, `,"product":`...)
	b = appendJSONString(b, o.Product)
	b = append(b, `,"forecast_category":`...)
	b = appendJSONString(b, o.ForecastCategory)
	b = append(b, `,"owner":`...)
	b = appendJSONString(b, o.Owner)
	b = append(b, `,"loss_reason":`...)
	if o.LossReason == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *o.LossReason)
	}
	b = append(b, `,"last_activity_at":`...)
	b = appendJSONTime(b, o.LastActivityAt)
	b = append(b, `,"last_activity_type":`...)
	b = appendJSONString(b, o.LastActivityType)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, o.CreatedAt)
	b = append(b, `,"closed_at":`...)
	b = appendJSONOptTime(b, o.ClosedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, o.UpdatedAt)
	if o.IsDeleted {
		b = append(b, `,"is_deleted":true`...)
	}
	return append(b, '}')
}

// appendSubscriptionJSON appends s as encoding/json encodes a Subscription.
func appendSubscriptionJSON(b []byte, s *Subscription) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, s.ID)
	b = append(b, `,"customer_id":`...)
	b = appendJSONString(b, s.CustomerID)
	b = append(b, `,"plan":`...)
	b = appendJSONString(b, s.Plan)
	b = append(b, `,"billing_interval":`...)
	b = appendJSONString(b, s.BillingInterval)
	b = append(b, `,"mrr_cents":`...)
	b = strconv.AppendInt(b, s.MRRCents, 10)
	b = append(b, `,"currency":`...)
	b = appendJSONString(b, s.Currency)
	b = append(b, `,"seats":`...)
	b = strconv.AppendInt(b, int64(s.Seats), 10)
	b = append(b, `,"seat_limit":`...)
	b = strconv.AppendInt(b, int64(s.SeatLimit), 10)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, s.Status)
	b = append(b, `,"started_at":`...)
	b = appendJSONTime(b, s.StartedAt)
	b = append(b, `,"canceled_at":`...)
	b = appendJSONOptTime(b, s.CanceledAt)
	b = append(b, `,"current_period_end":`...)
	b = appendJSONTime(b, s.CurrentPeriodEnd)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, s.UpdatedAt)
	return append(b, '}')
}

// appendInvoiceJSON appends inv as encoding/json encodes an Invoice.
func appendInvoiceJSON(b []byte, inv *Invoice) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, inv.ID)
	b = append(b, `,"customer_id":`...)
	b = appendJSONString(b, inv.CustomerID)
	b = append(b, `,"subscription_id":`...)
	b = appendJSONString(b, inv.SubscriptionID)
	b = append(b, `,"amount_cents":`...)
	b = strconv.AppendInt(b, inv.AmountCents, 10)
	b = append(b, `,"seats":`...)
	b = strconv.AppendInt(b, int64(inv.Seats), 10)
	b = append(b, `,"seat_limit":`...)
	b = strconv.AppendInt(b, int64(inv.SeatLimit), 10)
	b = append(b, `,"currency":`...)
	b = appendJSONString(b, inv.Currency)
	b = append(b, `,"period_start":`...)
	b = appendJSONTime(b, inv.PeriodStart)
	b = append(b, `,"period_end":`...)
	b = appendJSONTime(b, inv.PeriodEnd)
	b = append(b, `,"issued_at":`...)
	b = appendJSONTime(b, inv.IssuedAt)
	b = append(b, `,"paid_at":`...)
	b = appendJSONOptTime(b, inv.PaidAt)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, inv.Status)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, inv.UpdatedAt)
	return append(b, '}')
}
