package report

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/warehouse"
)

// fixture creates the marts the report reads, a few hand-written rows each.
var fixture = map[string]string{
	"mrr_monthly": `SELECT * FROM (VALUES
		(DATE '2026-01-01', 100.0, 2, 100.0, 0.0, 0.0, 0.0, 0.0, 100.0, NULL::DOUBLE, 2, 0, 0, 0, 0, 50.0),
		(DATE '2026-02-01', 130.0, 3, 40.0, 10.0, 0.0, 5.0, 15.0, 30.0, 2.5, 1, 1, 0, 1, 1, 43.33),
		(DATE '2026-03-01', 125.0, 3, 0.0, 0.0, 20.0, 0.0, 25.0, -5.0, 0.8, 0, 0, 1, 0, 1, 41.67))
		t(month, mrr, customers_active, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr, churned_mrr, net_new_mrr, quick_ratio,
		  new_customers, expansion_customers, reactivated_customers, contraction_customers, churned_customers, arpa)`,
	"segment_metrics": `SELECT * FROM (VALUES
		('size_band', 'SMB', 10, 3, 1, 1200.0, 0.25, 33.3, 0.1, 0.2, 0.9),
		('size_band', 'Enterprise', 4, 1, 0, 3600.0, 0.75, 300.0, 0.0, 0.0, 1.2),
		('industry', '<script>alert(1)</script>', 14, 4, 1, 4800.0, 1.0, 100.0, NULL, NULL, NULL),
		('region', 'EMEA', 14, 4, 1, 4800.0, 1.0, 100.0, 0.05, 0.25, 1.0))
		t(dimension, segment, accounts, customers, churned_customers, arr, arr_share, arpa, logo_churn_monthly, logo_churn_12m, nrr_12m)`,
	"ltv_quintiles": `SELECT * FROM (VALUES
		(1, 1, 0.5, 1, 0, 0.0, 900.0, 0.9, 1200.0, 0.8, 900.0, 900.0, 900.0, 1, 0.0, 1.0, 1.1, ['size_band=Enterprise (lift 2.0)']),
		(2, 1, 0.5, 0, 1, 1.0, 100.0, 0.1, 0.0, 0.0, 100.0, 100.0, 100.0, 0, NULL, NULL, NULL, []::VARCHAR[]))
		t(ltv_quintile, customers, share_of_customers, active_customers, churned_customers, churned_share, realized_revenue, share_of_revenue,
		  arr, share_of_arr, ltv_min, ltv_max, ltv_avg, customers_at_start_12m, logo_churn, grr, nrr, over_represented)`,
	"cohort_retention": `SELECT * FROM (VALUES
		('month', DATE '2026-01-01', 'all', 'all', 0, 2, 2, 1.0, 100.0, 100.0, 1.0, 1.0),
		('month', DATE '2026-01-01', 'all', 'all', 1, 2, 2, 1.0, 100.0, 110.0, 1.1, 1.0),
		('month', DATE '2026-01-01', 'all', 'all', 2, 2, 1, 0.5, 100.0, 60.0, 0.6, 0.6),
		('month', DATE '2026-02-01', 'all', 'all', 0, 1, 1, 1.0, 40.0, 40.0, 1.0, 1.0),
		('month', DATE '2026-02-01', 'size_band', 'SMB', 0, 1, 1, 1.0, 40.0, 40.0, 1.0, 1.0))
		t(cohort_grain, cohort, dimension, segment, months_since_start, customers, active_customers, logo_retention, starting_mrr, mrr,
		  net_revenue_retention, gross_revenue_retention)`,
	"icp_profile": `SELECT * FROM (VALUES
		('size_band', 'Enterprise', 1, 1, 1.0, 1, 2, 0.5, 2.0, 0.01, true, 'two-proportion z-test'),
		('size_band', 'SMB', 0, 1, 0.0, 1, 2, 0.5, 0.0, 0.5, false, 'two-proportion z-test'))
		t(attribute, value, group_customers, group_size, share_in_group, base_customers, base_size, share_in_base, lift, p_value, is_trait, test_name)`,
	"anti_icp_profile": `SELECT * FROM (VALUES
		('size_band', 'SMB', 1, 1, 1.0, 1, 2, 0.5, 2.0, 0.02, true, 'two-proportion z-test'))
		t(attribute, value, group_customers, group_size, share_in_group, base_customers, base_size, share_in_base, lift, p_value, is_trait, test_name)`,
	"tier_summary": `SELECT * FROM (VALUES
		(1, 'Tier 1 (Strategic)', 1, 0.25, 3600.0, 0.75, 0.1, 0.2, false, 0.5, 0.7, false, 'customers 25.0% above the target 10-20%', 15.0, 30.0, 1, 1, 0.98, 1.0, 0.3, 0.2),
		(2, 'Tier 2 (Core)', 1, 0.25, 600.0, 0.125, 0.3, 0.4, false, 0.25, 0.35, false, NULL, 50.0, 100.0, 1, 1, 0.9, NULL, 0.15, NULL),
		(3, 'Tier 3 (Scale)', 2, 0.5, 600.0, 0.125, 0.4, 0.6, true, 0.1, 0.2, true, NULL, 200.0, NULL, NULL, 1, 0.8, NULL, NULL, NULL),
		(4, 'Tier 4 (Tech-touch)', 0, 0.0, 0.0, 0.0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0.7, NULL, NULL, NULL))
		t(tier, tier_name, customers, share_of_customers, arr, share_of_arr, customers_min, customers_max, customers_in_target, arr_min, arr_max,
		  arr_in_target, target_note, accounts_per_csm_min, accounts_per_csm_max, csm_min, csm_max, retention_target, retention_actual,
		  expansion_target, expansion_actual)`,
	"cluster_profiles": `SELECT * FROM (VALUES
		(1, 3, 0.75, 2, 0.41, ['arr', 'seats'], ['active_share: values for 0 of 4 customers (fewer than 50%)'], 90000.0, 30.0, 120.0, 800.0, NULL, 0.5, 3000.0, 0.6, 50000.0, 0.0,
		 [{'attribute': 'size_band', 'value': 'Enterprise', 'share_in_cluster': 1.0, 'lift': 1.33}]),
		(2, 1, 0.25, 2, 0.41, ['arr', 'seats'], ['active_share: values for 0 of 4 customers (fewer than 50%)'], 2000.0, 12.0, 5.0, 20.0, NULL, 2.0, 2000.0, 0.4, 4000.0, 1.0,
		 []::STRUCT(attribute VARCHAR, value VARCHAR, share_in_cluster DOUBLE, lift DOUBLE)[]))
		t(cluster_id, customers, share_of_customers, k, silhouette, features, dropped_features, centroid_arr, centroid_tenure_months, centroid_seats,
		  centroid_employees, centroid_active_share, centroid_tickets_per_month, arr, arr_share, ltv_avg, high_churn_risk_share, over_represented)`,
	"pipeline_segments": `SELECT * FROM (VALUES
		('deal_size_tier', 'SMB', 3, 1, 5000.0, 4000.0, 2, 0, 1.0, 1.0, 30.0, 8000.0, 5000.0, 4000.0, 'all'),
		('deal_size_tier', 'Enterprise', 1, 1, 90000.0, 90000.0, 0, 0, NULL, NULL, NULL, 0.0, NULL, NULL, 'all'),
		('motion', 'all', 3, 1, 90000.0, 31000.0, 1, 0, 1.0, 1.0, 30.0, 3000.0, 90000.0, 90000.0, 'new_business'),
		('motion', 'all', 1, 1, 5000.0, 5000.0, 1, 0, 1.0, 1.0, 30.0, 5000.0, 5000.0, 5000.0, 'renewal'),
		('motion', 'all', 0, 0, 0.0, NULL, 0, 0, NULL, NULL, NULL, 0.0, NULL, NULL, 'expansion'),
		('total', 'all', 4, 2, 95000.0, 23500.0, 2, 0, 1.0, 1.0, 30.0, 8000.0, 5000.0, 4000.0, 'all'))
		t(grouping, deal_size_tier, opportunities, open_opportunities, pipeline_value, avg_deal_size, won, lost, win_rate, win_rate_amount,
		  avg_sales_cycle_days, revenue_won, expected_value, segment_forecast, motion)`,
	"pipeline_aging": `SELECT * FROM (VALUES
		('o1', 'SMB', 5000.0, 'on_track'), ('o2', 'Enterprise', 90000.0, 'stalled'), ('o3', NULL, NULL, NULL))
		t(opportunity_id, deal_size_tier, amount, aging_status)`,
	"segment_validation": `SELECT * FROM (VALUES
		('size_band', 'arr', 'kruskal_wallis', 2, 4, 3.1, 1, 0.04, 0.5, 'epsilon_squared', true, NULL::DOUBLE, []::VARCHAR[], 'segments differ'),
		('size_band', 'logo_churn', 'chi_square', 2, 4, NULL, NULL, NULL, NULL, 'cramers_v', false, 0.5, ['SMB'], 'too few to test'))
		t(dimension, metric, test_name, segments_tested, n, statistic, df, p_value, effect_size, effect_size_name, significant,
		  min_expected_count, small_segments, verdict)`,
	"account_segments": `SELECT * FROM (VALUES
		('a1', 'active', 1200.0, 100.0, 900.0), ('a2', 'churned', 0.0, 0.0, 100.0), ('a3', 'prospect', NULL, NULL, NULL))
		t(account_id, customer_status, arr, mrr, realized_revenue)`,
}

