package warehouse

import "testing"

// cohortKey is the lookup key of a cohort_retention row in these tests.
const cohortKey = `cohort_grain || ' ' || strftime(cohort, '%Y-%m') || ' ' || dimension || ' ' || segment || ' ' || months_since_start`

func TestCohortRetention(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", nil)
	rows := rowsBy(t, s, `select `+cohortKey+` as k, * from cohort_retention`)
	// Hand-computed from internal/warehouse/testdata/basic_raw.sql as of 2025-06-30 (last complete month June).
	// Monthly MRR (int_account_mrr_monthly) and segments (int_accounts):
	//   A1 SMB Retail:          Jan-Apr 1,000, May 0, Jun 0                (churning)
	//   A2 Mid-market FinTech:  Jul 2024-Jun 2025 1,080                    (steady)
	//   A3 Enterprise FinTech:  Jan-Mar 10,000, Apr-Jun 12,000             (expanding)
	//   A4 Mid-market Retail:   Mar 3,000, Apr 0, May 0, Jun 2,000         (churning, reactivating)
	// A5 and A6 never paid: in no cohort.
	//
	// Month cohorts: 2024-07 {A2} k 0..11; 2025-01 {A1, A3} k 0..5; 2025-03 {A4} k 0..3.
	//   2025-01 all: starting 11,000.
	//     k3 (Apr): mrr 1,000 + 12,000 = 13,000, nrr 13/11; gross min(1,000,1,000) + min(12,000,10,000)
	//        = 11,000 -> 1; cumulative (11,000 x 3 + 13,000) / 2 = 23,000.
	//     k4 (May): A1 churned: active 1, logo 0.5, mrr 12,000, nrr 12/11, gross 10,000/11,000;
	//        cumulative (46,000 + 12,000) / 2 = 29,000.  k5: cumulative 35,000.
	//   2025-03 all {A4}: k1 mrr 0, logo 0, nrr 0, gross 0; k3 (Jun) mrr 2,000, logo 1 (reactivated),
	//     nrr = gross = 2/3; cumulative 3,000 + 0 + 0 + 2,000 = 5,000.
	//   2024-07 all {A2}: k11 cumulative 12 x 1,080 = 12,960.
	// Quarter cohorts: offsets count from each customer's own first month; a cohort stops at the
	// last offset complete for all its members. 2025-Q1 {A1 Jan, A3 Jan, A4 Mar}: k 0..3 (A4's k3 is June).
	//   k0: 1,000 + 10,000 + 3,000 = 14,000 (starting), active 3, cumulative 14,000 / 3.
	//   k1: 1,000 + 10,000 + 0 = 11,000, active 2, logo 2/3, nrr = gross = 11/14.
	//   k3: A1 Apr 1,000 + A3 Apr 12,000 + A4 Jun 2,000 = 15,000, active 3, logo 1, nrr 15/14,
	//       gross (1,000 + 10,000 + 2,000) / 14,000 = 13/14; cumulative (14 + 11 + 11 + 15)k / 3 = 17,000.
	//   Split by size_band: SMB {A1} k 0..5, Mid-market {A4} k 0..3, Enterprise {A3} k 0..5.
	//   Split by industry: Retail {A1, A4} k 0..3, k3 mrr 1,000 + 2,000 of 4,000 -> nrr = gross = 0.75;
	//     cumulative (4,000 + 1,000 + 1,000 + 3,000) / 2 = 4,500.
	type want struct {
		customers, active, logo, starting, mrr, nrr, grr, cum float64
	}
	wants := map[string]want{
		"month 2025-01 all All 0":           {2, 2, 1, 11000, 11000, 1, 1, 5500},
		"month 2025-01 all All 3":           {2, 2, 1, 11000, 13000, 13.0 / 11, 1, 23000},
		"month 2025-01 all All 4":           {2, 1, 0.5, 11000, 12000, 12.0 / 11, 10.0 / 11, 29000},
		"month 2025-01 all All 5":           {2, 1, 0.5, 11000, 12000, 12.0 / 11, 10.0 / 11, 35000},
		"month 2025-03 all All 1":           {1, 0, 0, 3000, 0, 0, 0, 3000},
		"month 2025-03 all All 3":           {1, 1, 1, 3000, 2000, 2.0 / 3, 2.0 / 3, 5000},
		"month 2024-07 all All 11":          {1, 1, 1, 1080, 1080, 1, 1, 12960},
		"month 2025-01 size_band SMB 4":     {1, 0, 0, 1000, 0, 0, 0, 4000},
		"month 2025-01 industry FinTech 3":  {1, 1, 1, 10000, 12000, 1.2, 1, 42000},
		"quarter 2025-01 all All 0":         {3, 3, 1, 14000, 14000, 1, 1, 14000.0 / 3},
		"quarter 2025-01 all All 1":         {3, 2, 2.0 / 3, 14000, 11000, 11.0 / 14, 11.0 / 14, 25000.0 / 3},
		"quarter 2025-01 all All 3":         {3, 3, 1, 14000, 15000, 15.0 / 14, 13.0 / 14, 17000},
		"quarter 2025-01 size_band SMB 5":   {1, 0, 0, 1000, 0, 0, 0, 4000},
		"quarter 2025-01 industry Retail 3": {2, 2, 1, 4000, 3000, 0.75, 0.75, 4500},
		"quarter 2024-07 all All 11":        {1, 1, 1, 1080, 1080, 1, 1, 12960},
	}
	for key, w := range wants {
		r, ok := rows[key]
		if !ok {
			t.Errorf("no row %q", key)
			continue
		}
		for col, v := range map[string]float64{
			"customers": w.customers, "active_customers": w.active, "logo_retention": w.logo,
			"starting_mrr": w.starting, "mrr": w.mrr, "net_revenue_retention": w.nrr,
			"gross_revenue_retention": w.grr, "cumulative_revenue_per_customer": w.cum,
		} {
			near(t, key+" "+col, num(t, r, col), v)
		}
	}
	// Offsets stop at the last month complete for every member: no k4 for 2025-Q1 (A4's would be
	// July), none beyond k5 for the January cohort, none beyond k3 for the Retail split.
	for _, key := range []string{"quarter 2025-01 all All 4", "month 2025-01 all All 6", "quarter 2025-01 industry Retail 4", "month 2025-03 all All 4"} {
		if _, ok := rows[key]; ok {
			t.Errorf("row %q is past the last complete month", key)
		}
	}
	// Rows: month grain all 12+6+4, size_band 12+6+6+4, industry 12+6+6+4 = 78;
	// quarter grain all 12+4, size_band 12+6+4+6, industry 12+4+6 = 66.
	if len(rows) != 144 {
		t.Errorf("cohort_retention has %d rows, want 144", len(rows))
	}
}

