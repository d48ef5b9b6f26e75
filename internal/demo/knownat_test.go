package demo

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"
)

// versions returns each record's JSON (without updated_at) and UpdatedAt, by id.
func versions[T any](t *testing.T, recs []T, id func(*T) string, updated func(*T) *time.Time) (map[string]string, map[string]time.Time) {
	t.Helper()
	body, at := map[string]string{}, map[string]time.Time{}
	for i := range recs {
		r := recs[i] // a copy: clearing its UpdatedAt leaves recs alone
		u := updated(&r)
		at[id(&r)] = *u
		*u = time.Time{}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		body[id(&r)] = string(b)
	}
	return body, at
}

// checkChanges checks the promise of stampUpdates between instants t1 < t2: every record of
// the company at t2 that is new or differs from its version at t1 has an UpdatedAt in
// [t1, t2] (a usage rollup is stamped with its month's end, the instant it appears); every
// other one has the UpdatedAt it had at t1. It returns the number changed.
func checkChanges[T any](t *testing.T, entity string, at1, at2 []T, t1, t2 time.Time, id func(*T) string, updated func(*T) *time.Time) int {
	t.Helper()
	b1, u1 := versions(t, at1, id, updated)
	b2, u2 := versions(t, at2, id, updated)
	changed := 0
	for k, b := range b2 {
		old, ok := b1[k]
		switch {
		case !ok || old != b:
			changed++
			if u2[k].Before(t1) || u2[k].After(t2) {
				t.Errorf("%s %s changed between %s and %s but its updated_at is %s", entity, k, t1, t2, u2[k])
			}
		case !u2[k].Equal(u1[k]):
			t.Errorf("%s %s did not change between %s and %s but its updated_at moved from %s to %s", entity, k, t1, t2, u1[k], u2[k])
		}
	}
	for k := range b1 {
		if _, ok := b2[k]; !ok {
			t.Errorf("%s %s exists at %s and not at %s", entity, k, t1, t2)
		}
	}
	return changed
}

// Between two instants, the records an updated_since filter at the first would return are
// exactly the ones that are new or changed: a nightly that asks only for them misses nothing.
func TestUpdatedAtMarksEveryChange(t *testing.T) {
	c := Generate(Options{Accounts: 1500, Seed: 3})
	day := 24 * time.Hour
	for _, w := range []struct{ t1, t2 time.Time }{
		{c.End.Add(-day), c.End},                                     // the last night, across a month end
		{c.End.AddDate(0, -3, 12), c.End.AddDate(0, -3, 13)},         // a night in mid-month
		{c.End.AddDate(0, -7, -1), c.End.AddDate(0, -6, 1)},          // a month-long gap in the landings
		{c.End.AddDate(-1, 0, 0).Add(-day), c.End.AddDate(-1, 0, 0)}, // a year ago
	} {
		a, b := c.KnownAt(w.t1), c.KnownAt(w.t2)
		if w.t2.Equal(c.End) {
			b = c // the company at End is what KnownAt(End) would give
		}
		n := map[string]int{
			"subscriptions": checkChanges(t, "subscription", a.Subscriptions, b.Subscriptions, w.t1, w.t2,
				func(s *Subscription) string { return s.ID }, func(s *Subscription) *time.Time { return &s.UpdatedAt }),
			"invoices": checkChanges(t, "invoice", a.Invoices, b.Invoices, w.t1, w.t2,
				func(i *Invoice) string { return i.ID }, func(i *Invoice) *time.Time { return &i.UpdatedAt }),
			"tickets": checkChanges(t, "ticket", a.Tickets, b.Tickets, w.t1, w.t2,
				func(k *Ticket) string { return k.TicketID }, func(k *Ticket) *time.Time { return &k.UpdatedAt }),
			"usage": checkChanges(t, "usage", a.Usage, b.Usage, w.t1, w.t2,
				func(u *Usage) string { return u.UsageID }, func(u *Usage) *time.Time { return &u.UpdatedAt }),
			"opportunities": checkChanges(t, "opportunity", a.Opportunities, b.Opportunities, w.t1, w.t2,
				func(o *Opportunity) string { return o.ID }, func(o *Opportunity) *time.Time { return &o.UpdatedAt }),
		}
		t.Logf("%s to %s: changed %v", w.t1.Format(time.DateOnly), w.t2.Format(time.DateOnly), n)
		// The windows are chosen to hold changes of every entity but usage in mid-month.
		for e, k := range n {
			if k == 0 && !(e == "usage" && w.t1.Month() == w.t2.Month()) {
				t.Errorf("%s to %s: no %s changed; the check saw nothing", w.t1, w.t2, e)
			}
		}
	}
}

