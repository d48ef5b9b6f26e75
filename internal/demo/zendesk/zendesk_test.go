package zendesk_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
	"github.com/segpipe/segpipe/internal/demo/zendesk"
)

const token = "zd-oauth-token-0001"

// smallCompany is a company small enough to walk page by page at one record a page.
var smallCompany = sync.OnceValue(func() *demo.Company { return demo.Generate(demo.Options{Accounts: 60}) })

// get sends one GET (absolute URL or path) and returns the status, headers and raw body.
func get(t *testing.T, h http.Handler, target string, auth string) (int, http.Header, []byte) {
	t.Helper()
	switch auth {
	case "":
		auth = "Bearer " + token
	case "-":
		auth = "" // no Authorization header
	}
	w := vendortest.Record(h, target, map[string]string{"Authorization": auth})
	return w.Code, w.Header(), w.Body.Bytes()
}

func getJSON(t *testing.T, h http.Handler, target string) map[string]any {
	t.Helper()
	code, _, body := get(t, h, target, "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, code, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	return m
}

// export walks the incremental export from first, following after_url until end_of_stream.
func export(t *testing.T, h http.Handler, first string) (tickets []map[string]any, pages int) {
	t.Helper()
	target := first
	for {
		page := getJSON(t, h, target)
		pages++
		for _, tk := range page["tickets"].([]any) {
			tickets = append(tickets, tk.(map[string]any))
		}
		if page["after_cursor"] == nil || page["after_url"] == nil {
			t.Fatalf("page %d has no after_cursor/after_url: %v", pages, page)
		}
		if page["end_of_stream"] == true {
			return tickets, pages
		}
		u, err := url.Parse(page["after_url"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if u.Query().Get("cursor") != page["after_cursor"] {
			t.Fatalf("after_url %s does not carry after_cursor %v", u, page["after_cursor"])
		}
		target = u.String()
		if pages > 100000 {
			t.Fatal("the export does not end")
		}
	}
}

func TestExportWalksEveryTicketOnce(t *testing.T) {
	c := smallCompany()
	api := zendesk.New(c, token, zendesk.Options{})
	for _, per := range []int{1, 7, 1000} {
		t.Run(fmt.Sprint("per_page ", per), func(t *testing.T) {
			tickets, pages := export(t, api, fmt.Sprintf("http://zd.test%s?start_time=0&per_page=%d", zendesk.PathTicketExport, per))
			if len(tickets) != len(c.Tickets) {
				t.Fatalf("%d tickets in %d pages, want %d", len(tickets), pages, len(c.Tickets))
			}
			seen := map[float64]bool{}
			var last float64
			for _, tk := range tickets {
				id := tk["id"].(float64)
				if seen[id] {
					t.Fatalf("ticket %v exported twice", id)
				}
				seen[id] = true
				if ts := tk["generated_timestamp"].(float64); ts < last {
					t.Fatalf("ticket %v out of generated_timestamp order", id)
				} else {
					last = ts
				}
				if _, ok := tk["metric_set"]; ok {
					t.Fatal("metric_set without include=metric_sets")
				}
			}
			for _, d := range c.Tickets {
				if !seen[float64(zendesk.TicketID(d.TicketID))] {
					t.Fatalf("ticket %s missing", d.TicketID)
				}
			}
		})
	}
}

// TestIncrementalStartTime checks that start_time returns exactly the tickets updated at or
// after it, that the cursor wins over start_time, and that a recent start_time is refused.
func TestIncrementalStartTime(t *testing.T) {
	c := smallCompany()
	now := c.End.Add(time.Hour)
	api := zendesk.New(c, token, zendesk.Options{Now: func() time.Time { return now }})
	all, _ := export(t, api, zendesk.PathTicketExport+"?start_time=0&include=metric_sets")
	since := c.End.AddDate(0, -2, 0).Unix()
	want := map[float64]bool{}
	for _, tk := range all {
		updated, err := time.Parse(time.RFC3339, tk["updated_at"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if tk["generated_timestamp"].(float64) != float64(updated.Unix()) {
			t.Fatalf("ticket %v: generated_timestamp %v, updated_at %v", tk["id"], tk["generated_timestamp"], tk["updated_at"])
		}
		if updated.Unix() >= since {
			want[tk["id"].(float64)] = true
		}
	}
	if len(want) == 0 || len(want) == len(all) {
		t.Fatalf("%d of %d tickets updated since the start time: a poor test", len(want), len(all))
	}
	got, _ := export(t, api, fmt.Sprintf("%s?start_time=%d&per_page=50", zendesk.PathTicketExport, since))
	if len(got) != len(want) {
		t.Fatalf("start_time: %d tickets, want %d", len(got), len(want))
	}
	for _, tk := range got {
		if !want[tk["id"].(float64)] {
			t.Fatalf("ticket %v updated before start_time", tk["id"])
		}
	}
	// The cursor wins over a start_time sent along.
	first := getJSON(t, api, fmt.Sprintf("%s?start_time=%d&per_page=5", zendesk.PathTicketExport, since))
	both := getJSON(t, api, fmt.Sprintf("%s?start_time=0&per_page=5&cursor=%s", zendesk.PathTicketExport, url.QueryEscape(first["after_cursor"].(string))))
	if both["tickets"].([]any)[0].(map[string]any)["id"] != got[5]["id"] {
		t.Errorf("cursor with start_time: page starts at %v, want %v", both["tickets"].([]any)[0].(map[string]any)["id"], got[5]["id"])
	}
	// Nothing newer: an empty last page that still hands out a cursor for the next poll.
	empty := getJSON(t, api, fmt.Sprintf("%s?start_time=%d", zendesk.PathTicketExport, now.Add(-2*time.Minute).Unix()))
	if len(empty["tickets"].([]any)) != 0 || empty["end_of_stream"] != true || empty["after_cursor"] == nil {
		t.Errorf("empty export: %v", empty)
	}
	for _, tc := range []struct {
		query  string
		status int
		err    string
	}{
		{fmt.Sprintf("start_time=%d", now.Add(-30*time.Second).Unix()), http.StatusUnprocessableEntity, "InvalidValue"},
		{fmt.Sprintf("start_time=%d", now.Add(time.Hour).Unix()), http.StatusUnprocessableEntity, "InvalidValue"},
		{"start_time=yesterday", http.StatusBadRequest, "InvalidValue"},
		{"", http.StatusBadRequest, "InvalidValue"},
		{"cursor=bm90IGEgY3Vyc29y", http.StatusBadRequest, "InvalidCursor"},
		{"start_time=0&per_page=zero", http.StatusBadRequest, "InvalidPaginationParameter"},
	} {
		code, _, body := get(t, api, zendesk.PathTicketExport+"?"+tc.query, "")
		var e map[string]any
		_ = json.Unmarshal(body, &e)
		if code != tc.status || e["error"] != tc.err || e["description"] == "" {
			t.Errorf("?%s: %d %s, want %d with error %s", tc.query, code, body, tc.status, tc.err)
		}
	}
	code, _, body := get(t, api, fmt.Sprintf("%s?start_time=%d", zendesk.PathTicketExport, now.Add(-30*time.Second).Unix()), "")
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "Too recent start_time") {
		t.Errorf("recent start_time: %d %s", code, body)
	}
}

func TestDeletedTickets(t *testing.T) {
	c := smallCompany()
	api := zendesk.New(c, token, zendesk.Options{DeletedTickets: 9})
	all, _ := export(t, api, zendesk.PathTicketExport+"?start_time=0&per_page=100")
	deleted := 0
	for _, tk := range all {
		if tk["status"] == "deleted" {
			deleted++
		}
	}
	if len(all) != len(c.Tickets)+9 || deleted != 9 {
		t.Errorf("%d tickets, %d deleted; want %d and 9", len(all), deleted, len(c.Tickets)+9)
	}
	kept, _ := export(t, api, zendesk.PathTicketExport+"?start_time=0&per_page=100&exclude_deleted=true")
	if len(kept) != len(c.Tickets) {
		t.Errorf("exclude_deleted: %d tickets, want %d", len(kept), len(c.Tickets))
	}
}

// TestTicketsMapTheCompany checks every ticket's fields against the demo record.
func TestTicketsMapTheCompany(t *testing.T) {
	c := smallCompany()
	api := zendesk.New(c, token, zendesk.Options{})
	tickets, _ := export(t, api, zendesk.PathTicketExport+"?start_time=0&include=metric_sets")
	byID := map[int64]map[string]any{}
	for _, tk := range tickets {
		byID[int64(tk["id"].(float64))] = tk
	}
	orgExternal := map[float64]string{}
	for _, o := range walkOrganizations(t, api, 100) {
		orgExternal[o["id"].(float64)] = o["external_id"].(string)
	}
	scores := map[string]int{}
	for _, d := range c.Tickets {
		tk := byID[zendesk.TicketID(d.TicketID)]
		m := tk["metric_set"].(map[string]any)
		var solved any
		if !d.SolvedAt.IsZero() {
			solved = d.SolvedAt.UTC().Format(time.RFC3339)
		}
		tags := fmt.Sprint(tk["tags"])
		score := tk["satisfaction_rating"].(map[string]any)["score"].(string)
		scores[score]++
		if orgExternal[tk["organization_id"].(float64)] != d.OrganizationID || tk["priority"] != d.Priority ||
			tk["created_at"] != d.CreatedAt.UTC().Format(time.RFC3339) || m["solved_at"] != solved ||
			m["ticket_id"] != tk["id"] || !strings.Contains(tags, d.Category) || score != zendesk.Score(&d) {
			t.Fatalf("ticket %s does not match %+v: %v", d.TicketID, d, tk)
		}
	}
	t.Logf("satisfaction scores: %v", scores)
	for _, s := range []string{"good", "bad", "offered", "unoffered"} {
		if scores[s] == 0 {
			t.Errorf("no %s ratings", s)
		}
	}
}

func TestScoreIsLossy(t *testing.T) {
	solved := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		csat   int8
		solved bool
		want   string
	}{{5, true, "good"}, {4, true, "good"}, {3, true, "bad"}, {2, true, "bad"}, {1, true, "bad"},
		{0, true, "offered"}, {-1, true, "offered"}, {0, false, "unoffered"}, {-1, false, "unoffered"}} {
		d := demo.Ticket{CSAT: tc.csat}
		if tc.solved {
			d.SolvedAt = solved
		}
		if got := zendesk.Score(&d); got != tc.want {
			t.Errorf("csat %d solved %v: %s, want %s", tc.csat, tc.solved, got, tc.want)
		}
	}
}

func walkOrganizations(t *testing.T, h http.Handler, size int) []map[string]any {
	t.Helper()
	var out []map[string]any
	target := fmt.Sprintf("%s?page[size]=%d", zendesk.PathOrganizations, size)
	for {
		page := getJSON(t, h, target)
		orgs := page["organizations"].([]any)
		if len(orgs) > size {
			t.Fatalf("%d organizations on a page of %d", len(orgs), size)
		}
		for _, o := range orgs {
			out = append(out, o.(map[string]any))
		}
		meta := page["meta"].(map[string]any)
		if meta["has_more"] != true {
			return out
		}
		next := page["links"].(map[string]any)["next"].(string)
		u, _ := url.Parse(next)
		if u.Query().Get("page[after]") != meta["after_cursor"] {
			t.Fatalf("links.next %s does not carry meta.after_cursor %v", next, meta["after_cursor"])
		}
		target = fmt.Sprintf("%s?page[size]=%d&page[after]=%s", zendesk.PathOrganizations, size, url.QueryEscape(meta["after_cursor"].(string)))
	}
}

func TestOrganizationsPaginate(t *testing.T) {
	c := smallCompany()
	api := zendesk.New(c, token, zendesk.Options{})
	for _, size := range []int{1, 7, 100} {
		orgs := walkOrganizations(t, api, size)
		if len(orgs) != len(c.Accounts) {
			t.Fatalf("page[size]=%d: %d organizations, want %d", size, len(orgs), len(c.Accounts))
		}
		seen := map[string]bool{}
		for i, o := range orgs {
			ext := o["external_id"].(string)
			if seen[ext] || ext != c.Accounts[i].ID || o["name"] != c.Accounts[i].Name {
				t.Fatalf("page[size]=%d: organization %d is %v, want account %s", size, i, o, c.Accounts[i].ID)
			}
			seen[ext] = true
		}
	}
	// Backwards from the end with page[before].
	last := getJSON(t, api, fmt.Sprintf("%s?page[size]=100&page[after]=%s", zendesk.PathOrganizations,
		url.QueryEscape(getJSON(t, api, zendesk.PathOrganizations+"?page[size]=50")["meta"].(map[string]any)["after_cursor"].(string))))
	prev := getJSON(t, api, fmt.Sprintf("%s?page[size]=50&page[before]=%s", zendesk.PathOrganizations,
		url.QueryEscape(last["meta"].(map[string]any)["before_cursor"].(string))))
	if n := len(prev["organizations"].([]any)); n != 50 || prev["organizations"].([]any)[0].(map[string]any)["external_id"] != c.Accounts[0].ID {
		t.Errorf("page[before]: %d organizations starting at %v", n, prev["organizations"].([]any)[0])
	}
	// Offset pagination without page[size].
	var offset []any
	target := zendesk.PathOrganizations + "?per_page=25"
	for target != "" {
		page := getJSON(t, api, target)
		offset = append(offset, page["organizations"].([]any)...)
		target = ""
		if next, ok := page["next_page"].(string); ok {
			target = next
		}
	}
	if len(offset) != len(c.Accounts) {
		t.Errorf("offset pagination: %d organizations, want %d", len(offset), len(c.Accounts))
	}
	for _, q := range []string{"page[size]=101", "page[size]=0", "page[size]=10&page[after]=%21%21", "page[after]=a&page[before]=b"} {
		code, _, body := get(t, api, zendesk.PathOrganizations+"?"+q, "")
		var e map[string]any
		_ = json.Unmarshal(body, &e)
		if code != http.StatusBadRequest || e["error"] != "InvalidPaginationParameter" {
			t.Errorf("?%s: %d %s, want 400 InvalidPaginationParameter", q, code, body)
		}
	}
}

func TestAuth(t *testing.T) {
	api := zendesk.New(smallCompany(), token, zendesk.Options{})
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, auth string
		status     int
	}{
		{"oauth bearer", "Bearer " + token, http.StatusOK},
		{"api token", basic("agent@example.com/token:" + token), http.StatusOK},
		{"password", basic("agent@example.com:" + token), http.StatusUnauthorized},
		{"wrong token", basic("agent@example.com/token:nope"), http.StatusUnauthorized},
		{"wrong bearer", "Bearer nope", http.StatusUnauthorized},
		{"none", "-", http.StatusUnauthorized},
	} {
		code, _, body := get(t, api, zendesk.PathOrganizations, tc.auth)
		if code != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.status)
		}
		if code == http.StatusUnauthorized && string(body) != `{"error":"Couldn't authenticate you"}` {
			t.Errorf("%s: body %s", tc.name, body)
		}
	}
	code, _, body := get(t, api, "/api/v2/tickets.json", "")
	if code != http.StatusNotFound || !strings.Contains(string(body), "InvalidEndpoint") {
		t.Errorf("unknown path: %d %s", code, body)
	}
}

