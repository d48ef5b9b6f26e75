package config

import "fmt"

// Segments holds the thresholds of the segmentation rules (docs/configuration.md cites domain.md).
// Each key is a knob of the table below: its default, range, DuckDB variables and docs row.
type Segments struct {
	SizeBands  []Band      `yaml:"size_bands"`
	ARRBands   []Band      `yaml:"arr_bands"`
	Adoption   Adoption    `yaml:"adoption"`
	LTV        LTV         `yaml:"ltv"`
	ICP        ICP         `yaml:"icp"`
	Tiers      Tiers       `yaml:"tiers"`
	Pipeline   Pipeline    `yaml:"pipeline"`
	Validation Validation  `yaml:"validation"`
	Usage      UsageRules  `yaml:"usage"`
	Support    SupportRule `yaml:"support"`
	ChurnRisk  ChurnRisk   `yaml:"churn_risk"`
	Expansion  Expansion   `yaml:"expansion"`
	Health     Health      `yaml:"health"`
	Metrics    Metrics     `yaml:"metrics"`
	Clusters   Clusters    `yaml:"clusters"`
}

// Band is a named half-open band [Min, next band's Min).
type Band struct {
	Name string  `yaml:"name"`
	Min  float64 `yaml:"min"`
}

// Adoption splits customers by tenure: early, growth, mature.
type Adoption struct {
	// EarlyDays: a customer is early for its first EarlyDays days.
	EarlyDays int `yaml:"early_days"`
	// MatureMonths: a customer is mature from this many months of tenure.
	MatureMonths int `yaml:"mature_months"`
}

// LTV configures the lifetime value formula.
type LTV struct {
	// Method is predictive or realized.
	Method string `yaml:"method"`
	// GrossMargin applied to future revenue, in (0, 1].
	GrossMargin float64 `yaml:"gross_margin"`
	// LifetimeCapMonths caps the expected remaining months.
	LifetimeCapMonths int `yaml:"lifetime_cap_months"`
	// ChurnWindowMonths is the number of trailing complete months the churn rate averages.
	ChurnWindowMonths int `yaml:"churn_window_months"`
	// ChurnSegment is the account_segments column whose segments' churn rates apply.
	ChurnSegment string `yaml:"churn_segment"`
}

// ICP configures the ideal customer profile analysis.
type ICP struct {
	// MinTenureMonths: customers younger than this (and not churned) are left out of ICP analysis.
	MinTenureMonths int `yaml:"min_tenure_months"`
	// MinLift flags an attribute value as an ICP or anti-ICP trait.
	MinLift float64 `yaml:"min_lift"`
	// MinCustomers: a trait needs at least this many customers of the group.
	MinCustomers int `yaml:"min_customers"`
	// MinFit: an account with at least this ICP fit score (0-1) and no anti-ICP trait is ICP.
	MinFit float64 `yaml:"min_fit"`
	// EmployeeRanges are the lower bounds of the finer employee ranges ICP analysis uses.
	EmployeeRanges []float64 `yaml:"employee_ranges"`
}

// Tiers holds the customer-success tier rules (domain.md section 7).
type Tiers struct {
	Tier1ARR          float64 `yaml:"tier1_arr"`
	Tier1StrategicARR float64 `yaml:"tier1_strategic_arr"`
	Tier1GrowthARR    float64 `yaml:"tier1_growth_arr"`
	Tier2MinARR       float64 `yaml:"tier2_min_arr"`
	Tier3MinARR       float64 `yaml:"tier3_min_arr"`
	// HighGrowthMultiple: expansion room (x current seats) that makes growth potential high.
	HighGrowthMultiple float64 `yaml:"high_growth_multiple"`
	// MediumGrowthMultiple: room that makes growth potential medium.
	MediumGrowthMultiple float64 `yaml:"medium_growth_multiple"`
	// AddressableSeatShare: the share of a company's employees that could become seats.
	AddressableSeatShare float64 `yaml:"addressable_seat_share"`
	// DefaultRenewalMonths: the renewal cycle a downgrade waits for when billing gives no date.
	DefaultRenewalMonths int `yaml:"default_renewal_months"`
	// ScoreWeights of the composite tier score: ARR, growth, strategic, health.
	ScoreWeights TierScoreWeights `yaml:"score_weights"`
	// Targets per tier: population and ARR shares, CSM coverage, success criteria.
	Targets []TierTarget `yaml:"targets"`
}

// TierScoreWeights weigh the composite tier score (domain.md section 7); they sum to 1.
type TierScoreWeights struct {
	ARR       float64 `yaml:"arr"`
	Growth    float64 `yaml:"growth"`
	Strategic float64 `yaml:"strategic"`
	Health    float64 `yaml:"health"`
}

