// Package zendesk is an in-process fake of the Zendesk Support API
// (https://developer.zendesk.com/api-reference/) serving a demo.Company: the cursor-based
// incremental ticket export and the organizations list. It speaks Zendesk's wire contract:
// OAuth bearer or email/token basic auth, start_time then after_cursor/after_url paging up to
// end_of_stream, include=metric_sets, cursor pagination with page[size] and page[after] (and
// offset pagination without them), Zendesk's error bodies, 429 with Retry-After, and the
// export's refusal of a start_time less than a minute old.
//
// Every demo ticket is one Zendesk ticket (tkt_000123 is id 123), every account one
// organization whose external_id is the account id. The demo's 1-5 csat becomes Zendesk's
// binary rating (Score); its category becomes the ticket type and a tag.
package zendesk

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
)

// Paths served by the handler (mounted at https://<subdomain>.zendesk.com).
const (
	// PathTicketExport is the cursor-based incremental ticket export.
	PathTicketExport = "/api/v2/incremental/tickets/cursor.json"
	// PathOrganizations lists organizations.
	PathOrganizations = "/api/v2/organizations.json"
)

// DemoToken is the token config/examples/zendesk.yaml sends when SEGPIPE_ZENDESK_TOKEN is
// unset: the token `segpipe demo` should give NewHandler.
const DemoToken = "demo-zendesk-token"

// Page size limits.
const (
	// MaxExportPage is the largest (and default) per_page of the incremental export; larger
	// values are clamped to it.
	MaxExportPage = 1000
	// MaxCursorPage is the largest page[size] of cursor pagination; larger is a 400.
	MaxCursorPage = 100
	// DefaultOffsetPage is the per_page of offset pagination when absent (and its maximum).
	DefaultOffsetPage = 100
)

// MinStartTimeAge is how old start_time must be: the export leaves out the last minute.
const MinStartTimeAge = time.Minute

// Options tune the fake for tests.
type Options struct {
	// Fault, when set, is asked before each request is served, with the request's 1-based
	// number. A non-zero HTTP status fails the request as Zendesk does: 429 with Retry-After,
	// 503 with Retry-After, other statuses with an error body.
	Fault func(n int, r *http.Request) int
	// RetryAfter is the Retry-After of injected 429 and 503 answers, in seconds (default 1).
	RetryAfter int
	// Now is the fake's clock; default the later of the wall clock and a minute past the
	// company's End, so that every ticket is old enough to export.
	Now func() time.Time
	// DeletedTickets adds that many spam tickets, deleted an hour after they came in: the
	// export shows them with status "deleted".
	DeletedTickets int
	// RepeatAtPageBoundary starts every page after the first with the last ticket of the page
	// before, unchanged. Zendesk documents such duplicates for its time-based export, whose
	// pages overlap on the boundary timestamp ("Excluding duplicate items",
	// https://developer.zendesk.com/documentation/ticketing/managing-tickets/using-the-incremental-export-api);
	// a consumer must expect a ticket twice in one export.
	RepeatAtPageBoundary bool
	// ChangedDuringExport makes that many tickets (the first ones of the export, deleted
	// ones aside) change while the export is paged: the export is ordered by
	// generated_timestamp, so a ticket changed after its page was read comes again on the
	// last page, here with priority "urgent" and updated_at and generated_timestamp a
	// minute before the company's End.
	ChangedDuringExport int
}

// API is the fake Zendesk Support API for one company.
type API struct {
	token    string
	opts     Options
	st       *store
	end      time.Time
	requests atomic.Int64
}

// NewHandler returns the fake Zendesk API serving c, accepting token as an OAuth bearer
// token or as the API token of email/token basic auth.
func NewHandler(c *demo.Company, token string) http.Handler { return New(c, token, Options{}) }

// New returns the fake Zendesk API serving c with options.
func New(c *demo.Company, token string, opts Options) *API {
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 1
	}
	if opts.Now == nil {
		floor := c.End.Add(MinStartTimeAge)
		opts.Now = func() time.Time {
			if now := time.Now(); now.After(floor) {
				return now
			}
			return floor
		}
	}
	return &API{token: token, opts: opts, st: build(c, opts.DeletedTickets), end: c.End}
}

// Requests returns how many requests reached the API.
func (a *API) Requests() int { return int(a.requests.Load()) }

// Counts returns the number of tickets (deleted ones included) and organizations.
func (a *API) Counts() (tickets, organizations int) { return len(a.st.tickets), len(a.st.orgs) }

// apiError is a Zendesk error answer.
type apiError struct {
	status      int
	Error       string `json:"error"`
	Description string `json:"description,omitempty"`
}

func badRequest(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, Error: code, Description: fmt.Sprintf(format, args...)}
}

