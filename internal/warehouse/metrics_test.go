package warehouse

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	segsql "github.com/segpipe/segpipe/sql"
)

// The metrics fixture (internal/warehouse/testdata/metrics_raw.sql), as of 2025-06-30. Its header lists the
// accounts and their MRR. Shared facts used below:
//
//   - The trailing 12 complete months run from the end of June 2024 (start) to the end of June 2025.
//     Customers active at the start (MRR at 2024-06-30): M1 1,000; M2 500; M3 2,000; M4 4,000;
//     M5 10,000; M6 800. Their MRR at the end: M1 1,000; M2 0 (churned Nov 2024); M3 3,000
//     (expansion); M4 1,000 (contraction); M5 10,000; M6 600 (churned Sep 2024, back in Mar 2025).
//   - Not in that base: M7 (reactivated in Feb 2025 after churning before the start), M8, M10, M11
//     (new in the window) and M9 (started in Oct 2024 and churned in Dec 2024, inside the window).
//   - Deals and tickets: the trailing 12 months are [2024-07-01, 2025-07-01).
//   - Active customers at as_of and MRR: M1 1,000; M3 3,000; M4 1,000; M5 10,000; M6 600; M7 700;
//     M8 1,500; M10 300; M11 300.
const metricsAsOf = "2025-06-30"

func TestSegmentMetricsRetention(t *testing.T) {
	s := buildFixture(t, "metrics", metricsAsOf, nil)
	m := rowsBy(t, s, `select dimension || '/' || segment as k, * from segment_metrics`)

	// SMB base: M1 1,000 -> 1,000; M2 500 -> 0 (churn); M6 800 -> 600 (churned, came back).
	//   start = 1,000 + 500 + 800 = 2,300; end = 1,000 + 0 + 600 = 1,600;
	//   retained = min per customer = 1,000 + 0 + 600 = 1,600.
	//   GRR = 1,600 / 2,300 = 0.695652; NRR = 1,600 / 2,300 (no expansion in SMB).
	//   M7's reactivation (700) is excluded: counting it would give NRR = 2,300 / 2,300 = 1.
	//   Logo churn: M2 and M6 churned, of 3 -> 2/3. M9 (starts and churns inside) is in neither
	//   count: counting it would give 3/4.
	smb := m["size_band/SMB"]
	near(t, "SMB grr_12m", num(t, smb, "grr_12m"), 1600.0/2300)
	near(t, "SMB nrr_12m", num(t, smb, "nrr_12m"), 1600.0/2300)
	near(t, "SMB logo_churn_12m", num(t, smb, "logo_churn_12m"), 2.0/3)
	near(t, "SMB customers_at_start_12m", num(t, smb, "customers_at_start_12m"), 3)

	// Mid-market base: M3 2,000 -> 3,000 (expansion +1,000); M4 4,000 -> 1,000 (contraction -3,000).
	// M8 (new in Sep 2024, 1,500) is not in it.
	//   start 6,000; GRR = (6,000 - 0 churn - 3,000 contraction) / 6,000 = 0.5;
	//   NRR = (6,000 - 0 - 3,000 + 1,000) / 6,000 = 4,000 / 6,000 = 0.666667.
	mm := m["size_band/Mid-market"]
	near(t, "Mid-market grr_12m", num(t, mm, "grr_12m"), 0.5)
	near(t, "Mid-market nrr_12m", num(t, mm, "nrr_12m"), 4000.0/6000)
	near(t, "Mid-market logo_churn_12m", num(t, mm, "logo_churn_12m"), 0)

	// arr_band groups the base by its ARR band at the start (12 x start MRR): SMB (< 25,000) holds
	// M1 12,000, M2 6,000, M3 24,000, M6 9,600. start 4,300; retained 1,000 + 0 + 2,000 + 600 = 3,600;
	// end 1,000 + 0 + 3,000 + 600 = 4,600. GRR 3,600 / 4,300 = 0.837209 < NRR 4,600 / 4,300 = 1.069767.
	// Logo churn: M2, M6 of 4 = 0.5.
	ab := m["arr_band/SMB"]
	near(t, "arr_band SMB grr_12m", num(t, ab, "grr_12m"), 3600.0/4300)
	near(t, "arr_band SMB nrr_12m", num(t, ab, "nrr_12m"), 4600.0/4300)
	near(t, "arr_band SMB logo_churn_12m", num(t, ab, "logo_churn_12m"), 0.5)
	// arr_band rows hold active customers only, in their current band: SMB (ARR < 25,000) is
	// M1 12,000, M4 12,000, M6 7,200, M7 8,400, M8 18,000, M10 3,600, M11 3,600 = 7.
	near(t, "arr_band SMB customers", num(t, ab, "customers"), 7)
	near(t, "arr_band SMB accounts", num(t, ab, "accounts"), 7)
	near(t, "arr_band SMB logo_churn_monthly", num(t, ab, "logo_churn_monthly"), math.NaN())

	// Enterprise: M5 flat at 10,000: GRR = NRR = 1.
	near(t, "Enterprise grr_12m", num(t, m["size_band/Enterprise"], "grr_12m"), 1)
	near(t, "Enterprise nrr_12m", num(t, m["size_band/Enterprise"], "nrr_12m"), 1)
	// Region Unknown (M11, new in April 2025): nobody active at the start -> NULL rates.
	near(t, "Unknown region grr_12m", num(t, m["region/Unknown"], "grr_12m"), math.NaN())
	near(t, "Unknown region customers_at_start_12m", num(t, m["region/Unknown"], "customers_at_start_12m"), 0)
}

