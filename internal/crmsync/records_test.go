package crmsync_test

import (
	"context"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/crmsync"
	"github.com/segpipe/segpipe/internal/warehouse"
)

// A hand-made release: four accounts (an ICP customer, an anti-ICP churned one, a neutral
// prospect, one nothing can score) and two open deals.
const releaseSQL = `
create table account_segments as select * from (values
  (date '2026-10-31', 'a1', 'active', 'Enterprise', 'Enterprise', 1, 0.666666, true, false, 'low', 'power'),
  (date '2026-10-31', 'a2', 'churned', 'SMB', null, 5, 0.25, false, true, null, null),
  (date '2026-10-31', 'a3', 'prospect', 'Mid-market', null, null, 0.33333, false, false, null, null),
  (date '2026-10-31', 'a4', 'prospect', 'Unknown', null, null, null, false, false, null, null)
) t(as_of, account_id, customer_status, size_band, arr_band, ltv_quintile, icp_fit_score, is_icp, is_anti_icp, churn_risk, usage_intensity);
create table tier_assignments as select * from (values ('a1', 'Tier 1 (Strategic)')) t(account_id, tier_name);
create table prospect_fit as select * from (values
  (date '2026-10-31', 'o1', 1.0, 'pursue'),
  (date '2026-10-31', 'o2', null, 'review')
) t(as_of, opportunity_id, icp_fit_score, recommendation);
`

func TestRecordsFromARelease(t *testing.T) {
	ctx := context.Background()
	sess, err := warehouse.Open(ctx, warehouse.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Exec(ctx, releaseSQL); err != nil {
		t.Fatal(err)
	}
	cfg, err := syncConfigFor("hubspot")
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]bool{"account_segments": true, "tier_assignments": true, "prospect_fit": true}
	recs, used, skipped, err := crmsync.Records(ctx, sess, cfg.SyncMappings(), tables)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 || len(used) != len(config.SyncFields) || len(skipped) != 0 {
		t.Fatalf("%d records, %d fields used, %d skipped", len(recs), len(used), len(skipped))
	}
	want := map[string]map[string]string{
		"account/a1": {"segpipe_size_band": "Enterprise", "segpipe_arr_band": "Enterprise", "segpipe_ltv_quintile": "1", "segpipe_cs_tier": "Tier 1 (Strategic)",
			"segpipe_icp_fit_score": "0.6667", "segpipe_icp_fit_grade": "icp", "segpipe_churn_risk": "low", "segpipe_usage_intensity": "power", "segpipe_segment_as_of": "2026-10-31"},
		"account/a2": {"segpipe_size_band": "SMB", "segpipe_arr_band": "-", "segpipe_ltv_quintile": "5", "segpipe_cs_tier": "-",
			"segpipe_icp_fit_score": "0.25", "segpipe_icp_fit_grade": "anti_icp", "segpipe_churn_risk": "-", "segpipe_usage_intensity": "-"},
		"account/a3": {"segpipe_icp_fit_score": "0.3333", "segpipe_icp_fit_grade": "neutral", "segpipe_ltv_quintile": "-"},
		"account/a4": {"segpipe_size_band": "Unknown", "segpipe_icp_fit_score": "-", "segpipe_icp_fit_grade": "-"},
		"deal/o1":    {"segpipe_deal_fit_score": "1", "segpipe_deal_recommendation": "pursue", "segpipe_segment_as_of": "2026-10-31"},
		"deal/o2":    {"segpipe_deal_fit_score": "-", "segpipe_deal_recommendation": "review"},
	}
	for _, r := range recs {
		for k, v := range want[r.Key()] {
			got := "-" // NULL: the field is cleared
			if p := r.Values[k]; p != nil {
				got = *p
			}
			if got != v {
				t.Errorf("%s %s = %q, want %q", r.Key(), k, got, v)
			}
		}
		if r.Object == "account" && len(r.Hashed) != 8 || r.Object == "deal" && len(r.Hashed) != 2 {
			t.Errorf("%s hashes %v", r.Key(), r.Hashed)
		}
	}
	// Without tier_assignments (a CRM without billing) cs_tier is skipped, not cleared.
	delete(tables, "tier_assignments")
	recs, _, skipped, err = crmsync.Records(ctx, sess, cfg.SyncMappings(), tables)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].Mapping.Field.Name != "cs_tier" {
		t.Fatalf("skipped %+v", skipped)
	}
	if _, has := recs[0].Values["segpipe_cs_tier"]; has {
		t.Error("cs_tier written without tier_assignments")
	}
	// segment_as_of is not part of the hash: the same values a day later are no change.
	a := *recs[0]
	b := a
	b.Values = map[string]*string{}
	for k, v := range a.Values {
		b.Values[k] = v
	}
	later := "2026-11-01"
	b.Values["segpipe_segment_as_of"] = &later
	if a.Hash() != b.Hash() {
		t.Error("segment_as_of changes the hash")
	}
	tier := "SMB"
	b.Values["segpipe_size_band"] = &tier
	if a.Hash() == b.Hash() {
		t.Error("a changed band keeps the hash")
	}
}

func syncConfigFor(vendor string) (*config.Config, error) {
	y := "currency: USD\nlake: ./l\nsources:\n  crm:\n    vendor: " + vendor + "\n    base_url: http://127.0.0.1:1\n    auth: {type: bearer, token: x}\nsync:\n  target: crm\n"
	return config.Parse("t.yaml", []byte(y), func(string) (string, bool) { return "", false })
}

// A release computed from a CRM alone (customer_status unknown everywhere) has no bands, LTV,
// tiers or behaviour: those fields are skipped, not cleared; size and ICP fit are written.
func TestRecordsWithoutBilling(t *testing.T) {
	ctx := context.Background()
	sess, err := warehouse.Open(ctx, warehouse.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Exec(ctx, `create table account_segments as select * from (values
  (date '2026-10-31', 'a1', 'unknown', 'SMB', null, null, 0.5, true, false, null, null)
) t(as_of, account_id, customer_status, size_band, arr_band, ltv_quintile, icp_fit_score, is_icp, is_anti_icp, churn_risk, usage_intensity)`); err != nil {
		t.Fatal(err)
	}
	cfg, err := syncConfigFor("hubspot")
	if err != nil {
		t.Fatal(err)
	}
	recs, _, skipped, err := crmsync.Records(ctx, sess, cfg.SyncMappings(), map[string]bool{"account_segments": true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range skipped {
		names = append(names, s.Mapping.Field.Name)
	}
	if strings.Join(names, ",") != "arr_band,ltv_quintile,cs_tier,churn_risk,usage_intensity,fit_score,recommendation,segment_as_of" {
		t.Errorf("skipped %v", names)
	}
	if len(recs) != 1 || len(recs[0].Values) != 4 || *recs[0].Values["segpipe_icp_fit_grade"] != "icp" || *recs[0].Values["segpipe_size_band"] != "SMB" {
		t.Errorf("%+v", recs)
	}
}
