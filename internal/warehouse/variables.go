package warehouse

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

// ConfigVariables turns the config's thresholds and the run's as_of date into the DuckDB
// variables the SQL reads (docs/configuration.md lists each variable beside its key).
func ConfigVariables(cfg *config.Config, asOf time.Time) []Variable {
	s := cfg.Segments
	fxCodes := make([]string, 0, len(cfg.FXRates))
	for code := range cfg.FXRates {
		fxCodes = append(fxCodes, code)
	}
	sort.Strings(fxCodes)
	fxRates := make([]float64, len(fxCodes))
	for i, c := range fxCodes {
		fxRates[i] = cfg.FXRates[c]
	}
	names, mins := bands(s.SizeBands)
	arrNames, arrMins := bands(s.ARRBands)
	dealNames, dealMins := bands(s.Pipeline.DealSizeTiers)
	currencyViews, currencyCodes := cfg.SourceCurrencies()
	priceProducts, priceAmounts := s.Pipeline.PriceListKeys()
	return []Variable{
		{"as_of", asOf.Format(time.DateOnly)},
		{"currency", cfg.Currency},
		{"fx_currencies", fxCodes},
		{"fx_rates", fxRates},
		{"size_band_names", names},
		{"size_band_mins", mins},
		{"arr_band_names", arrNames},
		{"arr_band_mins", arrMins},
		{"deal_size_tier_names", dealNames},
		{"deal_size_tier_mins", dealMins},
		{"inactive_days", int64(s.Pipeline.InactiveDays)},
		{"aging_percentile", s.Pipeline.AgingPercentile},
		{"stalled_percentile", s.Pipeline.StalledPercentile},
		{"price_list_products", priceProducts},
		{"price_list_amounts", priceAmounts},
		{"lost_zero_amount_is_unknown", s.Pipeline.LostZeroAmountIsUnknown},
		{"early_days", int64(s.Adoption.EarlyDays)},
		{"mature_months", int64(s.Adoption.MatureMonths)},
		{"ltv_method", s.LTV.Method},
		{"gross_margin", s.LTV.GrossMargin},
		{"lifetime_cap_months", int64(s.LTV.LifetimeCapMonths)},
		{"churn_window_months", int64(s.LTV.ChurnWindowMonths)},
		{"churn_segment", s.LTV.ChurnSegment},
		{"usage_window_months", int64(s.Usage.WindowMonths)},
		{"usage_power_min_share", s.Usage.PowerMinActiveShare},
		{"usage_power_min_features", int64(s.Usage.PowerMinFeatures)},
		{"usage_regular_min_share", s.Usage.RegularMinActiveShare},
		{"usage_occasional_min_share", s.Usage.OccasionalMinActiveShare},
		{"support_window_days", int64(s.Support.WindowDays)},
		{"support_high_per_month", s.Support.HighTicketsPerMonth},
		{"support_low_per_month", s.Support.SelfSufficientTicketsPerMonth},
		{"risk_usage_drop", s.ChurnRisk.UsageDrop},
		{"risk_feature_drop", s.ChurnRisk.FeatureDrop},
		{"risk_ticket_rise", s.ChurnRisk.TicketRise},
		{"risk_min_problem_tickets", int64(s.ChurnRisk.MinProblemTickets)},
		{"risk_low_csat", s.ChurnRisk.LowCSAT},
		{"risk_high_flags", int64(s.ChurnRisk.HighFlags)},
		{"expansion_seat_limit_share", s.Expansion.SeatLimitShare},
		{"expansion_usage_growth", s.Expansion.UsageGrowth},
		{"expansion_employees_per_seat", s.Expansion.EmployeesPerSeat},
		{"health_usage_weight", s.Health.UsageWeight},
		{"health_support_weight", s.Health.SupportWeight},
		{"health_risk_weight", s.Health.RiskWeight},
		{"tier1_arr", s.Tiers.Tier1ARR},
		{"tier1_strategic_arr", s.Tiers.Tier1StrategicARR},
		{"tier1_growth_arr", s.Tiers.Tier1GrowthARR},
		{"tier2_min_arr", s.Tiers.Tier2MinARR},
		{"tier3_min_arr", s.Tiers.Tier3MinARR},
		{"high_growth_multiple", s.Tiers.HighGrowthMultiple},
		{"medium_growth_multiple", s.Tiers.MediumGrowthMultiple},
		{"addressable_seat_share", s.Tiers.AddressableSeatShare},
		{"default_renewal_months", int64(s.Tiers.DefaultRenewalMonths)},
		{"tier_score_weights", []float64{s.Tiers.ScoreWeights.ARR, s.Tiers.ScoreWeights.Growth, s.Tiers.ScoreWeights.Strategic, s.Tiers.ScoreWeights.Health}},
		{"tier_targets", tierTargetsJSON(s.Tiers.Targets)},
		{"icp_min_tenure_months", int64(s.ICP.MinTenureMonths)},
		{"icp_min_lift", s.ICP.MinLift},
		{"icp_min_customers", int64(s.ICP.MinCustomers)},
		{"icp_min_fit", s.ICP.MinFit},
		{"icp_employee_range_mins", s.ICP.EmployeeRanges},
		{"validation_min_segment_size", int64(s.Validation.MinSegmentSize)},
		{"validation_alpha", s.Validation.Alpha},
		{"cac_window_months", int64(s.Metrics.CACWindowMonths)},
		{"trend_quarters", int64(s.Metrics.TrendQuarters)},
		{"max_staging_drop_share", cfg.Audit.StagingDropShare()},
		{"source_currency_views", currencyViews},
		{"source_currency_codes", currencyCodes},
	}
}

// tierTargetsJSON is the tier targets as the JSON text the tier marts parse with from_json:
// an array of objects with the keys of config.TierTarget, null where a tier has no target.
func tierTargetsJSON(targets []config.TierTarget) string {
	b, _ := json.Marshal(targets) // numbers and pointers to numbers: Marshal cannot fail
	return string(b)
}

func bands(bs []config.Band) ([]string, []float64) {
	names := make([]string, len(bs))
	mins := make([]float64, len(bs))
	for i, b := range bs {
		names[i] = b.Name
		mins[i] = b.Min
	}
	return names, mins
}