func TestCohortRetentionMidMonth(t *testing.T) {
	// As of 15 May 2025 the last complete month is April: May is not shown for anyone.
	s := buildFixture(t, "basic", "2025-05-15", nil)
	rows := rowsBy(t, s, `select cohort_grain || ' ' || strftime(cohort, '%Y-%m') || ' ' || dimension || ' ' || segment as k,
		max(months_since_start) as max_k, max(cohort + to_months(months_since_start)) as last_month
		from cohort_retention group by all`)
	for key, maxK := range map[string]float64{
		"month 2025-01 all All":   3, // January to April
		"month 2025-03 all All":   1, // March to April
		"quarter 2025-01 all All": 1, // A4: March, April
		"month 2024-07 all All":   9, // July 2024 to April 2025
	} {
		r, ok := rows[key]
		if !ok {
			t.Errorf("no cohort %q", key)
			continue
		}
		near(t, key+" max months_since_start", num(t, r, "max_k"), maxK)
	}
	late := rowsBy(t, s, `select count(*) as n, 0 from cohort_retention
		where cohort_grain = 'month' and cohort + to_months(months_since_start) > date '2025-04-01'`)
	for n := range late {
		if n != "0" {
			t.Errorf("%s month-grain rows after April 2025", n)
		}
	}
}