func TestSegmentMetricsPipelineSupportCAC(t *testing.T) {
	s := buildFixture(t, "metrics", metricsAsOf, nil)
	m := rowsBy(t, s, `select dimension || '/' || segment as k, * from segment_metrics`)

	// SMB deals closed in [2024-07-01, 2025-07-01): o2 won 4,000, o3 won 3,600, o5 won 6,000 (an
	// expansion: every motion counts), o4 lost 20,000. o10 closed after as_of: open, not counted.
	//   win_rate = 3 / 4 = 0.75; win_rate_amount = 13,600 / 33,600 = 0.404762.
	//   Cycles of the won: o2 2025-02-01 -> 03-15 = 42 days, o3 03-01 -> 03-31 = 30, o5 01-10 ->
	//   02-09 = 30: mean 102 / 3 = 34.
	smb := m["size_band/SMB"]
	near(t, "SMB win_rate", num(t, smb, "win_rate"), 0.75)
	near(t, "SMB win_rate_amount", num(t, smb, "win_rate_amount"), 13600.0/33600)
	near(t, "SMB avg_sales_cycle_days", num(t, smb, "avg_sales_cycle_days"), 34)
	// Conversion: SMB accounts with a new_business deal created in the window: M10 (o2), M11 (o3),
	// P1 (o4, lost), P2 (o6, open); active customers at as_of: M10, M11 -> 2 / 4 = 0.5.
	near(t, "SMB conversion_rate", num(t, smb, "conversion_rate"), 0.5)
	// Tickets created in the window by SMB active customers (M1, M6, M7, M10, M11 = 5): M1 t2, t3,
	// M6 t5, M10 t6 = 4. Left out: t1 (June 2024, before the window), t4 (M2 churned), t8 (after
	// as_of). 4 / 5 = 0.8.
	near(t, "SMB tickets_per_account", num(t, smb, "tickets_per_account"), 0.8)

	// Mid-market: o1 won 30,000 (61 days: 2024-07-01 -> 08-31), o7 won 12,000 (60 days: 11-01 ->
	// 12-31), o8 lost 48,000. win_rate 2/3; by amount 42,000 / 90,000; cycle (61 + 60) / 2 = 60.5.
	// o9 (M5, won 2023-12-01) is before the window: Enterprise has no closed deal -> NULL.
	mm := m["size_band/Mid-market"]
	near(t, "Mid-market win_rate", num(t, mm, "win_rate"), 2.0/3)
	near(t, "Mid-market win_rate_amount", num(t, mm, "win_rate_amount"), 42000.0/90000)
	near(t, "Mid-market avg_sales_cycle_days", num(t, mm, "avg_sales_cycle_days"), 60.5)
	near(t, "Mid-market conversion_rate", num(t, mm, "conversion_rate"), 1) // M8 (o1) is active
	near(t, "Enterprise win_rate", num(t, m["size_band/Enterprise"], "win_rate"), math.NaN())

	// Win rate by motion (§11: new business is the headline). SMB: new business o2, o3 won, o4
	// lost = 2/3 (win_rate's 0.75 counts o5, an expansion win); expansion o5 won = 1; no renewal
	// closed in the window (o10 closes after as_of) = NULL. Mid-market: new business o1 won = 1;
	// expansion o7 won = 1; renewal o8 lost = 0. Every deal has a motion: 0 unknown.
	for _, c := range []struct {
		seg        string
		nb, ex, rn float64
		won, lost  float64
	}{
		{"size_band/SMB", 2.0 / 3, 1, math.NaN(), 2, 1},
		{"size_band/Mid-market", 1, 1, 0, 1, 0},
		{"size_band/Enterprise", math.NaN(), math.NaN(), math.NaN(), 0, 0},
		// Region NA: o1 (M8), o2 (M10), o4 (P1) new business (2 won of 3); o5 (M1) expansion won;
		// o9 (M5) out of the window, o10 (M2) after as_of.
		{"region/NA", 2.0 / 3, 1, math.NaN(), 2, 1},
	} {
		r := m[c.seg]
		near(t, c.seg+" win_rate_new_business", num(t, r, "win_rate_new_business"), c.nb)
		near(t, c.seg+" win_rate_expansion", num(t, r, "win_rate_expansion"), c.ex)
		near(t, c.seg+" win_rate_renewal", num(t, r, "win_rate_renewal"), c.rn)
		near(t, c.seg+" new_business_won", num(t, r, "new_business_won"), c.won)
		near(t, c.seg+" new_business_lost", num(t, r, "new_business_lost"), c.lost)
		near(t, c.seg+" closed_deals_unknown_motion", num(t, r, "closed_deals_unknown_motion"), 0)
	}
	// arr_band is known only for active customers: its deal rates would count only the deals of
	// accounts that won (SMB's customers' deals, conversion 1.0 by construction), so they are
	// NULL with the reason; the dimensions known before a deal closes carry no note.
	ab := m["arr_band/SMB"]
	for _, rate := range []string{"win_rate", "win_rate_amount", "conversion_rate", "win_rate_new_business", "win_rate_expansion",
		"win_rate_renewal", "new_business_won", "new_business_lost", "closed_deals_unknown_motion"} {
		near(t, "arr_band SMB "+rate, num(t, ab, rate), math.NaN())
	}
	if note, _ := ab.Get("deal_rates_note").(string); !strings.Contains(note, "survivorship") {
		t.Errorf("arr_band deal_rates_note %q", note)
	}
	if note := smb.Get("deal_rates_note"); note != nil {
		t.Errorf("size_band SMB deal_rates_note %v, want NULL", note)
	}

	// CAC (cac_window_months 12: first paid months July 2024 - June 2025). Acquired: M8 (Sep 2024,
	// channel outbound from o1), M9 (Oct 2024, no won new_business deal: no channel, left out of
	// the mean), M10 and M11 (April 2025, inbound from o2 / o3).
	//   Spend: outbound Sep 2024 = 9,000 -> M8 carries 9,000 / 1 = 9,000.
	//   inbound Apr 2025: the later extract EUR 5,000 x 1.08 = 5,400 (not the first $3,000), over the
	//   2 customers inbound acquired that month -> 2,700 each. Campaign June 2025 acquired nobody.
	//   SMB CAC = mean(M10 2,700, M11 2,700) = 2,700. ARPA SMB = (1,000 + 600 + 700 + 300 + 300) / 5
	//   = 580; payback = 2,700 / (580 x 0.8) = 2,700 / 464 = 5.818966 months.
	near(t, "SMB cac", num(t, smb, "cac"), 2700)
	near(t, "SMB arpa", num(t, smb, "arpa"), 580)
	near(t, "SMB cac_payback_months", num(t, smb, "cac_payback_months"), 2700.0/464)
	//   Mid-market CAC = 9,000 (M8). ARPA = (3,000 + 1,000 + 1,500) / 3 = 1,833.33;
	//   payback = 9,000 / (1,833.33 x 0.8) = 9,000 / 1,466.67 = 6.136364.
	near(t, "Mid-market cac", num(t, mm, "cac"), 9000)
	near(t, "Mid-market cac_payback_months", num(t, mm, "cac_payback_months"), 9000/(5500.0/3*0.8))
	//   NA: M8 9,000 and M10 2,700 (M9 has no channel) -> 5,850.
	near(t, "NA cac", num(t, m["region/NA"], "cac"), 5850)
	near(t, "Enterprise cac", num(t, m["size_band/Enterprise"], "cac"), math.NaN())

	sp := rowsBy(t, s, `select strftime(month, '%Y-%m') || ' ' || channel as k, amount from stg_spend`)
	// Four months landed; July 2025 has not ended by as_of. 'Inbound' is lower-cased.
	if len(sp) != 3 {
		t.Errorf("stg_spend has %d rows, want 3 (Sep outbound, Apr inbound, Jun campaign)", len(sp))
	}
	near(t, "April inbound spend", num(t, sp["2025-04 inbound"], "amount"), 5400)
}

