package demo

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
)

// configColumns returns the column names, in order, of one entity of the demo config: the wire
// contract the servers must follow.
func configColumns(t *testing.T, entity string) []string {
	t.Helper()
	cfg, err := config.Parse(defaultconfig.DemoName, defaultconfig.DemoYAML, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("demo config: %v", err)
	}
	for _, src := range cfg.Sources {
		if e, ok := src.Entities[entity]; ok {
			var cols []string
			for _, c := range e.Columns {
				cols = append(cols, c.Name)
			}
			return cols
		}
	}
	t.Fatalf("no entity %s in the demo config", entity)
	return nil
}

// jsonKeys returns the keys of a JSON object in their order.
func jsonKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestWireContractMatchesConfig(t *testing.T) {
	c := Generate(Options{Accounts: 200})
	for _, tc := range []struct {
		entity string
		record any
	}{
		{"accounts", c.Accounts[0]},
		{"opportunities", c.Opportunities[0]},
		{"subscriptions", c.Subscriptions[0]},
		{"invoices", c.Invoices[0]},
	} {
		raw, err := json.Marshal(tc.record)
		if err != nil {
			t.Fatal(err)
		}
		want := configColumns(t, tc.entity)
		if tc.entity == "opportunities" {
			// is_deleted is sent only on tombstones (omitempty).
			want = slices.DeleteFunc(want, func(c string) bool { return c == "is_deleted" })
		}
		if got := jsonKeys(t, raw); !slices.Equal(got, want) {
			t.Errorf("%s JSON keys\n got %v\nwant %v", tc.entity, got, want)
		}
	}
	if want := configColumns(t, "tickets"); !slices.Equal(TicketColumns, want) {
		t.Errorf("ticket columns %v, config %v", TicketColumns, want)
	}
	if want := configColumns(t, "usage"); !slices.Equal(UsageColumns, want) {
		t.Errorf("usage columns %v, config %v", UsageColumns, want)
	}
	// Timestamps: RFC 3339 UTC with seconds; nulls are JSON null.
	raw, _ := json.Marshal(c.Opportunities[0])
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	ts := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	if s, _ := m["created_at"].(string); !ts.MatchString(s) {
		t.Errorf("created_at %q is not RFC 3339 UTC with seconds", s)
	}
	var open *Opportunity
	for i := range c.Opportunities {
		if !c.Opportunities[i].IsClosed {
			open = &c.Opportunities[i]
			break
		}
	}
	if open == nil {
		t.Fatal("no open opportunity")
	}
	raw, _ = json.Marshal(open)
	if !strings.Contains(string(raw), `"closed_at":null`) || !strings.Contains(string(raw), `"loss_reason":null`) {
		t.Errorf("open opportunity lacks null closed_at/loss_reason: %s", raw)
	}
}

// get requests path with the source's token and returns the response body.
func get(t *testing.T, base, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return resp, body
}

// walkCursor pages through a CRM export and returns every record id in order.
func walkCursor(t *testing.T, base, path string, limit int) ([]string, int) {
	t.Helper()
	return walkCursorWith(t, base, path, limit, nil)
}