// updated_since on every export returns the records updated at or after it, and only them,
// through every pagination, at page sizes that split them over several pages.
func TestUpdatedSinceFilters(t *testing.T) {
	c := Generate(Options{Accounts: 400, Seed: 9})
	srv := httptest.NewServer(NewHandler(c, DefaultTokens()))
	defer srv.Close()
	since := c.End.AddDate(0, 0, -20)
	q := url.Values{SinceParam: {since.Format(time.RFC3339)}}
	want := func(ids []string, at []time.Time) []string {
		var out []string
		for i := range ids {
			if !at[i].Before(since) {
				out = append(out, ids[i])
			}
		}
		return out
	}
	ids := func(n int, f func(int) (string, time.Time)) ([]string, []time.Time) {
		var is []string
		var ts []time.Time
		for i := range n {
			id, u := f(i)
			is = append(is, id)
			ts = append(ts, u)
		}
		return is, ts
	}
	for _, tc := range []struct {
		path string
		got  func() ([]string, int)
		all  []string
		at   []time.Time
	}{
		{path: PathAccounts, got: func() ([]string, int) { return walkCursorWith(t, srv.URL, PathAccounts, 7, q) }},
		{path: PathOpportunities, got: func() ([]string, int) { return walkCursorWith(t, srv.URL, PathOpportunities, 7, q) }},
		{path: PathSubscriptions, got: func() ([]string, int) { return walkPagesWith(t, srv.URL, PathSubscriptions, 7, q) }},
		{path: PathInvoices, got: func() ([]string, int) { return walkPagesWith(t, srv.URL, PathInvoices, 7, q) }},
		{path: PathTickets, got: func() ([]string, int) {
			return walkCSVWith(t, srv.URL, PathTickets, "support", 7, TicketColumns, q)
		}},
		{path: PathUsage, got: func() ([]string, int) {
			return walkCSVWith(t, srv.URL, PathUsage, "product", 7, UsageColumns, q)
		}},
	} {
		var all []string
		var at []time.Time
		switch tc.path {
		case PathAccounts:
			all, at = ids(len(c.Accounts), func(i int) (string, time.Time) { return c.Accounts[i].ID, c.Accounts[i].UpdatedAt })
		case PathOpportunities:
			all, at = ids(len(c.Opportunities), func(i int) (string, time.Time) { return c.Opportunities[i].ID, c.Opportunities[i].UpdatedAt })
		case PathSubscriptions:
			all, at = ids(len(c.Subscriptions), func(i int) (string, time.Time) { return c.Subscriptions[i].ID, c.Subscriptions[i].UpdatedAt })
		case PathInvoices:
			all, at = ids(len(c.Invoices), func(i int) (string, time.Time) { return c.Invoices[i].ID, c.Invoices[i].UpdatedAt })
		case PathTickets:
			all, at = ids(len(c.Tickets), func(i int) (string, time.Time) { return c.Tickets[i].TicketID, c.Tickets[i].UpdatedAt })
		case PathUsage:
			all, at = ids(len(c.Usage), func(i int) (string, time.Time) { return c.Usage[i].UsageID, c.Usage[i].UpdatedAt })
		}
		exp := want(all, at)
		got, pages := tc.got()
		if !slices.Equal(got, exp) {
			t.Errorf("%s?updated_since=%s: %d records, want %d (of %d)", tc.path, since.Format(time.RFC3339), len(got), len(exp), len(all))
		}
		if len(exp) == 0 || len(exp) == len(all) || pages < 2 {
			t.Errorf("%s: %d of %d records in %d pages: the filter was not exercised", tc.path, len(exp), len(all), pages)
		}
	}
	for _, bad := range []string{"2026-10-12", "yesterday", "1730000000"} {
		resp, body := get(t, srv.URL, PathInvoices+"?"+url.Values{SinceParam: {bad}}.Encode(), DefaultTokens()["billing"])
		if resp.StatusCode != http.StatusBadRequest || !json.Valid(body) {
			t.Errorf("updated_since=%q: %d %s, want 400", bad, resp.StatusCode, body)
		}
		var e struct{ Error struct{ Param string } }
		if json.Unmarshal(body, &e); e.Error.Param != SinceParam {
			t.Errorf("updated_since=%q: error names param %q", bad, e.Error.Param)
		}
	}
	future := url.Values{SinceParam: {c.End.Add(time.Hour).Format(time.RFC3339)}}
	if got, pages := walkPagesWith(t, srv.URL, PathInvoices, 7, future); len(got) != 0 || pages != 1 {
		t.Errorf("updated_since after End: %d records in %d pages, want none in 1", len(got), pages)
	}
}

