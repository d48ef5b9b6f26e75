package warehouse

import (
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
		{"early_days", int64(s.Adoption.EarlyDays)},
		{"mature_months", int64(s.Adoption.MatureMonths)},
		{"ltv_method", s.LTV.Method},
		{"gross_margin", s.LTV.GrossMargin},
		{"lifetime_cap_months", int64(s.LTV.LifetimeCapMonths)},
		{"churn_window_months", int64(s.LTV.ChurnWindowMonths)},
		{"churn_segment", s.LTV.ChurnSegment},
	}
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
