package warehouse

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
	segsql "github.com/segpipe/segpipe/sql"
)

func demoConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse(defaultconfig.DemoName, defaultconfig.DemoYAML, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// fixtureSQL is the SQL that makes fixture name's raw tables: the shared raw_schema.sql, then
// testdata/<name>_raw.sql (its rows, and drops of the exports it does not have).
func fixtureSQL(t testing.TB, name string) string {
	t.Helper()
	schema, err := os.ReadFile("testdata/raw_schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := os.ReadFile("testdata/" + name + "_raw.sql")
	if err != nil {
		t.Fatal(err)
	}
	return string(schema) + "\n" + string(rows)
}

// buildFixture loads testdata/<name>_raw.sql as the raw tables and builds every model.
func buildFixture(t *testing.T, name string, asOf string, mutate func(*config.Config)) *Session {
	t.Helper()
	return buildFixtureWith(t, name, asOf, mutate, "")
}

// buildFixtureWith is buildFixture with the statements extra run after the fixture, before the
// models (rows added to its raw tables, say).
func buildFixtureWith(t *testing.T, name string, asOf string, mutate func(*config.Config), extra string) *Session {
	t.Helper()
	ctx := context.Background()
	cfg := demoConfig(t)
	if mutate != nil {
		mutate(cfg)
	}
	s, err := Open(ctx, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Exec(ctx, fixtureSQL(t, name)); err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	if extra != "" {
		if err := s.Exec(ctx, extra); err != nil {
			t.Fatalf("extra fixture rows: %v", err)
		}
	}
	d, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		t.Fatal(err)
	}
	landed, err := s.Landed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	models, err := LoadModels(segsql.Files, landed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Build(ctx, segsql.Files, models, ConfigVariables(cfg, d)); err != nil {
		t.Fatalf("build: %v", err)
	}
	return s
}

// rowsBy runs q and indexes the rows by the text of their first column, which must be unique.
func rowsBy(t *testing.T, s *Session, q string) map[string]Row {
	t.Helper()
	rows, err := s.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := map[string]Row{}
	for _, r := range rows {
		key := fmtKey(r.Values[0])
		if _, dup := out[key]; dup {
			t.Fatalf("%s: key %s twice", q, key)
		}
		out[key] = r
	}
	return out
}

func fmtKey(v any) string { return fmt.Sprint(v) }

func num(t *testing.T, r Row, col string) float64 {
	t.Helper()
	if v := r.Get(col); v != nil && math.IsNaN(r.Float(col)) {
		t.Fatalf("column %s: %T is not a number (%v)", col, v, v)
	}
	return r.Float(col)
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want))) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func str(r Row, col string) string {
	v := r.Get(col)
	if v == nil {
		return "<nil>"
	}
	return fmt.Sprint(v)
}

func TestMonthlyMRRAndMovements(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", nil)
	rows := rowsBy(t, s, `select account_id || ' ' || strftime(month, '%Y-%m') as k, mrr, previous_mrr, movement from int_account_mrr_monthly`)
	// Hand-computed: see internal/warehouse/testdata/basic_raw.sql. The last complete month is June 2025.
	want := []struct {
		key      string
		mrr      float64
		movement string
	}{
		{"A1 2025-01", 1000, "new"}, {"A1 2025-02", 1000, "<nil>"}, {"A1 2025-04", 1000, "<nil>"},
		{"A1 2025-05", 0, "churn"}, {"A1 2025-06", 0, "<nil>"},
		// EUR 12,000 / 12 months x 1.08 = $1,080 from July 2024.
		{"A2 2024-07", 1080, "new"}, {"A2 2025-06", 1080, "<nil>"},
		{"A3 2025-01", 10000, "new"}, {"A3 2025-03", 10000, "<nil>"}, {"A3 2025-04", 12000, "expansion"},
		{"A3 2025-06", 12000, "<nil>"},
		{"A4 2025-03", 3000, "new"}, {"A4 2025-04", 0, "churn"}, {"A4 2025-05", 0, "<nil>"},
		{"A4 2025-06", 2000, "reactivation"},
	}
	for _, w := range want {
		r, ok := rows[w.key]
		if !ok {
			t.Errorf("no row %s", w.key)
			continue
		}
		near(t, w.key+" mrr", num(t, r, "mrr"), w.mrr)
		if got := str(r, "movement"); got != w.movement {
			t.Errorf("%s movement = %s, want %s", w.key, got, w.movement)
		}
	}
	// A1 Jan-Jun (6), A2 Jul 2024-Jun 2025 (12), A3 Jan-Jun (6), A4 Mar-Jun (4); nothing after June,
	// nothing for the void-only A6.
	if len(rows) != 28 {
		t.Errorf("int_account_mrr_monthly has %d rows, want 28", len(rows))
	}
	if _, ok := rows["A3 2025-07"]; ok {
		t.Error("July 2025 is after as_of and must not appear")
	}
}

func TestAccountSegmentsAndLTV(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", nil)
	acc := rowsBy(t, s, `select account_id, * exclude (account_id) from account_segments`)
	if len(acc) != 6 {
		t.Fatalf("account_segments has %d rows, want 6 (A7 is created after as_of)", len(acc))
	}
	type want struct {
		status, size, industry, arrBand, stage string
		mrr, realized, ltv                     float64
		tenure                                 float64
		quintile                               float64
	}
	// Size bands: 199 SMB, 200 Mid-market, 2,000 Enterprise, 1,999 Mid-market, null Unknown.
	// Segment monthly churn over Jan-Jun 2025 (the trailing 6 complete months):
	//   SMB: A1 active at the start of Feb, Mar, Apr, May; churns in May -> (0+0+0+1)/4 = 0.25.
	//   Mid-market: A2 active at the start of all 6 months, A4 at the start of April and churns
	//     -> rates 0,0,0,1/2,0,0 -> 0.5/6 = 1/12 -> 12 expected remaining months.
	//   Enterprise: no churn -> the 60-month cap.
	// LTV = realized + 0.8 x MRR x remaining months:
	//   A2: 12,960 + 0.8 x 1,080 x 12 = 23,328.  A3: 66,000 + 0.8 x 12,000 x 60 = 642,000.
	//   A4: 3,000 (June is unpaid at as_of) + 0.8 x 2,000 x 12 = 22,200.  A1 (churned): 4,000.
	// Tenure: A2 365 days -> 11 months (growth); A3 181 days -> 5; A4 122 days -> 4; A1 120 days -> 3.
	// ARR bands: A2 12,960 SMB; A3 144,000 Enterprise; A4 24,000 SMB (below 25,000).
	wants := map[string]want{
		"A1": {"churned", "SMB", "Retail", "<nil>", "<nil>", 0, 4000, 4000, 3, 4},
		"A2": {"active", "Mid-market", "FinTech", "SMB", "growth", 1080, 12960, 23328, 11, 2},
		"A3": {"active", "Enterprise", "FinTech", "Enterprise", "growth", 12000, 66000, 642000, 5, 1},
		"A4": {"active", "Mid-market", "Retail", "SMB", "growth", 2000, 3000, 22200, 4, 3},
		"A5": {"prospect", "SMB", "Software", "<nil>", "<nil>", 0, 0, math.NaN(), math.NaN(), math.NaN()},
		"A6": {"prospect", "Unknown", "Software", "<nil>", "<nil>", 0, 0, math.NaN(), math.NaN(), math.NaN()},
	}
	for id, w := range wants {
		r := acc[id]
		for col, v := range map[string]string{"customer_status": w.status, "size_band": w.size, "industry": w.industry, "arr_band": w.arrBand, "adoption_stage": w.stage} {
			if got := str(r, col); got != v {
				t.Errorf("%s %s = %s, want %s", id, col, got, v)
			}
		}
		near(t, id+" mrr", num(t, r, "mrr"), w.mrr)
		near(t, id+" arr", num(t, r, "arr"), 12*w.mrr)
		near(t, id+" realized_revenue", num(t, r, "realized_revenue"), w.realized)
		near(t, id+" ltv", num(t, r, "ltv"), w.ltv)
		near(t, id+" tenure_months", num(t, r, "tenure_months"), w.tenure)
		near(t, id+" ltv_quintile", num(t, r, "ltv_quintile"), w.quintile)
	}
	if got := str(acc["A1"], "account_name"); got != "Alpha" {
		t.Errorf("A1 name = %s, want the latest version's Alpha", got)
	}

	churn := rowsBy(t, s, `select segment, logo_churn_monthly from int_segment_churn where dimension = 'size_band'`)
	near(t, "SMB churn", num(t, churn["SMB"], "logo_churn_monthly"), 0.25)
	near(t, "Mid-market churn", num(t, churn["Mid-market"], "logo_churn_monthly"), 1.0/12)
	near(t, "Enterprise churn", num(t, churn["Enterprise"], "logo_churn_monthly"), 0)
}

func TestRealizedLTVMethod(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", func(c *config.Config) { c.Segments.LTV.Method = "realized" })
	acc := rowsBy(t, s, `select account_id, ltv, ltv_method, ltv_quintile from account_segments where ltv is not null`)
	// Realized LTV is what each paid: A3 66,000 > A2 12,960 > A1 4,000 > A4 3,000.
	for id, w := range map[string][2]float64{"A3": {66000, 1}, "A2": {12960, 2}, "A1": {4000, 3}, "A4": {3000, 4}} {
		near(t, id+" ltv", num(t, acc[id], "ltv"), w[0])
		near(t, id+" quintile", num(t, acc[id], "ltv_quintile"), w[1])
		if m := str(acc[id], "ltv_method"); m != "realized" {
			t.Errorf("%s ltv_method = %s", id, m)
		}
	}
}

func TestQuintilesAndSegmentMetrics(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", nil)
	q := rowsBy(t, s, `select ltv_quintile, customers, share_of_customers, share_of_revenue, ltv_min, ltv_max from ltv_quintiles`)
	if len(q) != 4 {
		t.Fatalf("%d quintile rows, want 4 (four customers, one each)", len(q))
	}
	// Realized revenue 4,000 + 12,960 + 66,000 + 3,000 = 85,960.
	near(t, "q1 share_of_revenue", num(t, q["1"], "share_of_revenue"), 66000.0/85960)
	near(t, "q2 share_of_revenue", num(t, q["2"], "share_of_revenue"), 12960.0/85960)
	near(t, "q1 share_of_customers", num(t, q["1"], "share_of_customers"), 0.25)
	near(t, "q4 ltv_min", num(t, q["4"], "ltv_min"), 4000)

	m := rowsBy(t, s, `select segment, customers, arr, arr_share, arpa, logo_churn_monthly, ltv_avg from segment_metrics where dimension = 'size_band'`)
	// Active ARR: A2 12,960 + A4 24,000 (Mid-market) + A3 144,000 (Enterprise) = 180,960.
	near(t, "Mid-market customers", num(t, m["Mid-market"], "customers"), 2)
	near(t, "Mid-market arr_share", num(t, m["Mid-market"], "arr_share"), 36960.0/180960)
	near(t, "Mid-market arpa", num(t, m["Mid-market"], "arpa"), (1080.0+2000)/2)
	near(t, "Mid-market ltv_avg", num(t, m["Mid-market"], "ltv_avg"), (23328.0+22200)/2)
	near(t, "Enterprise arr_share", num(t, m["Enterprise"], "arr_share"), 144000.0/180960)
	near(t, "SMB arr_share", num(t, m["SMB"], "arr_share"), 0)
	near(t, "SMB arpa", num(t, m["SMB"], "arpa"), math.NaN())
	near(t, "SMB ltv_avg", num(t, m["SMB"], "ltv_avg"), 4000)

	// Segment-level predictive LTV = ARPA x 0.8 / monthly churn, uncapped:
	//   Mid-market 1,540 x 0.8 / (1/12) = 14,784 (its customers' LTV mean is 22,764: realized
	//   revenue counts there). Enterprise churns 0: no finite value; its one customer (A3) has
	//   the 60-month cap for remaining months. Mid-market's 12 months are below the cap.
	// SMB has no active customer: no ARPA, no value, nobody capped.
	l := rowsBy(t, s, `select segment, segment_ltv, ltv_capped_customers from segment_metrics where dimension = 'size_band'`)
	near(t, "Mid-market segment_ltv", num(t, l["Mid-market"], "segment_ltv"), 14784)
	near(t, "Enterprise segment_ltv", num(t, l["Enterprise"], "segment_ltv"), math.NaN())
	near(t, "SMB segment_ltv", num(t, l["SMB"], "segment_ltv"), math.NaN())
	near(t, "Mid-market ltv_capped_customers", num(t, l["Mid-market"], "ltv_capped_customers"), 0)
	near(t, "Enterprise ltv_capped_customers", num(t, l["Enterprise"], "ltv_capped_customers"), 1)
	near(t, "SMB ltv_capped_customers", num(t, l["SMB"], "ltv_capped_customers"), 0)
	// With realized LTV neither is published.
	r := buildFixture(t, "basic", "2025-06-30", func(c *config.Config) { c.Segments.LTV.Method = "realized" })
	lr := rowsBy(t, r, `select segment, segment_ltv, ltv_capped_customers from segment_metrics where dimension = 'size_band'`)
	near(t, "realized Mid-market segment_ltv", num(t, lr["Mid-market"], "segment_ltv"), math.NaN())
	near(t, "realized Enterprise ltv_capped_customers", num(t, lr["Enterprise"], "ltv_capped_customers"), math.NaN())
}

func TestAssertionsPassOnFixture(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", nil)
	if ran := assertionsPass(t, s); len(ran) < 5 {
		t.Fatalf("only %d assertions ran", len(ran))
	}
}

// assertionsPass runs every assertion of sql/tests on s, fails the test for each that finds a
// row, and returns the names that ran.
func assertionsPass(t *testing.T, s *Session) map[string]bool {
	t.Helper()
	as, err := LoadAssertions(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.RunAssertions(context.Background(), as)
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]bool{}
	for _, r := range res {
		ran[r.Name] = true
		if r.Failures != 0 {
			t.Errorf("%s failed", r.Name)
		}
	}
	return ran
}

// assertionNamed returns the assertion of sql/tests called name, alone, to run it by itself.
func assertionNamed(t *testing.T, name string) []Assertion {
	t.Helper()
	as, err := LoadAssertions(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Name == name {
			return []Assertion{a}
		}
	}
	t.Fatalf("%s not found among %d assertions", name, len(as))
	return nil
}

func TestUnknownCurrencyFailsAssertion(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", func(c *config.Config) { delete(c.FXRates, "EUR") })
	as, _ := LoadAssertions(segsql.Files)
	_, err := s.RunAssertions(context.Background(), as)
	if err == nil || !strings.Contains(err.Error(), "assert_known_currencies") || !strings.Contains(err.Error(), "EUR") {
		t.Fatalf("want assert_known_currencies to fail naming EUR, got %v", err)
	}
}
