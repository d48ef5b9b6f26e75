package stripe_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/stripe"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
	"github.com/segpipe/segpipe/internal/extract"
)

// TestStagingMatchesDemo lands the same company from the demo billing exports and from the
// Stripe fake, runs each vendor's staging models and checks they give the same canonical
// tables, at the company's as_of and half a year earlier. Stripe has no seat limits: that
// column is NULL from Stripe and compared apart.
func TestStagingMatchesDemo(t *testing.T) {
	c := demo.Generate(demo.Options{Accounts: 800})
	srv, _ := serve(t, c, stripe.Options{})
	stripeCfg := vendortest.ReadConfig(t, exampleFile, srv.URL)
	demoCfg := vendortest.DemoConfig(t, srv.URL)
	dt := c.AsOf().Format(time.DateOnly)
	demoStore := vendortest.NewStore(t)
	stripeStore := vendortest.NewStore(t)
	demoLanded := vendortest.LandSource(t, demoStore, demoCfg, "billing", dt, extract.Options{})
	stripeLanded := vendortest.LandSource(t, stripeStore, stripeCfg, "billing", dt, extract.Options{})

	sess := vendortest.OpenSession(t)
	vendortest.RegisterSource(t, sess, demoStore, "demo", demoLanded)
	vendortest.RegisterSource(t, sess, stripeStore, "stripe", stripeLanded)
	for _, asOf := range []time.Time{c.AsOf(), c.AsOf().AddDate(0, -6, 0)} {
		t.Run(asOf.Format(time.DateOnly), func(t *testing.T) {
			vendortest.Bind(t, sess, stripeCfg, asOf)
			for _, canonical := range []string{"stg_subscriptions", "stg_invoices"} {
				vendortest.Build(t, sess, "demo_"+canonical, "staging/demo/"+canonical+".sql")
				vendortest.Build(t, sess, "stripe_"+canonical, "staging/stripe/"+canonical+".sql")
				if d, s := vendortest.Columns(t, sess, "demo_"+canonical), vendortest.Columns(t, sess, "stripe_"+canonical); d != s {
					t.Errorf("%s columns differ:\n demo   %s\n stripe %s", canonical, d, s)
				}
			}
			n := vendortest.Query(t, sess, `select (select count(*) from stripe_stg_subscriptions) as subs, (select count(*) from stripe_stg_invoices) as invs,
				(select count(*) from stripe_stg_subscriptions where status = 'canceled') as canceled,
				(select count(*) from stripe_stg_invoices where status = 'void') as void,
				(select count(*) from stripe_stg_invoices where status = 'open') as open,
				(select count(*) from stripe_stg_invoices where currency_original = 'EUR') as eur`)[0]
			t.Logf("as_of %s: %v", asOf.Format(time.DateOnly), n)
			for _, col := range []string{"subs", "invs", "canceled", "void", "open", "eur"} {
				if n.Get(col) == int64(0) {
					t.Errorf("no %s rows: the comparison would prove little", col)
				}
			}
			vendortest.AssertSameRows(t, sess, "stg_subscriptions",
				"select * exclude (seat_limit) from demo_stg_subscriptions",
				"select * exclude (seat_limit) from stripe_stg_subscriptions")
			if r := vendortest.Query(t, sess, "select count(*) as n from stripe_stg_subscriptions where seat_limit is not null")[0]; r.Get("n") != int64(0) {
				t.Errorf("Stripe has no seat limits, yet %v rows carry one", r.Get("n"))
			}
			// Stripe invoice ids are in_000123 for the demo's inv_000123.
			vendortest.AssertSameRows(t, sess, "stg_invoices",
				"select * replace ('in_' || substr(invoice_id, 5) as invoice_id) from demo_stg_invoices",
				"select * from stripe_stg_invoices")
		})
	}
}