func session(t *testing.T, tables map[string]string) (*warehouse.Session, Meta) {
	t.Helper()
	ctx := context.Background()
	sess, err := warehouse.Open(ctx, warehouse.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	meta := Meta{AsOf: "2026-03-31", RunID: "r1", Currency: "USD", GeneratedAt: time.Date(2026, 4, 1, 3, 0, 0, 0, time.UTC)}
	for name, q := range tables {
		if err := sess.Exec(ctx, "CREATE TABLE "+name+" AS "+q); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		meta.Tables = append(meta.Tables, Table{Name: name, Rows: 1})
	}
	return sess, meta
}

func render(t *testing.T, sess *warehouse.Session, meta Meta) (string, Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := Render(context.Background(), sess, meta, &buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), sum
}

var markRE = regexp.MustCompile(`class="mark" data-series="([^"]*)" data-key="([^"]*)" data-value="([^"]*)"`)

// marks returns the marks of one chart as series|key=value.
func marks(page, chart string) []string {
	i := strings.Index(page, `data-chart="`+chart+`"`)
	if i < 0 {
		return nil
	}
	svg := page[i : i+strings.Index(page[i:], "</svg>")]
	var out []string
	for _, m := range markRE.FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1]+"|"+m[2]+"="+m[3])
	}
	return out
}

