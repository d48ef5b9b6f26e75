package stripe_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/stripe"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/warehouse"
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
	vendortest.Exec(t, sess, `create or replace view raw_stripe__subscriptions as select *, null::timestamptz as trial_start, null::timestamptz as trial_end from (values
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

// TestStagingTrialsDiscountsAndDeletedCustomers runs the Stripe staging models as of
// 2026-03-31 on hand-written raw rows for what Stripe bills when no invoice covers as_of (the
// subscription object is then the only record): free trials, percent and fixed coupons on
// the subscription or an item, once and ended coupons, discounts left as ids, quarterly and
// yearly cycles; and for a deleted customer, whose subscriptions and invoices Stripe keeps
// listing without the customer. Figures in cents, worked out beside each row.
func TestStagingTrialsDiscountsAndDeletedCustomers(t *testing.T) {
	sess := vendortest.OpenSession(t)
	cfg := vendortest.ReadConfig(t, exampleFile, "http://127.0.0.1:1")
	vendortest.Bind(t, sess, cfg, time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC))
	vendortest.Exec(t, sess, `create or replace view raw_stripe__customers as select * from (values
		('cus_A', 'acc_1'), ('cus_B', 'acc_2'), ('cus_C', '')) t(id, crm_account_id),
		(select now()::timestamptz as _extracted_at, '{}' as _raw)`)
	// 1774000000 is 2026-03-20, 1772323200 2026-03-01, 1780272000 2026-06-01, 1767225600 2026-01-01.
	item := func(qty int, unit, interval string, count int, discounts string) string {
		return fmt.Sprintf(`{"quantity":%d,"discounts":%s,"price":{"unit_amount_decimal":"%s","recurring":{"interval":"%s","interval_count":%d,"usage_type":"licensed"}}}`,
			qty, discounts, unit, interval, count)
	}
	sub := func(id, customer, start, trialStart, trialEnd, discounts string, items ...string) string {
		return fmt.Sprintf(`(%s, %s, 'active', 'usd', 'core', null, 'prod_core', 'month', 1, 0.0, 1, %s, %s, %s, null, null, '2026-04-30'::timestamptz, null,
			'{"discounts":%s,"items":{"data":[%s]}}')`, sqlText(id), sqlText(customer), start, trialStart, trialEnd, discounts, strings.Join(items, ","))
	}
	const (
		start    = "'2025-06-01'::timestamptz"
		none     = "null::timestamptz"
		pct20    = `[{"id":"di_1","object":"discount","start":1767225600,"end":null,"coupon":{"id":"co_20","percent_off":20,"amount_off":null,"currency":null,"duration":"forever"}}]`
		off25    = `[{"id":"di_2","object":"discount","start":1767225600,"end":1780272000,"coupon":{"id":"co_25","percent_off":null,"amount_off":2500,"currency":"usd","duration":"repeating","duration_in_months":5}}]`
		pct10    = `[{"id":"di_3","object":"discount","start":1767225600,"end":null,"coupon":{"id":"co_10","percent_off":10,"duration":"forever"}}]`
		once50   = `[{"id":"di_4","object":"discount","start":1774000000,"end":null,"coupon":{"id":"co_once","percent_off":50,"duration":"once"}}]`
		ended50  = `[{"id":"di_5","object":"discount","start":1767225600,"end":1772323200,"coupon":{"id":"co_50","percent_off":50,"duration":"repeating"}}]`
		clover50 = `[{"id":"di_6","object":"discount","start":1767225600,"end":null,"source":{"type":"coupon","coupon":{"id":"co_50f","percent_off":50,"duration":"forever"}}}]`
		cloverID = `[{"id":"di_7","object":"discount","start":1767225600,"end":null,"source":{"type":"coupon","coupon":"co_50f"}}]`
		ids      = `["di_8"]`
	)
	rows := []string{
		// 3 seats x 261.00 = 783.00 a month, on a trial from 20 March to 3 April: bills 0, trialing.
		sub("sub_trial", "cus_A", start, "'2026-03-20'::timestamptz", "'2026-04-03'::timestamptz", "[]", item(3, "26100", "month", 1, "[]")),
		// A trial that ended in February: the full 50.00.
		sub("sub_trial_over", "cus_A", start, "'2026-01-01'::timestamptz", "'2026-02-01'::timestamptz", "[]", item(1, "5000", "month", 1, "[]")),
		// 1,192.74 less 20% forever: Stripe bills round(119274 x 0.8) = 95419 cents = 954.19.
		sub("sub_pct", "cus_A", start, none, none, pct20, item(1, "119274", "month", 1, "[]")),
		// 2 x 50.00 less 25.00 a month, until June: 75.00.
		sub("sub_off", "cus_B", start, none, none, off25, item(2, "5000", "month", 1, "[]")),
		// An item of 4 x 300.00 a year less its own 10%: 1,080.00 a year = 90.00 a month.
		sub("sub_year", "cus_B", start, none, none, "[]", item(4, "30000", "year", 1, pct10)),
		// 450.00 every 3 months: 150.00 a month.
		sub("sub_quarter", "cus_B", start, none, none, "[]", item(1, "45000", "month", 3, "[]")),
		// A once coupon discounts one invoice, not the MRR: 100.00; an ended one neither: 100.00.
		sub("sub_once", "cus_B", start, none, none, once50, item(1, "10000", "month", 1, "[]")),
		sub("sub_ended", "cus_B", start, none, none, ended50, item(1, "10000", "month", 1, "[]")),
		// API 2025-09-30.clover: the coupon under source, expanded: 50.00; left as an id: unknown.
		sub("sub_clover", "cus_B", start, none, none, clover50, item(1, "10000", "month", 1, "[]")),
		sub("sub_clover_id", "cus_B", start, none, none, cloverID, item(1, "10000", "month", 1, "[]")),
		// Discounts not expanded (ids only): what Stripe bills is unknown, so is the MRR.
		sub("sub_ids", "cus_B", start, none, none, ids, item(1, "10000", "month", 1, "[]")),
		// A customer listed with a blank crm_account_id: kept, account unknown (NULL, not '').
		sub("sub_blank", "cus_C", start, none, none, "[]", item(1, "1000", "month", 1, "[]")),
		// A deleted customer: Stripe lists the subscription, not the customer: left out, counted.
		sub("sub_gone", "cus_deleted", start, none, none, "[]", item(1, "1000", "month", 1, "[]")),
		// No start_date: left out, counted.
		sub("sub_nostart", "cus_A", "null::timestamptz", none, none, "[]", item(1, "1000", "month", 1, "[]")),
	}
	vendortest.Exec(t, sess, `create or replace view raw_stripe__subscriptions as select * from (values `+strings.Join(rows, ",\n")+`
		) t(id, customer, status, currency, plan, price_lookup_key, product, billing_interval, interval_count, unit_amount_decimal,
		    quantity, start_date, trial_start, trial_end, canceled_at, ended_at, current_period_end, legacy_current_period_end, _raw),
		(select now()::timestamptz as _extracted_at)`)
	vendortest.Exec(t, sess, `create or replace view raw_stripe__invoices as select * from (values
		-- the $0 invoice Stripe issues when sub_trial's trial starts: kept, amount 0
		('in_trial', 'cus_A', 'sub_trial', null, 'paid', 'usd', 0::bigint, '2026-03-20'::timestamptz, '2026-03-20'::timestamptz, '2026-03-20'::timestamptz, null::timestamptz,
		 '2026-03-20'::timestamptz, '2026-04-03'::timestamptz, '{"lines":{"data":[{"period":{"start":1774000000,"end":1775174400},"quantity":3,"amount":0}]}}'),
		-- two invoices of the deleted customer: left out, counted
		('in_gone1', 'cus_deleted', 'sub_gone', null, 'paid', 'usd', 1000, '2026-01-01'::timestamptz, '2026-01-01'::timestamptz, '2026-01-02'::timestamptz, null,
		 '2026-01-01'::timestamptz, '2026-02-01'::timestamptz, '{"lines":{"data":[]}}'),
		('in_gone2', 'cus_deleted', 'sub_gone', null, 'paid', 'usd', 1000, '2026-02-01'::timestamptz, '2026-02-01'::timestamptz, '2026-02-02'::timestamptz, null,
		 '2026-02-01'::timestamptz, '2026-03-01'::timestamptz, '{"lines":{"data":[]}}')
		) t(id, customer, subscription, legacy_subscription, status, currency, total, created, finalized_at, paid_at, voided_at,
		    period_start, period_end, _raw),
		(select now()::timestamptz as _extracted_at)`)

	vendortest.Build(t, sess, "stg_subscriptions", "staging/stripe/stg_subscriptions.sql")
	got := map[string]string{}
	for _, r := range vendortest.Query(t, sess, "select subscription_id, account_id, status, mrr from stg_subscriptions") {
		got[r.Get("subscription_id").(string)] = fmt.Sprintf("%v %v %v", r.Get("account_id"), r.Get("status"), r.Get("mrr"))
	}
	want := map[string]string{
		"sub_trial": "acc_1 trialing 0", "sub_trial_over": "acc_1 active 50", "sub_pct": "acc_1 active 954.19",
		"sub_off": "acc_2 active 75", "sub_year": "acc_2 active 90", "sub_quarter": "acc_2 active 150",
		"sub_once": "acc_2 active 100", "sub_ended": "acc_2 active 100",
		"sub_clover": "acc_2 active 50", "sub_clover_id": "acc_2 active <nil>", "sub_ids": "acc_2 active <nil>",
		"sub_blank": "<nil> active 10",
	}
	if len(got) != len(want) {
		t.Errorf("%d subscriptions staged, want %d: %v", len(got), len(want), got)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: account, status, mrr = %s, want %s", id, got[id], w)
		}
	}
	drops := vendortest.Query(t, sess, "select table_name, reason, dropped, candidates from staging_drops order by all")
	wantDrops := []string{
		"table_name=stg_subscriptions reason=deleted upstream: the Stripe customer is deleted (Stripe still lists its objects, not the customer) dropped=1 candidates=14",
		"table_name=stg_subscriptions reason=start_date is missing dropped=1 candidates=14",
	}
	checkDrops := func(want []string) {
		t.Helper()
		var lines []string
		for _, r := range drops {
			lines = append(lines, r.String())
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Errorf("staging_drops:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
	}
	checkDrops(wantDrops)

	vendortest.Build(t, sess, "stg_invoices", "staging/stripe/stg_invoices.sql")
	inv := vendortest.Query(t, sess, "select invoice_id, account_id, amount, status from stg_invoices")
	if len(inv) != 1 || inv[0].String() != "invoice_id=in_trial account_id=acc_1 amount=0 status=paid" {
		t.Errorf("stg_invoices = %v, want only the $0 trial invoice", inv)
	}
	drops = vendortest.Query(t, sess, "select table_name, reason, dropped, candidates from staging_drops order by all")
	checkDrops(append([]string{"table_name=stg_invoices reason=deleted upstream: the Stripe customer is deleted (Stripe still lists its objects, not the customer) dropped=2 candidates=3"}, wantDrops...))
	// Deleted-upstream rows never trip the staging-drop bound (2 of 3 invoices is 67%); the
	// missing start_date (1 of 14, 7%) does.
	rowsOver := vendortest.Query(t, sess, vendortest.ModelSQL(t, "tests/assert_staging_drops.sql"))
	if len(rowsOver) != 1 || rowsOver[0].Get("reason") != "start_date is missing" {
		t.Errorf("assert_staging_drops rows %v, want only the missing start_date", rowsOver)
	}
}

// sqlText quotes s as a SQL string literal.
func sqlText(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestTrialsAndDeletedCustomersEndToEnd lands the example config from a fake Stripe that
// holds free trials and deleted customers as the real API does, builds every model and runs
// every assertion (none may fail), and checks against the raw objects: accounts on a trial
// are trialing while it runs and prospects after it ended unpaid, never churned customers;
// the deleted customers' invoices are left out and counted, all of them, without stopping the
// run; every other account's status and MRR are those of the same company without trials or
// deletions.
func TestTrialsAndDeletedCustomersEndToEnd(t *testing.T) {
	c := demo.Generate(demo.Options{Accounts: 600})
	asOf := c.AsOf()
	dt := asOf.Format(time.DateOnly)
	build := func(opts stripe.Options) (*warehouse.Session, []warehouse.ModelRun) {
		srv, _ := serve(t, c, opts)
		cfg := vendortest.ReadConfig(t, exampleFile, srv.URL)
		sess := vendortest.OpenSession(t)
		landed := vendortest.LandAll(t, sess, vendortest.NewStore(t), cfg, dt)
		return sess, vendortest.BuildAll(t, sess, cfg, asOf, landed)
	}
	plain, _ := build(stripe.Options{})
	sess, runs := build(stripe.Options{Trials: 6, DeletedCustomers: 3})

	trials := vendortest.Query(t, sess, `select c.crm_account_id as account_id, s.trial_end::date > ? as running
		from raw_stripe__subscriptions s join raw_stripe__customers c on c.id = s.customer
		where s.id like 'sub_trial%' order by 1`, asOf)
	if len(trials) != 6 {
		t.Fatalf("%d trial subscriptions landed, want 6", len(trials))
	}
	segments := map[string]warehouse.Row{}
	for _, r := range vendortest.Query(t, sess, "select account_id, customer_status, mrr, ltv, ltv_quintile, churned_at from account_segments") {
		segments[r.Get("account_id").(string)] = r
	}
	running := 0
	trialAccounts := map[string]bool{}
	for _, tr := range trials {
		id := tr.Get("account_id").(string)
		trialAccounts[id] = true
		want := "prospect"
		if tr.Get("running") == true {
			want = "trialing"
			running++
		}
		r := segments[id]
		if r.Get("customer_status") != want || r.Float("mrr") != 0 || r.Get("ltv") != nil || r.Get("ltv_quintile") != nil || r.Get("churned_at") != nil {
			t.Errorf("trial account %s: %v, want %s with MRR 0 and no LTV, quintile or churn date", id, r, want)
		}
	}
	if running != 3 {
		t.Errorf("%d trials running at as_of, want 3", running)
	}
	if n := vendortest.Count(t, sess, "select * from stg_subscriptions where status = 'trialing' and mrr = 0"); n != 3 {
		t.Errorf("%d trialing subscriptions at MRR 0, want 3", n)
	}

	// The deleted customers' invoices, from the raw objects: every issued one is left out.
	gone := vendortest.Query(t, sess, `select count(distinct customer) as customers, count(*) as invoices
		from raw_stripe__invoices
		where customer not in (select id from raw_stripe__customers)
		  and status <> 'draft' and coalesce(finalized_at, created)::timestamp < cutoff()`)[0]
	if gone.Get("customers") != int64(3) || gone.Get("invoices").(int64) == 0 {
		t.Fatalf("deleted customers in the raw invoices: %v, want 3 with invoices", gone)
	}
	var droppedInvoices int64
	for _, r := range runs {
		for _, d := range r.Drops {
			if r.Name == "stg_invoices" && strings.HasPrefix(d.Reason, "deleted upstream") {
				droppedInvoices += d.Rows
			}
		}
	}
	if droppedInvoices != gone.Get("invoices").(int64) {
		t.Errorf("%d invoices of deleted customers counted as left out, want %v", droppedInvoices, gone.Get("invoices"))
	}
	// The deleted customers' accounts: listed without deletions, not with them.
	deletedAccounts := map[string]bool{}
	for _, r := range vendortest.Query(t, plain, `select crm_account_id from raw_stripe__customers order by id limit 3`) {
		deletedAccounts[r.Get("crm_account_id").(string)] = true
	}
	if n := vendortest.Count(t, sess, "select * from raw_stripe__customers where crm_account_id in (?, ?, ?)", keys(deletedAccounts)...); n != 0 || len(deletedAccounts) != 3 {
		t.Fatalf("deleted accounts %v: %d still listed", deletedAccounts, n)
	}
	// Every other account: the same status and MRR as without trials and deletions.
	compared := 0
	for _, r := range vendortest.Query(t, plain, "select account_id, customer_status, mrr from account_segments") {
		id := r.Get("account_id").(string)
		g := segments[id]
		if deletedAccounts[id] {
			// Its invoices are left out: it was a customer, it is not one now.
			if r.Get("customer_status") == "prospect" || g.Get("customer_status") != "prospect" {
				t.Errorf("deleted customer's account %s: %v without deletions, %v with", id, r.Get("customer_status"), g.Get("customer_status"))
			}
			continue
		}
		if trialAccounts[id] {
			continue
		}
		compared++
		if g.Get("customer_status") != r.Get("customer_status") || g.Float("mrr") != r.Float("mrr") {
			t.Errorf("account %s: %v %v with trials and deletions, %v %v without", id, g.Get("customer_status"), g.Get("mrr"), r.Get("customer_status"), r.Get("mrr"))
		}
	}
	if compared < 500 {
		t.Errorf("only %d accounts compared", compared)
	}
}

// keys returns the keys of m as arguments, sorted.
func keys(m map[string]bool) []any {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	out := make([]any, len(ks))
	for i, k := range ks {
		out[i] = k
	}
	return out
}

// TestDiscountedSubscriptions lands a fake Stripe where 30 monthly subscriptions carry a 20%
// coupon forever (their invoices discounted line by line, as Stripe bills) and checks the
// subscription MRR at as_of: from the invoice covering as_of it is the undiscounted MRR of the
// same company without coupons less 20% rounded to the cent; read from the subscription
// object alone (no invoice landed) it is the same figure, since the preset expands the
// discounts; and without that expansion the object's discounts are ids, so its MRR is
// unknown (NULL), never the list price.
func TestDiscountedSubscriptions(t *testing.T) {
	c := demo.Generate(demo.Options{Accounts: 400})
	asOf := c.AsOf()
	stage := func(opts stripe.Options, mutate func(*config.Config), dropInvoices bool) map[string]warehouse.Row {
		srv, _ := serve(t, c, opts)
		cfg := vendortest.ReadConfig(t, exampleFile, srv.URL)
		if mutate != nil {
			mutate(cfg)
		}
		store := vendortest.NewStore(t)
		sess := vendortest.OpenSession(t)
		vendortest.RegisterSource(t, sess, store, "stripe", vendortest.LandSource(t, store, cfg, "billing", asOf.Format(time.DateOnly), extract.Options{}))
		if dropInvoices {
			vendortest.ReplaceRaw(t, sess, "raw_stripe__invoices", "select * from raw_stripe__invoices where false")
		}
		vendortest.Bind(t, sess, cfg, asOf)
		vendortest.Build(t, sess, "stg_subscriptions", "staging/stripe/stg_subscriptions.sql")
		out := map[string]warehouse.Row{}
		for _, r := range vendortest.Query(t, sess, `select s.subscription_id, s.mrr, s.currency_original, s.status,
				json_array_length(json_extract(r._raw, '$.discounts')) as discounts,
				json_type(json_extract(r._raw, '$.discounts[0]')) as discount_type
			from stg_subscriptions s join raw_stripe__subscriptions r on r.id = s.subscription_id`) {
			out[r.Get("subscription_id").(string)] = r
		}
		return out
	}
	plain := stage(stripe.Options{}, nil, false)
	billed := stage(stripe.Options{Discounts: 30}, nil, false)
	object := stage(stripe.Options{Discounts: 30}, nil, true)
	unexpanded := stage(stripe.Options{Discounts: 30}, func(cfg *config.Config) {
		cfg.Sources["billing"].Entities["subscriptions"].Params = map[string]string{"status": "all"}
	}, true)

	discounted, checked := 0, 0
	for id, b := range billed {
		if b.Get("discounts") == uint64(0) || b.Get("discounts") == int64(0) {
			if !b.Equal(plain[id], 0) {
				t.Errorf("%s has no discount, yet its row differs: %v, without coupons %v", id, b, plain[id])
			}
			continue
		}
		discounted++
		if b.Get("discount_type") != "OBJECT" {
			t.Errorf("%s: the preset's expand left its discount as %v", id, b.Get("discount_type"))
		}
		if u := unexpanded[id]; u.Get("discount_type") != "VARCHAR" || u.Get("mrr") != nil {
			t.Errorf("%s without expand: discount %v, mrr %v; want an id and an unknown (NULL) MRR", id, u.Get("discount_type"), u.Get("mrr"))
		}
		p := plain[id]
		if b.Get("status") != "active" || p.Get("mrr") == nil || b.Get("currency_original") != "USD" {
			continue
		}
		cents := math.Round(p.Float("mrr") * 100)
		want := (cents - math.Round(cents*0.2)) / 100
		if got := b.Float("mrr"); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: billed MRR %v, want %v (%v less 20%%)", id, got, want, p.Float("mrr"))
		}
		if got := object[id].Float("mrr"); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: MRR from the subscription object %v, want %v as billed", id, got, want)
		}
		checked++
	}
	t.Logf("%d discounted subscriptions, %d active in USD checked against the plain company", discounted, checked)
	if discounted != 30 || checked < 10 {
		t.Errorf("%d discounted subscriptions (want 30), %d active in USD checked (want at least 10)", discounted, checked)
	}
}
