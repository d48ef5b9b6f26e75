package warehouse

import (
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
)

// Hand-computed from internal/warehouse/testdata/icp_raw.sql, as of 2025-06-30 (domain.md section 6).
// icpMutate: LTV = realized revenue (what each paid), a trait needs 2 customers of the group
// (the default 5 is more than this fixture's groups hold; TestICPDefaultThresholds uses it), and
// the raw p-values decide (validation.correction none): the tests below check the thresholds on
// hand-computed p-values; TestICPBenjaminiHochberg checks the default correction.
//
// Customers (realized LTV, tenure, status) and their attributes:
//
//	E1  100,000 12m active  FinTech    500 Mid-market 500-1999 NA   enterprise outbound
//	E2   90,000 12m active  FinTech    300 Mid-market 200-499  EMEA business   partner
//	E3   50,000 12m active  Software   250 Mid-market 200-499  NA   business   inbound
//	E4   40,000 12m active  Software  2500 Enterprise 2000+    NA   enterprise outbound
//	E5   30,000 12m active  Healthcare 100 SMB        50-199   EMEA growth     inbound
//	E6   20,000 12m active  Healthcare  60 SMB        50-199   APAC growth     inbound
//	E7   15,000 12m active  Retail     150 SMB        50-199   NA   growth     inbound
//	E8    8,000  5m churned Retail      10 SMB        1-19     NA   starter    campaign
//	E9    5,000 12m active  Retail      12 SMB        1-19     EMEA starter    inbound
//	E10   3,000  4m churned Software    15 SMB        1-19     NA   starter    campaign
//	Y1  500,000  5m active  Retail       5 SMB        1-19     NA   growth     inbound
//
// Tenure: active E* invoiced from 2024-06-01: 395 days to cutoff 2025-07-01 = 12.98 -> 12 months.
// Y1 from 2025-01-01: 181 days -> 5 months < 12 and active: NOT eligible (with it, its 500,000
// would top the ranking). E8 and E10 are eligible because churned. Eligible base: E1-E10 (10).
// Quintiles recomputed within the base (10 / 5 = 2 each, by LTV desc): q1 {E1, E2}, q2 {E3, E4},
// q3 {E5, E6}, q4 {E7, E8}, q5 {E9, E10}.
// icp group = q1 = {E1, E2} (2); anti_icp group = q5 or churned = {E9, E10} + {E8} = 3 (E10 once).
func icpMutate(c *config.Config) {
	c.Segments.LTV.Method = "realized"
	c.Segments.ICP.MinCustomers = 2
	c.Segments.Validation.Correction = "none"
}

// bhAdjust is the Benjamini-Hochberg step-up adjustment written independently of the SQL (as
// R's p.adjust(method = "BH")): sorted descending, q = cumulative min of p x m / rank, at most 1.
func bhAdjust(p []float64) []float64 {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	q := make([]float64, m)
	run := 1.0
	for k, i := range idx {
		rank := m - k
		run = math.Min(run, p[i]*float64(m)/float64(rank))
		q[i] = run
	}
	return q
}

