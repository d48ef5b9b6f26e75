package warehouse

import (
	"math"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
)

// segment_validation on the metrics fixture (internal/warehouse/testdata/metrics_raw.sql; the accounts are
// listed in its header and in metrics_test.go). validation_min_segment_size is lowered to 2 so the
// tiny fixture can be tested; realized LTV keeps the LTVs plain (= paid revenue); the raw p-values
// decide (validation.correction none): TestSegmentValidationBenjaminiHochberg checks the default.
func validationMutate(c *config.Config) {
	c.Segments.LTV.Method = "realized"
	c.Segments.Validation.MinSegmentSize = 2
	c.Segments.Validation.Correction = "none"
}

func TestSegmentValidationTests(t *testing.T) {
	s := buildFixture(t, "metrics", metricsAsOf, validationMutate)
	v := rowsBy(t, s, `select dimension || '/' || metric as k, *, array_to_string(small_segments, ',') as small from segment_validation`)
	// 7 account dimensions x 3 metrics, less logo_churn for usage_intensity and tier (known only
	// for today's customers) = 19; 5 deal dimensions (deal_size_tier, motion, source, region,
	// industry) x win_rate and sales_cycle = 10.
	if len(v) != 29 {
		t.Errorf("segment_validation has %d rows, want 7 x 3 - 2 + 5 x 2", len(v))
	}
	for _, k := range []string{"deal_size_tier/ltv", "motion/arr", "source/logo_churn", "size_band/win_rate", "tier/sales_cycle"} {
		if _, ok := v[k]; ok {
			t.Errorf("%s is tested: the metric is not one of the dimension's", k)
		}
	}
	for k, r := range v {
		if math.Abs(num(t, r, "q_value")-num(t, r, "p_value")) > 0 && !math.IsNaN(num(t, r, "p_value")) {
			t.Errorf("%s: q_value %v <> p_value %v without a correction", k, num(t, r, "q_value"), num(t, r, "p_value"))
		}
	}
	for _, k := range []string{"usage_intensity/logo_churn", "tier/logo_churn"} {
		if _, ok := v[k]; ok {
			t.Errorf("%s is tested: those segments are not known at the start of the window", k)
		}
	}

	// Kruskal-Wallis, region x arr. Active customers' ARR: NA M1 12,000, M5 120,000, M8 18,000,
	// M10 3,600; EMEA M3 36,000, M4 12,000; APAC M6 7,200, M7 8,400. M11 (region Unknown, 3,600) is
	// left out: Unknown is never a segment, so the tie with M10 does not exist.
	// Pooled ranks (N = 8): 3,600 M10 -> 1; 7,200 M6 -> 2; 8,400 M7 -> 3; 12,000 M1 and M4 tie for
	// ranks 4 and 5 -> 4.5 each; 18,000 M8 -> 6; 36,000 M3 -> 7; 120,000 M5 -> 8.
	// Rank sums: NA 1 + 4.5 + 6 + 8 = 19.5 (n 4); EMEA 4.5 + 7 = 11.5 (n 2); APAC 2 + 3 = 5 (n 2).
	// H = 12 / (8 x 9) x (19.5^2/4 + 11.5^2/2 + 5^2/2) - 3 x 9
	//   = (1/6) x (95.0625 + 66.125 + 12.5) - 27 = 173.6875 / 6 - 27 = 187/96 = 1.947917.
	// Tie correction: one tie of 2 -> 1 - (2^3 - 2) / (8^3 - 8) = 1 - 6/504 = 498/504.
	// H = (187/96) / (498/504) = 1.971386; df = 3 - 1 = 2; p = exp(-H / 2) = 0.373181 (2 df: the
	// chi-square survival function is exp(-x/2) exactly); epsilon-squared = H / (N - 1) = H / 7.
	h := (187.0 / 96) / (498.0 / 504)
	kw := v["region/arr"]
	near(t, "region/arr H", num(t, kw, "statistic"), h)
	near(t, "region/arr df", num(t, kw, "df"), 2)
	near(t, "region/arr p", num(t, kw, "p_value"), math.Exp(-h/2))
	near(t, "region/arr epsilon^2", num(t, kw, "effect_size"), h/7)
	near(t, "region/arr n", num(t, kw, "n"), 8)
	near(t, "region/arr segments", num(t, kw, "segments_tested"), 3)
	if str(kw, "test_name") != "kruskal_wallis" || str(kw, "effect_size_name") != "epsilon_squared" ||
		str(kw, "verdict") != "no material difference" || str(kw, "significant") != "false" || str(kw, "small") != "" {
		t.Errorf("region/arr: %v", kw)
	}

	// Chi-square, industry x logo_churn (3 x 2). Base (active at 2024-06-30) and churned since:
	// Retail M1 (kept), M2 (churned); FinTech M3, M5 (kept); Software M4 (kept), M6 (churned).
	// N = 6, churned 2, retained 4. Expected: each industry has 2 customers -> churned 2 x 2/6 = 2/3,
	// retained 2 x 4/6 = 4/3 (min expected 2/3 < 5: flagged by min_expected_count).
	//   Retail:   (1 - 2/3)^2/(2/3) + (1 - 4/3)^2/(4/3) = 1/6 + 1/12 = 1/4
	//   FinTech:  (0 - 2/3)^2/(2/3) + (2 - 4/3)^2/(4/3) = 2/3 + 1/3 = 1
	//   Software: as Retail = 1/4
	// chi2 = 1.5; df = (3 - 1) x (2 - 1) = 2; p = exp(-1.5/2) = 0.472367; Cramer's V = sqrt(1.5 / (6 x 1)) = 0.5.
	ch := v["industry/logo_churn"]
	near(t, "industry/logo_churn chi2", num(t, ch, "statistic"), 1.5)
	near(t, "industry/logo_churn df", num(t, ch, "df"), 2)
	near(t, "industry/logo_churn p", num(t, ch, "p_value"), math.Exp(-0.75))
	near(t, "industry/logo_churn V", num(t, ch, "effect_size"), 0.5)
	near(t, "industry/logo_churn min expected", num(t, ch, "min_expected_count"), 2.0/3)
	if str(ch, "test_name") != "chi_square" || str(ch, "effect_size_name") != "cramers_v" {
		t.Errorf("industry/logo_churn: %v", ch)
	}

	// Small-segment exclusion, size_band x logo_churn: Enterprise has one base customer (M5) < 2:
	// left out and listed. 2 x 2 table: SMB M1 kept, M2 and M6 churned (2 of 3); Mid-market M3, M4
	// kept (0 of 2). N = 5, churned 2, retained 3.
	// Expected: SMB churned 3 x 2/5 = 1.2, retained 3 x 3/5 = 1.8; Mid-market 0.8 and 1.2.
	// chi2 = 0.8^2/1.2 + 0.8^2/1.8 + 0.8^2/0.8 + 0.8^2/1.2 = 0.64 x (1/1.2 + 1/1.8 + 1/0.8 + 1/1.2)
	//      = 0.64 x 3.472222 = 2.222222 = 20/9; df 1; p = P(chi2_1 >= 20/9) = erfc(sqrt(20/9 / 2))
	//      = 0.136037; V = sqrt((20/9) / 5) = 2/3. Had Enterprise (0 of 1) been kept: a 3 x 2 table.
	sb := v["size_band/logo_churn"]
	near(t, "size_band/logo_churn chi2", num(t, sb, "statistic"), 20.0/9)
	near(t, "size_band/logo_churn df", num(t, sb, "df"), 1)
	near(t, "size_band/logo_churn p", num(t, sb, "p_value"), math.Erfc(math.Sqrt(10.0/9)))
	near(t, "size_band/logo_churn V", num(t, sb, "effect_size"), 2.0/3)
	near(t, "size_band/logo_churn min expected", num(t, sb, "min_expected_count"), 0.8)
	near(t, "size_band/logo_churn n", num(t, sb, "n"), 5)
	if got := str(sb, "small"); got != "Enterprise" {
		t.Errorf("size_band/logo_churn small_segments = %q, want Enterprise", got)
	}
	if str(sb, "verdict") != "no material difference" {
		t.Errorf("size_band/logo_churn verdict %s", str(sb, "verdict"))
	}

	// A significant one, size_band x ltv (Enterprise M5 again left out). LTVs: SMB M9 800, M10 900,
	// M11 900, M2 5,000, M7 7,700, M6 8,800, M1 18,000; Mid-market M8 15,000, M3 42,000, M4 54,000.
	// Ranks (N = 10): 800 -> 1; 900, 900 -> 2.5 each; 5,000 -> 4; 7,700 -> 5; 8,800 -> 6;
	// 15,000 -> 7; 18,000 -> 8; 42,000 -> 9; 54,000 -> 10. R_SMB = 1 + 2.5 + 2.5 + 4 + 5 + 6 + 8 = 29
	// (n 7), R_MM = 7 + 9 + 10 = 26 (n 3).
	// H = 12 / 110 x (29^2/7 + 26^2/3) - 33 = 12/110 x 7255/21 - 33 = 10830/2310 = 4.688312;
	// tie correction 1 - 6/990 = 984/990 -> H = 4.716899; df 1; p = erfc(sqrt(H/2)) = 0.029868 < 0.05.
	hl := (10830.0 / 2310) / (984.0 / 990)
	sl := v["size_band/ltv"]
	near(t, "size_band/ltv H", num(t, sl, "statistic"), hl)
	near(t, "size_band/ltv p", num(t, sl, "p_value"), math.Erfc(math.Sqrt(hl/2)))
	near(t, "size_band/ltv epsilon^2", num(t, sl, "effect_size"), hl/9)
	if str(sl, "significant") != "true" || str(sl, "verdict") != "segments differ" {
		t.Errorf("size_band/ltv: significant %s, verdict %s", str(sl, "significant"), str(sl, "verdict"))
	}

	// arr_band x logo_churn groups the base by its ARR band at the start: SMB M1, M2, M3, M6 (4);
	// Mid-market M4 (1) and Enterprise M5 (1) are small -> one segment left: not enough segments.
	ab := v["arr_band/logo_churn"]
	if str(ab, "verdict") != "not enough segments" || str(ab, "small") != "Enterprise,Mid-market" ||
		!math.IsNaN(num(t, ab, "p_value")) || num(t, ab, "segments_tested") != 1 {
		t.Errorf("arr_band/logo_churn: %v", ab)
	}

	// Pipeline segments, motion x win_rate: the deals closed at as_of (o10 closes after it: open),
	// every motion. new_business o1, o2, o3, o9 won, o4 lost (4 of 5); expansion o5, o7 won
	// (2 of 2); renewal o8 lost: 1 deal < 2, left out and listed. N = 7, won 6, lost 1.
	// Expected: new_business won 5 x 6/7 = 30/7, lost 5/7; expansion won 12/7, lost 2/7 (the
	// smallest expected count).
	// chi2 = (4 - 30/7)^2/(30/7) + (1 - 5/7)^2/(5/7) + (2 - 12/7)^2/(12/7) + (0 - 2/7)^2/(2/7)
	//      = 2/105 + 12/105 + 5/105 + 30/105 = 49/105 = 7/15; df 1; p = erfc(sqrt(7/30));
	// V = sqrt((7/15) / 7) = sqrt(1/15).
	wr := v["motion/win_rate"]
	near(t, "motion/win_rate chi2", num(t, wr, "statistic"), 7.0/15)
	near(t, "motion/win_rate df", num(t, wr, "df"), 1)
	near(t, "motion/win_rate p", num(t, wr, "p_value"), math.Erfc(math.Sqrt(7.0/30)))
	near(t, "motion/win_rate V", num(t, wr, "effect_size"), math.Sqrt(1.0/15))
	near(t, "motion/win_rate min expected", num(t, wr, "min_expected_count"), 2.0/7)
	near(t, "motion/win_rate n", num(t, wr, "n"), 7)
	if str(wr, "test_name") != "chi_square" || str(wr, "effect_size_name") != "cramers_v" || str(wr, "small") != "renewal" ||
		str(wr, "verdict") != "no material difference" {
		t.Errorf("motion/win_rate: %v", wr)
	}
	// motion x sales_cycle, the won deals' days: new_business o1 61, o2 42, o3 30, o9 183
	// (2023-06-01 -> 12-01); expansion o5 30, o7 60. Ranks (N = 6): 30, 30 -> 1.5 each; 42 -> 3;
	// 60 -> 4; 61 -> 5; 183 -> 6. R_nb = 1.5 + 3 + 5 + 6 = 15.5 (n 4), R_ex = 1.5 + 4 = 5.5 (n 2).
	// H = 12 / 42 x (15.5^2/4 + 5.5^2/2) - 21 = (2/7) x 1203/16 - 21 = 27/56; tie correction
	// 1 - 6/210 = 204/210 -> H = (27/56) x (210/204) = 0.496324; df 1; epsilon^2 = H / 5.
	hc := (27.0 / 56) * (210.0 / 204)
	sc := v["motion/sales_cycle"]
	near(t, "motion/sales_cycle H", num(t, sc, "statistic"), hc)
	near(t, "motion/sales_cycle p", num(t, sc, "p_value"), math.Erfc(math.Sqrt(hc/2)))
	near(t, "motion/sales_cycle epsilon^2", num(t, sc, "effect_size"), hc/5)
	near(t, "motion/sales_cycle n", num(t, sc, "n"), 6)
	if str(sc, "test_name") != "kruskal_wallis" || str(sc, "small") != "" {
		t.Errorf("motion/sales_cycle: %v", sc)
	}
	if !assertionsPass(t, s)["assert_segment_validation"] {
		t.Error("assert_segment_validation did not run")
	}
}

