package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/stripe"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

// lateChanges is a company with changes that arrive late, each at its own instant: an old
// invoice voided and reissued with another amount, a churned customer reactivated, a deal
// deleted, and a subscription whose start and seats are corrected backwards (when edited).
type lateChanges struct {
	voided, reissue, reactivated, deleted, edited string
}

// withLateChanges returns a copy of c with those changes, made at the instants at[1] (the
// void and reissue), at[2] (the reactivation and the deletion) and at[3] (the backdated edit,
// only when edit).
func withLateChanges(t *testing.T, c *demo.Company, at [4]time.Time, edit bool) (*demo.Company, lateChanges) {
	t.Helper()
	out := *c
	out.Invoices = slices.Clone(c.Invoices)
	out.Subscriptions = slices.Clone(c.Subscriptions)
	out.Opportunities = slices.Clone(c.Opportunities)
	var lc lateChanges
	end := c.End

	// An invoice of a paid period about eight months back is voided and reissued, 15% higher.
	for i := range out.Invoices {
		inv := &out.Invoices[i]
		if inv.Status == "paid" && inv.IssuedAt.Before(end.AddDate(0, -8, 0)) && inv.IssuedAt.After(end.AddDate(0, -9, 0)) && inv.AmountCents > 10_000 {
			v := at[1]
			inv.VoidedAt, inv.Status = &v, "void"
			re := *inv
			re.ID, re.VoidedAt = inv.ID+"_r", nil
			re.AmountCents = inv.AmountCents * 115 / 100
			paid := at[1].Add(2 * time.Hour)
			re.IssuedAt, re.PaidAt, re.Status = at[1].Add(time.Hour), &paid, "paid"
			out.Invoices = append(out.Invoices, re)
			lc.voided, lc.reissue = inv.ID, re.ID
			break
		}
	}
	// A customer churned more than six months ago comes back: a new subscription and its
	// first invoice, paid.
	for _, s := range c.Subscriptions {
		if s.Status == "canceled" && s.CanceledAt.Before(end.AddDate(0, -6, 0)) && s.BillingInterval == "month" {
			n := s
			n.ID, n.Status, n.CanceledAt = s.ID+"_react", "active", nil
			n.StartedAt = at[1]
			n.CurrentPeriodEnd = at[1].AddDate(0, 1, 0)
			out.Subscriptions = append(out.Subscriptions, n)
			paid := at[1].Add(3 * time.Hour)
			out.Invoices = append(out.Invoices, demo.Invoice{ID: "inv_react_1", CustomerID: s.CustomerID, SubscriptionID: n.ID,
				AmountCents: n.MRRCents, Seats: n.Seats, SeatLimit: n.SeatLimit, Currency: n.Currency,
				PeriodStart: at[1], PeriodEnd: at[1].AddDate(0, 1, 0), IssuedAt: at[1], PaidAt: &paid, Status: "paid"})
			lc.reactivated = s.CustomerID
			break
		}
	}
	// A deal lost a year ago is deleted.
	for i := range out.Opportunities {
		o := &out.Opportunities[i]
		if o.IsClosed && !o.IsWon && o.ClosedAt.Before(end.AddDate(-1, 0, 0)) {
			d := at[2]
			o.DeletedAt = &d
			lc.deleted = o.ID
			break
		}
	}
	// An active subscription's start is corrected two months back, and it gains five seats.
	if edit {
		for i := range out.Subscriptions {
			s := &out.Subscriptions[i]
			if s.Status == "active" && s.StartedAt.Before(end.AddDate(-1, 0, 0)) {
				e := at[3]
				s.EditedAt = &e
				s.StartedAt = s.StartedAt.AddDate(0, -2, 0)
				s.Seats += 5
				lc.edited = s.ID
				break
			}
		}
	}
	if lc.voided == "" || lc.reactivated == "" || lc.deleted == "" || (edit && lc.edited == "") {
		t.Fatalf("the company has no record for every late change: %+v", lc)
	}
	return &out, lc
}