// Benjamini-Hochberg on the same fixture, the default correction. Each group tests its 23
// values (every one has a p-value). ICP: FinTech p 0.0015654 is rank 1: q = 0.0015654 x 23 / 1
// = 0.0360043 (every later p x 23 / j is larger: Mid-market 0.0157253 x 23 / 2 = 0.180841,
// 500-1999 0.0350150 x 23 / 3 = 0.268448, ...), below 0.05: still a trait. Mid-market's q is
// 0.180841 or more: no longer a trait, though its raw p 0.0157 was. Anti-ICP: 1-19 and starter
// tie at p 0.0015654, ranks 1 and 2: both q = 0.0015654 x 23 / 2 = 0.0180022, traits;
// campaign (p 0.0157253, rank 3) q >= 0.0157253 x 23 / 3 = 0.120560: no longer a trait.
// Three traits instead of five, and the ICP fit now scores on industry alone.
func TestICPBenjaminiHochberg(t *testing.T) {
	s := buildFixture(t, "icp", "2025-06-30", func(c *config.Config) {
		c.Segments.LTV.Method = "realized"
		c.Segments.ICP.MinCustomers = 2
	})
	rows, err := s.Query(t.Context(), `select icp_group || ' ' || attribute || '=' || value as k, icp_group, p_value, q_value, is_trait
		from int_icp_profile order by icp_group, attribute, value`)
	if err != nil {
		t.Fatal(err)
	}
	byGroup := map[string][]int{}
	for i, r := range rows {
		byGroup[str(r, "icp_group")] = append(byGroup[str(r, "icp_group")], i)
	}
	for g, ix := range byGroup {
		if len(ix) != 23 {
			t.Errorf("%s: %d values tested, want 23", g, len(ix))
		}
		p := make([]float64, len(ix))
		for k, i := range ix {
			p[k] = rows[i].Float("p_value")
		}
		for k, q := range bhAdjust(p) {
			r := rows[ix[k]]
			if got := r.Float("q_value"); math.Abs(got-q) > 1e-12 {
				t.Errorf("%s q_value = %.12g, want %.12g (p %.6g)", str(r, "k"), got, q, p[k])
			}
		}
	}
	by := map[string]Row{}
	for _, r := range rows {
		by[str(r, "k")] = r
	}
	for k, w := range map[string]float64{
		"icp industry=FinTech":         0.0015654022580025 * 23,
		"anti_icp employee_range=1-19": 0.0015654022580025 * 23 / 2,
		"anti_icp plan=starter":        0.0015654022580025 * 23 / 2,
	} {
		if got := by[k].Float("q_value"); math.Abs(got-w) > 1e-9 {
			t.Errorf("%s q_value = %.9g, want %.9g", k, got, w)
		}
	}
	for k, floor := range map[string]float64{"icp size_band=Mid-market": 0.0157252997545054 * 23 / 2, "anti_icp first_deal_source=campaign": 0.0157252997545054 * 23 / 3} {
		if got := by[k].Float("q_value"); got < floor-1e-9 {
			t.Errorf("%s q_value = %.9g, want at least %.9g", k, got, floor)
		}
	}
	var traits []string
	for _, r := range rows {
		if str(r, "is_trait") == "true" {
			traits = append(traits, str(r, "k"))
		}
	}
	if want := "anti_icp employee_range=1-19,anti_icp plan=starter,icp industry=FinTech"; strings.Join(traits, ",") != want {
		t.Errorf("traits %v, want %s", traits, want)
	}
	runICPAssertions(t, s)
}

// normalP is the two-sided normal p-value, computed in Go to check the SQL macro's result.
func normalP(z float64) float64 { return math.Erfc(math.Abs(z) / math.Sqrt2) }