// The default correction: every test of the table is one family, and significant is decided on
// the Benjamini-Hochberg q-value. On the fixture the only raw p below 0.05 is size_band/ltv
// (0.029868, asserted above); with the table's m tests its q is min over j of p_(j) x m / j, 0.05
// or more here, so it no longer counts as a difference. The q-values equal an independent BH of the table's p-values.
func TestSegmentValidationBenjaminiHochberg(t *testing.T) {
	s := buildFixture(t, "metrics", metricsAsOf, func(c *config.Config) {
		c.Segments.LTV.Method = "realized"
		c.Segments.Validation.MinSegmentSize = 2
	})
	rows, err := s.Query(t.Context(), `select dimension || '/' || metric as k, p_value, q_value, significant, verdict
		from segment_validation where p_value is not null order by k`)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, len(rows))
	for i, r := range rows {
		p[i] = r.Float("p_value")
	}
	below := 0
	for i, q := range bhAdjust(p) {
		r := rows[i]
		if got := r.Float("q_value"); math.Abs(got-q) > 1e-12 {
			t.Errorf("%s q_value = %.12g, want %.12g", str(r, "k"), got, q)
		}
		if p[i] < 0.05 {
			below++
		}
		if want := q < 0.05; (str(r, "significant") == "true") != want {
			t.Errorf("%s significant %s with q %.6g", str(r, "k"), str(r, "significant"), q)
		}
	}
	if below == 0 {
		t.Fatal("the fixture has no raw p below 0.05: the correction is not exercised")
	}
	for _, r := range rows {
		if str(r, "k") == "size_band/ltv" {
			if str(r, "verdict") != "no material difference" {
				t.Errorf("size_band/ltv verdict %s after the correction", str(r, "verdict"))
			}
		}
	}
	if !assertionsPass(t, s)["assert_segment_validation"] {
		t.Error("assert_segment_validation did not run")
	}
}

// With the default validation_min_segment_size (30) every segment of the fixture is small: no test
// runs, and every named segment is listed (Unknown never is).
func TestSegmentValidationSmallSegments(t *testing.T) {
	s := buildFixture(t, "metrics", metricsAsOf, nil)
	v := rowsBy(t, s, `select dimension || '/' || metric as k, *, array_to_string(small_segments, ',') as small from segment_validation`)
	for k, r := range v {
		if str(r, "verdict") != "not enough segments" || str(r, "significant") != "false" || !math.IsNaN(num(t, r, "p_value")) {
			t.Errorf("%s: %v", k, r)
		}
	}
	// Active customers by region: NA 4, EMEA 2, APAC 2, Unknown 1 (M11, not listed).
	if got := str(v["region/arr"], "small"); got != "APAC,EMEA,NA" {
		t.Errorf("region/arr small_segments = %q, want APAC,EMEA,NA", got)
	}
	near(t, "region/arr segments_tested", num(t, v["region/arr"], "segments_tested"), 0)
}
