package demo

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Tokens maps a source name (crm, billing, support, product) to the bearer token its export
// server accepts. A source without a token accepts no request.
type Tokens map[string]string

// DefaultTokens returns the demo tokens, the defaults of config/segpipe.yaml.
func DefaultTokens() Tokens {
	return Tokens{
		"crm":     "demo-crm-token",
		"billing": "demo-billing-token",
		"support": "demo-support-token",
		"product": "demo-product-token",
	}
}

// Page size limits of the export endpoints. A requested size above the maximum is clamped to
// it (as most vendors do); zero, negative or non-numeric sizes are rejected with 400.
const (
	// CursorDefaultLimit is the CRM page size when limit is absent.
	CursorDefaultLimit = 100
	// CursorMaxLimit is the largest CRM page.
	CursorMaxLimit = 1000
	// PageDefaultPerPage is the billing page size when per_page is absent.
	PageDefaultPerPage = 100
	// PageMaxPerPage is the largest billing page.
	PageMaxPerPage = 1000
	// CSVDefaultPerPage is the CSV export page size when per_page is absent.
	CSVDefaultPerPage = 1000
	// CSVMaxPerPage is the largest CSV export page.
	CSVMaxPerPage = 10000
)

// Export paths served by NewHandler; the first segment is the source name.
const (
	// PathAccounts is the CRM accounts export (JSON, cursor pagination).
	PathAccounts = "/crm/v1/accounts"
	// PathOpportunities is the CRM opportunities export (JSON, cursor pagination).
	PathOpportunities = "/crm/v1/opportunities"
	// PathSubscriptions is the billing subscriptions export (JSON, page numbers).
	PathSubscriptions = "/billing/v1/subscriptions"
	// PathInvoices is the billing invoices export (JSON, page numbers).
	PathInvoices = "/billing/v1/invoices"
	// PathTickets is the support tickets export (CSV, Link header pagination).
	PathTickets = "/support/v1/tickets.csv"
	// PathUsage is the product usage export (CSV, Link header pagination).
	PathUsage = "/product/v1/usage.csv"
)

// Paths lists every export path served by NewHandler.
var Paths = []string{PathAccounts, PathOpportunities, PathSubscriptions, PathInvoices, PathTickets, PathUsage}

// badParam is a query parameter error, answered with 400.
type badParam struct{ param, msg string }

func (e *badParam) Error() string { return e.param + ": " + e.msg }

// exportHandler serves a Company through the fake vendor export APIs.
type exportHandler struct {
	company *Company
	tokens  Tokens
	routes  map[string]func(w http.ResponseWriter, r *http.Request) error
	counts  map[string]*atomic.Int64
}

// NewHandler returns the fake vendor export servers for c in one http.Handler: the CRM
// (cursor pagination, JSON), billing (page numbers, JSON), support and product (CSV, Link
// header pagination). Each source checks the bearer token tokens[source].
func NewHandler(c *Company, tokens Tokens) http.Handler {
	return newExportHandler(c, tokens)
}

func newExportHandler(c *Company, tokens Tokens) *exportHandler {
	h := &exportHandler{company: c, tokens: tokens, counts: make(map[string]*atomic.Int64)}
	cache := &sinceCache{}
	h.routes = map[string]func(http.ResponseWriter, *http.Request) error{
		PathAccounts: route(cache, c.Accounts, func(a *Account) time.Time { return a.UpdatedAt }, serveCursor[Account]),
		PathOpportunities: route(cache, c.Opportunities, func(o *Opportunity) time.Time { return o.UpdatedAt },
			func(w http.ResponseWriter, r *http.Request, recs []Opportunity) error {
				if r.URL.Query().Get(SinceParam) == "" {
					recs = live(recs) // deleted deals are listed only as tombstones of updated_since
				}
				return serveCursor(w, r, recs)
			}),
		PathSubscriptions: route(cache, c.Subscriptions, func(s *Subscription) time.Time { return s.UpdatedAt }, servePages[Subscription]),
		PathInvoices:      route(cache, c.Invoices, func(inv *Invoice) time.Time { return inv.UpdatedAt }, servePages[Invoice]),
		PathTickets: route(cache, c.Tickets, func(t *Ticket) time.Time { return t.UpdatedAt },
			func(w http.ResponseWriter, r *http.Request, recs []Ticket) error {
				return serveCSV(w, r, TicketColumns, len(recs), func(i int) []string { return recs[i].CSVRecord() })
			}),
		PathUsage: route(cache, c.Usage, func(u *Usage) time.Time { return u.UpdatedAt },
			func(w http.ResponseWriter, r *http.Request, recs []Usage) error {
				return serveCSV(w, r, UsageColumns, len(recs), func(i int) []string { return recs[i].CSVRecord() })
			}),
	}
	for _, p := range Paths {
		h.counts[p] = new(atomic.Int64)
	}
	return h
}

// requests returns how many requests reached path (authorized or not).
func (h *exportHandler) requests(path string) int64 {
	if n, ok := h.counts[path]; ok {
		return n.Load()
	}
	return 0
}