func TestICPProfile(t *testing.T) {
	s := buildFixture(t, "icp", "2025-06-30", icpMutate)
	rows := rowsBy(t, s, `select icp_group || ' ' || attribute || '=' || value as k, * from int_icp_profile`)
	type want struct {
		groupCustomers, groupSize, baseCustomers, baseSize float64
		shareGroup, shareBase, shareRest, lift, liftRest   float64
		z, p                                               float64
		trait                                              bool
		rank                                               float64
	}
	inf := math.NaN() // lift_vs_rest is NULL when nobody outside the group has the value
	cases := map[string]want{
		// ICP industry=FinTech: E1, E2 = 2 of 2 in the group; 2 of 10 in the base; rest 0 of 8.
		// p1 = 1, p2 = 0, pooled p = 2/10 = 0.2, SE = sqrt(0.2 x 0.8 x (1/2 + 1/8)) = sqrt(0.1)
		// = 0.316228; z = (1 - 0) / 0.316228 = 3.162278; p-value = 2 (1 - Phi(3.162278)) = erfc(sqrt(5))
		// = 0.0015654. lift = 1 / 0.2 = 5; a trait (lift_vs_rest infinite, p < 0.05, 2 >= 2).
		"icp industry=FinTech": {2, 2, 2, 10, 1, 0.2, 0, 5, inf, math.Sqrt(10), 0.0015654022580025, true, 1},
		// ICP size_band=Mid-market: E1, E2 of 2; base E1, E2, E3 = 3 of 10; rest E3 = 1 of 8.
		// p1 = 1, p2 = 0.125, pooled 0.3, SE = sqrt(0.3 x 0.7 x 0.625) = sqrt(0.13125) = 0.362284;
		// z = 0.875 / 0.362284 = 2.415229; p-value = 0.0157253. lift = 1 / 0.3 = 3.333,
		// lift_vs_rest = 1 / 0.125 = 8: a trait, second (lower lift than FinTech).
		"icp size_band=Mid-market": {2, 2, 3, 10, 1, 0.3, 0.125, 1 / 0.3, 8, 0.875 / math.Sqrt(0.13125), 0.0157252997545054, true, 2},
		// ICP employee_range=500-1999: E1 only, 1 of 2; base 1 of 10; rest 0 of 8. pooled 0.1,
		// SE = sqrt(0.1 x 0.9 x 0.625) = sqrt(0.05625) = 0.237171; z = 0.5 / 0.237171 = 2.108185;
		// p-value 0.0350150 < 0.05 and lift 5, but 1 customer < icp_min_customers 2: NOT a trait.
		"icp employee_range=500-1999": {1, 2, 1, 10, 0.5, 0.1, 0, 5, inf, 0.5 / math.Sqrt(0.05625), 0.0350149810196625, false, 3},
		// ICP region=NA: E1 of 2; base 6 (E1 E3 E4 E7 E8 E10); rest 5 of 8. pooled 0.6,
		// SE = sqrt(0.24 x 0.625) = sqrt(0.15); z = (0.5 - 0.625) / 0.387298 = -0.322749.
		"icp region=NA": {1, 2, 6, 10, 0.5, 0.6, 0.625, 0.5 / 0.6, 0.8, -0.125 / math.Sqrt(0.15), normalP(-0.125 / math.Sqrt(0.15)), false, 10},
		// Anti employee_range=1-19: E8, E9, E10 = 3 of 3; base the same 3 of 10; rest 0 of 7.
		// p1 = 1, p2 = 0, pooled 0.3, SE = sqrt(0.3 x 0.7 x (1/3 + 1/7)) = sqrt(0.21 x 10/21)
		// = sqrt(0.1); z = 3.162278, p-value 0.0015654; lift = 1 / 0.3 = 3.333: a trait, first
		// (equal lift and p with plan=starter, attribute name breaks the tie).
		"anti_icp employee_range=1-19": {3, 3, 3, 10, 1, 0.3, 0, 1 / 0.3, inf, math.Sqrt(10), 0.0015654022580025, true, 1},
		"anti_icp plan=starter":        {3, 3, 3, 10, 1, 0.3, 0, 1 / 0.3, inf, math.Sqrt(10), 0.0015654022580025, true, 2},
		// Anti first_deal_source=campaign: E8, E10 = 2 of 3; base 2 of 10; rest 0 of 7. pooled 0.2,
		// SE = sqrt(0.16 x 10/21) = 0.276026; z = 0.666667 / 0.276026 = 2.415229; p 0.0157253.
		// lift = (2/3) / 0.2 = 3.333 (as 1-19, to 6 decimals) but a larger p: third.
		"anti_icp first_deal_source=campaign": {2, 3, 2, 10, 2.0 / 3, 0.2, 0, (2.0 / 3) / 0.2, inf, (2.0 / 3) / math.Sqrt(0.16*10/21), 0.0157252997545054, true, 3},
		// Anti industry=Retail: E8, E9 = 2 of 3; base E7, E8, E9 = 3 of 10; rest E7 = 1 of 7.
		// p1 = 0.666667, p2 = 0.142857, pooled 0.3, SE = sqrt(0.1) = 0.316228;
		// z = (2/3 - 1/7) / 0.316228 = 0.523810 / 0.316228 = 1.656431; p-value = 0.0976345.
		// lift = (2/3) / 0.3 = 2.222, lift_vs_rest = (2/3) / (1/7) = 4.667, 2 customers: passes
		// lift and min customers but NOT significant at 0.05: not a trait.
		"anti_icp industry=Retail": {2, 3, 3, 10, 2.0 / 3, 0.3, 1.0 / 7, (2.0 / 3) / 0.3, 14.0 / 3, (2.0/3 - 1.0/7) / math.Sqrt(0.1), 0.0976345361407196, false, 4},
		// Anti size_band=SMB: E8, E9, E10 = 3 of 3; base E5-E10 = 6 of 10; rest 3 of 7.
		// pooled 0.6, SE = sqrt(0.24 x 10/21) = 0.338062; z = (1 - 3/7) / 0.338062 = 1.690309;
		// p-value 0.0909689: not a trait. lift 1 / 0.6 = 1.667, lift_vs_rest 7/3.
		"anti_icp size_band=SMB": {3, 3, 6, 10, 1, 0.6, 3.0 / 7, 1 / 0.6, 7.0 / 3, (4.0 / 7) / math.Sqrt(0.24*10/21), 0.0909689479753578, false, 5},
	}
	for k, w := range cases {
		r, ok := rows[k]
		if !ok {
			t.Errorf("no int_icp_profile row %q", k)
			continue
		}
		for col, v := range map[string]float64{
			"group_customers": w.groupCustomers, "group_size": w.groupSize, "base_customers": w.baseCustomers,
			"base_size": w.baseSize, "share_in_group": w.shareGroup, "share_in_base": w.shareBase,
			"share_in_rest": w.shareRest, "lift": w.lift, "lift_vs_rest": w.liftRest, "z_statistic": w.z,
			"rank_in_group": w.rank,
		} {
			near(t, k+" "+col, num(t, r, col), v)
		}
		if got := num(t, r, "p_value"); math.Abs(got-w.p) > 1e-9 {
			t.Errorf("%s p_value = %.12g, want %.12g", k, got, w.p)
		}
		if math.Abs(normalP(w.z)-w.p) > 1e-12 {
			t.Errorf("%s: the hand-computed p %.12g disagrees with erfc: %.12g", k, w.p, normalP(w.z))
		}
		if got := str(r, "is_trait"); got != map[bool]string{true: "true", false: "false"}[w.trait] {
			t.Errorf("%s is_trait = %s, want %v", k, got, w.trait)
		}
		if got := str(r, "test_name"); got != "two-proportion z-test (group vs rest of eligible base), two-sided" {
			t.Errorf("%s test_name = %s", k, got)
		}
	}
	// Exactly these traits: ICP {FinTech, Mid-market}, anti-ICP {1-19, starter, campaign}.
	traits := rowsBy(t, s, `select icp_group || ' ' || attribute || '=' || value as k from int_icp_profile where is_trait`)
	if len(traits) != 5 {
		t.Errorf("traits %v, want 5", traits)
	}
	// Every value of the base appears in both groups: 4 industries + 3 size bands + 5 employee
	// ranges + 3 regions + 4 plans + 4 sources = 23 rows per group (no 20-49 in the base).
	// The marts are the two halves, one row per attribute x value.
	for _, m := range []string{"icp_profile", "anti_icp_profile"} {
		n := rowsBy(t, s, `select count(*) as n, count(distinct attribute || '=' || value) as d, min(as_of)::varchar as a from `+m)
		for _, r := range n {
			if num(t, r, "n") != 23 || num(t, r, "d") != 23 || str(r, "a") != "2025-06-30" {
				t.Errorf("%s: %v, want 23 distinct rows as of 2025-06-30", m, r)
			}
		}
	}
	mart := rowsBy(t, s, `select attribute || '=' || value as k, lift, p_value, is_trait from anti_icp_profile`)
	near(t, "anti_icp_profile Retail lift", num(t, mart["industry=Retail"], "lift"), (2.0/3)/0.3)
	if str(mart["employee_range=1-19"], "is_trait") != "true" {
		t.Error("anti_icp_profile: employee_range=1-19 is not a trait")
	}
}