// ServeHTTP answers one request: fault hook, auth (401), route (404), method, then the page.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(a.requests.Add(1))
	w.Header().Set("X-Request-Id", fmt.Sprintf("%016x", n))
	if a.opts.Fault != nil {
		if status := a.opts.Fault(n, r); status != 0 {
			a.writeFault(w, status)
			return
		}
	}
	if !a.authorized(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Web Password"`)
		writeError(w, &apiError{status: http.StatusUnauthorized, Error: "Couldn't authenticate you"})
		return
	}
	var page any
	var e *apiError
	switch strings.TrimSuffix(r.URL.Path, ".json") {
	case strings.TrimSuffix(PathTicketExport, ".json"):
		page, e = a.ticketExport(r)
	case strings.TrimSuffix(PathOrganizations, ".json"):
		page, e = a.organizations(r)
	default:
		e = &apiError{status: http.StatusNotFound, Error: "InvalidEndpoint", Description: "Not found"}
	}
	if e == nil && r.Method != http.MethodGet {
		e = &apiError{status: http.StatusMethodNotAllowed, Error: "InvalidEndpoint", Description: "Method not allowed"}
	}
	if e != nil {
		writeError(w, e)
		return
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(page); err != nil {
		writeError(w, &apiError{status: http.StatusInternalServerError, Error: "InternalError", Description: "encoding the page failed"})
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("X-Rate-Limit", "700")
	_, _ = buf.WriteTo(w)
}

// authorized accepts "Bearer <token>" (OAuth) and basic auth as "<email>/token:<token>".
func (a *API) authorized(h string) bool {
	if a.token == "" {
		return false
	}
	scheme, rest, _ := strings.Cut(h, " ")
	var got string
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		got = strings.TrimSpace(rest)
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err != nil {
			return false
		}
		user, pass, _ := strings.Cut(string(raw), ":")
		email, ok := strings.CutSuffix(user, "/token")
		if !ok || !strings.Contains(email, "@") {
			return false // password basic auth is off on Zendesk accounts
		}
		got = pass
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) == 1
}

// writeFault answers with an injected status as Zendesk would.
func (a *API) writeFault(w http.ResponseWriter, status int) {
	switch {
	case status == http.StatusTooManyRequests:
		body := "Number of allowed API requests per minute exceeded"
		w.Header().Set("Retry-After", strconv.Itoa(a.opts.RetryAfter))
		w.Header().Set("X-Rate-Limit", "700")
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	case status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", strconv.Itoa(a.opts.RetryAfter))
		writeError(w, &apiError{status: status, Error: "ServiceUnavailable", Description: "Zendesk is temporarily unavailable"})
	default:
		writeError(w, &apiError{status: status, Error: strings.ReplaceAll(http.StatusText(status), " ", ""), Description: http.StatusText(status)})
	}
}

func writeError(w http.ResponseWriter, e *apiError) {
	b, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// external returns the scheme://host and path prefix under which the client sees the API
// (the handler may be mounted under a prefix with http.StripPrefix).
func external(r *http.Request) (origin, prefix string) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	prefix = ""
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		prefix = strings.TrimSuffix(u.Path, r.URL.Path)
	}
	return scheme + "://" + r.Host, prefix
}

// exportPage is the incremental export's cursor-based envelope.
type exportPage struct {
	Tickets      []ticket `json:"tickets"`
	AfterURL     *string  `json:"after_url"`
	AfterCursor  *string  `json:"after_cursor"`
	BeforeURL    *string  `json:"before_url"`
	BeforeCursor *string  `json:"before_cursor"`
	EndOfStream  bool     `json:"end_of_stream"`
}

// exportPosition is a place in the export's order: after the ticket (ts, id).
type exportPosition struct{ ts, id int64 }

// encode writes the position as Zendesk's opaque cursor does: base64 of "<ts>.0||<id>|".
func (p exportPosition) encode() string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%d.0||%d|", p.ts, p.id))
}

func decodePosition(s string) (exportPosition, bool) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return exportPosition{}, false
	}
	tsText, rest, ok := strings.Cut(string(raw), ".0||")
	idText, ok2 := strings.CutSuffix(rest, "|")
	if !ok || !ok2 {
		return exportPosition{}, false
	}
	ts, err1 := strconv.ParseInt(tsText, 10, 64)
	id, err2 := strconv.ParseInt(idText, 10, 64)
	if err1 != nil || err2 != nil {
		return exportPosition{}, false
	}
	return exportPosition{ts, id}, true
}