// ServeHTTP routes by path (404), then checks the method (405), the source's token (401) and
// the query (400) before answering one page.
func (h *exportHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serve, ok := h.routes[r.URL.Path]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no export at %s", r.URL.Path), "")
		return
	}
	h.counts[r.URL.Path].Add(1)
	serveExport(w, r, h.tokens, serve)
}

// serveExport answers a request for an export path as every demo export server does: it
// checks the method (405) and the source's token (401), then serves one page, answering a
// bad query parameter with 400 and any other failure with 500.
func serveExport(w http.ResponseWriter, r *http.Request, tokens Tokens, serve func(http.ResponseWriter, *http.Request) error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not supported; use GET", "")
		return
	}
	source := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
	if !authorized(tokens, source, r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+source+`"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "missing or invalid bearer token for source "+source, "")
		return
	}
	if err := serve(w, r); err != nil {
		var bp *badParam
		if errors.As(err, &bp) {
			writeError(w, http.StatusBadRequest, "invalid_parameter", bp.msg, bp.param)
			return
		}
		slog.Error("demo export failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "export failed", "")
	}
}

// authorized reports whether header carries the source's bearer token in tokens.
func authorized(tokens Tokens, source, header string) bool {
	want, ok := tokens[source]
	if !ok || want == "" {
		return false
	}
	scheme, token, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(want)) == 1
}

// apiError is the JSON error body of every failure.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Param   string `json:"param,omitempty"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg, param string) {
	var e apiError
	e.Error.Code, e.Error.Message, e.Error.Param = code, msg, param
	b, err := json.Marshal(e)
	if err != nil { // cannot happen for this type
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// SinceParam is the query parameter of every demo export that asks only for the records
// updated at or after an instant (RFC 3339): ?updated_since=2026-10-30T00:00:00Z.
const SinceParam = "updated_since"

// sinceParam reads the updated_since parameter: nil when absent, 400 when not RFC 3339.
func sinceParam(q url.Values) (*time.Time, error) {
	s := q.Get(SinceParam)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, &badParam{SinceParam, fmt.Sprintf("%s must be an RFC 3339 time such as 2026-10-30T00:00:00Z, got %q", SinceParam, s)}
	}
	return &t, nil
}

// route answers an export of records: all of them, or with updated_since those updated at or
// after it, in their order (filtered once per path and instant, through cache), served by
// serve. Pages and cursors count in the filtered list, which is the same on every request of
// one export (the company does not change).
func route[T any](cache *sinceCache, records []T, updated func(*T) time.Time, serve func(http.ResponseWriter, *http.Request, []T) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		since, err := sinceParam(r.URL.Query())
		if err != nil {
			return err
		}
		if since == nil {
			return serve(w, r, records)
		}
		recs := cache.get(r.URL.Path+"?"+since.Format(time.RFC3339Nano), func() any {
			return appendSince([]T{}, records, *since, updated) // an empty page is [], not null
		}).([]T)
		return serve(w, r, recs)
	}
}

// sinceCache keeps the filtered lists of the latest updated_since requests, by path and
// instant: every page of one filtered export is cut from the same list, which is filtered
// once rather than on every page (a 1M-account company's changes are millions of records).
type sinceCache struct {
	mu   sync.Mutex
	keys []string
	m    map[string]any
}

// sinceCacheSize bounds the lists kept: the oldest goes first.
const sinceCacheSize = 12

// get returns the list cached under key, building it first when it is not.
func (c *sinceCache) get(key string, build func() any) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.m[key]; ok {
		return v
	}
	if c.m == nil {
		c.m = map[string]any{}
	}
	if len(c.keys) == sinceCacheSize {
		delete(c.m, c.keys[0])
		c.keys = c.keys[1:]
	}
	v := build()
	c.m[key] = v
	c.keys = append(c.keys, key)
	return v
}

// appendSince appends to dst the records of src updated at or after from, in their order.
func appendSince[T any](dst, src []T, from time.Time, updated func(*T) time.Time) []T {
	for i := range src {
		if !updated(&src[i]).Before(from) {
			dst = append(dst, src[i])
		}
	}
	return dst
}

// live returns the deals of recs that are not deleted (recs itself when none is).
func live(recs []Opportunity) []Opportunity {
	if !slices.ContainsFunc(recs, func(o Opportunity) bool { return o.IsDeleted }) {
		return recs
	}
	out := make([]Opportunity, 0, len(recs))
	for _, o := range recs {
		if !o.IsDeleted {
			out = append(out, o)
		}
	}
	return out
}

// intParam reads a positive integer query parameter: def when absent, clamped to maxV.
func intParam(q url.Values, name string, def, maxV int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		if maxV > 0 {
			return 0, &badParam{name, fmt.Sprintf("%s must be an integer from 1 to %d, got %q", name, maxV, s)}
		}
		return 0, &badParam{name, fmt.Sprintf("%s must be a positive integer, got %q", name, s)}
	}
	if maxV > 0 {
		n = min(n, maxV)
	}
	return n, nil
}

// cursorPrefix versions the opaque cursor text.
const cursorPrefix = "o1:"

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.Itoa(offset)))
}