func TestICPAttributes(t *testing.T) {
	s := buildFixture(t, "icp", "2025-06-30", icpMutate)
	a := rowsBy(t, s, `select account_id || ' ' || attribute as k, value from int_icp_attributes`)
	// 14 accounts x 6 attributes.
	if len(a) != 14*6 {
		t.Errorf("int_icp_attributes has %d rows, want 84", len(a))
	}
	for k, v := range map[string]string{
		// E1: two active subscriptions, enterprise ($7,000) and a later growth add-on ($1,000): the
		// largest active one gives the plan. First won deal outbound (May 2024), not the later inbound.
		"E1 plan": "enterprise", "E1 first_deal_source": "outbound", "E1 employee_range": "500-1999",
		"E1 size_band": "Mid-market", "E1 industry": "FinTech", "E1 region": "NA",
		// E8: nothing active; its last subscription (starter, from 2024-04-01) gives the plan.
		"E8 plan": "starter", "E8 first_deal_source": "campaign", "E8 employee_range": "1-19",
		// E9's lost outbound deal does not count: its first WON deal is inbound.
		"E9 first_deal_source": "inbound",
		// Band edges: 2,500 -> 2000+, 250 -> 200-499, 60 -> 50-199.
		"E4 employee_range": "2000+", "E3 employee_range": "200-499", "E6 employee_range": "50-199",
		// P3: no employee count, no subscription, no won deal.
		"P3 employee_range": "Unknown", "P3 size_band": "Unknown", "P3 plan": "Unknown",
		"P3 first_deal_source": "Unknown", "P3 industry": "FinTech", "P3 region": "LATAM",
	} {
		if got := str(a[k], "value"); got != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}

	// The range names come from the config's bounds: [1, 10, 100] -> 1-9, 10-99, 100+.
	s2 := buildFixture(t, "icp", "2025-06-30", func(c *config.Config) {
		icpMutate(c)
		c.Segments.ICP.EmployeeRanges = []float64{1, 10, 100}
	})
	b := rowsBy(t, s2, `select account_id, value from int_icp_attributes where attribute = 'employee_range'`)
	for id, v := range map[string]string{"P2": "1-9", "E8": "10-99", "E7": "100+", "E1": "100+", "P3": "Unknown"} {
		if got := str(b[id], "value"); got != v {
			t.Errorf("ranges [1, 10, 100]: %s employee_range = %s, want %s", id, got, v)
		}
	}
}

