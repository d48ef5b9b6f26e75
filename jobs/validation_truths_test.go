package jobs_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
)

// TestValidationFindsPlantedTruths runs the demo company end to end with the default thresholds
// (validation_min_segment_size 30, validation_alpha 0.05) and checks that segment_validation finds
// what the company was built with (internal/demo/model.go): churn falls with company size
// (SMB ~40%/year, Mid-market ~15%, Enterprise ~5%), so size_band differs in logo churn and in
// LTV; Retail churns 2.5x the base rate, so industry differs in logo churn; ltv_quintiles lists
// FinTech (the best industry) among the values over-represented in the top quintile; and
// segment_metrics shows Retail's 12-month logo churn above the base rate of all customers.
func TestValidationFindsPlantedTruths(t *testing.T) {
	p, _, res := sharedDemoRun(t)
	if res.Segment.Publication == nil {
		t.Fatal("nothing published")
	}
	root := p.Lake.(*lake.FileStore).Root()
	validation := map[string]warehouse.Row{}
	for _, r := range readTable(t, filepath.Join(root, "latest", "segment_validation.parquet")) {
		validation[r.Get("dimension").(string)+"/"+r.Get("metric").(string)] = r
		t.Logf("%s/%s: %s k=%v n=%v statistic=%.2f p=%.3g effect=%.3f %s small=%v",
			r.Get("dimension"), r.Get("metric"), r.Get("test_name"), r.Get("segments_tested"), r.Get("n"),
			r.Float("statistic"), r.Float("p_value"), r.Float("effect_size"), r.Get("verdict"), r.Get("small_segments"))
	}
	for _, key := range []string{"size_band/logo_churn", "size_band/ltv", "industry/logo_churn"} {
		r, ok := validation[key]
		if !ok {
			t.Errorf("segment_validation has no row %s", key)
			continue
		}
		if r.Get("significant") != true || r.Get("verdict") != "segments differ" {
			t.Errorf("%s: planted difference not found: p = %v, verdict %v", key, r.Get("p_value"), r.Get("verdict"))
		}
	}
	// The planted size bands are all large enough to be tested: SMB, Mid-market and Enterprise.
	if r := validation["size_band/logo_churn"]; r.Float("segments_tested") != 3 {
		t.Errorf("size_band/logo_churn tested %v segments, want 3 (small: %v)", r.Get("segments_tested"), r.Get("small_segments"))
	}

	// ltv_quintiles names the planted best industry among the values over-represented in the
	// top quintile (lift >= icp_min_lift 1.5 with at least icp_min_customers 5 customers).
	for _, q := range readTable(t, filepath.Join(root, "latest", "ltv_quintiles.parquet")) {
		if q.Float("ltv_quintile") != 1 {
			continue
		}
		found := false
		over, _ := q.Get("over_represented").([]any)
		for _, o := range over {
			if s, _ := o.(string); strings.HasPrefix(s, "industry="+demo.BestIndustry+" ") {
				found = true
			}
		}
		t.Logf("top LTV quintile over-represented: %v", over)
		if !found {
			t.Errorf("industry=%s is not over-represented in the top LTV quintile: %v", demo.BestIndustry, q.Get("over_represented"))
		}
	}

	// Retail's 12-month logo churn is above the base rate of all customers active 12 months ago.
	var retail float64
	var churned, base float64
	for _, m := range readTable(t, filepath.Join(root, "latest", "segment_metrics.parquet")) {
		if m.Get("dimension") != "industry" {
			continue
		}
		n := m.Float("customers_at_start_12m")
		base += n
		churned += n * m.Float("logo_churn_12m")
		if m.Get("segment") == demo.PoorRetentionIndustry {
			retail = m.Float("logo_churn_12m")
		}
	}
	if base == 0 {
		t.Fatal("no customer active 12 months before as_of")
	}
	if rate := churned / base; !(retail > rate) {
		t.Errorf("%s 12-month logo churn %.3f is not above the base rate %.3f", demo.PoorRetentionIndustry, retail, rate)
	} else {
		t.Logf("%s 12-month logo churn %.3f, base rate %.3f", demo.PoorRetentionIndustry, retail, rate)
	}
}
