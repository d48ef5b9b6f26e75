package warehouse

import (
	"context"
	"fmt"
	"testing"
)

// trialInvoices adds to the basic fixture (as of 2025-06-30) invoices that must not make a
// customer (domain.md section 11, "Customer"):
//   - A5 (a prospect): a $0 trial invoice for 20 June to 4 July, holding as_of: trialing.
//   - A6 (a void invoice only): a $0 trial that ended on 15 April, and $500 billed on 25 June
//     in advance for July: it has paid for nothing by as_of, so it is still a prospect (not a
//     customer churned at the end of July).
//   - A4 (a customer since March): a $0 trial from 15 February to 1 March before it: its
//     customer_since stays 1 March and its MRR history starts in March.
//   - A2 (active, paid annually): a $0 invoice for June beside its annual one: still active.
const trialInvoices = `insert into raw_demo__invoices (id, customer_id, subscription_id, amount_cents, currency, period_start, period_end, issued_at, paid_at, status, _extracted_at) values
    ('t1', 'A5', 's7', 0, 'USD', '2025-06-20', '2025-07-04', '2025-06-20', '2025-06-20', 'paid', '2025-06-30'),
    ('t2', 'A6', 's8', 0, 'USD', '2025-04-01', '2025-04-15', '2025-04-01', '2025-04-01', 'paid', '2025-06-30'),
    ('t3', 'A6', 's8', 50000, 'USD', '2025-07-01', '2025-08-01', '2025-06-25', '2025-06-26', 'paid', '2025-06-30'),
    ('t4', 'A4', 's4', 0, 'USD', '2025-02-15', '2025-03-01', '2025-02-15', '2025-02-15', 'paid', '2025-06-30'),
    ('t5', 'A2', 's2', 0, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-01', 'paid', '2025-06-30');`

// TestTrialsAreNotCustomers builds the basic fixture with and without trialInvoices: every
// published mart must be the same, but for A5's customer_status, trialing instead of
// prospect (in account_segments and prospect_fit). Before the rule, A5 and A6 came out churned (MRR 0 after an invoice), with LTV
// quintiles and A6 churned_at after as_of.
func TestTrialsAreNotCustomers(t *testing.T) {
	base := buildFixture(t, "basic", "2025-06-30", nil)
	trials := buildFixtureWith(t, "basic", "2025-06-30", nil, trialInvoices)

	acc := rowsBy(t, trials, `select account_id, customer_status, customer_since, churned_at, ltv, ltv_quintile, acquisition_month, mrr from account_segments`)
	for id, want := range map[string]string{
		"A1": "churned", "A2": "active", "A3": "active", "A4": "active", "A5": "trialing", "A6": "prospect",
	} {
		if got := str(acc[id], "customer_status"); got != want {
			t.Errorf("%s customer_status = %s, want %s", id, got, want)
		}
	}
	for _, id := range []string{"A5", "A6"} {
		for _, col := range []string{"customer_since", "churned_at", "ltv", "ltv_quintile", "acquisition_month"} {
			if v := acc[id].Get(col); v != nil {
				t.Errorf("%s %s = %v, want NULL: it has paid for nothing by as_of", id, col, v)
			}
		}
	}
	if got := fmt.Sprint(acc["A4"].Get("customer_since")); got[:10] != "2025-03-01" {
		t.Errorf("A4 customer_since = %s, want 2025-03-01 (the first paid period, not the trial)", got)
	}
	if r := rowsBy(t, trials, `select account_id || ' ' || strftime(month, '%Y-%m') as k from int_account_mrr_monthly where account_id = 'A4' and month < '2025-03-01'`); len(r) != 0 {
		t.Errorf("A4 has MRR months before its first paid one: %v", r)
	}
	if n := rowsBy(t, trials, `select 'x' as k, count(*) filter (where customer_status = 'trialing') as trialing from account_segments`)["x"]; num(t, n, "trialing") != 1 {
		t.Errorf("%v trialing accounts, want 1 (A5)", n.Get("trialing"))
	}

	for _, mart := range []string{"account_segments", "ltv_quintiles", "segment_metrics", "mrr_monthly", "mrr_movements", "cohort_retention", "tier_assignments", "prospect_fit"} {
		q := "select * from " + mart
		if mart == "account_segments" || mart == "prospect_fit" {
			q = "select * replace (case when account_id = 'A5' and customer_status = 'trialing' then 'prospect' else customer_status end as customer_status) from " + mart
		}
		q += " order by all"
		b, err := base.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		g, err := trials.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != len(g) {
			t.Errorf("%s: %d rows with the trial invoices, %d without", mart, len(g), len(b))
			continue
		}
		for i := range b {
			if !b[i].Equal(g[i], 1e-12) {
				t.Errorf("%s row %d differs with the trial invoices:\n without %s\n with    %s", mart, i, b[i], g[i])
			}
		}
	}
}
