package stripe_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/stripe"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
	"github.com/segpipe/segpipe/internal/extract"
)

// exampleFile is the example config this package's tests read.
var exampleFile = filepath.Join("..", "..", "..", "config", "examples", "stripe.yaml")

const demoToken = stripe.DemoToken

// serve mounts the Stripe fake under /stripe and the demo vendor's export servers at the root,
// as `segpipe demo` does.
func serve(t *testing.T, c *demo.Company, opts stripe.Options) (*httptest.Server, *stripe.API) {
	t.Helper()
	api := stripe.New(c, demoToken, opts)
	return vendortest.ServeWithDemo(t, c, "/stripe", api), api
}

// TestPresetLandsEveryEntity lands the example config's Stripe source from the fake, one
// request failing with Stripe's 429, and checks every object arrived with its values.
func TestPresetLandsEveryEntity(t *testing.T) {
	c := demo.Generate(demo.Options{Accounts: 300})
	srv, api := serve(t, c, stripe.Options{Fault: func(n int, _ *http.Request) int {
		if n == 3 {
			return http.StatusTooManyRequests
		}
		return 0
	}})
	cfg := vendortest.ReadConfig(t, exampleFile, srv.URL)
	src := cfg.Sources["billing"]
	if src.Vendor != "stripe" || src.PageSize != stripe.MaxLimit || src.Auth.Type != "bearer" || src.BaseURL != srv.URL+"/stripe/v1" {
		t.Fatalf("billing source from the preset: vendor %s, page size %d, auth %s, base %s", src.Vendor, src.PageSize, src.Auth.Type, src.BaseURL)
	}
	for _, other := range []string{"crm", "support", "product"} {
		if cfg.Sources[other].Vendor != "demo" {
			t.Errorf("source %s: vendor %s, want demo", other, cfg.Sources[other].Vendor)
		}
	}
	store := vendortest.NewStore(t)
	landed := vendortest.LandSource(t, store, cfg, "billing", c.AsOf().Format(time.DateOnly), extract.Options{})
	nCust, nSub, nInv := api.Counts()
	pages := 0
	for en, want := range map[string]int{"customers": nCust, "subscriptions": nSub, "invoices": nInv} {
		m := landed[en]
		if m == nil || m.Rows != int64(want) || m.Quarantined != 0 {
			t.Fatalf("%s: landed %+v, want %d rows", en, m, want)
		}
		pages += m.Pages
	}
	t.Logf("landed %d customers, %d subscriptions, %d invoices in %d pages", nCust, nSub, nInv, pages)
	if nSub != len(c.Subscriptions) || nInv != len(c.Invoices) {
		t.Fatalf("the fake holds %d subscriptions and %d invoices, the company %d and %d", nSub, nInv, len(c.Subscriptions), len(c.Invoices))
	}
	if api.Requests() != pages+1 {
		t.Errorf("%d requests for %d pages: the 429 should cost exactly one retry", api.Requests(), pages)
	}

	sess := vendortest.OpenSession(t)
	vendortest.RegisterSource(t, sess, store, "stripe", landed)
	// Spot checks against the demo records: amounts in cents, Unix times, the CRM id.
	var eur *demo.Invoice
	for i := range c.Invoices {
		if c.Invoices[i].Currency == "EUR" && c.Invoices[i].PaidAt != nil {
			eur = &c.Invoices[i]
			break
		}
	}
	if eur == nil {
		t.Fatal("no paid EUR invoice in the company")
	}
	rows := vendortest.Query(t, sess, `select i.total, i.currency, i.created, i.period_start, i.period_end, i.paid_at, i.subscription,
		i.legacy_subscription, c.crm_account_id
		from raw_stripe__invoices i join raw_stripe__customers c on c.id = i.customer where i.id = ?`, stripe.InvoiceID(eur.ID))
	if len(rows) != 1 {
		t.Fatalf("invoice %s: %d rows", eur.ID, len(rows))
	}
	r := rows[0]
	if r.Get("total") != eur.AmountCents || r.Get("currency") != "eur" || !vendortest.SameTime(r.Get("created"), eur.IssuedAt) ||
		!vendortest.SameTime(r.Get("period_start"), eur.PeriodStart) || !vendortest.SameTime(r.Get("period_end"), eur.PeriodEnd) ||
		!vendortest.SameTime(r.Get("paid_at"), *eur.PaidAt) || r.Get("subscription") != eur.SubscriptionID ||
		r.Get("legacy_subscription") != nil || r.Get("crm_account_id") != eur.CustomerID {
		t.Errorf("invoice %s landed as %v, want %+v", eur.ID, r, eur)
	}
	var canceled *demo.Subscription
	for i := range c.Subscriptions {
		if c.Subscriptions[i].CanceledAt != nil && c.Subscriptions[i].BillingInterval == "year" {
			canceled = &c.Subscriptions[i]
			break
		}
	}
	if canceled == nil {
		t.Fatal("no canceled annual subscription in the company")
	}
	rows = vendortest.Query(t, sess, `select status, plan, billing_interval, quantity, unit_amount_decimal, ended_at, start_date,
		current_period_end, legacy_current_period_end from raw_stripe__subscriptions where id = ?`, canceled.ID)
	r = rows[0]
	if r.Get("status") != "canceled" || r.Get("plan") != canceled.Plan || r.Get("billing_interval") != "year" ||
		r.Get("quantity") != int64(canceled.Seats) || !vendortest.SameTime(r.Get("ended_at"), *canceled.CanceledAt) ||
		!vendortest.SameTime(r.Get("start_date"), canceled.StartedAt) || !vendortest.SameTime(r.Get("current_period_end"), canceled.CurrentPeriodEnd) ||
		r.Get("legacy_current_period_end") != nil {
		t.Errorf("subscription %s landed as %v, want %+v", canceled.ID, r, canceled)
	}
	if got := r.Float("unit_amount_decimal") * float64(canceled.Seats); int64(got+0.5) != canceled.MRRCents*12 {
		t.Errorf("subscription %s: %v x %d seats = %v, want %d", canceled.ID, r.Get("unit_amount_decimal"), canceled.Seats, got, canceled.MRRCents*12)
	}
	rows = vendortest.Query(t, sess, `select count(*) as n, count(distinct crm_account_id) as accounts,
		count(*) filter (where crm_account_id is null) as unmapped from raw_stripe__customers`)
	if rows[0].Get("n") != int64(nCust) || rows[0].Get("accounts") != int64(nCust) || rows[0].Get("unmapped") != int64(0) {
		t.Errorf("customers: %v", rows[0])
	}
}