// TestStagingVendorCases runs the Stripe staging models on hand-written raw rows for what the
// fake does not produce: several items, prorations, older API versions, zero-decimal
// currencies, drafts, trials and never-started subscriptions, a late cancellation.
func TestStagingVendorCases(t *testing.T) {
	sess := vendortest.OpenSession(t)
	ctx := context.Background()
	cfg := vendortest.ReadConfig(t, exampleFile, "http://127.0.0.1:1")
	asOf := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	vendortest.Bind(t, sess, cfg, asOf)
	ts := func(s string) string { return fmt.Sprintf("'%s'::timestamptz", s) }
	// The raw views as the preset lands them (columns in the preset's names), _raw holding JSON.
	vendortest.Exec(t, sess, `create or replace view raw_stripe__customers as select * from (values
		('cus_A', 'acc_1', now()::timestamptz, '{}'), ('cus_B', 'acc_2', now()::timestamptz, '{}'))
		t(id, crm_account_id, _extracted_at, _raw)`)
	vendortest.Exec(t, sess, `create or replace view raw_stripe__subscriptions as select * from (values
		-- two licensed items (monthly 10 x 12.50 USD, yearly 2 x 1200.00 USD) and a metered one
		('sub_multi', 'cus_A', 'active', 'usd', 'core', null, 'prod_core', 'month', 1, 1250.0, 10, `+ts("2025-01-10")+`, null, null,
		 `+ts("2026-04-10")+`, null, '{"items":{"data":[{"quantity":10,"price":{"unit_amount_decimal":"1250","recurring":{"interval":"month","interval_count":1,"usage_type":"licensed"}}},{"quantity":2,"price":{"unit_amount_decimal":"120000","recurring":{"interval":"year","interval_count":1,"usage_type":"licensed"}}},{"quantity":null,"price":{"unit_amount_decimal":"5","recurring":{"interval":"month","interval_count":1,"usage_type":"metered"}}}]}}'),
		-- a quarterly JPY price, API 2024: the period end is on the subscription
		('sub_jpy', 'cus_B', 'trialing', 'jpy', null, 'team_quarterly', 'prod_team', 'month', 3, 30000.0, 3, `+ts("2026-02-01")+`, null, null,
		 null, `+ts("2026-05-01")+`, '{"items":{"data":[{"quantity":3,"price":{"unit_amount_decimal":"30000","recurring":{"interval":"month","interval_count":3}}}]}}'),
		-- canceled after as_of: still active at as_of
		('sub_late', 'cus_B', 'canceled', 'usd', 'core', null, 'prod_core', 'month', 1, 1000.0, 1, `+ts("2025-06-01")+`, `+ts("2026-03-20")+`, `+ts("2026-04-01")+`,
		 `+ts("2026-04-01")+`, null, '{"items":{"data":[{"quantity":1,"price":{"unit_amount_decimal":"1000","recurring":{"interval":"month","interval_count":1}}}]}}'),
		-- the first payment failed: never started
		('sub_incomplete', 'cus_A', 'incomplete_expired', 'usd', 'core', null, 'prod_core', 'month', 1, 1000.0, 1, `+ts("2026-01-01")+`, null, null,
		 `+ts("2026-02-01")+`, null, '{"items":{"data":[]}}')
		) t(id, customer, status, currency, plan, price_lookup_key, product, billing_interval, interval_count, unit_amount_decimal,
		    quantity, start_date, canceled_at, ended_at, current_period_end, legacy_current_period_end, _raw),
		(select now()::timestamptz as _extracted_at)`)
	// No invoice yet: seats and MRR are the subscription object's (the snapshot is of as_of).
	vendortest.Exec(t, sess, `create or replace view raw_stripe__invoices as select * from (values
		('in_none', 'cus_A', null::varchar, null::varchar, 'draft', 'usd', 0::bigint, now()::timestamptz, null::timestamptz, null::timestamptz,
		 null::timestamptz, null::timestamptz, null::timestamptz, '{}', now()::timestamptz)) t(id, customer, subscription, legacy_subscription,
		 status, currency, total, created, finalized_at, paid_at, voided_at, period_start, period_end, _raw, _extracted_at)`)
	rows, err := sess.Query(ctx, "select * from ("+vendortest.StagingModel(t, "stripe/stg_subscriptions")+") order by subscription_id")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		// 10 x 12.50 + 2 x 1200.00 / 12 = 325 USD; the metered item is left out.
		"sub_multi": "subscription_id=sub_multi account_id=acc_1 plan=core billing_interval=month mrr=325 currency_original=USD seats=10 seat_limit=<nil> status=active",
		// 3 x 30000 JPY a quarter = 30000 JPY a month; JPY has no minor unit; no rate: NULL.
		"sub_jpy":  "subscription_id=sub_jpy account_id=acc_2 plan=team_quarterly billing_interval=<nil> mrr=<nil> currency_original=JPY seats=3 seat_limit=<nil> status=active",
		"sub_late": "subscription_id=sub_late account_id=acc_2 plan=core billing_interval=month mrr=10 currency_original=USD seats=1 seat_limit=<nil> status=active",
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %v", len(rows), len(want), rows)
	}
	for _, r := range rows {
		id := r.Get("subscription_id").(string)
		if got := r.String(); !strings.HasPrefix(got, want[id]) {
			t.Errorf("%s:\n got  %s\n want %s...", id, got, want[id])
		}
		if r.Get("canceled_at") != nil || r.Get("current_period_end") == nil {
			t.Errorf("%s: canceled_at %v, current_period_end %v", id, r.Get("canceled_at"), r.Get("current_period_end"))
		}
	}

	vendortest.Exec(t, sess, `create or replace view raw_stripe__invoices as select * from (values
		-- a renewal with a proration line first: the service period is the subscription line's
		('in_pro', 'cus_A', 'sub_multi', null, 'paid', 'usd', 15000, `+ts("2026-03-01")+`, `+ts("2026-03-01 01:00:00")+`, `+ts("2026-03-02")+`, null,
		 `+ts("2026-02-15")+`, `+ts("2026-03-01")+`,
		 '{"lines":{"data":[{"period":{"start":1771113600,"end":1772323200},"parent":{"subscription_item_details":{"proration":true}}},{"period":{"start":1772323200,"end":1775001600},"quantity":8,"amount":20000,"discount_amounts":[{"amount":2000}],"parent":{"subscription_item_details":{"proration":false,"subscription":"sub_multi"}}}]}}'),
		-- API 2024: subscription at the top; a JPY total has no minor unit; paid after as_of
		('in_old', 'cus_B', null, 'sub_jpy', 'paid', 'jpy', 90000, `+ts("2026-02-01")+`, `+ts("2026-02-01")+`, `+ts("2026-04-02")+`, null,
		 `+ts("2026-02-01")+`, `+ts("2026-05-01")+`, '{"lines":{"data":[{"period":{"start":1769904000,"end":1777593600},"proration":false}]}}'),
		-- a draft is not issued
		('in_draft', 'cus_A', 'sub_multi', null, 'draft', 'usd', 100, `+ts("2026-03-05")+`, null, null, null,
		 `+ts("2026-03-05")+`, `+ts("2026-04-05")+`, '{"lines":{"data":[]}}'),
		-- voided before as_of
		('in_void', 'cus_A', 'sub_multi', null, 'void', 'usd', 100, `+ts("2026-03-05")+`, `+ts("2026-03-05")+`, null, `+ts("2026-03-06")+`,
		 `+ts("2026-03-05")+`, `+ts("2026-04-05")+`, '{"lines":{"data":[]}}')
		) t(id, customer, subscription, legacy_subscription, status, currency, total, created, finalized_at, paid_at, voided_at,
		    period_start, period_end, _raw),
		(select now()::timestamptz as _extracted_at)`)
	rows, err = sess.Query(ctx, "select invoice_id, account_id, subscription_id, amount_original, currency_original, strftime(period_start, '%Y-%m-%d') as ps, strftime(period_end, '%Y-%m-%d') as pe, paid_at is not null as paid, status from ("+vendortest.StagingModel(t, "stripe/stg_invoices")+") order by invoice_id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.String())
	}
	wantInv := []string{
		"invoice_id=in_old account_id=acc_2 subscription_id=sub_jpy amount_original=90000 currency_original=JPY ps=2026-02-01 pe=2026-05-01 paid=false status=open",
		"invoice_id=in_pro account_id=acc_1 subscription_id=sub_multi amount_original=150 currency_original=USD ps=2026-03-01 pe=2026-04-01 paid=true status=paid",
		"invoice_id=in_void account_id=acc_1 subscription_id=sub_multi amount_original=1 currency_original=USD ps=2026-03-05 pe=2026-04-05 paid=false status=void",
	}
	if strings.Join(got, "\n") != strings.Join(wantInv, "\n") {
		t.Errorf("invoices:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantInv, "\n"))
	}

	// in_pro bills sub_multi's period holding as_of (2026-03-01 to 04-01) for 8 seats, 200.00
	// less a 20.00 discount: seats and MRR at as_of are the invoice's, not the object's 10 and
	// 325. sub_jpy's in_old line names no subscription (nor a parent item), so it bills no
	// subscription line: the object's 3 seats stand, the snapshot being of as_of, and its MRR
	// stays NULL in USD without a JPY rate.
	rows, err = sess.Query(ctx, "select subscription_id, seats, mrr from ("+vendortest.StagingModel(t, "stripe/stg_subscriptions")+") order by subscription_id")
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, r := range rows {
		got = append(got, r.String())
	}
	wantSubs := []string{
		"subscription_id=sub_jpy seats=3 mrr=<nil>",
		"subscription_id=sub_late seats=1 mrr=10",
		"subscription_id=sub_multi seats=8 mrr=180",
	}
	if strings.Join(got, "\n") != strings.Join(wantSubs, "\n") {
		t.Errorf("subscriptions billed at as_of:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantSubs, "\n"))
	}
}