// walkCursorWith is walkCursor with the query parameters extra on every request.
func walkCursorWith(t *testing.T, base, path string, limit int, extra url.Values) ([]string, int) {
	t.Helper()
	tok := DefaultTokens()["crm"]
	var ids []string
	cursor, pages := "", 0
	for {
		q := cloneValues(extra)
		if limit > 0 {
			q.Set("limit", fmt.Sprint(limit))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		resp, body := get(t, base, path+"?"+q.Encode(), tok)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
		if !strings.Contains(string(body), `"next_cursor":`) {
			t.Fatalf("%s: envelope without next_cursor: %.200s", path, body)
		}
		pages++
		for _, r := range page.Data {
			ids = append(ids, r.ID)
		}
		if page.NextCursor == nil {
			return ids, pages
		}
		cursor = *page.NextCursor
	}
}

// walkPages pages through a billing export and returns every record id in order.
func walkPages(t *testing.T, base, path string, perPage int) ([]string, int) {
	t.Helper()
	return walkPagesWith(t, base, path, perPage, nil)
}

// cloneValues returns a copy of v (empty when v is nil).
func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// walkPagesWith is walkPages with the query parameters extra on every request.
func walkPagesWith(t *testing.T, base, path string, perPage int, extra url.Values) ([]string, int) {
	t.Helper()
	tok := DefaultTokens()["billing"]
	var ids []string
	for p := 1; ; p++ {
		q := cloneValues(extra)
		q.Set("page", fmt.Sprint(p))
		if perPage > 0 {
			q.Set("per_page", fmt.Sprint(perPage))
		}
		resp, body := get(t, base, path+"?"+q.Encode(), tok)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			Page       int `json:"page"`
			PerPage    int `json:"per_page"`
			TotalPages int `json:"total_pages"`
			Total      int `json:"total"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
		if page.Page != p {
			t.Fatalf("%s page %d answered page %d", path, p, page.Page)
		}
		for _, r := range page.Items {
			ids = append(ids, r.ID)
		}
		if p >= page.TotalPages {
			if len(ids) != page.Total {
				t.Errorf("%s: %d records over %d pages, total says %d", path, len(ids), page.TotalPages, page.Total)
			}
			// One past the end: an empty page.
			past := cloneValues(extra)
			past.Set("page", fmt.Sprint(p+1))
			past.Set("per_page", fmt.Sprint(page.PerPage))
			_, body := get(t, base, path+"?"+past.Encode(), tok)
			if !strings.Contains(string(body), `"items":[]`) {
				t.Errorf("%s page past the end: %.200s", path, body)
			}
			return ids, p
		}
	}
}

// walkCSV follows Link rel="next" through a CSV export and returns the first column of every row.
func walkCSV(t *testing.T, base, path, source string, perPage int, header []string) ([]string, int) {
	t.Helper()
	return walkCSVWith(t, base, path, source, perPage, header, nil)
}

// walkCSVWith is walkCSV with the query parameters extra on the first request; the Link
// headers must carry them on.
func walkCSVWith(t *testing.T, base, path, source string, perPage int, header []string, extra url.Values) ([]string, int) {
	t.Helper()
	tok := DefaultTokens()[source]
	q := cloneValues(extra)
	if perPage > 0 {
		q.Set("per_page", fmt.Sprint(perPage))
	}
	next := base + path
	if len(q) > 0 {
		next += "?" + q.Encode()
	}
	var ids []string
	pages := 0
	linkRE := regexp.MustCompile(`^<([^>]+)>;\s*rel="next"$`)
	for next != "" {
		resp, body := get(t, "", next, tok)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("%s content type %q", path, ct)
		}
		rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if err != nil {
			t.Fatalf("parse %s: %v", next, err)
		}
		if len(rows) == 0 || !slices.Equal(rows[0], header) {
			t.Fatalf("%s header %v, want %v", next, rows[:min(1, len(rows))], header)
		}
		pages++
		for _, r := range rows[1:] {
			if len(r) != len(header) {
				t.Fatalf("%s row with %d fields", next, len(r))
			}
			ids = append(ids, r[0])
		}
		next = ""
		if link := resp.Header.Get("Link"); link != "" {
			m := linkRE.FindStringSubmatch(link)
			if m == nil {
				t.Fatalf("%s bad Link header %q", path, link)
			}
			if u, err := url.Parse(m[1]); err != nil || !u.IsAbs() {
				t.Fatalf("%s Link %q is not an absolute URL", path, m[1])
			}
			next = m[1]
		}
	}
	return ids, pages
}

func TestPaginationWalksEveryRecordOnce(t *testing.T) {
	c := Generate(Options{Accounts: 300, Seed: 5})
	srv := httptest.NewServer(NewHandler(c, DefaultTokens()))
	defer srv.Close()
	want := map[string][]string{
		PathAccounts:      collect(c.Accounts, func(a Account) string { return a.ID }),
		PathOpportunities: collect(c.Opportunities, func(o Opportunity) string { return o.ID }),
		PathSubscriptions: collect(c.Subscriptions, func(s Subscription) string { return s.ID }),
		PathInvoices:      collect(c.Invoices, func(i Invoice) string { return i.ID }),
		PathTickets:       collect(c.Tickets, func(k Ticket) string { return k.TicketID }),
		PathUsage:         collect(c.Usage, func(u Usage) string { return u.UsageID }),
	}
	for _, size := range []int{0, 1, 7, 100, 1000, 20000} {
		for _, path := range Paths {
			var got []string
			var pages int
			switch path {
			case PathAccounts, PathOpportunities:
				got, pages = walkCursor(t, srv.URL, path, size)
			case PathSubscriptions, PathInvoices:
				got, pages = walkPages(t, srv.URL, path, size)
			case PathTickets:
				got, pages = walkCSV(t, srv.URL, path, "support", size, TicketColumns)
			case PathUsage:
				got, pages = walkCSV(t, srv.URL, path, "product", size, UsageColumns)
			}
			if !slices.Equal(got, want[path]) {
				t.Errorf("%s size %d: walked %d records over %d pages, want the %d records exactly once, in order",
					path, size, len(got), pages, len(want[path]))
			}
			if size == 7 {
				if wantPages := max(1, (len(want[path])+6)/7); pages != wantPages {
					t.Errorf("%s size 7: %d pages, want %d", path, pages, wantPages)
				}
			}
		}
	}
}

func TestCSVRowsRoundTrip(t *testing.T) {
	c := Generate(Options{Accounts: 3000})
	srv := httptest.NewServer(NewHandler(c, DefaultTokens()))
	defer srv.Close()
	resp, body := get(t, srv.URL, PathTickets+"?per_page=10000", DefaultTokens()["support"])
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("tickets: %d", resp.StatusCode)
	}
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	ts := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	bad := 0
	for _, r := range rows[1:] {
		if !ts.MatchString(r[2]) || (r[3] != "" && !ts.MatchString(r[3])) {
			t.Fatalf("ticket row with bad timestamps: %v", r)
		}
		switch r[6] {
		case "", "1", "2", "3", "4", "5":
		case BadCSATValue:
			bad++
		default:
			t.Fatalf("ticket row with csat %q", r[6])
		}
	}
	if bad == 0 {
		t.Error("no planted bad csat rows in the export")
	}
	_, body = get(t, srv.URL, PathUsage+"?per_page=3", DefaultTokens()["product"])
	rows, err = csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("usage page: %v, %d rows", err, len(rows))
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-01$`).MatchString(rows[1][2]) {
		t.Errorf("usage month %q is not YYYY-MM-01", rows[1][2])
	}
}

func TestAuthAndErrors(t *testing.T) {
	c := Generate(Options{Accounts: 50})
	srv := httptest.NewServer(NewHandler(c, DefaultTokens()))
	defer srv.Close()
	tok := DefaultTokens()

	type apiErr struct {
		Error struct{ Code, Message, Param string } `json:"error"`
	}
	decode := func(body []byte) apiErr {
		var e apiErr
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("error body is not JSON: %s", body)
		}
		return e
	}
	for _, tc := range []struct {
		name, path, token string
	}{
		{"no token", PathAccounts, ""},
		{"wrong token", PathInvoices, "nope"},
		{"other source's token", PathTickets, tok["crm"]},
		{"billing token on usage", PathUsage, tok["billing"]},
	} {
		resp, body := get(t, srv.URL, tc.path, tc.token)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", tc.name, resp.StatusCode)
		}
		if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", tc.name, resp.Header.Get("WWW-Authenticate"))
		}
		if e := decode(body); e.Error.Code != "unauthorized" || e.Error.Message == "" {
			t.Errorf("%s: body %s", tc.name, body)
		}
	}

	for _, tc := range []struct {
		path, source, param string
	}{
		{PathAccounts + "?limit=abc", "crm", "limit"},
		{PathAccounts + "?limit=0", "crm", "limit"},
		{PathOpportunities + "?cursor=not-a-cursor", "crm", "cursor"},
		{PathOpportunities + "?cursor=" + encodeCursor(1<<30), "crm", "cursor"},
		{PathSubscriptions + "?page=0", "billing", "page"},
		{PathInvoices + "?per_page=-5", "billing", "per_page"},
		{PathTickets + "?page=x", "support", "page"},
		{PathUsage + "?per_page=1.5", "product", "per_page"},
	} {
		resp, body := get(t, srv.URL, tc.path, tok[tc.source])
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tc.path, resp.StatusCode)
			continue
		}
		if e := decode(body); e.Error.Param != tc.param || !strings.Contains(e.Error.Message, tc.param) {
			t.Errorf("%s: error %+v does not name %s", tc.path, e.Error, tc.param)
		}
	}

	resp, body := get(t, srv.URL, "/crm/v1/nothing", tok["crm"])
	if resp.StatusCode != http.StatusNotFound || decode(body).Error.Code != "not_found" {
		t.Errorf("unknown path: %d %s", resp.StatusCode, body)
	}

	// Oversized pages are clamped, not refused.
	_, body = get(t, srv.URL, PathInvoices+"?per_page=999999", tok["billing"])
	if !strings.Contains(string(body), fmt.Sprintf(`"per_page":%d`, PageMaxPerPage)) {
		t.Errorf("per_page not clamped to %d: %.200s", PageMaxPerPage, body)
	}
	// The last CSV page has no Link header; a page past the end has the header row only.
	n := len(c.Tickets)
	resp, body = get(t, srv.URL, fmt.Sprintf("%s?per_page=%d", PathTickets, n), tok["support"])
	if resp.Header.Get("Link") != "" {
		t.Errorf("last page has Link %q", resp.Header.Get("Link"))
	}
	if lines := strings.Count(string(body), "\n"); lines != n+1 {
		t.Errorf("single page of %d tickets has %d lines", n, lines)
	}
	resp, body = get(t, srv.URL, fmt.Sprintf("%s?per_page=%d&page=2", PathTickets, n), tok["support"])
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Link") != "" || string(body) != strings.Join(TicketColumns, ",")+"\n" {
		t.Errorf("page past the end: %d %q link %q", resp.StatusCode, body, resp.Header.Get("Link"))
	}
}