// equalLatest checks that every table published in a and b (latest/) holds the same rows,
// every column compared (doubles to 1e-9), and returns how many tables it compared.
func equalLatest(t *testing.T, a, b jobs.Params, night string) int {
	t.Helper()
	ctx := context.Background()
	dirA := filepath.Join(a.Lake.(*lake.FileStore).Root(), "latest")
	dirB := filepath.Join(b.Lake.(*lake.FileStore).Root(), "latest")
	files, err := filepath.Glob(filepath.Join(dirB, "*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no published tables in %s: %v", night, dirB, err)
	}
	filesA, _ := filepath.Glob(filepath.Join(dirA, "*.parquet"))
	if len(filesA) != len(files) {
		t.Errorf("%s: %d tables published incrementally, %d by the full refresh", night, len(filesA), len(files))
	}
	s, err := warehouse.Open(ctx, warehouse.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	for _, fb := range files {
		table := strings.TrimSuffix(filepath.Base(fb), ".parquet")
		fa := filepath.Join(dirA, filepath.Base(fb))
		if _, err := os.Stat(fa); err != nil {
			t.Errorf("%s: %s is not published by the incremental run", night, table)
			continue
		}
		q := "select * from read_parquet(?) order by all"
		ra, err := s.Query(ctx, q, fa)
		if err != nil {
			t.Fatalf("%s %s: %v", night, table, err)
		}
		rb, err := s.Query(ctx, q, fb)
		if err != nil {
			t.Fatalf("%s %s: %v", night, table, err)
		}
		if len(ra) != len(rb) {
			t.Errorf("%s %s: %d rows incrementally, %d by the full refresh", night, table, len(ra), len(rb))
			continue
		}
		for i := range ra {
			if !ra[i].Equal(rb[i], 1e-9) {
				t.Errorf("%s %s row %d differs:\nincremental  %s\nfull refresh %s", night, table, i, ra[i], rb[i])
				break
			}
		}
		n++
	}
	return n
}

// lateNights are the gate's four nights over base: each night's as_of (the last three days
// before base's and base's own), and the company as known the next midnight, with the late
// changes of withLateChanges made on the afternoons of nights 1 to 3.
func lateNights(t *testing.T, base *demo.Company) (asOf [4]time.Time, known [4]*demo.Company, lc lateChanges) {
	t.Helper()
	last := base.AsOf()
	var at [4]time.Time // each night's change, in the afternoon of its as_of
	for k := range 4 {
		asOf[k] = last.AddDate(0, 0, k-3)
		at[k] = asOf[k].Add(14 * time.Hour)
	}
	changed, _ := withLateChanges(t, base, at, false)
	edited, lc := withLateChanges(t, base, at, true)
	for k := range 4 {
		c := changed
		if k == 3 {
			c = edited
		}
		known[k] = c.KnownAt(asOf[k].AddDate(0, 0, 1))
	}
	return asOf, known, lc
}

// The gate of issue 21: a sequence of nightly runs that load only what changed, with changes
// that arrive late (an invoice voided and reissued for an old month, a reactivation, a deleted
// deal, a backdated subscription change), publishes every table as a full refresh of the same
// night does.
func TestIncrementalNightsEqualFullRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	asOf, known, lc := lateNights(t, demo.Generate(demo.Options{Accounts: 400, Seed: 31})) // up to 2026-10-31
	// Two lakes take the same nights: one loads each night's changes, the other each night's
	// whole exports (--full-refresh). The run history (tier and segment history, previous
	// clusters) is each lake's own, so both take every night.
	incLake, fullLake := t.TempDir(), t.TempDir()
	for k, c := range known {
		night := asOf[k].Format(time.DateOnly)

		inc := servedEnvIn(t, c, asOf[k], incLake)
		res, err := jobs.Nightly(ctx, inc)
		if err != nil {
			t.Fatalf("incremental night %s: %v", night, err)
		}
		for _, m := range res.Ingest.Datasets {
			if want := map[bool]string{true: "full", false: "incremental"}[k == 0]; m.Mode != want {
				t.Errorf("night %s: %s/%s landed %s, want %s", night, m.Source, m.Entity, m.Mode, want)
			}
		}
		full := servedEnvIn(t, c, asOf[k], fullLake)
		full.FullRefresh = true
		if _, err := jobs.Nightly(ctx, full); err != nil {
			t.Fatalf("full refresh %s: %v", night, err)
		}
		if n := equalLatest(t, inc, full, night); n < 15 {
			t.Errorf("night %s: compared %d tables; the segment job publishes more", night, n)
		}
	}
	// The late changes came in through the nights' increments.
	s, err := warehouse.Open(ctx, warehouse.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	landed := func(source, entity string, k int, where string) int64 {
		t.Helper()
		glob := filepath.Join(incLake, lake.RawPrefix(source, entity, asOf[k].Format(time.DateOnly)), "*.parquet")
		rows, err := s.Query(ctx, "select count(*) from read_parquet(?, union_by_name = true) where "+where, glob)
		if err != nil {
			t.Fatalf("%s: %v", glob, err)
		}
		return rows[0].Values[0].(int64)
	}
	for _, c := range []struct {
		source, entity string
		night          int
		where          string
	}{
		{"billing", "invoices", 1, "id = '" + lc.voided + "' and status = 'void'"},
		{"billing", "invoices", 1, "id = '" + lc.reissue + "' and status = 'paid'"},
		{"billing", "subscriptions", 2, "customer_id = '" + lc.reactivated + "' and status = 'active'"},
		{"crm", "opportunities", 2, "id = '" + lc.deleted + "' and is_deleted"},
		{"billing", "subscriptions", 3, "id = '" + lc.edited + "'"},
	} {
		if n := landed(c.source, c.entity, c.night, c.where); n != 1 {
			t.Errorf("the increment of %s/%s on night %d holds %d rows where %s, want 1", c.source, c.entity, c.night, n, c.where)
		}
	}
	t.Logf("late changes: %+v", lc)
}

// The same gate for Stripe billing (config/examples/stripe.yaml), whose invoices are read,
// after the first full load, through the events list (internal/config/presets/stripe.yaml):
// the late changes come in as invoice events (the void of an old paid invoice, the reissue,
// the reactivated customer's first invoice), every published table equals a full refresh's
// on every night, the nights count the older events they leave out, and a cursor older than
// the 30 days Stripe keeps events loads the invoices in full again.
func TestStripeEventNightsEqualFullRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	yaml, err := os.ReadFile(filepath.Join("..", "config", "examples", "stripe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	base := demo.Generate(demo.Options{Accounts: 400, Seed: 37})
	asOf, known, lc := lateNights(t, base)
	serve := func(c *demo.Company, day time.Time, lakeDir string) jobs.Params {
		p, stop, err := serveDemo(c, "stripe.yaml", yaml, lakeDir, t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		p.AsOf = day
		// The fake's clock: its events end where the company is known, the next midnight.
		now := day.AddDate(0, 0, 1).Add(time.Hour)
		p.Now = func() time.Time { return now }
		return p
	}
	incLake, fullLake := t.TempDir(), t.TempDir()
	var older int64
	for k, c := range known {
		night := asOf[k].Format(time.DateOnly)
		inc := serve(c, asOf[k], incLake)
		res, err := jobs.Nightly(ctx, inc)
		if err != nil {
			t.Fatalf("incremental night %s: %v", night, err)
		}
		for _, m := range res.Ingest.Datasets {
			want := "full"
			if k > 0 && m.Source != "billing" || k > 0 && m.Entity == "invoices" {
				want = "incremental"
			}
			if m.Mode != want {
				t.Errorf("night %s: %s/%s landed %s, want %s", night, m.Source, m.Entity, m.Mode, want)
			}
			if m.Entity == "invoices" && k > 0 {
				t.Logf("night %s: %d invoices from %d events pages, %d older events left out, cursor %v", night, m.Rows, m.Pages, m.OlderEvents, m.CursorMax)
				older += m.OlderEvents
				if m.Rows == 0 || m.CursorMax == nil || !m.CursorMax.After(asOf[k]) {
					t.Errorf("night %s: the invoice events landed %d invoices, cursor %v", night, m.Rows, m.CursorMax)
				}
			}
		}
		full := serve(c, asOf[k], fullLake)
		full.FullRefresh = true
		if _, err := jobs.Nightly(ctx, full); err != nil {
			t.Fatalf("full refresh %s: %v", night, err)
		}
		if n := equalLatest(t, inc, full, night); n < 15 {
			t.Errorf("night %s: compared %d tables; the segment job publishes more", night, n)
		}
	}
	if older == 0 {
		t.Error("no night left out an older event of an invoice; every paid invoice has two")
	}
	s, err := warehouse.Open(ctx, warehouse.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		id, status string
	}{{stripe.InvoiceID(lc.voided), "void"}, {stripe.InvoiceID(lc.reissue), "paid"}, {stripe.InvoiceID("inv_react_1"), "paid"}} {
		glob := filepath.Join(incLake, lake.RawPrefix("billing", "invoices", asOf[1].Format(time.DateOnly)), "*.parquet")
		rows, err := s.Query(ctx, "select count(*) from read_parquet(?) where id = ? and status = ?", glob, c.id, c.status)
		if err != nil {
			t.Fatal(err)
		}
		if n := rows[0].Values[0].(int64); n != 1 {
			t.Errorf("the events of night %s hold %d rows of %s %s, want 1", asOf[1].Format(time.DateOnly), n, c.status, c.id)
		}
	}

	// Forty days on, the saved cursor is older than the events Stripe keeps: the invoices
	// load in full, the other incremental entities still from their cursors.
	day := asOf[3].AddDate(0, 0, 40)
	p := serve(known[3].KnownAt(day.AddDate(0, 0, 1)), day, incLake)
	res, err := jobs.Ingest(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Datasets {
		if m.Entity == "invoices" && m.Mode != "full" || m.Source == "crm" && m.Mode != "incremental" {
			t.Errorf("forty days on: %s/%s landed %s", m.Source, m.Entity, m.Mode)
		}
	}
}