// ticketExport answers GET /api/v2/incremental/tickets/cursor.json: the first request names
// start_time (Unix seconds, at least a minute old), the next ones the previous after_cursor,
// which takes precedence when both are given.
func (a *API) ticketExport(r *http.Request) (any, *apiError) {
	q := r.URL.Query()
	now := a.opts.Now().Unix()
	var pos exportPosition
	switch {
	case q.Get("cursor") != "":
		p, ok := decodePosition(q.Get("cursor"))
		if !ok {
			return nil, badRequest("InvalidCursor", "The cursor is not valid")
		}
		pos = p
	case q.Has("start_time"):
		st, err := strconv.ParseInt(q.Get("start_time"), 10, 64)
		if err != nil || st < 0 {
			return nil, badRequest("InvalidValue", "start_time must be a Unix epoch time in seconds, got %q", q.Get("start_time"))
		}
		if st > now-int64(MinStartTimeAge/time.Second) {
			return nil, &apiError{status: http.StatusUnprocessableEntity, Error: "InvalidValue",
				Description: "Too recent start_time. Use a start_time older than 1 minute"}
		}
		pos = exportPosition{st, 0} // (st, 0) exclusive: every ticket with ts >= st
	default:
		return nil, badRequest("InvalidValue", "start_time is required for the first request of an export; follow after_url for the next ones")
	}
	per := MaxExportPage
	if s := q.Get("per_page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, badRequest("InvalidPaginationParameter", "per_page must be a positive integer, got %q", s)
		}
		per = min(n, MaxExportPage)
	}
	withMetrics := false
	for _, inc := range strings.Split(q.Get("include"), ",") {
		withMetrics = withMetrics || strings.TrimSpace(inc) == "metric_sets"
	}
	excludeDeleted := q.Get("exclude_deleted") == "true"

	tks := a.st.tickets
	i := sort.Search(len(tks), func(i int) bool {
		t := &tks[i]
		return t.GeneratedTimestamp > pos.ts || (t.GeneratedTimestamp == pos.ts && t.ID > pos.id)
	})
	limit := now - int64(MinStartTimeAge/time.Second) // the last minute is left out
	origin, prefix := external(r)
	render := func(t ticket) ticket {
		t.URL = fmt.Sprintf("%s%s/api/v2/tickets/%d.json", origin, prefix, t.ID)
		if withMetrics && t.MetricSet != nil {
			m := *t.MetricSet
			m.URL = fmt.Sprintf("%s%s/api/v2/ticket_metrics/%d.json", origin, prefix, m.ID)
			t.MetricSet = &m
		} else {
			t.MetricSet = nil
		}
		return t
	}
	page := exportPage{Tickets: make([]ticket, 0, per), EndOfStream: true}
	if a.opts.RepeatAtPageBoundary && q.Get("cursor") != "" && i > 0 && !(excludeDeleted && tks[i-1].Status == "deleted") {
		page.Tickets = append(page.Tickets, render(tks[i-1]))
	}
	for ; i < len(tks) && tks[i].GeneratedTimestamp < limit; i++ {
		if len(page.Tickets) == per {
			page.EndOfStream = false
			break
		}
		t := tks[i]
		pos = exportPosition{t.GeneratedTimestamp, t.ID}
		if excludeDeleted && t.Status == "deleted" {
			continue
		}
		page.Tickets = append(page.Tickets, render(t))
	}
	if page.EndOfStream && a.opts.ChangedDuringExport > 0 {
		changedAt := a.end.Add(-time.Minute)
		for _, t := range a.changedTickets() {
			if t.GeneratedTimestamp >= limit || changedAt.Unix() >= limit {
				continue
			}
			t.Priority = ptr("urgent")
			t.UpdatedAt, t.GeneratedTimestamp = zt(changedAt), changedAt.Unix()
			page.Tickets = append(page.Tickets, render(t))
		}
	}
	cursor := pos.encode()
	next := url.Values{"cursor": {cursor}}
	for _, k := range []string{"per_page", "include", "exclude_deleted"} {
		if q.Has(k) {
			next.Set(k, q.Get(k))
		}
	}
	after := origin + prefix + PathTicketExport + "?" + next.Encode()
	page.AfterCursor, page.AfterURL = &cursor, &after
	return page, nil
}

// changedTickets are the tickets Options.ChangedDuringExport changes: the first ones of the
// export that are not deleted.
func (a *API) changedTickets() []ticket {
	var out []ticket
	for _, t := range a.st.tickets {
		if len(out) == a.opts.ChangedDuringExport {
			break
		}
		if t.Status != "deleted" {
			out = append(out, t)
		}
	}
	return out
}

// ChangedDuringExport returns the ids of the tickets Options.ChangedDuringExport changes.
func (a *API) ChangedDuringExport() []int64 {
	var ids []int64
	for _, t := range a.changedTickets() {
		ids = append(ids, t.ID)
	}
	return ids
}