func TestICPFit(t *testing.T) {
	s := buildFixture(t, "icp", "2025-06-30", icpMutate)
	f := rowsBy(t, s, `select account_id, icp_fit_score, icp_attributes_matched, icp_attributes_scored, is_icp, is_anti_icp,
		array_to_string(icp_traits_matched, ',') as icp_traits, array_to_string(anti_icp_traits_matched, ',') as anti_traits
		from int_icp_fit`)
	if len(f) != 14 {
		t.Fatalf("int_icp_fit has %d rows, want one per account (14)", len(f))
	}
	// ICP traits are in 2 attributes (industry, size_band): a known value in both scores 2.
	// Anti-ICP traits: employee_range=1-19, plan=starter, first_deal_source=campaign.
	type want struct {
		score, matched, scored float64
		icp, anti              string
		icpTraits, antiTraits  string
	}
	for id, w := range map[string]want{
		"E1": {1, 2, 2, "true", "false", "industry=FinTech,size_band=Mid-market", ""},
		"E2": {1, 2, 2, "true", "false", "industry=FinTech,size_band=Mid-market", ""},
		// E3: Mid-market Software: 1 of 2 = 0.5 >= icp_min_fit 0.5.
		"E3": {0.5, 1, 2, "true", "false", "size_band=Mid-market", ""},
		"E4": {0, 0, 2, "false", "false", "", ""},
		"E5": {0, 0, 2, "false", "false", "", ""},
		"E8": {0, 0, 2, "false", "true", "", "employee_range=1-19,first_deal_source=campaign,plan=starter"},
		"E9": {0, 0, 2, "false", "true", "", "employee_range=1-19,plan=starter"},
		// Y1 is out of the ICP base but still scored: 5 employees -> anti-ICP.
		"Y1": {0, 0, 2, "false", "true", "", "employee_range=1-19"},
		// P1 (prospect): FinTech, 800 employees: 2 of 2; its plan and source are Unknown (not scored).
		"P1": {1, 2, 2, "true", "false", "industry=FinTech,size_band=Mid-market", ""},
		"P2": {0, 0, 2, "false", "true", "", "employee_range=1-19"},
		// P3: size unknown: only industry is scored, 1 of 1.
		"P3": {1, 1, 1, "true", "false", "industry=FinTech", ""},
	} {
		r := f[id]
		near(t, id+" icp_fit_score", num(t, r, "icp_fit_score"), w.score)
		near(t, id+" matched", num(t, r, "icp_attributes_matched"), w.matched)
		near(t, id+" scored", num(t, r, "icp_attributes_scored"), w.scored)
		for col, v := range map[string]string{"is_icp": w.icp, "is_anti_icp": w.anti, "icp_traits": w.icpTraits, "anti_traits": w.antiTraits} {
			if got := str(r, col); got != v {
				t.Errorf("%s %s = %s, want %s", id, col, got, v)
			}
		}
	}
}

