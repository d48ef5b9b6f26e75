package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testSizes are small page sizes, so that a small company has many pages of every export.
var testSizes = PageSizes{CRM: 70, Billing: 90, Support: 110, Product: 130}

// prerendered renders opts into a temporary directory and serves it.
func prerendered(t *testing.T, opts Options) (*Prerendered, *httptest.Server) {
	t.Helper()
	return prerenderedNights(t, opts, time.Time{})
}

// prerenderedNights renders two nights of opts (the first at first) and serves them.
func prerenderedNights(t *testing.T, opts Options, first time.Time) (*Prerendered, *httptest.Server) {
	t.Helper()
	p, err := PrerenderNights(t.Context(), opts, t.TempDir(), testSizes, DefaultTokens(), first)
	if err != nil {
		t.Fatalf("Prerender: %v", err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv
}

// response is what the crawl compares of one answer.
type response struct {
	status                           int
	contentType, contentLength, link string
	body                             []byte
}

// fetch requests base+target with the source's token; the Link header is returned with the
// server's host replaced by HOST.
func fetch(t *testing.T, method, base, target, token string) response {
	t.Helper()
	req, err := http.NewRequest(method, base+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	u, _ := url.Parse(base)
	return response{res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Length"),
		strings.ReplaceAll(res.Header.Get("Link"), u.Host, "HOST"), body}
}

// The strongest check: every page of every export of the pre-rendered server, and one past
// the end, is byte for byte what NewHandler serves for the same (streamed) company. A
// two-night server's first night is the company as KnownAt(first) shows it.
func TestPrerenderedServesNewHandlerBytes(t *testing.T) {
	lastNight := DefaultEnd.Add(-24 * time.Hour)
	for _, tc := range []struct {
		opts  Options
		first time.Time
	}{
		{Options{Accounts: 1500, Seed: 5, Volume: VolumeBench}, time.Time{}},
		{Options{Accounts: 1500, Seed: 2}, time.Time{}},
		{Options{Accounts: 1500, Seed: 5, Volume: VolumeBench}, lastNight},
		{Options{Accounts: 1500, Seed: 2}, DefaultEnd.AddDate(0, 0, -17).Add(5 * time.Hour)},
	} {
		opts := tc.opts
		name := volumeName(opts.Volume)
		if !tc.first.IsZero() {
			name += "/first-night-" + tc.first.Format("0102T15")
		}
		t.Run(name, func(t *testing.T) {
			p, pre := prerenderedNights(t, opts, tc.first)
			c := streamed(t, opts, 1000)
			if !tc.first.IsZero() {
				c = c.KnownAt(tc.first)
			}
			if got, want := p.RowCounts(), c.RowCounts(); got != want {
				t.Fatalf("RowCounts %+v, want %+v", got, want)
			}
			mem := httptest.NewServer(NewHandler(c, DefaultTokens()))
			defer mem.Close()
			tokens := DefaultTokens()

			compare := func(method, target, token string) response {
				t.Helper()
				got, want := fetch(t, method, pre.URL, target, token), fetch(t, method, mem.URL, target, token)
				if got.status != want.status || got.contentType != want.contentType || got.contentLength != want.contentLength || got.link != want.link {
					t.Fatalf("%s %s: pre-rendered %d %q len %s link %q; in memory %d %q len %s link %q", method, target,
						got.status, got.contentType, got.contentLength, got.link, want.status, want.contentType, want.contentLength, want.link)
				}
				if !bytes.Equal(got.body, want.body) {
					i := 0
					for i < min(len(got.body), len(want.body)) && got.body[i] == want.body[i] {
						i++
					}
					t.Fatalf("%s %s: bodies differ at byte %d:\npre-rendered ...%s\nin memory    ...%s", method, target, i,
						got.body[max(0, i-80):min(len(got.body), i+80)], want.body[max(0, i-80):min(len(want.body), i+80)])
				}
				return want
			}

			rc := c.RowCounts()
			for _, x := range []struct {
				path  string
				total int
			}{{PathAccounts, rc.Accounts}, {PathOpportunities, rc.Opportunities}} {
				token := tokens[strings.Split(x.path, "/")[1]]
				target, records, pages := x.path+"?limit=70", 0, 0
				for {
					r := compare(http.MethodGet, target, token)
					var page struct {
						Data       []json.RawMessage `json:"data"`
						NextCursor *string           `json:"next_cursor"`
					}
					if err := json.Unmarshal(r.body, &page); err != nil {
						t.Fatalf("GET %s: %v", target, err)
					}
					records += len(page.Data)
					pages++
					if page.NextCursor == nil {
						break
					}
					compare(http.MethodHead, target, token)
					target = x.path + "?limit=70&cursor=" + *page.NextCursor
				}
				if records != x.total || pages != (x.total+69)/70 {
					t.Errorf("%s: crawled %d records in %d pages, want %d", x.path, records, pages, x.total)
				}
				compare(http.MethodGet, x.path+"?limit=70&cursor="+encodeCursor(x.total), token) // the empty page at the end
			}
			for _, x := range []struct {
				path  string
				total int
			}{{PathSubscriptions, rc.Subscriptions}, {PathInvoices, rc.Invoices}} {
				pages := (x.total + 89) / 90
				for page := 1; page <= pages+1; page++ {
					compare(http.MethodGet, x.path+"?per_page=90&page="+strconv.Itoa(page), tokens["billing"])
				}
				compare(http.MethodGet, x.path+"?per_page=90&page=99999999999999", tokens["billing"])
			}
			for _, x := range []struct {
				path, source string
				per, total   int
			}{{PathTickets, "support", 110, rc.Tickets}, {PathUsage, "product", 130, rc.Usage}} {
				target, rows := x.path+"?per_page="+strconv.Itoa(x.per), 0
				for target != "" {
					r := compare(http.MethodGet, target, tokens[x.source])
					rows += bytes.Count(r.body, []byte("\n")) - 1
					compare(http.MethodHead, target, tokens[x.source])
					target = ""
					if r.link != "" {
						u, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(r.link, "<"), `>; rel="next"`))
						if err != nil {
							t.Fatal(err)
						}
						target = u.RequestURI()
					}
				}
				if rows != x.total {
					t.Errorf("%s: crawled %d rows, want %d", x.path, rows, x.total)
				}
				compare(http.MethodGet, x.path+"?per_page="+strconv.Itoa(x.per)+"&page="+strconv.Itoa(x.total/x.per+2), tokens[x.source])
			}
			// Errors are the in-memory handler's too.
			compare(http.MethodGet, PathAccounts+"?limit=70&cursor=bogus", tokens["crm"])
			compare(http.MethodGet, PathInvoices+"?per_page=90&page=0", tokens["billing"])
			compare(http.MethodGet, PathUsage+"?per_page=x", tokens["product"])
			compare(http.MethodGet, PathTickets, "wrong")
			compare(http.MethodPost, PathTickets, tokens["support"])
			compare(http.MethodGet, "/crm/v1/nothing", tokens["crm"])

			var onDisk int64
			for _, x := range p.exports {
				fi, err := os.Stat(x.name)
				if err != nil {
					t.Fatal(err)
				}
				onDisk += fi.Size()
			}
			if p.Bytes() != onDisk || onDisk == 0 {
				t.Errorf("Bytes() = %d, files hold %d", p.Bytes(), onDisk)
			}
		})
	}
}

// volumeName names a volume for a subtest.
func volumeName(volume string) string {
	if volume == "" {
		return "demo"
	}
	return volume
}

func TestPrerenderedErrors(t *testing.T) {
	p, srv := prerendered(t, Options{Accounts: 200, Seed: 1})
	tokens := DefaultTokens()
	for _, c := range []struct {
		name, target, token string
		status              int
		param, message      string
	}{
		{"CRM default limit", PathAccounts, tokens["crm"], 400, "limit", "pages of 70 records: limit must be 70, got 100"},
		{"CRM other limit", PathOpportunities + "?limit=50", tokens["crm"], 400, "limit", "limit must be 70, got 50"},
		{"cursor off a page", PathAccounts + "?limit=70&cursor=" + encodeCursor(5), tokens["crm"], 400, "cursor", "not one this server issued"},
		{"billing per_page", PathInvoices + "?per_page=100", tokens["billing"], 400, "per_page", "per_page must be 90, got 100"},
		{"CSV per_page", PathTickets + "?per_page=1000", tokens["support"], 400, "per_page", "per_page must be 110, got 1000"},
		{"no token", PathUsage + "?per_page=130", "", 401, "", "missing or invalid bearer token for source product"},
		{"another source's token", PathUsage + "?per_page=130", tokens["crm"], 401, "", "source product"},
		{"unknown path", "/billing/v1/refunds", tokens["billing"], 404, "", "no export at /billing/v1/refunds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := fetch(t, http.MethodGet, srv.URL, c.target, c.token)
			var e apiError
			if err := json.Unmarshal(r.body, &e); err != nil || r.status != c.status || e.Error.Param != c.param || !strings.Contains(e.Error.Message, c.message) {
				t.Errorf("GET %s: %d %s, want %d param %q message with %q", c.target, r.status, r.body, c.status, c.param, c.message)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+PathUsage, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("WWW-Authenticate"); got != `Bearer realm="product"` {
		t.Errorf("401 WWW-Authenticate %q", got)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if r := fetch(t, http.MethodGet, srv.URL, PathUsage+"?per_page=130", tokens["product"]); r.status != http.StatusServiceUnavailable {
		t.Errorf("after Close: %d %s", r.status, r.body)
	}
}

func TestPrerenderRejects(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  Options
		sizes PageSizes
		want  string
	}{
		{"zero CRM page", Options{Accounts: 10}, PageSizes{0, 10, 10, 10}, "page size must be from 1 to 1000, got 0"},
		{"billing page above the maximum", Options{Accounts: 10}, PageSizes{10, 1001, 10, 10}, "got 1001"},
		{"CSV page above the maximum", Options{Accounts: 10}, PageSizes{10, 10, 10, 10001}, "/product/v1/usage.csv"},
		{"unknown volume", Options{Accounts: 10, Volume: "x"}, testSizes, `unknown volume "x"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Prerender(t.Context(), c.opts, dir, c.sizes, DefaultTokens())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Prerender: %v, want an error with %q", err, c.want)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
				t.Errorf("files left behind: %v", left)
			}
		})
	}
	if _, err := Prerender(t.Context(), Options{Accounts: 10}, filepath.Join(t.TempDir(), "missing"), testSizes, DefaultTokens()); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing dir: %v", err)
	}
	// A cancelled run stops between blocks, says so and leaves no files.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	dir := t.TempDir()
	if _, err := Prerender(ctx, Options{Accounts: 2000}, dir, testSizes, DefaultTokens()); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "prerender stopped at account") {
		t.Errorf("cancelled: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("files left behind after cancel: %v", left)
	}
}

// The hand-written appenders encode every record of a bench company, and records with
// strings and numbers that need care, exactly as encoding/json does.
func TestAppendersMatchEncodingJSON(t *testing.T) {
	c := streamed(t, Options{Accounts: 300, Seed: 9, Volume: VolumeBench}, 100)
	odd := []string{"A & B <Ltd>", `quote " and \ backslash`, "Zürich AG", "tab\there", "line\u2028sep", "bad \xff utf-8", ""}
	reason := "price & timing"
	for i, s := range odd {
		a := c.Accounts[i]
		a.Name, a.StrategicReasons = s, s
		a.AnnualRevenue = []float64{0, 1e21, 1.5e-7, -2.25, 123456789012345678, 0.1, 1e-6}[i]
		c.Accounts = append(c.Accounts, a)
		o := c.Opportunities[i]
		o.Name, o.LossReason, o.Amount = s, &reason, a.AnnualRevenue
		c.Opportunities = append(c.Opportunities, o)
	}
	check := func(entity string, n int, appendRec func(i int) []byte, record func(i int) any) {
		t.Helper()
		for i := range n {
			want, err := json.Marshal(record(i))
			if err != nil {
				t.Fatal(err)
			}
			if got := appendRec(i); !bytes.Equal(got, want) {
				t.Fatalf("%s %d:\nappended %s\njson     %s", entity, i, got, want)
			}
		}
	}
	check("account", len(c.Accounts), func(i int) []byte { return appendAccountJSON(nil, &c.Accounts[i]) }, func(i int) any { return c.Accounts[i] })
	check("opportunity", len(c.Opportunities), func(i int) []byte { return appendOpportunityJSON(nil, &c.Opportunities[i]) }, func(i int) any { return c.Opportunities[i] })
	check("subscription", len(c.Subscriptions), func(i int) []byte { return appendSubscriptionJSON(nil, &c.Subscriptions[i]) }, func(i int) any { return c.Subscriptions[i] })
	check("invoice", len(c.Invoices), func(i int) []byte { return appendInvoiceJSON(nil, &c.Invoices[i]) }, func(i int) any { return c.Invoices[i] })
}

// The second night of a two-night server serves, to requests with updated_since, exactly what
// NewHandler serves for the company at End with the same filter, byte for byte and through
// every pagination; whole exports are refused then, and updated_since before it.
func TestPrerenderedSecondNight(t *testing.T) {
	opts := Options{Accounts: 1200, Seed: 4, Volume: VolumeBench}
	first := DefaultEnd.Add(-24 * time.Hour)
	p, pre := prerenderedNights(t, opts, first)
	c := streamed(t, opts, 1000)
	mem := httptest.NewServer(NewHandler(c, DefaultTokens()))
	defer mem.Close()
	tokens := DefaultTokens()
	since := url.Values{SinceParam: {first.Add(-30 * time.Hour).Format(time.RFC3339)}}

	// The first night refuses updated_since, the second whole exports.
	if r := fetch(t, http.MethodGet, pre.URL, PathInvoices+"?per_page=90&"+since.Encode(), tokens["billing"]); r.status != http.StatusBadRequest ||
		!strings.Contains(string(r.body), "first night") {
		t.Errorf("first night with updated_since: %d %s", r.status, r.body)
	}
	if err := p.SecondNight(); err != nil {
		t.Fatal(err)
	}
	if r := fetch(t, http.MethodGet, pre.URL, PathInvoices+"?per_page=90", tokens["billing"]); r.status != http.StatusBadRequest ||
		!strings.Contains(string(r.body), SinceParam+" is required") {
		t.Errorf("second night without updated_since: %d %s", r.status, r.body)
	}
	early := url.Values{SinceParam: {first.Add(-ChangeWindow - time.Second).Format(time.RFC3339)}}
	if r := fetch(t, http.MethodGet, pre.URL, PathUsage+"?"+early.Encode(), tokens["product"]); r.status != http.StatusBadRequest ||
		!strings.Contains(string(r.body), "holds the changes from") {
		t.Errorf("second night with updated_since before the window: %d %s", r.status, r.body)
	}

	// Every page of every export with the filter: the same bytes as the in-memory server's.
	want := map[string]int{}
	cc := p.ChangeCounts()
	counted := func(n int, at func(int) time.Time) int {
		k := 0
		s, _ := time.Parse(time.RFC3339, since.Get(SinceParam))
		for i := range n {
			if !at(i).Before(s) {
				k++
			}
		}
		return k
	}
	want[PathAccounts] = counted(len(c.Accounts), func(i int) time.Time { return c.Accounts[i].UpdatedAt })
	want[PathOpportunities] = counted(len(c.Opportunities), func(i int) time.Time { return c.Opportunities[i].UpdatedAt })
	want[PathSubscriptions] = counted(len(c.Subscriptions), func(i int) time.Time { return c.Subscriptions[i].UpdatedAt })
	want[PathInvoices] = counted(len(c.Invoices), func(i int) time.Time { return c.Invoices[i].UpdatedAt })
	want[PathTickets] = counted(len(c.Tickets), func(i int) time.Time { return c.Tickets[i].UpdatedAt })
	want[PathUsage] = counted(len(c.Usage), func(i int) time.Time { return c.Usage[i].UpdatedAt })
	for path, n := range want {
		if n == 0 {
			t.Errorf("%s: no record changed in the last night: the test checks nothing", path)
		}
	}
	if cc.Invoices < want[PathInvoices] || cc.Usage < want[PathUsage] {
		t.Errorf("ChangeCounts %+v holds fewer than the night asks for: %v", cc, want)
	}
	compare := func(target, token string) response {
		t.Helper()
		got, exp := fetch(t, http.MethodGet, pre.URL, target, token), fetch(t, http.MethodGet, mem.URL, target, token)
		if got.status != exp.status || got.link != exp.link || !bytes.Equal(got.body, exp.body) {
			t.Fatalf("GET %s: second night %d link %q %.300s; in memory %d link %q %.300s", target, got.status, got.link, got.body, exp.status, exp.link, exp.body)
		}
		return exp
	}
	for _, path := range []string{PathAccounts, PathOpportunities} {
		target, records := path+"?limit=9&"+since.Encode(), 0
		for {
			r := compare(target, tokens["crm"])
			var page struct {
				Data       []json.RawMessage `json:"data"`
				NextCursor *string           `json:"next_cursor"`
			}
			if err := json.Unmarshal(r.body, &page); err != nil {
				t.Fatal(err)
			}
			records += len(page.Data)
			if page.NextCursor == nil {
				break
			}
			target = path + "?limit=9&cursor=" + *page.NextCursor + "&" + since.Encode()
		}
		if records != want[path] {
			t.Errorf("%s: %d records, want %d", path, records, want[path])
		}
	}
	for _, path := range []string{PathSubscriptions, PathInvoices} {
		records := 0
		for page := 1; page <= (want[path]+8)/9+1; page++ {
			r := compare(path+"?per_page=9&page="+strconv.Itoa(page)+"&"+since.Encode(), tokens["billing"])
			records += bytes.Count(r.body, []byte(`"id":`))
		}
		if records != want[path] {
			t.Errorf("%s: %d records, want %d", path, records, want[path])
		}
	}
	for _, x := range []struct{ path, source string }{{PathTickets, "support"}, {PathUsage, "product"}} {
		target, rows := x.path+"?per_page=9&"+since.Encode(), 0
		for target != "" {
			r := compare(target, tokens[x.source])
			rows += bytes.Count(r.body, []byte("\n")) - 1
			target = ""
			if r.link != "" {
				u, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(r.link, "<"), `>; rel="next"`))
				if err != nil {
					t.Fatal(err)
				}
				target = u.RequestURI()
			}
		}
		if rows != want[x.path] {
			t.Errorf("%s: %d rows, want %d", x.path, rows, want[x.path])
		}
	}
	t.Logf("the second night serves %v records (window holds %+v)", want, cc)

	one, _ := prerendered(t, Options{Accounts: 20})
	if err := one.SecondNight(); err == nil {
		t.Error("SecondNight on a one-night server: no error")
	}
}
