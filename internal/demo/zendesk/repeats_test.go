package zendesk_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
	"github.com/segpipe/segpipe/internal/demo/zendesk"
	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/lake"
)

// TestRepeatedTicketsInOneExport lands the export of a Zendesk that repeats the last ticket
// of every page at the top of the next (the time-based export's documented duplicates) and
// changes 7 tickets while the export runs (they come again on the last page), with
// max_bad_share 0. Before, the repeats were quarantined as duplicate primary keys and the
// landing failed. Now the exact repeats are dropped and counted, the changed versions land
// and are counted as superseding, nothing is quarantined, and stg_tickets equals that of a
// clean export except the 7 changed tickets, which show their newer version.
func TestRepeatedTicketsInOneExport(t *testing.T) {
	c := demo.Generate(demo.Options{Accounts: 300})
	const changed, perPage = 7, 250
	clean, _, _ := serve(t, c, zendesk.Options{})
	awkward, api, _ := serve(t, c, zendesk.Options{RepeatAtPageBoundary: true, ChangedDuringExport: changed})
	dt := c.AsOf().Format(time.DateOnly)
	land := func(url string) (*lake.FileStore, *lake.Manifest, *lake.Manifest) {
		cfg := vendortest.ReadConfig(t, exampleFile, url)
		cfg.Sources["support"].PageSize = perPage
		cfg.Sources["support"].MaxBadShare = 0
		st := vendortest.NewStore(t)
		return st, vendortest.Land(t, st, cfg, "support", "tickets", dt, extract.Options{}), vendortest.Land(t, st, cfg, "support", "organizations", dt, extract.Options{})
	}
	cleanStore, cleanTickets, cleanOrgs := land(clean.URL)
	awkStore, awkTickets, awkOrgs := land(awkward.URL)

	tickets, _ := api.Counts()
	if cleanTickets.Rows != int64(tickets) || cleanTickets.RepeatsDropped != 0 || cleanTickets.Superseded != 0 {
		t.Fatalf("clean export: %d rows of %d tickets, %d repeats, %d superseded", cleanTickets.Rows, tickets, cleanTickets.RepeatsDropped, cleanTickets.Superseded)
	}
	// Every page after the first repeats one ticket; the last page also carries the changed
	// tickets, so the pages are those of the clean export (the repeats fill no page of their
	// own at this size, checked by the page count).
	if awkTickets.Pages != cleanTickets.Pages {
		t.Fatalf("pages: %d, clean %d", awkTickets.Pages, cleanTickets.Pages)
	}
	wantRepeats := int64(awkTickets.Pages - 1)
	if awkTickets.Quarantined != 0 || awkTickets.RepeatsDropped != wantRepeats || awkTickets.Superseded != changed ||
		awkTickets.Rows != int64(tickets)+changed {
		t.Errorf("awkward export: rows %d (want %d), quarantined %d (want 0), repeats dropped %d (want %d), superseded %d (want %d)",
			awkTickets.Rows, tickets+changed, awkTickets.Quarantined, awkTickets.RepeatsDropped, wantRepeats, awkTickets.Superseded, changed)
	}

	sess := vendortest.OpenSession(t)
	cfg := vendortest.ReadConfig(t, exampleFile, clean.URL)
	vendortest.Bind(t, sess, cfg, c.AsOf())
	vendortest.RegisterRaw(t, sess, cleanStore, "zendesk", "tickets", cleanTickets)
	vendortest.RegisterRaw(t, sess, cleanStore, "zendesk", "organizations", cleanOrgs)
	vendortest.Build(t, sess, "clean_stg_tickets", "staging/zendesk/stg_tickets.sql")
	vendortest.RegisterRaw(t, sess, awkStore, "zendesk", "tickets", awkTickets)
	vendortest.RegisterRaw(t, sess, awkStore, "zendesk", "organizations", awkOrgs)
	vendortest.Build(t, sess, "awkward_stg_tickets", "staging/zendesk/stg_tickets.sql")

	var ids []string
	for _, id := range api.ChangedDuringExport() {
		ids = append(ids, fmt.Sprint(id))
	}
	if len(ids) != changed {
		t.Fatalf("changed tickets %v", ids)
	}
	in := "('" + strings.Join(ids, "', '") + "')"
	// Unchanged tickets: the same rows. Changed ones: the newer version, priority urgent.
	vendortest.AssertSameRows(t, sess, "stg_tickets of unchanged tickets",
		"select * from clean_stg_tickets where ticket_id not in "+in,
		"select * from awkward_stg_tickets where ticket_id not in "+in)
	vendortest.AssertSameRows(t, sess, "stg_tickets of changed tickets",
		"select * replace ('urgent' as priority) from clean_stg_tickets where ticket_id in "+in,
		"select * from awkward_stg_tickets where ticket_id in "+in)
	if n := vendortest.Count(t, sess, "select * from awkward_stg_tickets where ticket_id in "+in); n != changed {
		t.Errorf("%d changed tickets in stg_tickets, want %d", n, changed)
	}
}