func decodeCursor(s string, n int) (int, error) {
	bad := &badParam{"cursor", "cursor is not one this server issued"}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, bad
	}
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return 0, bad
	}
	off, err := strconv.Atoi(rest)
	if err != nil || off < 0 || off > n {
		return 0, bad
	}
	return off, nil
}

// cursorPage is the CRM envelope.
type cursorPage[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// serveCursor answers one page of a CRM export: ?limit=&cursor=.
func serveCursor[T any](w http.ResponseWriter, r *http.Request, records []T) error {
	q := r.URL.Query()
	limit, err := intParam(q, "limit", CursorDefaultLimit, CursorMaxLimit)
	if err != nil {
		return err
	}
	off := 0
	if c := q.Get("cursor"); c != "" {
		if off, err = decodeCursor(c, len(records)); err != nil {
			return err
		}
	}
	end := min(off+limit, len(records))
	page := cursorPage[T]{Data: records[off:end]}
	if end < len(records) {
		next := encodeCursor(end)
		page.NextCursor = &next
	}
	return writeJSON(w, r, page)
}

// numberedPage is the billing envelope.
type numberedPage[T any] struct {
	Items      []T `json:"items"`
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	TotalPages int `json:"total_pages"`
	Total      int `json:"total"`
}

// servePages answers one page of a billing export: ?page=&per_page=.
func servePages[T any](w http.ResponseWriter, r *http.Request, records []T) error {
	q := r.URL.Query()
	page, err := intParam(q, "page", 1, 0)
	if err != nil {
		return err
	}
	per, err := intParam(q, "per_page", PageDefaultPerPage, PageMaxPerPage)
	if err != nil {
		return err
	}
	lo, hi := pageBounds(page, per, len(records))
	return writeJSON(w, r, numberedPage[T]{
		Items:      records[lo:hi],
		Page:       page,
		PerPage:    per,
		TotalPages: (len(records) + per - 1) / per,
		Total:      len(records),
	})
}

// pageBounds returns the record range of a 1-based page; empty past the end.
func pageBounds(page, per, n int) (int, int) {
	if page-1 >= (n+per-1)/per { // also guards the multiplication below against overflow
		return n, n
	}
	lo := (page - 1) * per
	return lo, min(lo+per, n)
}

// writeJSON encodes v into the response with its length.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return fmt.Errorf("encode %s page: %w", r.URL.Path, err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method == http.MethodHead {
		return nil
	}
	_, _ = buf.WriteTo(w)
	return nil
}

// serveCSV answers one page of a CSV export: ?page=&per_page=, a header row on every page and
// a Link rel="next" header on every page but the last.
func serveCSV(w http.ResponseWriter, r *http.Request, header []string, n int, row func(i int) []string) error {
	q := r.URL.Query()
	page, err := intParam(q, "page", 1, 0)
	if err != nil {
		return err
	}
	per, err := intParam(q, "per_page", CSVDefaultPerPage, CSVMaxPerPage)
	if err != nil {
		return err
	}
	lo, hi := pageBounds(page, per, n)
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write %s header: %w", r.URL.Path, err)
	}
	for i := lo; i < hi; i++ {
		if err := cw.Write(row(i)); err != nil {
			return fmt.Errorf("write %s row %d: %w", r.URL.Path, i, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write %s page %d: %w", r.URL.Path, page, err)
	}
	if hi < n {
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, nextPageURL(r, page+1, per)))
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method == http.MethodHead {
		return nil
	}
	_, _ = buf.WriteTo(w)
	return nil
}

// nextPageURL is the absolute URL of another page of the request's export, from its Host.
func nextPageURL(r *http.Request, page, per int) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	q := url.Values{}
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(per))
	if since := r.URL.Query().Get(SinceParam); since != "" {
		q.Set(SinceParam, since) // the next page is of the same filtered list
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

// Server is the fake vendor export servers listening on loopback.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234; the config's base_url values are
	// URL + "/crm/v1", URL + "/billing/v1", URL + "/support/v1" and URL + "/product/v1".
	URL string

	handler *exportHandler
	srv     *http.Server
	done    chan error
}

// Start serves c on 127.0.0.1 on a free port until Close.
func Start(c *Company, tokens Tokens) (*Server, error) {
	h := newExportHandler(c, tokens)
	return listenAndServe(h, h)
}

// listenAndServe serves h on 127.0.0.1 on a free port until Close; counts, when not nil,
// answers Requests.
func listenAndServe(h http.Handler, counts *exportHandler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo server: listen on 127.0.0.1: %w", err)
	}
	s := &Server{
		URL:     "http://" + ln.Addr().String(),
		handler: counts,
		srv:     &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		done:    make(chan error, 1),
	}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// Requests returns how many requests reached an export path such as PathInvoices (0 for a
// server started by StartPrerendered, which does not count them).
func (s *Server) Requests(path string) int64 {
	if s.handler == nil {
		return 0
	}
	return s.handler.requests(path)
}

// Close stops the server, waiting up to 5 s for requests in flight.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("demo server: shut down: %w", err)
	}
	if err := <-s.done; err != nil {
		return fmt.Errorf("demo server: serve: %w", err)
	}
	return nil
}