// TierTarget is what a tier should look like (domain.md section 7); nil means no target.
type TierTarget struct {
	Tier              int      `yaml:"tier" json:"tier"`
	CustomersMin      *float64 `yaml:"customers_min" json:"customers_min"`
	CustomersMax      *float64 `yaml:"customers_max" json:"customers_max"`
	ARRMin            *float64 `yaml:"arr_min" json:"arr_min"`
	ARRMax            *float64 `yaml:"arr_max" json:"arr_max"`
	AccountsPerCSMMin *float64 `yaml:"accounts_per_csm_min" json:"accounts_per_csm_min"`
	AccountsPerCSMMax *float64 `yaml:"accounts_per_csm_max" json:"accounts_per_csm_max"`
	Retention         *float64 `yaml:"retention" json:"retention"`
	Expansion         *float64 `yaml:"expansion" json:"expansion"`
}

// Pipeline holds the opportunity segmentation rules (domain.md section 8).
type Pipeline struct {
	DealSizeTiers     []Band  `yaml:"deal_size_tiers"`
	InactiveDays      int     `yaml:"inactive_days"`
	AgingPercentile   float64 `yaml:"aging_percentile"`
	StalledPercentile float64 `yaml:"stalled_percentile"`
	// PriceList values an open deal without an amount: product name (matched case- and
	// space-insensitively) -> list amount in the reporting currency. Optional.
	PriceList map[string]float64 `yaml:"price_list"`
	// LostZeroAmountIsUnknown treats a lost deal's amount of 0 as unknown (CRMs often zero a
	// lost deal's amount): it is left out of averages and its deal-size tier is Unknown.
	LostZeroAmountIsUnknown bool `yaml:"lost_zero_amount_is_unknown"`
}

// Validation configures the segment validation tests.
type Validation struct {
	// MinSegmentSize: smaller segments are flagged too small to trust.
	MinSegmentSize int `yaml:"min_segment_size"`
	// Alpha is the significance level of the tests: the false discovery rate their
	// Benjamini-Hochberg q-values are held to, or the p-values' level with Correction "none".
	Alpha float64 `yaml:"alpha"`
	// Correction is the multiple-testing correction: "benjamini_hochberg" or "none".
	Correction string `yaml:"correction"`
}

// UsageRules classifies usage intensity from monthly active-user share.
type UsageRules struct {
	// WindowMonths: usage averages the trailing this many complete months.
	WindowMonths int `yaml:"window_months"`
	// PowerMinActiveShare: active users / seats at or above this is power use.
	PowerMinActiveShare float64 `yaml:"power_min_active_share"`
	// PowerMinFeatures: power use also needs this many features used (broad adoption).
	PowerMinFeatures int `yaml:"power_min_features"`
	// RegularMinActiveShare: at or above this is regular use.
	RegularMinActiveShare float64 `yaml:"regular_min_active_share"`
	// OccasionalMinActiveShare: at or above this is occasional use; below it inactive.
	OccasionalMinActiveShare float64 `yaml:"occasional_min_active_share"`
}

// SupportRule classifies support need by tickets per account per month.
type SupportRule struct {
	// WindowDays: tickets are counted over the trailing this many days.
	WindowDays                    int     `yaml:"window_days"`
	HighTicketsPerMonth           float64 `yaml:"high_tickets_per_month"`
	SelfSufficientTicketsPerMonth float64 `yaml:"self_sufficient_tickets_per_month"`
}

// ChurnRisk holds the churn-risk flags' thresholds (domain.md section 4).
type ChurnRisk struct {
	// UsageDrop: active users down by at least this share (window on window) flags risk.
	UsageDrop float64 `yaml:"usage_drop"`
	// FeatureDrop: features used down by at least this share flags risk.
	FeatureDrop float64 `yaml:"feature_drop"`
	// TicketRise: problem tickets at least this multiple of the window before flag risk ...
	TicketRise float64 `yaml:"ticket_rise"`
	// MinProblemTickets: ... when there are at least this many.
	MinProblemTickets int `yaml:"min_problem_tickets"`
	// LowCSAT: a mean CSAT below this flags risk.
	LowCSAT float64 `yaml:"low_csat"`
	// HighFlags: this many flags make the risk high (one is medium).
	HighFlags int `yaml:"high_flags"`
}

// Expansion holds the expansion signals' thresholds (domain.md section 4).
type Expansion struct {
	// SeatLimitShare: seats / seat limit at or above this is near the seat limit.
	SeatLimitShare float64 `yaml:"seat_limit_share"`
	// UsageGrowth: active users or events up by this share (window on window) signal expansion.
	UsageGrowth float64 `yaml:"usage_growth"`
	// EmployeesPerSeat: employees / seats at or above this is seat whitespace.
	EmployeesPerSeat float64 `yaml:"employees_per_seat"`
}

// Health weighs the health score's components; the weights sum to 1.
type Health struct {
	UsageWeight   float64 `yaml:"usage_weight"`
	SupportWeight float64 `yaml:"support_weight"`
	RiskWeight    float64 `yaml:"risk_weight"`
}

// Metrics configures the windows of the segment metrics and trends (domain.md section 9).
type Metrics struct {
	// CACWindowMonths: CAC divides the spend of the trailing this many months by the customers won.
	CACWindowMonths int `yaml:"cac_window_months"`
	// TrendQuarters: segment_trends covers this many quarters, the current one included.
	TrendQuarters int `yaml:"trend_quarters"`
}

