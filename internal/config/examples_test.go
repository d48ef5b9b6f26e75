package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
)

// anyEnv gives every ${NAME} a value: a URL for *_URL, a token otherwise.
func anyEnv(name string) (string, bool) {
	if strings.HasSuffix(name, "_URL") {
		return "http://127.0.0.1:1", true
	}
	return "token", true
}

// Every shipped config (config/segpipe.yaml and config/examples/*.yaml) has the effective
// segments of testdata/segments/<name>.json, taken when each example still spelled out its
// own copy of the segments block: an example that says only what it overrides means the same.
func TestShippedConfigsKeepTheirSegments(t *testing.T) {
	files, err := filepath.Glob("../../config/examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../config/segpipe.yaml")
	if len(files) < 6 {
		t.Fatalf("found only %d configs", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			cfg, err := config.LoadWith(file, anyEnv)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(cfg.Segments, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "segments", name+".json")
			if *config.Update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: effective segments differ from %s:\n%s", file, golden, got)
			}
		})
	}
}

// everyRuleBroken breaks every rule of the segments block at once.
const everyRuleBroken = `segments:
  size_bands: [{name: A, min: -1}, {name: A, min: -2}, {name: " ", min: 5}]
  arr_bands: []
  adoption: {early_days: 0, mature_months: 0}
  ltv: {method: magic, gross_margin: 0, lifetime_cap_months: 0, churn_window_months: 37, churn_segment: x}
  icp: {min_tenure_months: -1, min_lift: 1, min_customers: 0, min_fit: 0, employee_ranges: [0, 5, 3]}
  tiers:
    tier1_arr: 10
    tier1_strategic_arr: 0
    tier1_growth_arr: 20
    tier2_min_arr: 5
    tier3_min_arr: 6
    high_growth_multiple: 1
    medium_growth_multiple: 1
    addressable_seat_share: 1
    default_renewal_months: 0
    score_weights: {arr: -1}
    targets:
      - {tier: 5, customers_min: 0.5, customers_max: 0.2, arr_max: 2, accounts_per_csm_min: 0, retention: 11}
      - {tier: 5, arr_min: 0.5, arr_max: 0.4, accounts_per_csm_min: 3, accounts_per_csm_max: 2, expansion: -1}
  pipeline: {deal_size_tiers: [{name: X, min: -5}], inactive_days: 0, aging_percentile: 0.9, stalled_percentile: 0.5, price_list: {Core: 0}}
  validation: {min_segment_size: 0, alpha: 1}
  usage: {window_months: 13, power_min_active_share: 0.2, power_min_features: -1, regular_min_active_share: 0.3, occasional_min_active_share: 0.4}
  support: {window_days: 6, high_tickets_per_month: 1, self_sufficient_tickets_per_month: 2}
  churn_risk: {usage_drop: 0, feature_drop: 1, ticket_rise: 1, min_problem_tickets: 0, low_csat: 6, high_flags: 5}
  expansion: {seat_limit_share: 0, usage_growth: 0, employees_per_seat: 1}
  health: {usage_weight: 1, support_weight: 1, risk_weight: -1}
  metrics: {cac_window_months: 0, trend_quarters: 41}
  clusters: {k_min: 1, k_max: 13, seed: -1, restarts: 0, fit_sample: 50, silhouette_sample: 20000, min_customers: 1}
`

// A segments block that breaks every rule gets the problems of testdata/segments/problems.txt,
// in that order, each with its line, key and message.
func TestSegmentProblems(t *testing.T) {
	_, err := config.Parse("broken.yaml", []byte(bare+everyRuleBroken), noEnv)
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("want a config error, got %v", err)
	}
	var b strings.Builder
	for _, p := range cerr.Problems {
		b.WriteString(p.String() + "\n")
	}
	got := b.String()
	golden := filepath.Join("testdata", "segments", "problems.txt")
	if *config.Update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("problems differ from %s:\n%s", golden, got)
	}
}