// TestServeFullCompany fetches every page of every export of the default 5,000-account company at
// the config's page sizes through Start, as an extract would.
func TestServeFullCompany(t *testing.T) {
	c := Generate(Options{})
	srv, err := Start(c, DefaultTokens())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	start := time.Now()
	accounts, _ := walkCursor(t, srv.URL, PathAccounts, 1000)
	opps, _ := walkCursor(t, srv.URL, PathOpportunities, 1000)
	subs, _ := walkPages(t, srv.URL, PathSubscriptions, 1000)
	invs, invPages := walkPages(t, srv.URL, PathInvoices, 1000)
	tickets, _ := walkCSV(t, srv.URL, PathTickets, "support", 2000, TicketColumns)
	usage, _ := walkCSV(t, srv.URL, PathUsage, "product", 5000, UsageColumns)
	elapsed := time.Since(start)
	rc := c.RowCounts()
	t.Logf("served %d accounts, %d opportunities, %d subscriptions, %d invoices, %d tickets, %d usage rows in %v",
		len(accounts), len(opps), len(subs), len(invs), len(tickets), len(usage), elapsed)
	if len(accounts) != rc.Accounts || len(opps) != rc.Opportunities || len(subs) != rc.Subscriptions ||
		len(invs) != rc.Invoices || len(tickets) != rc.Tickets || len(usage) != rc.Usage {
		t.Errorf("served counts differ from the company: %+v", rc)
	}
	// How long it took is logged, not asserted: speed is measured by segpipe bench, and a
	// timed assertion fails on a loaded machine.
	// The walk of invoices asked each page once, plus one page past the end.
	if got := srv.Requests(PathInvoices); got != int64(invPages+1) {
		t.Errorf("invoice requests counted %d, want %d", got, invPages+1)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("server URL %q not on loopback", srv.URL)
	}
}