// Clusters configures the natural clusters (k-means, domain.md section 12).
type Clusters struct {
	// Enabled runs the clustering; off, customer_clusters and cluster_profiles are empty.
	Enabled bool `yaml:"enabled"`
	// KMin and KMax bound the number of clusters tried; the one with the best silhouette wins.
	KMin int `yaml:"k_min"`
	KMax int `yaml:"k_max"`
	// Seed makes the k-means++ seeding and the samples reproducible.
	Seed int `yaml:"seed"`
	// Restarts of the k-means++ seeding per k (the lowest inertia kept).
	Restarts int `yaml:"restarts"`
	// FitSample: k is chosen on a sample of this many customers (all when fewer).
	FitSample int `yaml:"fit_sample"`
	// SilhouetteSample: the silhouette (O(n²)) is computed on this many of the fit sample.
	SilhouetteSample int `yaml:"silhouette_sample"`
	// MinCustomers: with fewer active customers no clusters are made (empty tables).
	MinCustomers int `yaml:"min_customers"`
}

// DefaultTierTargets are domain.md section 7's targets: population and ARR shares, accounts
// per CSM, and retention / expansion success criteria per tier.
func DefaultTierTargets() []TierTarget {
	f := func(v float64) *float64 { return &v }
	return []TierTarget{
		{Tier: 1, CustomersMin: f(0.10), CustomersMax: f(0.20), ARRMin: f(0.50), ARRMax: f(0.70),
			AccountsPerCSMMin: f(15), AccountsPerCSMMax: f(30), Retention: f(0.98), Expansion: f(0.30)},
		{Tier: 2, CustomersMin: f(0.30), CustomersMax: f(0.40), ARRMin: f(0.25), ARRMax: f(0.35),
			AccountsPerCSMMin: f(50), AccountsPerCSMMax: f(100), Retention: f(0.90), Expansion: f(0.15)},
		{Tier: 3, CustomersMin: f(0.40), CustomersMax: f(0.60), ARRMin: f(0.10), ARRMax: f(0.20),
			AccountsPerCSMMin: f(200), Retention: f(0.80)},
		{Tier: 4, Retention: f(0.70)},
	}
}

