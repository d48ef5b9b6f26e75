package jobs_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
)

// TestICPFindsPlantedTruths runs the demo company end to end with the default thresholds and
// checks that the published ICP marts name what docs/demo.md says the company was built with
// (domain.md section 6): the best industry and its size band are ICP traits; the poor-retention
// industry and the very small companies (below demo.TinyCompanyEmployees) are anti-ICP traits.
// Then prospect_fit scores every open deal with the recommendation its traits call for.
func TestICPFindsPlantedTruths(t *testing.T) {
	p, company, _ := sharedDemoRun(t)
	root := p.Lake.(*lake.FileStore).Root()
	icp := profileByTrait(t, readTable(t, filepath.Join(root, "latest", "icp_profile.parquet")))
	anti := profileByTrait(t, readTable(t, filepath.Join(root, "latest", "anti_icp_profile.parquet")))

	// The tiny companies are the first employee range, which must end at TinyCompanyEmployees - 1
	// for the planted truth to be visible as one range (default ranges 1, 20, 50, ...).
	mins := p.Config.Segments.ICP.EmployeeRanges
	if len(mins) < 2 || mins[0] != 1 || mins[1] != demo.TinyCompanyEmployees {
		t.Fatalf("icp employee ranges %v do not start 1, %d", mins, demo.TinyCompanyEmployees)
	}
	tiny := fmt.Sprintf("employee_range=1-%d", demo.TinyCompanyEmployees-1)

	for _, c := range []struct {
		profile map[string]warehouse.Row
		name    string
		trait   string
	}{
		{icp, "icp_profile", "industry=" + demo.BestIndustry},
		{icp, "icp_profile", "size_band=" + demo.BestSizeBand},
		{anti, "anti_icp_profile", "industry=" + demo.PoorRetentionIndustry},
		{anti, "anti_icp_profile", tiny},
	} {
		r, ok := c.profile[c.trait]
		if !ok {
			t.Errorf("%s has no row %s", c.name, c.trait)
			continue
		}
		t.Logf("%s %s: %v of %v in the group (%.1f%%) vs %.1f%% of the base, %.1f%% of the rest; lift %.2f, lift_vs_rest %.2f, z %.2f, p %.3g, trait %v, rank %v",
			c.name, c.trait, r.Get("group_customers"), r.Get("group_size"), 100*r.Float("share_in_group"), 100*r.Float("share_in_base"),
			100*r.Float("share_in_rest"), r.Float("lift"), r.Float("lift_vs_rest"), r.Float("z_statistic"), r.Float("p_value"),
			r.Get("is_trait"), r.Get("rank_in_group"))
		if r.Get("is_trait") != true {
			t.Errorf("%s: %s is not a trait with the default thresholds (planted in the demo): %v", c.name, c.trait, r)
		}
	}
	// And not the other way round.
	for _, c := range []struct {
		profile map[string]warehouse.Row
		name    string
		trait   string
	}{
		{icp, "icp_profile", "industry=" + demo.PoorRetentionIndustry},
		{icp, "icp_profile", tiny},
		{anti, "anti_icp_profile", "industry=" + demo.BestIndustry},
		{anti, "anti_icp_profile", "size_band=" + demo.BestSizeBand},
	} {
		if r := c.profile[c.trait]; r.Get("is_trait") == true {
			t.Errorf("%s: %s is a trait: %v", c.name, c.trait, r)
		}
	}
	for name, prof := range map[string]map[string]warehouse.Row{"icp_profile": icp, "anti_icp_profile": anti} {
		var traits []string
		for k, r := range prof {
			if r.Get("is_trait") == true {
				traits = append(traits, fmt.Sprintf("%s (lift %.2f)", k, r.Float("lift")))
			}
		}
		slices.Sort(traits)
		t.Logf("%s traits: %v", name, traits)
	}

	// prospect_fit: one row per open deal; a deal whose account matches the planted best
	// industry and size band and no anti-ICP trait is 'pursue'; one with a tiny company 'avoid'.
	open := 0
	for _, o := range company.Opportunities {
		if !o.IsClosed || (o.ClosedAt != nil && !o.ClosedAt.Before(p.AsOf.AddDate(0, 0, 1))) {
			open++
		}
	}
	fits := readTable(t, filepath.Join(root, "latest", "prospect_fit.parquet"))
	if len(fits) != open {
		t.Errorf("prospect_fit has %d rows, the company %d deals open at as_of", len(fits), open)
	}
	recs := map[string]int{}
	for _, f := range fits {
		rec := f.Get("recommendation").(string)
		recs[rec]++
		icpTraits, antiTraits := traitList(f.Get("icp_traits_matched")), traitList(f.Get("anti_icp_traits_matched"))
		best := slices.Contains(icpTraits, "industry="+demo.BestIndustry) && slices.Contains(icpTraits, "size_band="+demo.BestSizeBand)
		switch {
		case slices.Contains(antiTraits, tiny) && rec != "avoid":
			t.Errorf("open deal %v of a tiny company is %s", f.Get("opportunity_id"), rec)
		case best && len(antiTraits) == 0 && rec != "pursue":
			t.Errorf("open deal %v of a %s %s account is %s (fit %v)", f.Get("opportunity_id"), demo.BestIndustry, demo.BestSizeBand, rec, f.Get("icp_fit_score"))
		}
	}
	t.Logf("prospect_fit recommendations over %d open deals: %v", len(fits), recs)
	for _, rec := range []string{"pursue", "review", "avoid"} {
		if recs[rec] == 0 {
			t.Errorf("no open deal is %q: %v", rec, recs)
		}
	}
}

// profileByTrait indexes profile rows by "attribute=value".
func profileByTrait(t *testing.T, rows []warehouse.Row) map[string]warehouse.Row {
	t.Helper()
	out := map[string]warehouse.Row{}
	for _, r := range rows {
		k := fmt.Sprint(r.Get("attribute"), "=", r.Get("value"))
		if _, dup := out[k]; dup {
			t.Fatalf("profile row %s twice", k)
		}
		out[k] = r
	}
	return out
}

// traitList reads a VARCHAR[] column as read back from Parquet.
func traitList(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}