func TestProspectFit(t *testing.T) {
	s := buildFixture(t, "icp", "2025-06-30", icpMutate)
	p := rowsBy(t, s, `select opportunity_id, * exclude (opportunity_id) from prospect_fit`)
	// Open at as_of: oP1, oP2, oP3, oE3, oE5, oNA and oLate (lost after as_of); xP1 and the won
	// deals are closed.
	if len(p) != 7 {
		t.Fatalf("prospect_fit has %d rows, want 7", len(p))
	}
	type want struct {
		account, tier, status, rec string
		fit                        float64
		icp, anti                  string
	}
	for id, w := range map[string]want{
		// P1 fits (FinTech Mid-market): pursue; 60,000 is a Mid-market deal (25,000-150,000).
		"oP1": {"P1", "Mid-market", "prospect", "pursue", 1, "true", "false"},
		// P2 has 5 employees (1-19, an anti-ICP trait): avoid; also its deal lost after as_of.
		"oP2":   {"P2", "SMB", "prospect", "avoid", 0, "false", "true"},
		"oLate": {"P2", "SMB", "prospect", "avoid", 0, "false", "true"},
		"oP3":   {"P3", "Enterprise", "prospect", "pursue", 1, "true", "false"},
		// Existing customers' open deals are scored the same way.
		"oE3": {"E3", "Mid-market", "active", "pursue", 0.5, "true", "false"},
		"oE5": {"E5", "SMB", "active", "review", 0, "false", "false"},
		// No account: nothing is known: fit NULL, review.
		"oNA": {"<nil>", "SMB", "<nil>", "review", math.NaN(), "<nil>", "<nil>"},
	} {
		r := p[id]
		for col, v := range map[string]string{"account_id": w.account, "deal_size_tier": w.tier, "customer_status": w.status,
			"recommendation": w.rec, "is_icp": w.icp, "is_anti_icp": w.anti} {
			if got := str(r, col); got != v {
				t.Errorf("%s %s = %s, want %s", id, col, got, v)
			}
		}
		near(t, id+" icp_fit_score", num(t, r, "icp_fit_score"), w.fit)
	}
	if got := str(p["oLate"], "stage"); got != "<nil>" {
		t.Errorf("oLate stage = %s, want NULL (closed after as_of, open stage unknown)", got)
	}
}

