package warehouse

import (
	"sort"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

// ConfigVariables turns the config's thresholds and the run's as_of date into the DuckDB
// variables the SQL reads (docs/configuration.md lists each variable beside its key): the
// segments block's are bound as its knobs say (internal/config/segments.go).
func ConfigVariables(cfg *config.Config, asOf time.Time) []Variable {
	fxCodes := make([]string, 0, len(cfg.FXRates))
	for code := range cfg.FXRates {
		fxCodes = append(fxCodes, code)
	}
	sort.Strings(fxCodes)
	fxRates := make([]float64, len(fxCodes))
	for i, c := range fxCodes {
		fxRates[i] = cfg.FXRates[c]
	}
	currencyViews, currencyCodes := cfg.SourceCurrencies()
	vars := []Variable{
		{"as_of", asOf.Format(time.DateOnly)},
		{"currency", cfg.Currency},
		{"fx_currencies", fxCodes},
		{"fx_rates", fxRates},
		{"max_staging_drop_share", cfg.Audit.StagingDropShare()},
		{"source_currency_views", currencyViews},
		{"source_currency_codes", currencyCodes},
	}
	for _, v := range cfg.Segments.Variables() {
		vars = append(vars, Variable{v.Name, v.Value})
	}
	return vars
}
