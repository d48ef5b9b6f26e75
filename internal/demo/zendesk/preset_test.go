package zendesk_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
	"github.com/segpipe/segpipe/internal/demo/zendesk"
	"github.com/segpipe/segpipe/internal/extract"
)

// exampleFile is the example config this package's tests read.
var exampleFile = filepath.Join("..", "..", "..", "config", "examples", "zendesk.yaml")

const demoToken = zendesk.DemoToken

// requestLog records the query of every request that reached the Zendesk fake.
type requestLog struct {
	mu      sync.Mutex
	queries []url.Values
	paths   []string
}

func (l *requestLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = append(l.queries, r.URL.Query())
	l.paths = append(l.paths, r.URL.Path)
}

// serve mounts the Zendesk fake under /zendesk and the demo vendor's export servers at the
// root, as `segpipe demo` does.
func serve(t *testing.T, c *demo.Company, opts zendesk.Options) (*httptest.Server, *zendesk.API, *requestLog) {
	t.Helper()
	api := zendesk.New(c, demoToken, opts)
	log := &requestLog{}
	srv := vendortest.ServeWithDemo(t, c, "/zendesk", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		api.ServeHTTP(w, r)
	}))
	return srv, api, log
}

// TestPresetLandsEveryEntity lands the example config's Zendesk source from the fake, one
// export request failing with Zendesk's 429, and checks every record arrived with its values.
func TestPresetLandsEveryEntity(t *testing.T) {
	c := demo.Generate(demo.Options{Accounts: 300})
	srv, api, log := serve(t, c, zendesk.Options{DeletedTickets: 5, Fault: func(n int, _ *http.Request) int {
		if n == 2 {
			return http.StatusTooManyRequests
		}
		return 0
	}})
	cfg := vendortest.ReadConfig(t, exampleFile, srv.URL)
	src := cfg.Sources["support"]
	if src.Vendor != "zendesk" || src.PageSize != zendesk.MaxExportPage || src.Auth.Type != "bearer" || src.BaseURL != srv.URL+"/zendesk/api/v2" {
		t.Fatalf("support source from the preset: vendor %s, page size %d, auth %s, base %s", src.Vendor, src.PageSize, src.Auth.Type, src.BaseURL)
	}
	for _, other := range []string{"crm", "billing", "product"} {
		if cfg.Sources[other].Vendor != "demo" {
			t.Errorf("source %s: vendor %s, want demo", other, cfg.Sources[other].Vendor)
		}
	}
	store := vendortest.NewStore(t)
	dt := c.AsOf().Format(time.DateOnly)
	tickets := vendortest.Land(t, store, cfg, "support", "tickets", dt, extract.Options{})
	orgs := vendortest.Land(t, store, cfg, "support", "organizations", dt, extract.Options{})
	nTickets, nOrgs := api.Counts()
	if tickets.Rows != int64(len(c.Tickets)+5) || nTickets != len(c.Tickets)+5 || tickets.Quarantined != 0 {
		t.Fatalf("tickets: landed %d rows (%d quarantined), want %d", tickets.Rows, tickets.Quarantined, len(c.Tickets)+5)
	}
	if orgs.Rows != int64(len(c.Accounts)) || nOrgs != len(c.Accounts) {
		t.Fatalf("organizations: landed %d rows, want %d", orgs.Rows, len(c.Accounts))
	}
	t.Logf("landed %d tickets in %d pages, %d organizations in %d pages, %d requests", tickets.Rows, tickets.Pages, orgs.Rows, orgs.Pages, api.Requests())
	if api.Requests() != tickets.Pages+orgs.Pages+1 {
		t.Errorf("%d requests for %d pages: the 429 should cost exactly one retry", api.Requests(), tickets.Pages+orgs.Pages)
	}
	// The export asks from start_time=0 with metric sets, then follows after_url (the cursor only).
	if q := log.queries[0]; q.Get("start_time") != "0" || q.Get("include") != "metric_sets" || q.Get("per_page") != "1000" {
		t.Errorf("first export request: %v", q)
	}
	for i, q := range log.queries[2 : tickets.Pages+1] {
		if q.Get("cursor") == "" || q.Has("start_time") {
			t.Errorf("export request %d: %v, want the after_url (cursor, no start_time)", i+2, q)
		}
	}
	for i := tickets.Pages + 1; i < len(log.queries); i++ {
		if q := log.queries[i]; q.Get("page[size]") != "100" || (i > tickets.Pages+1 && q.Get("page[after]") == "") {
			t.Errorf("organizations request %d: %v", i, q)
		}
	}

	sess := vendortest.OpenSession(t)
	vendortest.RegisterRaw(t, sess, store, "zendesk", "tickets", tickets)
	vendortest.RegisterRaw(t, sess, store, "zendesk", "organizations", orgs)
	var d *demo.Ticket
	for i := range c.Tickets {
		if c.Tickets[i].CSAT == 2 {
			d = &c.Tickets[i]
			break
		}
	}
	rows := vendortest.Query(t, sess, `select t.status, t.priority, t.type, t.satisfaction_score, t.created_at, t.solved_at, t.updated_at,
		o.external_id from raw_zendesk__tickets t join raw_zendesk__organizations o on o.id = t.organization_id where t.id = ?`,
		fmt.Sprint(zendesk.TicketID(d.TicketID)))
	if len(rows) != 1 {
		t.Fatalf("ticket %s: %d rows", d.TicketID, len(rows))
	}
	r := rows[0]
	if r.Get("priority") != d.Priority || r.Get("satisfaction_score") != "bad" || r.Get("external_id") != d.OrganizationID ||
		!vendortest.SameTime(r.Get("created_at"), d.CreatedAt) || !vendortest.SameTime(r.Get("solved_at"), d.SolvedAt) ||
		(r.Get("status") != "solved" && r.Get("status") != "closed") || r.Get("type") == nil {
		t.Errorf("ticket %s landed as %v, want %+v", d.TicketID, r, d)
	}
	rows = vendortest.Query(t, sess, `select count(*) filter (where status = 'deleted') as deleted, count(*) filter (where solved_at is not null) as solved,
		count(*) filter (where organization_id is null) as no_org from raw_zendesk__tickets`)
	solved := 0
	for _, tk := range c.Tickets {
		if !tk.SolvedAt.IsZero() {
			solved++
		}
	}
	if r := rows[0]; r.Get("deleted") != int64(5) || r.Get("solved") != int64(solved) || r.Get("no_org") != int64(5) {
		t.Errorf("tickets: %v, want 5 deleted, %d solved, only the deleted without organization", r, solved)
	}
}