// With the default icp_min_customers (5), no value is held by 5 customers of a 2- or 3-customer
// group: no trait at all, so no fit can be scored and every open deal is 'review'.
func TestICPDefaultThresholds(t *testing.T) {
	s := buildFixture(t, "icp", "2025-06-30", func(c *config.Config) { c.Segments.LTV.Method = "realized" })
	r := rowsBy(t, s, `select 1, (select count(*) from int_icp_profile where is_trait) as traits,
		(select count(*) from int_icp_fit where icp_fit_score is not null or is_icp or is_anti_icp) as scored,
		(select count(*) from prospect_fit where recommendation <> 'review') as not_review`)["1"]
	for _, col := range []string{"traits", "scored", "not_review"} {
		near(t, col, num(t, r, col), 0)
	}
}

// Zero variance and an empty rest. With icp_min_tenure_months 100 only the churned E8 (8,000)
// and E10 (3,000) are eligible: quintiles q1 {E8}, q2 {E10}. icp = {E8}; anti_icp = churned =
// {E8, E10}, the whole base, so it has no rest to compare with: z and p NULL.
func TestICPZeroVariance(t *testing.T) {
	s := buildFixture(t, "icp", "2025-06-30", func(c *config.Config) {
		icpMutate(c)
		c.Segments.ICP.MinTenureMonths = 100
	})
	rows := rowsBy(t, s, `select icp_group || ' ' || attribute || '=' || value as k, * from int_icp_profile`)
	// icp size_band=SMB: both base customers are SMB: pooled p = 1, SE = 0: z NULL, p-value 1.
	smb := rows["icp size_band=SMB"]
	near(t, "SMB z", num(t, smb, "z_statistic"), math.NaN())
	near(t, "SMB p", num(t, smb, "p_value"), 1)
	near(t, "SMB lift", num(t, smb, "lift"), 1)
	// icp industry=Retail: E8 1 of 1; base 1 of 2; rest 0 of 1. pooled 0.5,
	// SE = sqrt(0.25 x (1 + 1)) = 0.707107; z = 1 / 0.707107 = 1.414214; p = erfc(1) = 0.157299.
	ret := rows["icp industry=Retail"]
	near(t, "Retail z", num(t, ret, "z_statistic"), math.Sqrt2)
	if got := num(t, ret, "p_value"); math.Abs(got-0.157299207050285) > 1e-9 {
		t.Errorf("Retail p = %v, want 0.157299", got)
	}
	for k, r := range rows {
		if strings.HasPrefix(k, "anti_icp ") {
			near(t, k+" group_size", num(t, r, "group_size"), 2)
			near(t, k+" z", num(t, r, "z_statistic"), math.NaN())
			near(t, k+" p", num(t, r, "p_value"), math.NaN())
			if str(r, "is_trait") != "false" {
				t.Errorf("%s is a trait without a test", k)
			}
		}
	}
	// The assertions hold on these edge cases too.
	runICPAssertions(t, s)
}

func TestICPAssertionsPass(t *testing.T) {
	runICPAssertions(t, buildFixture(t, "icp", "2025-06-30", icpMutate))
	runICPAssertions(t, buildFixture(t, "icp", "2025-06-30", nil))
	// The ICP models build on the other fixtures too (e.g. no customer old enough).
	runICPAssertions(t, buildFixture(t, "basic", "2025-06-30", nil))
}

func runICPAssertions(t *testing.T, s *Session) {
	t.Helper()
	names := assertionsPass(t, s)
	for _, n := range []string{"assert_icp_profile", "assert_icp_attributes", "assert_icp_fit", "assert_prospect_fit"} {
		if !names[n] {
			t.Errorf("assertion %s did not run (ran %v)", n, names)
		}
	}
}