// A deleted deal leaves the whole export and is listed by updated_since as a tombstone from
// its deletion on; before its deletion it is an ordinary deal.
func TestDeletedDealTombstone(t *testing.T) {
	c := Generate(Options{Accounts: 200, Seed: 6})
	gone := c.End.Add(-5 * time.Hour)
	del := &c.Opportunities[3]
	del.DeletedAt = &gone
	stampUpdates(c, c.End)
	if !del.IsDeleted || !del.UpdatedAt.Equal(gone) {
		t.Fatalf("deleted deal stamped %v at %s, want deleted at %s", del.IsDeleted, del.UpdatedAt, gone)
	}
	srv := httptest.NewServer(NewHandler(c, DefaultTokens()))
	defer srv.Close()
	all, _ := walkCursorWith(t, srv.URL, PathOpportunities, 50, nil)
	if slices.Contains(all, del.ID) || len(all) != len(c.Opportunities)-1 {
		t.Errorf("whole export: %d deals, deleted %s listed %v", len(all), del.ID, slices.Contains(all, del.ID))
	}
	q := url.Values{SinceParam: {c.End.Add(-24 * time.Hour).Format(time.RFC3339)}}
	changed, _ := walkCursorWith(t, srv.URL, PathOpportunities, 50, q)
	if !slices.Contains(changed, del.ID) {
		t.Fatalf("updated_since export lacks the tombstone of %s: %v", del.ID, changed)
	}
	resp, body := get(t, srv.URL, PathOpportunities+"?limit=1000&"+q.Encode(), DefaultTokens()["crm"])
	var page struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, o := range page.Data {
		_, has := o["is_deleted"]
		if (o["id"] == del.ID) != has || (has && o["is_deleted"] != true) {
			t.Errorf("deal %v: is_deleted %v", o["id"], o["is_deleted"])
		}
	}
	before := c.KnownAt(gone)
	for _, o := range before.Opportunities {
		if o.ID == del.ID && (o.IsDeleted || !o.UpdatedAt.Before(gone)) {
			t.Errorf("at its deletion the deal is already deleted (%v) or updated at %s", o.IsDeleted, o.UpdatedAt)
		}
	}
	var b []byte
	if b = appendOpportunityJSON(b, del); !json.Valid(b) {
		t.Fatalf("appender: %s", b)
	}
	if want, _ := json.Marshal(del); string(b) != string(want) {
		t.Errorf("appender %s\nencoding/json %s", b, want)
	}
}
