package config_test

import (
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
)

const syncBase = `currency: USD
lake: ./data
sources:
  crm:
    vendor: %s
    base_url: http://localhost:1/api
    auth: {type: bearer, token: t}
`

func syncConfig(vendor, sync string) (*config.Config, error) {
	y := strings.Replace(syncBase, "%s", vendor, 1) + sync
	return config.Parse("sync.yaml", []byte(y), noEnv)
}

// Default names follow each CRM's rules; a field mapped to "" is left out; a renamed one keeps
// its place.
func TestSyncMappings(t *testing.T) {
	cfg, err := syncConfig("hubspot", "sync:\n  target: crm\n  accounts:\n    arr_band: \"\"\n    cs_tier: acme_tier\n")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range cfg.SyncMappings() {
		got[m.Field.Object+"."+m.Field.Name] = m.CRMName
	}
	want := map[string]string{
		"account.size_band": "segpipe_size_band", "account.ltv_quintile": "segpipe_ltv_quintile", "account.cs_tier": "acme_tier",
		"account.icp_fit_score": "segpipe_icp_fit_score", "account.icp_fit_grade": "segpipe_icp_fit_grade", "account.churn_risk": "segpipe_churn_risk",
		"account.usage_intensity": "segpipe_usage_intensity", "account.segment_as_of": "segpipe_segment_as_of",
		"deal.fit_score": "segpipe_deal_fit_score", "deal.recommendation": "segpipe_deal_recommendation", "deal.segment_as_of": "segpipe_segment_as_of",
	}
	if len(got) != len(want) {
		t.Errorf("mappings %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s -> %q, want %q", k, got[k], v)
		}
	}
	if cfg.Sync.MaxChangedShare != 0.3 || cfg.Sync.PropertyGroup != "segpipe" || cfg.SyncAuth().Token.Reveal() != "t" {
		t.Errorf("defaults: %+v", cfg.Sync)
	}
	sf, err := syncConfig("salesforce", "sync:\n  target: crm\n  auth: {type: bearer, token: w}\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range sf.SyncMappings() {
		if m.Field.Name == "ltv_quintile" && m.CRMName != "Segpipe_Ltv_Quintile__c" || m.Field.Object == "deal" && m.Field.Name == "fit_score" && m.CRMName != "Segpipe_Deal_Fit_Score__c" {
			t.Errorf("salesforce name %s.%s -> %s", m.Field.Object, m.Field.Name, m.CRMName)
		}
	}
	if sf.SyncAuth().Token.Reveal() != "w" {
		t.Error("sync.auth does not replace the source's auth")
	}
	// The options of a band follow the configured bands.
	for _, f := range config.SyncFields {
		if f.Name == "size_band" && strings.Join(f.Options(cfg), ",") != "SMB,Mid-market,Enterprise,Unknown" {
			t.Errorf("size_band options %v", f.Options(cfg))
		}
	}
}

// Every mistake names its key.
func TestSyncValidation(t *testing.T) {
	for _, tc := range []struct{ vendor, sync, want string }{
		{"hubspot", "sync:\n  target: billing\n", `sync.target: no source "billing"`},
		{"demo", "sync:\n  target: crm\n", `source "crm" is vendor "demo": a sync writes to hubspot or salesforce`},
		{"hubspot", "sync:\n  target: crm\n  accounts:\n    tier: x\n", "sync.accounts.tier: unknown field"},
		{"hubspot", "sync:\n  target: crm\n  accounts:\n    cs_tier: CS-Tier\n", "sync.accounts.cs_tier: HubSpot property names are lower-case"},
		{"salesforce", "sync:\n  target: crm\n  deals:\n    fit_score: Fit_Score\n", "sync.deals.fit_score: \"Fit_Score\": a Salesforce custom field's API name ends in __c"},
		{"hubspot", "sync:\n  target: crm\n  accounts:\n    cs_tier: segpipe_size_band\n", "account fields size_band and cs_tier both write segpipe_size_band"},
		{"hubspot", "sync:\n  target: crm\n  max_changed_share: 1.5\n", "sync.max_changed_share: must be a share"},
		{"hubspot", "schedule:\n  sync: \"0 4 * * *\"\n", "schedule.sync: a sync needs sync.target"},
	} {
		_, err := syncConfig(tc.vendor, tc.sync)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.sync, err, tc.want)
		}
	}
}