// knobs is every key of the segments block: its default, its range, the DuckDB variables the
// SQL reads it as and its row of docs/configuration.md (TestKnobsDocumented). Adding a
// threshold is a field above, a knob here, the SQL that reads it and `go test
// ./internal/config -update` to write its docs row. Rules between keys are segmentRules.
var knobs = []knob{
	knobOf[[]Band]{Key: "size_bands", Default: []Band{{"SMB", 1}, {"Mid-market", 200}, {"Enterprise", 2000}},
		Field: func(s *Segments) *[]Band { return &s.SizeBands }, Check: bandList,
		Bind: bandVariables("size_band_names", "size_band_mins"),
		Doc:  "employees bands, lower bound included (section 2)", ReadBy: "account_segments, segment_metrics, and every table split by size band"},
	knobOf[[]Band]{Key: "arr_bands", Default: []Band{{"SMB", 0}, {"Mid-market", 25000}, {"Enterprise", 100000}},
		Field: func(s *Segments) *[]Band { return &s.ARRBands }, Check: bandList,
		Bind: bandVariables("arr_band_names", "arr_band_mins"),
		Doc:  "CS value bands by ARR (section 3)", ReadBy: "account_segments, segment_metrics, segment_history"},

	knobOf[int]{Key: "adoption.early_days", Default: 90,
		Field: func(s *Segments) *int { return &s.Adoption.EarlyDays }, Check: atLeast(1), Var: "early_days",
		Doc: "early = first 90 days (section 4)", ReadBy: "account_segments"},
	knobOf[int]{Key: "adoption.mature_months", Default: 12,
		Field: func(s *Segments) *int { return &s.Adoption.MatureMonths }, Var: "mature_months",
		Doc: "mature from this tenure; growth between (project decision)", ReadBy: "account_segments"},

	knobOf[string]{Key: "ltv.method", Default: "predictive",
		Field: func(s *Segments) *string { return &s.LTV.Method }, Check: oneOf("predictive", "realized"), Var: "ltv_method",
		Doc: "`predictive` or `realized` (section 3)", ReadBy: "account_segments, ltv_quintiles"},
	knobOf[float64]{Key: "ltv.gross_margin", Default: 0.80,
		Field: func(s *Segments) *float64 { return &s.LTV.GrossMargin },
		Check: mustGot(func(v float64) bool { return v > 0 && v <= 1 }, "must be a share in (0, 1]"), Var: "gross_margin",
		Doc: "margin on future revenue; CAC payback (section 3)", ReadBy: "account_segments, segment_metrics"},
	knobOf[int]{Key: "ltv.lifetime_cap_months", Default: 60,
		Field: func(s *Segments) *int { return &s.LTV.LifetimeCapMonths }, Check: atLeast(1), Var: "lifetime_cap_months",
		Doc: "cap on expected remaining months (sections 3, 11)", ReadBy: "account_segments"},
	knobOf[int]{Key: "ltv.churn_window_months", Default: 6,
		Field: func(s *Segments) *int { return &s.LTV.ChurnWindowMonths }, Check: between(1, 36), Var: "churn_window_months",
		Doc: "trailing complete months of churn (section 11)", ReadBy: "account_segments, segment_metrics"},
	knobOf[string]{Key: "ltv.churn_segment", Default: "size_band",
		Field: func(s *Segments) *string { return &s.LTV.ChurnSegment },
		Check: oneOf("size_band", "industry", "region", "all"), Var: "churn_segment",
		Doc: "whose churn rate a customer's LTV uses: size_band, industry, region or all", ReadBy: "account_segments"},

	knobOf[int]{Key: "icp.min_tenure_months", Default: 12,
		Field: func(s *Segments) *int { return &s.ICP.MinTenureMonths }, Check: atLeast(0), Var: "icp_min_tenure_months",
		Doc: "ICP uses customers this old or churned (section 6)", ReadBy: "icp_profile, anti_icp_profile"},
	knobOf[float64]{Key: "icp.min_lift", Default: 1.5,
		Field: func(s *Segments) *float64 { return &s.ICP.MinLift },
		Check: must(func(v float64) bool { return v > 1 }, "must be above 1 (a lift of 1 means no difference)"), Var: "icp_min_lift",
		Doc:    "ratio of a value's share in the group to its share in the rest of the base that flags an ICP / anti-ICP trait (lift_vs_rest, docs/tables.md), or an over-represented value of a quintile (sections 3, 6)",
		ReadBy: "icp_profile, anti_icp_profile, ltv_quintiles"},
	knobOf[int]{Key: "icp.min_customers", Default: 5,
		Field: func(s *Segments) *int { return &s.ICP.MinCustomers }, Check: atLeast(1), Var: "icp_min_customers",
		Doc: "a trait needs this many customers in the group", ReadBy: "icp_profile, anti_icp_profile, ltv_quintiles"},
	knobOf[float64]{Key: "icp.min_fit", Default: 0.5,
		Field: func(s *Segments) *float64 { return &s.ICP.MinFit },
		Check: must(func(v float64) bool { return v > 0 && v <= 1 }, "must be in (0, 1]"), Var: "icp_min_fit",
		Doc: "ICP fit score from which an account (without anti-ICP traits) is ICP", ReadBy: "account_segments, prospect_fit"},
	knobOf[[]float64]{Key: "icp.employee_ranges", Default: []float64{1, 20, 50, 200, 500, 2000},
		Field: func(s *Segments) *[]float64 { return &s.ICP.EmployeeRanges }, Check: increasingFromOne, Var: "icp_employee_range_mins",
		Doc: `finer employee ranges for ICP traits ("very small companies", section 6)`, ReadBy: "icp_profile, anti_icp_profile"},

	knobOf[float64]{Key: "tiers.tier1_arr", Default: 100000,
		Field: func(s *Segments) *float64 { return &s.Tiers.Tier1ARR }, Var: "tier1_arr",
		Doc: "Tier 1: ARR strictly above this (section 7)", ReadBy: "tier_assignments"},
	knobOf[float64]{Key: "tiers.tier1_strategic_arr", Default: 50000,
		Field: func(s *Segments) *float64 { return &s.Tiers.Tier1StrategicARR }, Var: "tier1_strategic_arr",
		Doc: "Tier 1 too: a strategic account with ARR strictly above this (section 7)", ReadBy: "tier_assignments"},
	knobOf[float64]{Key: "tiers.tier1_growth_arr", Default: 75000,
		Field: func(s *Segments) *float64 { return &s.Tiers.Tier1GrowthARR }, Var: "tier1_growth_arr",
		Doc: "Tier 1 too: an account of high growth potential with ARR strictly above this (section 7)", ReadBy: "tier_assignments"},
	knobOf[float64]{Key: "tiers.tier2_min_arr", Default: 25000,
		Field: func(s *Segments) *float64 { return &s.Tiers.Tier2MinARR }, Var: "tier2_min_arr",
		Doc: "Tier 2 floor: ARR from this, not Tier 1 (section 7)", ReadBy: "tier_assignments"},
	knobOf[float64]{Key: "tiers.tier3_min_arr", Default: 5000,
		Field: func(s *Segments) *float64 { return &s.Tiers.Tier3MinARR }, Var: "tier3_min_arr",
		Doc: "Tier 3 from this ARR, Tier 4 below; 0 means no Tier 4 (section 7)", ReadBy: "tier_assignments"},
	knobOf[float64]{Key: "tiers.high_growth_multiple", Default: 3,
		Field: func(s *Segments) *float64 { return &s.Tiers.HighGrowthMultiple },
		Check: above(1), Var: "high_growth_multiple",
		Doc: "growth room (x current seats) for high growth potential (section 7)", ReadBy: "account_segments, tier_assignments"},
	knobOf[float64]{Key: "tiers.medium_growth_multiple", Default: 1.5,
		Field: func(s *Segments) *float64 { return &s.Tiers.MediumGrowthMultiple }, Var: "medium_growth_multiple",
		Doc: "growth room (x current seats) for medium growth potential (section 7)", ReadBy: "account_segments, tier_assignments"},
	knobOf[float64]{Key: "tiers.addressable_seat_share", Default: 0.5,
		Field: func(s *Segments) *float64 { return &s.Tiers.AddressableSeatShare }, Check: share, Var: "addressable_seat_share",
		Doc: "growth room = employees x this / seats", ReadBy: "account_segments, tier_assignments"},
	knobOf[int]{Key: "tiers.default_renewal_months", Default: 12,
		Field: func(s *Segments) *int { return &s.Tiers.DefaultRenewalMonths }, Check: between(1, 36), Var: "default_renewal_months",
		Doc: "the renewal cycle a downgrade waits for when billing gives no renewal date (section 7)", ReadBy: "tier_assignments"},
	knobOf[TierScoreWeights]{Key: "tiers.score_weights", Default: TierScoreWeights{ARR: 0.4, Growth: 0.3, Strategic: 0.2, Health: 0.1},
		Field: func(s *Segments) *TierScoreWeights { return &s.Tiers.ScoreWeights }, Check: scoreWeights,
		Bind: func(w TierScoreWeights) []Variable {
			return []Variable{{"tier_score_weights", []float64{w.ARR, w.Growth, w.Strategic, w.Health}}}
		},
		Doc: "the alternative composite tier score (section 7); each weight left out takes its default", ReadBy: "tier_assignments"},
	knobOf[[]TierTarget]{Key: "tiers.targets", Default: DefaultTierTargets(), DocDefault: "section 7's table",
		Field: func(s *Segments) *[]TierTarget { return &s.Tiers.Targets }, Check: tierTargets,
		Bind: func(t []TierTarget) []Variable { return []Variable{{"tier_targets", tierTargetsJSON(t)}} },
		Doc:  "per tier: customers_min/max and arr_min/max shares, accounts_per_csm_min/max, retention, expansion (bound as JSON)", ReadBy: "tier_summary"},

	knobOf[[]Band]{Key: "pipeline.deal_size_tiers", Default: []Band{{"SMB", 0}, {"Mid-market", 25000}, {"Enterprise", 150000}},
		Field: func(s *Segments) *[]Band { return &s.Pipeline.DealSizeTiers }, Check: bandList,
		Bind: bandVariables("deal_size_tier_names", "deal_size_tier_mins"),
		Doc:  "deal-size tiers (section 8)", ReadBy: "pipeline_segments, pipeline_aging, prospect_fit"},
	knobOf[int]{Key: "pipeline.inactive_days", Default: 14,
		Field: func(s *Segments) *int { return &s.Pipeline.InactiveDays }, Check: atLeast(1), Var: "inactive_days",
		Doc: "no engagement for 14+ days = inactive (section 8)", ReadBy: "pipeline_aging"},
	knobOf[float64]{Key: "pipeline.aging_percentile", Default: 0.75,
		Field: func(s *Segments) *float64 { return &s.Pipeline.AgingPercentile }, Var: "aging_percentile",
		Doc: "percentile of the days in a stage from which a deal is aging (section 8)", ReadBy: "pipeline_aging"},
	knobOf[float64]{Key: "pipeline.stalled_percentile", Default: 0.90,
		Field: func(s *Segments) *float64 { return &s.Pipeline.StalledPercentile }, Var: "stalled_percentile",
		Doc: "percentile of the days in a stage from which a deal is stalled (section 8)", ReadBy: "pipeline_aging"},
	knobOf[map[string]float64]{Key: "pipeline.price_list",
		Field: func(s *Segments) *map[string]float64 { return &s.Pipeline.PriceList }, Check: priceList,
		Bind: func(prices map[string]float64) []Variable {
			products, amounts := priceListKeys(prices)
			return []Variable{{"price_list_products", products}, {"price_list_amounts", amounts}}
		},
		Doc:    "product name -> list amount in the reporting currency, e.g. `{Core: 12000, Analytics: 40000}`: an open deal without an amount is valued at its product's list price (products match whatever their case and spacing; each amount positive). Without a price such a deal's amount stays unknown and its deal-size tier is `Unknown` ([tables.md](tables.md#deal-amounts))",
		ReadBy: "pipeline_segments, pipeline_aging, pipeline_cohorts, prospect_fit, segment_trends"},
	knobOf[bool]{Key: "pipeline.lost_zero_amount_is_unknown",
		Field: func(s *Segments) *bool { return &s.Pipeline.LostZeroAmountIsUnknown }, Var: "lost_zero_amount_is_unknown",
		Doc:    "`true`: a lost deal's amount of 0 is unknown (CRMs often zero a lost deal): left out of average deal sizes, deal-size tier `Unknown`; sums (lost amount, win rate by amount) do not change",
		ReadBy: "pipeline_segments, pipeline_cohorts, pipeline_loss_reasons, segment_trends"},

	knobOf[int]{Key: "validation.min_segment_size", Default: 30,
		Field: func(s *Segments) *int { return &s.Validation.MinSegmentSize }, Check: atLeast(1), Var: "validation_min_segment_size",
		Doc: "segments smaller than this are flagged and left out of the tests (section 9)", ReadBy: "segment_validation"},
	knobOf[float64]{Key: "validation.alpha", Default: 0.05,
		Field: func(s *Segments) *float64 { return &s.Validation.Alpha },
		Check: must(func(v float64) bool { return v > 0 && v < 1 }, "must be between 0 and 1"), Var: "validation_alpha",
		Doc: "significance level of every test (sections 6, 9): the false discovery rate the q-values are compared with (the p-values with `validation.correction: none`)", ReadBy: "segment_validation, icp_profile, anti_icp_profile"},
	knobOf[string]{Key: "validation.correction", Default: "benjamini_hochberg",
		Field: func(s *Segments) *string { return &s.Validation.Correction }, Check: oneOf("benjamini_hochberg", "none"), Var: "validation_correction",
		Doc: "multiple-testing correction of a family of tests (each ICP group's attribute values; segment_validation's tests): `benjamini_hochberg` q-values, or `none` (q = p, as before)", ReadBy: "segment_validation, icp_profile, anti_icp_profile"},

	knobOf[int]{Key: "usage.window_months", Default: 3,
		Field: func(s *Segments) *int { return &s.Usage.WindowMonths }, Check: between(1, 12), Var: "usage_window_months",
		Doc: "usage is averaged over the trailing complete months", ReadBy: "account_segments"},
	knobOf[float64]{Key: "usage.power_min_active_share", Default: 0.6,
		Field: func(s *Segments) *float64 { return &s.Usage.PowerMinActiveShare }, Var: "usage_power_min_share",
		Doc: "power use: active users / seats from this (section 4)", ReadBy: "account_segments"},
	knobOf[int]{Key: "usage.power_min_features", Default: 8,
		Field: func(s *Segments) *int { return &s.Usage.PowerMinFeatures }, Check: atLeast(0), Var: "usage_power_min_features",
		Doc: "power use also needs this many features used (section 4)", ReadBy: "account_segments"},
	knobOf[float64]{Key: "usage.regular_min_active_share", Default: 0.25,
		Field: func(s *Segments) *float64 { return &s.Usage.RegularMinActiveShare }, Var: "usage_regular_min_share",
		Doc: "regular use: active users / seats from this (section 4)", ReadBy: "account_segments"},
	knobOf[float64]{Key: "usage.occasional_min_active_share", Default: 0.05,
		Field: func(s *Segments) *float64 { return &s.Usage.OccasionalMinActiveShare }, Var: "usage_occasional_min_share",
		Doc: "occasional use from this; below: inactive (section 4)", ReadBy: "account_segments"},

	knobOf[int]{Key: "support.window_days", Default: 90,
		Field: func(s *Segments) *int { return &s.Support.WindowDays }, Check: between(7, 366), Var: "support_window_days",
		Doc: "tickets are counted over the trailing days", ReadBy: "account_segments"},
	knobOf[float64]{Key: "support.high_tickets_per_month", Default: 2,
		Field: func(s *Segments) *float64 { return &s.Support.HighTicketsPerMonth }, Var: "support_high_per_month",
		Doc: "high support need from this many tickets per month (section 4)", ReadBy: "account_segments"},
	knobOf[float64]{Key: "support.self_sufficient_tickets_per_month", Default: 0.2,
		Field: func(s *Segments) *float64 { return &s.Support.SelfSufficientTicketsPerMonth }, Var: "support_low_per_month",
		Doc: "self-sufficient up to this many tickets per month (section 4)", ReadBy: "account_segments"},

	knobOf[float64]{Key: "churn_risk.usage_drop", Default: 0.30,
		Field: func(s *Segments) *float64 { return &s.ChurnRisk.UsageDrop }, Check: share, Var: "risk_usage_drop",
		Doc: "falling usage: active users down by this share or more, window on window (section 4)", ReadBy: "account_segments"},
	knobOf[float64]{Key: "churn_risk.feature_drop", Default: 0.30,
		Field: func(s *Segments) *float64 { return &s.ChurnRisk.FeatureDrop }, Check: share, Var: "risk_feature_drop",
		Doc: "falling feature use: features used down by this share or more, window on window (section 4)", ReadBy: "account_segments"},
	knobOf[float64]{Key: "churn_risk.ticket_rise", Default: 2,
		Field: func(s *Segments) *float64 { return &s.ChurnRisk.TicketRise },
		Check: must(func(v float64) bool { return v > 1 }, "must be above 1 (a multiple of the window before)"), Var: "risk_ticket_rise",
		Doc: "rising bug / outage tickets: at least this multiple of the window before ... (section 4)", ReadBy: "account_segments"},
	knobOf[int]{Key: "churn_risk.min_problem_tickets", Default: 2,
		Field: func(s *Segments) *int { return &s.ChurnRisk.MinProblemTickets }, Check: atLeast(1), Var: "risk_min_problem_tickets",
		Doc: "... and at least this many (section 4)", ReadBy: "account_segments"},
	knobOf[float64]{Key: "churn_risk.low_csat", Default: 3,
		Field: func(s *Segments) *float64 { return &s.ChurnRisk.LowCSAT },
		Check: must(func(v float64) bool { return v > 1 && v <= 5 }, "must be in (1, 5]: CSAT is 1-5"), Var: "risk_low_csat",
		Doc: "mean CSAT below this is a risk flag", ReadBy: "account_segments"},
	knobOf[int]{Key: "churn_risk.high_flags", Default: 2,
		Field: func(s *Segments) *int { return &s.ChurnRisk.HighFlags },
		Check: must(func(v int) bool { return v >= 1 && v <= 4 }, "must be between 1 and 4 (there are four flags)"), Var: "risk_high_flags",
		Doc: "flags that make churn risk high (one is medium)", ReadBy: "account_segments"},

	knobOf[float64]{Key: "expansion.seat_limit_share", Default: 0.9,
		Field: func(s *Segments) *float64 { return &s.Expansion.SeatLimitShare },
		Check: must(func(v float64) bool { return v > 0 && v <= 1 }, "must be in (0, 1]"), Var: "expansion_seat_limit_share",
		Doc: "near the seat limit (section 4)", ReadBy: "account_segments"},
	knobOf[float64]{Key: "expansion.usage_growth", Default: 0.2,
		Field: func(s *Segments) *float64 { return &s.Expansion.UsageGrowth }, Check: above(0), Var: "expansion_usage_growth",
		Doc: "inviting colleagues (active users) and rising usage velocity (events), window on window", ReadBy: "account_segments"},
	knobOf[float64]{Key: "expansion.employees_per_seat", Default: 10,
		Field: func(s *Segments) *float64 { return &s.Expansion.EmployeesPerSeat }, Check: above(1), Var: "expansion_employees_per_seat",
		Doc: `seat whitespace: "100 employees but 10 seats" (section 4)`, ReadBy: "account_segments"},

	knobOf[float64]{Key: "health.usage_weight", Default: 0.5,
		Field: func(s *Segments) *float64 { return &s.Health.UsageWeight }, Var: "health_usage_weight",
		Doc: "weight of usage (active share against power use) in the health score; the three weights sum to 1", ReadBy: "account_segments"},
	knobOf[float64]{Key: "health.support_weight", Default: 0.2,
		Field: func(s *Segments) *float64 { return &s.Health.SupportWeight }, Var: "health_support_weight",
		Doc: "weight of support need in the health score", ReadBy: "account_segments"},
	knobOf[float64]{Key: "health.risk_weight", Default: 0.3,
		Field: func(s *Segments) *float64 { return &s.Health.RiskWeight }, Var: "health_risk_weight",
		Doc: "weight of churn risk (1 - flags / 4) in the health score", ReadBy: "account_segments"},

	knobOf[int]{Key: "metrics.cac_window_months", Default: 12,
		Field: func(s *Segments) *int { return &s.Metrics.CACWindowMonths }, Check: between(1, 36), Var: "cac_window_months",
		Doc: "CAC: spend and customers won over the trailing months (section 3)", ReadBy: "segment_metrics"},
	knobOf[int]{Key: "metrics.trend_quarters", Default: 8,
		Field: func(s *Segments) *int { return &s.Metrics.TrendQuarters }, Check: between(2, 40), Var: "trend_quarters",
		Doc: "quarters segment_trends covers (section 8)", ReadBy: "segment_trends"},

	knobOf[bool]{Key: "clusters.enabled", Default: true,
		Field: func(s *Segments) *bool { return &s.Clusters.Enabled }, Var: "cluster_enabled",
		Doc: "`false` turns the natural clusters off: customer_clusters and cluster_profiles are empty (section 12)", ReadBy: clusterTables},
	knobOf[int]{Key: "clusters.k_min", Default: 2,
		Field: func(s *Segments) *int { return &s.Clusters.KMin }, Check: between(2, 12), Var: "cluster_k_min",
		Doc: "fewest clusters tried (section 12)", ReadBy: clusterTables},
	knobOf[int]{Key: "clusters.k_max", Default: 8,
		Field: func(s *Segments) *int { return &s.Clusters.KMax }, Check: between(2, 12), Var: "cluster_k_max",
		Doc: "most clusters tried; the k with the highest mean silhouette wins, the smaller on a tie (section 12)", ReadBy: clusterTables},
	knobOf[int]{Key: "clusters.seed", Default: 1,
		Field: func(s *Segments) *int { return &s.Clusters.Seed }, Check: atLeast(0), Var: "cluster_seed",
		Doc: "seed of the k-means++ seeding and the samples: the same data and seed give the same clusters", ReadBy: clusterTables},
	knobOf[int]{Key: "clusters.restarts", Default: 5,
		Field: func(s *Segments) *int { return &s.Clusters.Restarts }, Check: between(1, 50), Var: "cluster_restarts",
		Doc: "k-means++ seedings per k; the fit with the lowest within-cluster sum of squares is kept", ReadBy: clusterTables},
	knobOf[int]{Key: "clusters.fit_sample", Default: 10000,
		Field: func(s *Segments) *int { return &s.Clusters.FitSample }, Check: between(100, 10000000), Var: "cluster_fit_sample",
		Doc: "k is chosen on a seeded sample of this many customers; the chosen k is then fitted on all", ReadBy: clusterTables},
	knobOf[int]{Key: "clusters.silhouette_sample", Default: 2000,
		Field: func(s *Segments) *int { return &s.Clusters.SilhouetteSample }, Check: between(100, 10000), Var: "cluster_silhouette_sample",
		Doc: "customers of the fit sample each k's mean silhouette is computed on (its cost grows with the square)", ReadBy: clusterTables},
	knobOf[int]{Key: "clusters.min_customers", Default: 50,
		Field: func(s *Segments) *int { return &s.Clusters.MinCustomers }, Check: atLeast(2), Var: "cluster_min_customers",
		Doc: "with fewer active customers no clusters are made (empty tables, the reason in the run record)", ReadBy: clusterTables},
}