func TestReportDrawsTheHandFixture(t *testing.T) {
	sess, meta := session(t, fixture)
	page, sum := render(t, sess, meta)
	if len(sum.NotBuilt) != 0 || len(sum.NotDrawn) != 0 {
		t.Fatalf("not built %v, not drawn %v", sum.NotBuilt, sum.NotDrawn)
	}
	if sum.Sections != 10 || sum.Charts != 18 {
		t.Errorf("sections %d charts %d, want 10 and 18", sum.Sections, sum.Charts)
	}
	want := map[string][]string{
		// Three months × five movements, the published values (losses positive).
		"mrr-movements": {"new|2026-01=100", "expansion|2026-01=0", "reactivation|2026-01=0", "contraction|2026-01=0", "churn|2026-01=0",
			"new|2026-02=40", "expansion|2026-02=10", "reactivation|2026-02=0", "contraction|2026-02=5", "churn|2026-02=15",
			"new|2026-03=0", "expansion|2026-03=0", "reactivation|2026-03=20", "contraction|2026-03=0", "churn|2026-03=25"},
		// Fewer than 13 months: the bridge starts from 0 and sums every month:
		// 0 + 140 + 10 + 20 − 5 − 40 = 125, the last month's MRR.
		"mrr-bridge":    {"bridge|start=0", "bridge|new=140", "bridge|expansion=10", "bridge|reactivation=20", "bridge|contraction=5", "bridge|churn=40", "bridge|MRR 2026-03=125"},
		"mrr-over-time": {"mrr|2026-01=100", "mrr|2026-02=130", "mrr|2026-03=125"},
		// Shares of customers computed from the counts (3 of 4, 1 of 4) beside the ARR shares.
		"segments-size_band": {"share of customers|Enterprise=0.25", "share of ARR|Enterprise=0.75", "share of customers|SMB=0.75", "share of ARR|SMB=0.25"},
		"ltv-shares":         {"share of customers|Q1=0.5", "share of revenue|Q1=0.9", "share of customers|Q2=0.5", "share of revenue|Q2=0.1"},
		// Q2's logo churn is NULL: no mark, not a zero.
		"ltv-churn":    {"churned (of the quintile)|Q1=0", "logo churn 12m|Q1=0", "churned (of the quintile)|Q2=1"},
		"cohort-logo":  {"logo_retention|2026-01 · 0=1", "logo_retention|2026-01 · 1=1", "logo_retention|2026-01 · 2=0.5", "logo_retention|2026-02 · 0=1"},
		"cohort-nrr":   {"net_revenue_retention|2026-01 · 0=1", "net_revenue_retention|2026-01 · 1=1.1", "net_revenue_retention|2026-01 · 2=0.6", "net_revenue_retention|2026-02 · 0=1"},
		"icp-lift":     {"lift|size_band = Enterprise=2", "lift|size_band = SMB=0"},
		"tier-pyramid": {"share_of_customers|1=0.25", "share_of_customers|2=0.25", "share_of_customers|3=0.5", "share_of_customers|4=0"},
		// Enterprise has no expected value (no closed deal, no win rate): no mark.
		"pipeline-value": {"open pipeline|Enterprise=90000", "revenue won|Enterprise=0", "open pipeline|SMB=5000", "expected value|SMB=5000", "revenue won|SMB=8000"},
		"clusters":       {"share of customers|cluster 1=0.75", "share of ARR|cluster 1=0.6", "share of customers|cluster 2=0.25", "share of ARR|cluster 2=0.4"},
		// Win rate by motion, new business first; expansion has no closed deal: no mark.
		"pipeline-motion": {"win rate|new_business=1", "win rate|renewal=1"},
		// A deal without an amount or a stage is counted as such, not dropped.
		"pipeline-aging": {"stalled|Enterprise=1", "on_track|SMB=1", "unknown|amount unknown=1"},
		// The untested metric has a cell saying so, but no mark.
		"validation": {"effect_size|size_band · arr=0.5"},
	}
	for chart, w := range want {
		got := marks(page, chart)
		if strings.Join(sorted(got), "\n") != strings.Join(sorted(w), "\n") {
			t.Errorf("%s marks:\n%s\nwant:\n%s", chart, strings.Join(sorted(got), "\n"), strings.Join(sorted(w), "\n"))
		}
	}
	for _, s := range []string{
		"From 2026-01 to 2026-03: $0 at the start plus the movements gives $125; the published MRR is $125.",
		"too few to test",
		"Audit:", // no assertions in Meta: the header leaves the audit line out
	} {
		if s == "Audit:" {
			if strings.Contains(page, s) {
				t.Errorf("the page reports an audit it was not given")
			}
			continue
		}
		if !strings.Contains(page, s) {
			t.Errorf("the page does not say %q", s)
		}
	}
	// The tables beside the charts: money with separators, shares, n/a for NULL.
	for _, s := range []string{"<td class=\"num \">$90,000</td>", "<td class=\"num \">75.0%</td>", "<td class=\"num \">n/a</td>", "CSM headcount for all tiers: 2–3"} {
		if !strings.Contains(page, s) {
			t.Errorf("the page has no %q", s)
		}
	}
	// Self-contained: nothing fetched, no script; a segment name is text, not markup.
	for _, bad := range []string{"http://", "https://", "<script", "src="} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the segment named <script> is not escaped")
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// A CRM-only company: the billing sections say what they need instead of drawing zeros.
// The segments' win rate by motion: new business first with the deals it is over, then expansion
// and renewal. The hand fixture's segment_metrics is a release written before those columns
// existed: its cells say n/a and the section still draws.
func TestReportWinRateByMotion(t *testing.T) {
	tables := map[string]string{}
	for n, q := range fixture {
		tables[n] = q
	}
	tables["segment_metrics"] = `SELECT * FROM (VALUES
		('size_band', 'SMB', 10, 3, 1, 1200.0, 0.25, 33.3, 0.1, 0.2, 0.9, 0.152, 5, 28, 0.61, 0.98),
		('size_band', 'Enterprise', 4, 1, 0, 3600.0, 0.75, 300.0, 0.0, 0.0, 1.2, NULL, 0, 0, NULL, NULL))
		t(dimension, segment, accounts, customers, churned_customers, arr, arr_share, arpa, logo_churn_monthly, logo_churn_12m, nrr_12m,
		  win_rate_new_business, new_business_won, new_business_lost, win_rate_expansion, win_rate_renewal)`
	sess, meta := session(t, tables)
	page, sum := render(t, sess, meta)
	if len(sum.NotDrawn) != 0 {
		t.Fatalf("not drawn %v", sum.NotDrawn)
	}
	for _, want := range []string{"win rate, new business (deals)", `<td class="num ">15.2% (33)</td>`, `<td class="num ">61.0%</td>`, `<td class="num ">98.0%</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the segments table does not say %q", want)
		}
	}
	// The hand fixture's release has no such column: the section draws with n/a in them.
	oldSess, oldMeta := session(t, fixture)
	old, oldSum := render(t, oldSess, oldMeta)
	if len(oldSum.NotDrawn) != 0 || !strings.Contains(old, "win rate, new business (deals)") {
		t.Errorf("a release without the per-motion columns: not drawn %v", oldSum.NotDrawn)
	}
}

func TestReportSaysWhatIsNotBuilt(t *testing.T) {
	crm := map[string]string{}
	for _, n := range []string{"account_segments", "pipeline_segments", "pipeline_aging", "segment_metrics"} {
		crm[n] = fixture[n]
	}
	sess, meta := session(t, crm)
	meta.NotBuilt = map[string][]string{"mrr_monthly": {"stg_invoices"}, "ltv_quintiles": {"stg_invoices"}}
	page, sum := render(t, sess, meta)
	if len(sum.NotDrawn) != 0 {
		t.Fatalf("not drawn: %v", sum.NotDrawn)
	}
	if got := strings.Join(sum.NotBuilt, ", "); got != "MRR movements, LTV quintiles, Cohort retention, ICP and anti-ICP traits, Natural clusters, Customer-success tiers, Segment validation" {
		t.Errorf("not built: %s", got)
	}
	for _, s := range []string{
		"mrr_monthly was not built: it needs stg_invoices, which no configured source provides",
		"cohort_retention is not among this release&#39;s tables",
	} {
		if !strings.Contains(page, s) {
			t.Errorf("the page does not say %q", s)
		}
	}
	if marks(page, "mrr-movements") != nil || marks(page, "ltv-shares") != nil {
		t.Errorf("a chart of a table the run does not have was drawn")
	}
	if len(marks(page, "pipeline-value")) != 5 {
		t.Errorf("the pipeline is not drawn: %v", marks(page, "pipeline-value"))
	}
}

// A replaced model without a documented column: that section says why it is not drawn, the
// others are drawn, and the summary counts it.
func TestReportShowsASectionItCannotDraw(t *testing.T) {
	tables := map[string]string{}
	for k, v := range fixture {
		tables[k] = v
	}
	tables["tier_summary"] = `SELECT 1 AS tier, 'Tier 1' AS tier_name`
	sess, meta := session(t, tables)
	page, sum := render(t, sess, meta)
	if len(sum.NotDrawn) != 1 || !strings.HasPrefix(sum.NotDrawn[0], "Customer-success tiers: ") || !strings.Contains(sum.NotDrawn[0], "customers") {
		t.Fatalf("not drawn: %v", sum.NotDrawn)
	}
	if !strings.Contains(page, "Could not draw this section") || len(marks(page, "mrr-movements")) != 15 {
		t.Errorf("the failing section took the others with it, or says nothing")
	}
}

// Movements that do not add up to the published MRR are called out, not hidden.
func TestReportFlagsABridgeThatDoesNotReconcile(t *testing.T) {
	tables := map[string]string{"mrr_monthly": strings.Replace(fixture["mrr_monthly"], "(DATE '2026-03-01', 125.0", "(DATE '2026-03-01', 155.0", 1)}
	sess, meta := session(t, tables)
	page, _ := render(t, sess, meta)
	if !strings.Contains(page, "They differ by −$30: the movements do not reconcile.") {
		t.Errorf("the bridge's gap is not reported")
	}
}

func TestFormats(t *testing.T) {
	f := formatter{"USD"}
	for _, c := range []struct{ got, want string }{
		{f.moneyShort(4510949.68), "$4.5M"}, {f.moneyShort(160244.84), "$160.2k"}, {f.moneyShort(-50000), "−$50k"}, {f.moneyShort(950), "$950"},
		{f.money(1234567.5), "$1,234,568"}, {f.money(-7120.4), "−$7,120"}, {formatter{"CHF"}.money(12), "CHF 12"},
		{pct(0.2731), "27.3%"}, {pctShort(0.25), "25%"}, {pvalue(0.0001), "< 0.001"}, {pvalue(0.0456), "0.046"},
		{count(1049), "1,049"}, {count(-3), "−3"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if ticks := niceTicks(-50000, 140000, 5); ticks[0] != -50000 || ticks[len(ticks)-1] != 150000 {
		t.Errorf("ticks %v", ticks)
	}
}