// organizations answers GET /api/v2/organizations.json: cursor pagination when page[size]
// (or page[after]/page[before]) is given, offset pagination (page, per_page) otherwise.
func (a *API) organizations(r *http.Request) (any, *apiError) {
	q := r.URL.Query()
	origin, prefix := external(r)
	base := origin + prefix + PathOrganizations
	orgs := a.st.orgs
	render := func(lo, hi int) []organization {
		out := make([]organization, hi-lo)
		for k := range out {
			out[k] = orgs[lo+k]
			out[k].URL = fmt.Sprintf("%s%s/api/v2/organizations/%d.json", origin, prefix, out[k].ID)
		}
		return out
	}
	if !q.Has("page[size]") && !q.Has("page[after]") && !q.Has("page[before]") {
		return a.offsetOrganizations(q, base, render)
	}
	size := MaxCursorPage
	if s := q.Get("page[size]"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, badRequest("InvalidPaginationParameter", "page[size] must be a positive integer, got %q", s)
		}
		if n > MaxCursorPage {
			return nil, badRequest("InvalidPaginationParameter", "page[size] is limited to %d", MaxCursorPage)
		}
		size = n
	}
	after, before := q.Get("page[after]"), q.Get("page[before]")
	if after != "" && before != "" {
		return nil, badRequest("InvalidPaginationParameter", "page[after] and page[before] cannot be used together")
	}
	lo, hi := 0, min(size, len(orgs))
	hasMore := hi < len(orgs)
	switch {
	case after != "":
		id, ok := decodeOrgCursor(after)
		if !ok {
			return nil, badRequest("InvalidPaginationParameter", "page[after] is not a valid cursor")
		}
		lo = sort.Search(len(orgs), func(i int) bool { return orgs[i].ID > id })
		hi = min(lo+size, len(orgs))
		hasMore = hi < len(orgs)
	case before != "":
		id, ok := decodeOrgCursor(before)
		if !ok {
			return nil, badRequest("InvalidPaginationParameter", "page[before] is not a valid cursor")
		}
		hi = sort.Search(len(orgs), func(i int) bool { return orgs[i].ID >= id })
		lo = max(0, hi-size)
		hasMore = lo > 0
	}
	type meta struct {
		HasMore      bool    `json:"has_more"`
		AfterCursor  *string `json:"after_cursor"`
		BeforeCursor *string `json:"before_cursor"`
	}
	type links struct {
		Prev *string `json:"prev"`
		Next *string `json:"next"`
	}
	out := struct {
		Organizations []organization `json:"organizations"`
		Meta          meta           `json:"meta"`
		Links         links          `json:"links"`
	}{Organizations: render(lo, hi), Meta: meta{HasMore: hasMore}}
	if hi > lo {
		ac, bc := encodeOrgCursor(orgs[hi-1].ID), encodeOrgCursor(orgs[lo].ID)
		next := base + "?" + url.Values{"page[size]": {strconv.Itoa(size)}, "page[after]": {ac}}.Encode()
		prev := base + "?" + url.Values{"page[size]": {strconv.Itoa(size)}, "page[before]": {bc}}.Encode()
		out.Meta.AfterCursor, out.Meta.BeforeCursor = &ac, &bc
		out.Links.Next, out.Links.Prev = &next, &prev
	}
	return out, nil
}

func (a *API) offsetOrganizations(q url.Values, base string, render func(lo, hi int) []organization) (any, *apiError) {
	page, per := 1, DefaultOffsetPage
	for _, p := range []struct {
		name string
		v    *int
	}{{"page", &page}, {"per_page", &per}} {
		if s := q.Get(p.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return nil, badRequest("InvalidPaginationParameter", "%s must be a positive integer, got %q", p.name, s)
			}
			*p.v = n
		}
	}
	per = min(per, DefaultOffsetPage)
	n := len(a.st.orgs)
	lo := min((page-1)*per, n)
	hi := min(lo+per, n)
	out := struct {
		Organizations []organization `json:"organizations"`
		NextPage      *string        `json:"next_page"`
		PreviousPage  *string        `json:"previous_page"`
		Count         int            `json:"count"`
	}{Organizations: render(lo, hi), Count: n}
	if hi < n {
		s := base + "?" + url.Values{"page": {strconv.Itoa(page + 1)}, "per_page": {strconv.Itoa(per)}}.Encode()
		out.NextPage = &s
	}
	if page > 1 {
		s := base + "?" + url.Values{"page": {strconv.Itoa(page - 1)}, "per_page": {strconv.Itoa(per)}}.Encode()
		out.PreviousPage = &s
	}
	return out, nil
}

func encodeOrgCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "o:%d", id))
}

func decodeOrgCursor(s string) (int64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(raw), "o:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}