// clusterTables read the clusters keys (through the Go transform that fills them).
const clusterTables = "customer_clusters, cluster_profiles"

// segmentRules are the rules between keys of the segments block, checked after each key's
// own range.
var segmentRules = []rule{
	{"adoption.mature_months", func(s *Segments) string {
		return unless(s.Adoption.MatureMonths*30 > s.Adoption.EarlyDays,
			fmt.Sprintf("must end after the early stage (%d days)", s.Adoption.EarlyDays))
	}},
	{"tiers", func(s *Segments) string {
		t := s.Tiers
		return unless(t.Tier3MinARR >= 0 && t.Tier3MinARR < t.Tier2MinARR && t.Tier2MinARR <= t.Tier1ARR,
			"needs 0 <= tier3_min_arr < tier2_min_arr <= tier1_arr")
	}},
	{"tiers.tier1_strategic_arr", func(s *Segments) string {
		return unless(s.Tiers.Tier1StrategicARR > 0 && s.Tiers.Tier1StrategicARR <= s.Tiers.Tier1ARR, "must be positive and at most tier1_arr")
	}},
	{"tiers.tier1_growth_arr", func(s *Segments) string {
		return unless(s.Tiers.Tier1GrowthARR > 0 && s.Tiers.Tier1GrowthARR <= s.Tiers.Tier1ARR, "must be positive and at most tier1_arr")
	}},
	{"tiers.medium_growth_multiple", func(s *Segments) string {
		t := s.Tiers
		return unless(t.MediumGrowthMultiple > 1 && t.MediumGrowthMultiple < t.HighGrowthMultiple, "must be above 1 and below high_growth_multiple")
	}},
	{"pipeline", func(s *Segments) string {
		pl := s.Pipeline
		return unless(pl.AgingPercentile > 0 && pl.AgingPercentile < pl.StalledPercentile && pl.StalledPercentile < 1,
			"needs 0 < aging_percentile < stalled_percentile < 1")
	}},
	{"usage", func(s *Segments) string {
		u := s.Usage
		return unless(u.RegularMinActiveShare > 0 && u.RegularMinActiveShare < u.PowerMinActiveShare && u.PowerMinActiveShare <= 1,
			"needs 0 < regular_min_active_share < power_min_active_share <= 1")
	}},
	{"usage.occasional_min_active_share", func(s *Segments) string {
		u := s.Usage
		return unless(u.OccasionalMinActiveShare > 0 && u.OccasionalMinActiveShare < u.RegularMinActiveShare,
			"must be above 0 and below regular_min_active_share")
	}},
	{"support", func(s *Segments) string {
		sp := s.Support
		return unless(sp.SelfSufficientTicketsPerMonth >= 0 && sp.SelfSufficientTicketsPerMonth < sp.HighTicketsPerMonth,
			"needs 0 <= self_sufficient_tickets_per_month < high_tickets_per_month")
	}},
	{"clusters.k_max", func(s *Segments) string {
		return unless(s.Clusters.KMax >= s.Clusters.KMin, fmt.Sprintf("must be at least k_min (%d)", s.Clusters.KMin))
	}},
	{"clusters.min_customers", func(s *Segments) string {
		return unless(s.Clusters.MinCustomers >= 2*s.Clusters.KMax, fmt.Sprintf("must be at least 2 x k_max (%d): two customers a cluster", 2*s.Clusters.KMax))
	}},
	{"clusters.silhouette_sample", func(s *Segments) string {
		return unless(s.Clusters.SilhouetteSample <= s.Clusters.FitSample, fmt.Sprintf("must be at most fit_sample (%d): it is drawn from it", s.Clusters.FitSample))
	}},
	{"health", func(s *Segments) string {
		h := s.Health
		return unless(weightsSumToOne(h.UsageWeight, h.SupportWeight, h.RiskWeight), "weights must be 0 or more and sum to 1")
	}},
}