func BenchmarkServeFullCompany(b *testing.B) {
	c := Generate(Options{})
	h := NewHandler(c, DefaultTokens())
	rc := c.RowCounts()
	rows := rc.Accounts + rc.Opportunities + rc.Subscriptions + rc.Invoices + rc.Tickets + rc.Usage
	auth := map[string]string{}
	for k, v := range DefaultTokens() {
		auth[k] = "Bearer " + v
	}
	fetch := func(source, target string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("Authorization", auth[source])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	bytes := 0
	for b.Loop() {
		bytes = 0
		for _, p := range []struct {
			source, path string
			per, n       int
		}{
			{"billing", PathSubscriptions, 1000, rc.Subscriptions},
			{"billing", PathInvoices, 1000, rc.Invoices},
			{"support", PathTickets, 2000, rc.Tickets},
			{"product", PathUsage, 5000, rc.Usage},
		} {
			for page := 1; (page-1)*p.per < p.n; page++ {
				bytes += fetch(p.source, fmt.Sprintf("%s?page=%d&per_page=%d", p.path, page, p.per)).Body.Len()
			}
		}
		for _, path := range []string{PathAccounts, PathOpportunities} {
			cursor := ""
			for {
				rec := fetch("crm", path+"?limit=1000&cursor="+cursor)
				bytes += rec.Body.Len()
				var page struct {
					NextCursor *string `json:"next_cursor"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
					b.Fatal(err)
				}
				if page.NextCursor == nil {
					break
				}
				cursor = *page.NextCursor
			}
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}