func TestFaultHook(t *testing.T) {
	api := zendesk.New(smallCompany(), token, zendesk.Options{RetryAfter: 7, Fault: func(n int, _ *http.Request) int {
		if n == 2 {
			return http.StatusTooManyRequests
		}
		if n == 3 {
			return http.StatusServiceUnavailable
		}
		return 0
	}})
	for n, want := range []int{200, 429, 503, 200} {
		code, h, body := get(t, api, zendesk.PathOrganizations, "")
		if code != want {
			t.Fatalf("request %d: %d, want %d", n+1, code, want)
		}
		if code == 429 && (h.Get("Retry-After") != "7" || string(body) != "Number of allowed API requests per minute exceeded") {
			t.Errorf("429: Retry-After %q body %q", h.Get("Retry-After"), body)
		}
		if code == 503 && h.Get("Retry-After") != "7" {
			t.Errorf("503: Retry-After %q", h.Get("Retry-After"))
		}
	}
	if api.Requests() != 4 {
		t.Errorf("Requests() = %d", api.Requests())
	}
}

// TestMountedUnderPrefix checks that next-page URLs keep the prefix the API is mounted under.
func TestMountedUnderPrefix(t *testing.T) {
	api := zendesk.New(smallCompany(), token, zendesk.Options{})
	mux := http.NewServeMux()
	mux.Handle("/zendesk/", http.StripPrefix("/zendesk", api))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/zendesk"+zendesk.PathTicketExport+"?start_time=0&per_page=3", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if after := page["after_url"].(string); !strings.HasPrefix(after, srv.URL+"/zendesk/api/v2/incremental/tickets/cursor.json?") ||
		!strings.Contains(after, "per_page=3") {
		t.Errorf("after_url %s", after)
	}
}

// TestCRMIDStyle checks that a company rewritten for another CRM's ids shows them as the
// organizations' external_id, and that tickets keep pointing at the right organization.
func TestCRMIDStyle(t *testing.T) {
	c := smallCompany().WithAccountIDs(demo.IDStyleHubSpot)
	api := zendesk.New(c, token, zendesk.Options{})
	external := map[float64]string{}
	for _, o := range walkOrganizations(t, api, 100) {
		external[o["id"].(float64)] = o["external_id"].(string)
	}
	tickets, _ := export(t, api, zendesk.PathTicketExport+"?start_time=0")
	byID := map[int64]string{}
	for _, tk := range tickets {
		byID[int64(tk["id"].(float64))] = external[tk["organization_id"].(float64)]
	}
	for _, d := range c.Tickets {
		if got := byID[zendesk.TicketID(d.TicketID)]; got != d.OrganizationID || !strings.HasPrefix(got, "9") {
			t.Fatalf("ticket %s: organization external_id %q, want %q", d.TicketID, got, d.OrganizationID)
		}
	}
}