// Without a spend source the default stg_spend is empty: CAC and payback are NULL everywhere.
func TestSegmentMetricsWithoutSpend(t *testing.T) {
	s := buildFixture(t, "metrics", metricsAsOf, nil)
	if err := s.Exec(context.Background(), `drop table raw_demo__spend`); err != nil {
		t.Fatal(err)
	}
	landed, err := s.Landed(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	models, err := LoadModels(segsql.Files, landed)
	if err != nil {
		t.Fatal(err)
	}
	for _, md := range models {
		if md.Name == "stg_spend" && md.Path != "staging/defaults/stg_spend.sql" {
			t.Fatalf("stg_spend comes from %s, want the default", md.Path)
		}
	}
	d, err := time.Parse(time.DateOnly, metricsAsOf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Build(context.Background(), segsql.Files, models, ConfigVariables(demoConfig(t), d)); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Query(context.Background(), `select count(*) filter (where cac is not null or cac_payback_months is not null) as n,
		count(*) filter (where win_rate is not null) as with_win_rate from segment_metrics`)
	if err != nil {
		t.Fatal(err)
	}
	if n := rows[0].Float("n"); n != 0 {
		t.Errorf("%v segments have a CAC without any spend", n)
	}
	if n := rows[0].Float("with_win_rate"); n == 0 {
		t.Error("the rebuild lost the other metrics")
	}
}

func TestLTVQuintileMetrics(t *testing.T) {
	// Realized LTV (= paid revenue) so the ranking is plain: M5 180,000; M4 54,000; M3 42,000;
	// M1 18,000; M8 15,000; M6 8,800; M7 7,700; M2 5,000; M10 900; M11 900; M9 800. Eleven
	// customers in five groups (3, 2, 2, 2, 2): Q1 M5 M4 M3; Q2 M1 M8; Q3 M6 M7; Q4 M2 M10; Q5 M11 M9.
	s := buildFixture(t, "metrics", metricsAsOf, func(c *config.Config) {
		c.Segments.LTV.Method = "realized"
		c.Segments.ICP.MinCustomers = 2
	})
	q := rowsBy(t, s, `select ltv_quintile, *, array_to_string(over_represented, '; ') as over from ltv_quintiles`)

	// Q1: all three in the base. start 10,000 + 4,000 + 2,000 = 16,000; retained 10,000 + 1,000 +
	// 2,000 = 13,000; end 10,000 + 1,000 + 3,000 = 14,000. GRR 0.8125, NRR 0.875, logo churn 0.
	near(t, "Q1 grr", num(t, q["1"], "grr"), 13000.0/16000)
	near(t, "Q1 nrr", num(t, q["1"], "nrr"), 14000.0/16000)
	near(t, "Q1 logo_churn", num(t, q["1"], "logo_churn"), 0)
	// Q3: M6 (800 -> 600, churned in between) is the base; M7's reactivation is excluded
	// (with it NRR would be (600 + 700) / 800). logo churn 1/1, GRR = NRR = 600 / 800 = 0.75.
	near(t, "Q3 grr", num(t, q["3"], "grr"), 0.75)
	near(t, "Q3 nrr", num(t, q["3"], "nrr"), 0.75)
	near(t, "Q3 logo_churn", num(t, q["3"], "logo_churn"), 1)
	near(t, "Q3 customers_at_start_12m", num(t, q["3"], "customers_at_start_12m"), 1)
	// Q4: M2 (500 -> 0) only; M10 is new. GRR = NRR = 0, logo churn 1; churned_share (at as_of) 1/2.
	near(t, "Q4 nrr", num(t, q["4"], "nrr"), 0)
	near(t, "Q4 logo_churn", num(t, q["4"], "logo_churn"), 1)
	near(t, "Q4 churned_share", num(t, q["4"], "churned_share"), 0.5)
	// Q5: M11 and M9 were not customers at the start: no rates.
	near(t, "Q5 logo_churn", num(t, q["5"], "logo_churn"), math.NaN())
	near(t, "Q5 grr", num(t, q["5"], "grr"), math.NaN())

	// over_represented, icp_min_customers 2, icp_min_lift 1.5. Base (11 customers): SMB 7, Mid-market 3,
	// Enterprise 1; Retail 5, FinTech 3, Software 3; NA 6, EMEA 2, APAC 2, Unknown 1.
	//   Q1 (3): EMEA 2 -> (2/3) / (2/11) = 3.667; FinTech 2 -> (2/3) / (3/11) = 2.444; Mid-market 2
	//     -> 2.444 (ties sorted by attribute: industry before size_band). Enterprise, NA, Software
	//     have 1 customer (< 2).
	//   Q3 (2): APAC 2 -> 1 / (2/11) = 5.5; SMB 2 -> 1 / (7/11) = 1.571.
	//   Q2 (2): NA 2 -> 1 / (6/11) = 1.833; SMB 1, Mid-market 1 (< 2).
	//   Q5 (2): Retail 2 -> 1 / (5/11) = 2.2; SMB 1.571; Unknown region is never a trait.
	for k, want := range map[string]string{
		"1": "region=EMEA (lift 3.7); industry=FinTech (lift 2.4); size_band=Mid-market (lift 2.4)",
		"2": "region=NA (lift 1.8)",
		"3": "region=APAC (lift 5.5); size_band=SMB (lift 1.6)",
		"4": "region=NA (lift 1.8); size_band=SMB (lift 1.6)",
		"5": "industry=Retail (lift 2.2); size_band=SMB (lift 1.6)",
	} {
		if got := str(q[k], "over"); got != want {
			t.Errorf("Q%s over_represented = %q, want %q", k, got, want)
		}
	}

	// With the default icp_min_customers (5) no quintile has 5 customers sharing a value: empty lists.
	s2 := buildFixture(t, "metrics", metricsAsOf, func(c *config.Config) { c.Segments.LTV.Method = "realized" })
	rows, err := s2.Query(context.Background(), `select sum(len(over_represented))::double as n from ltv_quintiles`)
	if err != nil {
		t.Fatal(err)
	}
	if n := rows[0].Float("n"); n != 0 {
		t.Errorf("%v over-represented values with icp_min_customers 5", n)
	}
}

func TestSegmentTrends(t *testing.T) {
	s := buildFixture(t, "metrics", metricsAsOf, nil)
	tr := rowsBy(t, s, `select dimension || '/' || segment || ' ' || quarter_label as k, * from segment_trends`)
	// trend_quarters 8: 2023-Q3 .. 2025-Q2 for each of all/All + 3 size bands + 3 industries +
	// 4 regions (NA, EMEA, APAC, Unknown) + 2 deal-size tiers (SMB, Mid-market: no deal reaches
	// 150,000) = 13 segments -> 104 rows. 2025-Q2 ends on as_of: complete.
	if len(tr) != 104 {
		t.Errorf("segment_trends has %d rows, want 104", len(tr))
	}
	if _, ok := tr["all/All 2023-Q2"]; ok {
		t.Error("2023-Q2 is more than trend_quarters back")
	}

	// 2024-Q4 (all): MRR at 2024-09-30: M1 1,000, M2 500, M3 2,000, M4 4,000, M5 10,000, M8 1,500
	// (6 active, 19,000; M6 ended 2024-09-01). At 2024-12-31: M2 is 0 (churned in Nov), M9
	// (2024-10-01 .. 12-01) started and churned inside: in neither count.
	//   logo_churn_rate = 1 / 6; NRR = (1,000 + 0 + 2,000 + 4,000 + 10,000 + 1,500) / 19,000 = 18,500 / 19,000.
	//   Deals closed: o4 lost, o7 won 12,000 -> win rate 0.5, avg won 12,000.
	//   Created: o4 20,000, o7 12,000, o8 48,000 -> 80,000. New customers: M9.
	q4 := tr["all/All 2024-Q4"]
	near(t, "Q4 logo_churn_rate", num(t, q4, "logo_churn_rate"), 1.0/6)
	near(t, "Q4 nrr", num(t, q4, "nrr"), 18500.0/19000)
	near(t, "Q4 customers", num(t, q4, "customers"), 5)
	near(t, "Q4 win_rate", num(t, q4, "win_rate"), 0.5)
	near(t, "Q4 pipeline_created", num(t, q4, "pipeline_created"), 80000)
	near(t, "Q4 new_customers", num(t, q4, "new_customers"), 1)

	// 2025-Q1 (all): start = the 2024-12-31 set: M1 1,000, M3 2,000, M4 4,000, M5 10,000, M8 1,500
	// (5 customers, 18,500). End (2025-03-31): M1 1,000, M3 3,000, M4 1,000, M5 10,000, M8 1,500, plus
	// M6 600 (back in March) and M7 700 (back in February): 7 customers, MRR 17,800, ARR 213,600.
	//   churned 0 -> rate 0; NRR = (1,000 + 3,000 + 1,000 + 10,000 + 1,500) / 18,500 = 16,500 / 18,500
	//   (the reactivations of M6 and M7 are not in it); GRR = (1,000 + 2,000 + 1,000 + 10,000 +
	//   1,500) / 18,500 = 15,500 / 18,500.
	//   Deals closed: o2 won 4,000, o3 won 3,600, o5 won 6,000, o8 lost -> 0.75; avg won 13,600 / 3.
	//   Created: o5 6,000, o2 4,000, o3 3,600 -> 13,600.
	// Changes from 2024-Q4: customers +2; win rate 0.75 - 0.5 = +0.25 (25 points); logo churn
	// 0 - 1/6; NRR 16,500/18,500 - 18,500/19,000; pipeline 13,600 - 80,000 = -66,400.
	q1 := tr["all/All 2025-Q1"]
	near(t, "Q1 customers", num(t, q1, "customers"), 7)
	near(t, "Q1 arr", num(t, q1, "arr"), 213600)
	near(t, "Q1 logo_churn_rate", num(t, q1, "logo_churn_rate"), 0)
	near(t, "Q1 nrr", num(t, q1, "nrr"), 16500.0/18500)
	near(t, "Q1 grr", num(t, q1, "grr"), 15500.0/18500)
	near(t, "Q1 win_rate", num(t, q1, "win_rate"), 0.75)
	near(t, "Q1 avg_deal_size_won", num(t, q1, "avg_deal_size_won"), 13600.0/3)
	near(t, "Q1 customers_change", num(t, q1, "customers_change"), 2)
	near(t, "Q1 win_rate_change", num(t, q1, "win_rate_change"), 0.25)
	near(t, "Q1 logo_churn_rate_change", num(t, q1, "logo_churn_rate_change"), -1.0/6)
	near(t, "Q1 nrr_change", num(t, q1, "nrr_change"), 16500.0/18500-18500.0/19000)
	near(t, "Q1 pipeline_created_change", num(t, q1, "pipeline_created_change"), -66400)
	if str(q1, "quarter_complete") != "true" {
		t.Error("2025-Q1 should be complete")
	}

	// Deal-size tier SMB (amount < 25,000): 2024-Q4 closed o4 lost 20,000, o7 won 12,000 -> 0.5;
	// 2025-Q1 closed o2, o3, o5, all won -> 1; change +0.5. Customer metrics are not set for a
	// deal dimension. Mid-market tier in 2025-Q1: o8 lost 48,000 -> 0.
	dt := tr["deal_size_tier/SMB 2025-Q1"]
	near(t, "SMB tier Q1 win_rate", num(t, dt, "win_rate"), 1)
	near(t, "SMB tier Q1 win_rate_change", num(t, dt, "win_rate_change"), 0.5)
	near(t, "SMB tier Q1 customers", num(t, dt, "customers"), math.NaN())
	near(t, "Mid-market tier Q1 win_rate", num(t, tr["deal_size_tier/Mid-market 2025-Q1"], "win_rate"), 0)

	// SMB in 2025-Q1: start M1 1,000 (M2, M6, M9 are 0 at 2024-12-31); end M1, M6, M7 -> 3 customers.
	near(t, "SMB Q1 customers", num(t, tr["size_band/SMB 2025-Q1"], "customers"), 3)
	near(t, "SMB Q1 active_at_start", num(t, tr["size_band/SMB 2025-Q1"], "active_at_start"), 1)
}

// A run in the middle of a quarter shows it partial, measured at as_of, with nothing after as_of.
func TestSegmentTrendsPartialQuarter(t *testing.T) {
	s := buildFixture(t, "metrics", "2025-05-15", nil)
	tr := rowsBy(t, s, `select dimension || '/' || segment || ' ' || quarter_label as k, * from segment_trends`)
	q2 := tr["all/All 2025-Q2"]
	if str(q2, "quarter_complete") != "false" {
		t.Errorf("2025-Q2 as of 2025-05-15: quarter_complete = %s, want false", str(q2, "quarter_complete"))
	}
	// At 2025-05-15: M1, M3, M4, M5, M6, M7, M8, M10, M11 pay -> 9 customers.
	near(t, "partial Q2 customers", num(t, q2, "customers"), 9)
	// Created in Q2 by 2025-05-15: o6 (10,000, May 1); o10 (June 1) is not known yet.
	near(t, "partial Q2 pipeline_created", num(t, q2, "pipeline_created"), 10000)
	if _, ok := tr["all/All 2025-Q3"]; ok {
		t.Error("a quarter after as_of")
	}
}

func TestAssertionsPassOnMetricsFixture(t *testing.T) {
	for _, mutate := range []func(*config.Config){
		nil,
		func(c *config.Config) {
			c.Segments.LTV.Method = "realized"
			c.Segments.ICP.MinCustomers = 2
			c.Segments.Validation.MinSegmentSize = 2
		},
	} {
		s := buildFixture(t, "metrics", metricsAsOf, mutate)
		assertionsPass(t, s)
	}
}