// TestIncrementalLanding lands the tickets once in full, then incrementally from a cursor: the
// first request carries start_time (Unix seconds), the rest follow after_url, and exactly the
// tickets updated since then land.
func TestIncrementalLanding(t *testing.T) {
	c := demo.Generate(demo.Options{Accounts: 300})
	srv, _, log := serve(t, c, zendesk.Options{})
	cfg := vendortest.ReadConfig(t, exampleFile, srv.URL)
	store := vendortest.NewStore(t)
	full := vendortest.Land(t, store, cfg, "support", "tickets", c.AsOf().AddDate(0, 0, -1).Format(time.DateOnly), extract.Options{})
	if full.Mode == "incremental" || full.CursorMax == nil {
		t.Fatalf("full landing: mode %q, cursor_max %v", full.Mode, full.CursorMax)
	}
	since := full.CursorMax.Add(-90 * 24 * time.Hour)
	want := 0
	for _, d := range c.Tickets {
		updated := d.CreatedAt
		switch {
		case !d.SolvedAt.IsZero() && d.SolvedAt.Add(zendesk.ClosedAfter).Before(c.End):
			updated = d.SolvedAt.Add(zendesk.ClosedAfter)
		case !d.SolvedAt.IsZero():
			updated = d.SolvedAt
		}
		if !updated.Before(since) {
			want++
		}
	}
	n := len(log.queries)
	inc := vendortest.Land(t, store, cfg, "support", "tickets", c.AsOf().Format(time.DateOnly), extract.Options{Since: &since})
	if inc.Mode != "incremental" || inc.Rows != int64(want) || want == 0 || want >= len(c.Tickets) {
		t.Fatalf("incremental landing: mode %q, %d rows, want %d of %d", inc.Mode, inc.Rows, want, len(c.Tickets))
	}
	if q := log.queries[n]; q.Get("start_time") != fmt.Sprint(since.Unix()) {
		t.Errorf("first incremental request: %v, want start_time=%d", q, since.Unix())
	}
	t.Logf("full: %d tickets; incremental since %s: %d tickets in %d pages", full.Rows, since.Format(time.RFC3339), inc.Rows, inc.Pages)

	// Staging over both landings keeps one row per ticket.
	sess := vendortest.OpenSession(t)
	vendortest.RegisterRaw(t, sess, store, "zendesk", "tickets", full, inc)
	orgs := vendortest.Land(t, store, cfg, "support", "organizations", c.AsOf().Format(time.DateOnly), extract.Options{})
	vendortest.RegisterRaw(t, sess, store, "zendesk", "organizations", orgs)
	vendortest.Bind(t, sess, cfg, c.AsOf())
	rows := vendortest.Query(t, sess, "select count(*) as n, count(distinct ticket_id) as ids from ("+vendortest.StagingModel(t, "zendesk/stg_tickets")+")")
	if rows[0].Get("n") != int64(len(c.Tickets)) || rows[0].Get("ids") != int64(len(c.Tickets)) {
		t.Errorf("stg_tickets over a full and an incremental landing: %v, want %d tickets once each", rows[0], len(c.Tickets))
	}
}
