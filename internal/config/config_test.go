package config_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
)

func noEnv(string) (string, bool) { return "", false }

func envOf(m map[string]string) config.LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDemoConfigIsValid(t *testing.T) {
	cfg, err := config.Parse("segpipe.yaml", defaultconfig.DemoYAML, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.SourceNames(); strings.Join(got, ",") != "billing,crm,product,support" {
		t.Errorf("sources = %v", got)
	}
	crm := cfg.Sources["crm"]
	if crm.BaseURL != "http://127.0.0.1:8765/crm/v1" {
		t.Errorf("default for ${SEGPIPE_DEMO_URL} not applied: %s", crm.BaseURL)
	}
	acc := crm.Entities["accounts"]
	if acc.Columns[0] != (config.Column{Name: "id", Type: "string"}) || acc.Columns[3].Name != "employee_count" {
		t.Errorf("columns lost their order: %v", acc.Columns[:4])
	}
	if *acc.Pagination.FirstPage != 1 || cfg.Sources["support"].Timeout.D().Seconds() != 30 {
		t.Errorf("defaults not applied")
	}
	s := cfg.Segments
	if s.SizeBands[1] != (config.Band{Name: "Mid-market", Min: 200}) || s.ARRBands[2].Min != 100000 || s.LTV.LifetimeCapMonths != 60 {
		t.Errorf("thresholds differ from domain.md: %+v %+v", s.SizeBands, s.ARRBands)
	}
	// The file on disk is the one embedded.
	onDisk, err := os.ReadFile("../../config/segpipe.yaml")
	if err != nil || string(onDisk) != string(defaultconfig.DemoYAML) {
		t.Errorf("embedded config differs from config/segpipe.yaml")
	}
}

func TestEnvExpansion(t *testing.T) {
	cfg, err := config.Parse("c.yaml", defaultconfig.DemoYAML, envOf(map[string]string{
		"SEGPIPE_DEMO_URL": "https://api.example.com", "SEGPIPE_CRM_TOKEN": "s3cret-token",
	}))
	if err != nil {
		t.Fatal(err)
	}
	crm := cfg.Sources["crm"]
	if crm.BaseURL != "https://api.example.com/crm/v1" || crm.Auth.Token.Reveal() != "s3cret-token" {
		t.Fatalf("expansion: %s %s", crm.BaseURL, crm.Auth.Token.Reveal())
	}
	// Secrets never print, whatever the verb or encoding.
	for _, out := range []string{fmt.Sprint(crm.Auth), fmt.Sprintf("%+v", crm.Auth), fmt.Sprintf("%#v", crm.Auth), mustJSON(t, cfg)} {
		if strings.Contains(out, "s3cret") {
			t.Fatalf("secret leaked: %s", out)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	if err := os.WriteFile(tok, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(defaultconfig.DemoYAML), "token: ${SEGPIPE_CRM_TOKEN:-demo-crm-token}", "token_file: "+tok, 1)
	cfg, err := config.Parse("c.yaml", []byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sources["crm"].Auth.Token.Reveal(); got != "from-file" {
		t.Fatalf("token from file = %q", got)
	}
}

// minimal is a small valid config; the cases below break one thing each.
const minimal = `currency: USD
lake: ./data
sources:
  crm:
    vendor: demo
    base_url: http://localhost:1/api
    auth: {type: bearer, token: "${TOKEN}"}
    entities:
      accounts:
        path: /accounts
        format: json
        primary_key: id
        columns:
          id: string
          employees: int64
segments:
  size_bands: [{name: SMB, min: 1}, {name: Mid-market, min: 200}]
  arr_bands: [{name: SMB, min: 0}]
  adoption: {early_days: 90, mature_months: 12}
  ltv: {method: predictive, gross_margin: 0.8, lifetime_cap_months: 60, churn_window_months: 6}
  icp: {min_tenure_months: 12, min_lift: 1.5}
  tiers: {tier1_arr: 100000, tier1_strategic_arr: 50000, tier1_growth_arr: 75000, tier2_min_arr: 25000, tier3_min_arr: 5000, high_growth_multiple: 3}
  pipeline:
    deal_size_tiers: [{name: SMB, min: 0}]
    inactive_days: 14
    aging_percentile: 0.75
    stalled_percentile: 0.9
  validation: {min_segment_size: 30, alpha: 0.05}
  usage: {power_min_active_share: 0.6, regular_min_active_share: 0.25}
  support: {high_tickets_per_month: 2, self_sufficient_tickets_per_month: 0.2}
`

func TestConfigErrorsNameKeyAndLine(t *testing.T) {
	env := envOf(map[string]string{"TOKEN": "t0ken-value"})
	if _, err := config.Parse("c.yaml", []byte(minimal), env); err != nil {
		t.Fatalf("the minimal config must be valid: %v", err)
	}
	cases := []struct {
		name, old, new string
		env            config.LookupEnv
		want           []string // all must appear in the error
	}{
		{"unknown top key", "lake: ./data", "lake: ./data\nlaek: x", env, []string{"c.yaml:3: laek: unknown key"}},
		{"unknown nested key", "    auth:", "    retries: 3\n    auth:", env, []string{"c.yaml:7: sources.crm.retries: unknown key", "known here:"}},
		{"bad currency", "currency: USD", "currency: usd", env, []string{"c.yaml:1: currency:", "three-letter"}},
		{"missing env", "", "", noEnv, []string{"c.yaml:7: sources.crm.auth.token: environment variable TOKEN is not set"}},
		{"wrong type", "early_days: 90", "early_days: ninety", env, []string{"c.yaml:19: segments.adoption.early_days", "ninety"}},
		{"bad column type", "employees: int64", "employees: integer", env, []string{"c.yaml:15: sources.crm.entities.accounts.columns.employees: unknown type \"integer\""}},
		{"pk not a column", "primary_key: id", "primary_key: uid", env, []string{"c.yaml:12: sources.crm.entities.accounts.primary_key", "\"uid\" is not one of the columns"}},
		{"bands out of order", "{name: Mid-market, min: 200}", "{name: Mid-market, min: 0.5}", env, []string{"c.yaml:17: segments.size_bands[1].min", "increasing"}},
		{"bad url", "http://localhost:1/api", "localhost/api", env, []string{"c.yaml:6: sources.crm.base_url", "http:// or https://"}},
		{"bad pagination", "format: json", "format: json\n        pagination: {type: cursor}", env, []string{"sources.crm.entities.accounts.pagination.cursor_param", "next_cursor_path"}},
		{"bad margin", "gross_margin: 0.8", "gross_margin: 80", env, []string{"c.yaml:20: segments.ltv.gross_margin", "(0, 1]"}},
		{"bad method", "method: predictive", "method: magic", env, []string{"segments.ltv.method", "\"magic\""}},
		{"bad cron", "currency: USD", "currency: USD\nschedule: {segment: \"61 * * * *\"}", env, []string{"c.yaml:2: schedule.segment", "cron"}},
		{"unknown job", "currency: USD", "currency: USD\nschedule: {segmnt: \"0 2 * * *\"}", env, []string{"schedule.segmnt: unknown job"}},
		{"keep releases", "currency: USD", "currency: USD\npublish: {keep_releases: -1}", env, []string{"c.yaml:2: publish.keep_releases", "between 1 and 1000"}},
		{"s3 lake", "lake: ./data", "lake: s3://bucket/x", env, []string{"c.yaml:2: lake: bad lake URL", `unknown scheme "s3"`}},
		{"file url with a host", "lake: ./data", "lake: file://relative/x", env, []string{"c.yaml:2: lake", `host must be empty or localhost, got "relative"`}},
		{"gs bucket name", "lake: ./data", "lake: gs://Bad_Bucket/x", env, []string{"c.yaml:2: lake", "not a Cloud Storage bucket name"}},
		{"not yaml", "lake: ./data", "lake: [./data", env, []string{"c.yaml", "not valid YAML"}},
		{"unquoted env in flow mapping", `token: "${TOKEN}"`, `token: ${TOKEN}`, env, []string{"c.yaml:6: not valid YAML", `must be quoted: token: "${VAR}"`}},
		{"bad serve address", "currency: USD", "currency: USD\nserve:\n  address: \"9464\"", env, []string{"c.yaml:3: serve.address", "host:port"}},
		{"bad retries", "currency: USD", "currency: USD\nserve: {retries: -1}", env, []string{"c.yaml:2: serve.retries", "between 0 and 10"}},
		{"bad backoff", "currency: USD", "currency: USD\nserve: {retry_backoff: 10ms}", env, []string{"c.yaml:2: serve.retry_backoff", "at least 1s"}},
		{"bad grace", "currency: USD", "currency: USD\nserve: {shutdown_grace: soon}", env, []string{"c.yaml:2: serve.shutdown_grace: \"soon\" is not a duration", `"soon" is not a duration`}},
		{"bad webhook", "currency: USD", "currency: USD\nnotify:\n  webhook_url: ftp://hooks.example.com/t0ken-value", env, []string{"c.yaml:3: notify.webhook_url", "http:// or https://"}},
		{"bad zone", "currency: USD", "currency: USD\ntimezone: Mars/Olympus", env, []string{"timezone", "Mars/Olympus"}},
		{"health weights", "  validation:", "  health: {usage_weight: 0.5, support_weight: 0.5, risk_weight: 0.5}\n  validation:", env, []string{"segments.health", "sum to 1"}},
		{"tier score weights", "high_growth_multiple: 3}", "high_growth_multiple: 3, score_weights: {arr: 1, growth: 1}}", env, []string{"segments.tiers.score_weights", "sum to 1"}},
		{"tier target share", "high_growth_multiple: 3}", "high_growth_multiple: 3, targets: [{tier: 1, customers_min: 0.3, customers_max: 0.2}]}", env, []string{"segments.tiers.targets[0].customers_min", "min <= max"}},
		{"tier twice", "high_growth_multiple: 3}", "high_growth_multiple: 3, targets: [{tier: 2}, {tier: 2}]}", env, []string{"segments.tiers.targets[1].tier", "each once"}},
		{"medium above high", "high_growth_multiple: 3}", "high_growth_multiple: 3, medium_growth_multiple: 4}", env, []string{"segments.tiers.medium_growth_multiple", "below high_growth_multiple"}},
		{"occasional above regular", "regular_min_active_share: 0.25}", "regular_min_active_share: 0.25, occasional_min_active_share: 0.3}", env, []string{"segments.usage.occasional_min_active_share"}},
		{"churn flags", "  validation:", "  churn_risk: {high_flags: 9}\n  validation:", env, []string{"segments.churn_risk.high_flags", "four flags"}},
		{"bad severity", "currency: USD", "currency: USD\naudit:\n  assertions:\n    assert_references_resolve: {severity: info}", env, []string{"c.yaml:4: audit.assertions.assert_references_resolve.severity", "error or warn"}},
		{"bad error_if", "currency: USD", "currency: USD\naudit:\n  assertions:\n    assert_references_resolve: {severity: warn, error_if: \"5%\"}", env, []string{"c.yaml:4: audit.assertions.assert_references_resolve.error_if", "\"> P%\""}},
		{"share over 100", "currency: USD", "currency: USD\naudit:\n  assertions:\n    assert_x: {error_if: \"> 150%\"}", env, []string{"audit.assertions.assert_x.error_if", "at most 100%"}},
		{"not an assertion name", "currency: USD", "currency: USD\naudit:\n  assertions:\n    references: {severity: warn}", env, []string{"audit.assertions.references", "start with assert_"}},
		{"drop share", "currency: USD", "currency: USD\naudit: {max_staging_drop_share: 5}", env, []string{"c.yaml:2: audit.max_staging_drop_share", "between 0 and 1"}},
		{"null share bound", "    auth:", "    max_null_share_increase: 1.5\n    auth:", env, []string{"c.yaml:7: sources.crm.max_null_share_increase", "at most 1", "1.5"}},
		{"negative null share bound", "    auth:", "    max_null_share_increase: -0.1\n    auth:", env, []string{"c.yaml:7: sources.crm.max_null_share_increase"}},
		{"optional not a bool", "employees: int64", "employees: {type: int64, optional: maybe}", env, []string{"c.yaml:15", "sources.crm.entities.accounts.columns.employees.optional", "maybe"}},
		{"employee ranges", "min_lift: 1.5}", "min_lift: 1.5, employee_ranges: [1, 50, 20]}", env, []string{"segments.icp.employee_ranges", "increasing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			yaml := strings.Replace(minimal, c.old, c.new, 1)
			_, err := config.Parse("c.yaml", []byte(yaml), c.env)
			var cerr *config.Error
			if !errors.As(err, &cerr) {
				t.Fatalf("want *config.Error, got %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n  does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "t0ken-value") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestAuditRules(t *testing.T) {
	cfg, err := config.Parse("c.yaml", []byte(minimal), envOf(map[string]string{"TOKEN": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Audit.StagingDropShare(); got != config.DefaultMaxStagingDropShare {
		t.Errorf("default staging drop share %v", got)
	}
	yaml := strings.Replace(minimal, "currency: USD", `currency: USD
audit:
  max_staging_drop_share: 0
  assertions:
    assert_references_resolve: {error_if: "> 2.5%"}
    assert_staging_drops: {severity: warn, error_if: "> 10"}`, 1)
	cfg, err = config.Parse("c.yaml", []byte(yaml), envOf(map[string]string{"TOKEN": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Audit.StagingDropShare(); got != 0 {
		t.Errorf("an explicit 0 must stay 0, got %v", got)
	}
	r := cfg.Audit.Assertions["assert_references_resolve"]
	if r.Severity != config.SeverityError {
		t.Errorf("severity defaults to error, got %q", r.Severity)
	}
	th, err := config.ParseErrorIf(r.ErrorIf)
	if err != nil || th.Share == nil || *th.Share != 0.025 || th.Count != nil {
		t.Errorf("error_if %q parsed as %+v, %v", r.ErrorIf, th, err)
	}
	th, err = config.ParseErrorIf(cfg.Audit.Assertions["assert_staging_drops"].ErrorIf)
	if err != nil || th.Count == nil || *th.Count != 10 || th.Share != nil {
		t.Errorf("error_if > 10 parsed as %+v, %v", th, err)
	}
}

func TestServeDefaultsAndWebhookSecret(t *testing.T) {
	cfg, err := config.Parse("segpipe.yaml", defaultconfig.DemoYAML, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Serve
	if s.Address != "127.0.0.1:9464" || *s.Retries != 2 || s.RetryBackoff.D().String() != "5m0s" || s.ShutdownGrace.D().String() != "5m0s" {
		t.Errorf("serve defaults: %+v (retries %d)", s, *s.Retries)
	}
	if cfg.Notify.WebhookURL != "" || cfg.Notify.Timeout.D().String() != "10s" {
		t.Errorf("notify defaults: %+v", cfg.Notify)
	}
	yaml := string(defaultconfig.DemoYAML) + "\nserve: {retries: 0}\nnotify:\n  webhook_url: https://hooks.example.com/services/${HOOK_TOKEN}\n"
	cfg, err = config.Parse("c.yaml", []byte(yaml), envOf(map[string]string{"HOOK_TOKEN": "t0ken-value"}))
	if err != nil {
		t.Fatal(err)
	}
	if *cfg.Serve.Retries != 0 {
		t.Errorf("an explicit retries: 0 must stay 0, got %d", *cfg.Serve.Retries)
	}
	if cfg.Notify.WebhookURL.Reveal() != "https://hooks.example.com/services/t0ken-value" {
		t.Errorf("webhook_url not expanded: %q", cfg.Notify.WebhookURL.Reveal())
	}
	b, _ := json.Marshal(cfg)
	if strings.Contains(string(b)+fmt.Sprintf("%v %+v", cfg.Notify, cfg.Notify), "t0ken-value") {
		t.Error("the webhook URL leaks through JSON or fmt")
	}
}

// A preset fills in what the config leaves out; problems in what it filled in point at the
// config's source block, and the config's own keys win.
func TestPresetsMergeUnderTheConfig(t *testing.T) {
	yaml := strings.Replace(minimal, `  crm:
    vendor: demo
    base_url: http://localhost:1/api
    auth: {type: bearer, token: "${TOKEN}"}
    entities:
      accounts:
        path: /accounts
        format: json
        primary_key: id
        columns:
          id: string
          employees: int64
`, `  support:
    vendor: zendesk
    auth: {type: bearer, token: "${TOKEN}"}
`, 1)
	_, err := config.Parse("c.yaml", []byte(yaml), envOf(map[string]string{"TOKEN": "x"}))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:5: sources.support.base_url: environment variable SEGPIPE_ZENDESK_SUBDOMAIN is not set") {
		t.Fatalf("want the preset's base_url problem at the source block, got %v", err)
	}
	cfg, err := config.Parse("c.yaml", []byte(yaml), envOf(map[string]string{"TOKEN": "x", "SEGPIPE_ZENDESK_SUBDOMAIN": "acme"}))
	if err != nil {
		t.Fatal(err)
	}
	zd := cfg.Sources["support"]
	if zd.BaseURL != "https://acme.zendesk.com/api/v2" || zd.Entities["tickets"] == nil || zd.Entities["tickets"].Incremental == nil {
		t.Fatalf("preset not applied: %+v", zd)
	}
	if zd.Auth.Type != "bearer" || zd.Auth.Token.Reveal() != "x" {
		t.Errorf("the config's auth must win: %+v", zd.Auth)
	}
}

// TestSegmentDefaults checks that the segmentation keys added with the issue-5 marts read as
// written in config/segpipe.yaml, and that a config written before them (the vendor examples
// leave them out) gets the same domain.md defaults.
func TestSegmentDefaults(t *testing.T) {
	demo, err := config.Parse("segpipe.yaml", defaultconfig.DemoYAML, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := demo.Segments
	got, _ := json.Marshal(s.Tiers.Targets)
	want, _ := json.Marshal(config.DefaultTierTargets())
	if string(got) != string(want) {
		t.Errorf("tier targets = %s, want %s", got, want)
	}
	if s.Tiers.Targets[0].Retention == nil || *s.Tiers.Targets[0].Retention != 0.98 || s.Tiers.Targets[3].ARRMin != nil {
		t.Errorf("tier 1 retention or tier 4's missing ARR target misread: %+v", s.Tiers.Targets)
	}
	if s.Usage.PowerMinFeatures != 8 || s.ChurnRisk.HighFlags != 2 || s.Health.RiskWeight != 0.3 ||
		s.Tiers.ScoreWeights.Growth != 0.3 || s.ICP.EmployeeRanges[1] != 20 || s.Metrics.TrendQuarters != 8 {
		t.Errorf("segments misread: %+v", s)
	}
	// Remove every key added later: defaults must equal what segpipe.yaml spells out.
	var kept []string
	skip := false
	for _, line := range strings.Split(string(defaultconfig.DemoYAML), "\n") {
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if skip && (indent > 2 || trimmed == "") {
			continue
		}
		skip = false
		if indent == 2 && (strings.HasPrefix(trimmed, "churn_risk:") || strings.HasPrefix(trimmed, "expansion:") ||
			strings.HasPrefix(trimmed, "health:") || strings.HasPrefix(trimmed, "metrics:")) {
			skip = true
			continue
		}
		if indent == 4 && strings.Contains(line, ":") {
			for _, k := range []string{"min_customers", "min_fit", "employee_ranges", "medium_growth_multiple",
				"addressable_seat_share", "default_renewal_months", "score_weights", "window_months",
				"power_min_features", "occasional_min_active_share", "window_days"} {
				if strings.HasPrefix(trimmed, k+":") {
					goto drop
				}
			}
			if strings.HasPrefix(trimmed, "targets:") {
				skip = true
				continue
			}
		}
		kept = append(kept, line)
		continue
	drop:
	}
	old, err := config.Parse("old.yaml", []byte(strings.Join(kept, "\n")), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(old.Segments)
	b, _ := json.Marshal(demo.Segments)
	if string(a) != string(b) {
		t.Errorf("defaults differ from segpipe.yaml:\n%s\n%s", a, b)
	}
	if strings.Contains(strings.Join(kept, "\n"), "churn_risk") || strings.Contains(strings.Join(kept, "\n"), "accounts_per_csm") {
		t.Fatal("the test did not remove the new keys")
	}
}

// A column's optional flag reads from the long form and writes back; a source's
// max_null_share_increase defaults to 0.2.
func TestOptionalColumnsAndNullShareBound(t *testing.T) {
	yaml := strings.Replace(minimal, "employees: int64", "employees: {type: int64, optional: true}\n          seats: {type: int64, field: plan.seats, optional: false}", 1)
	cfg, err := config.Parse("c.yaml", []byte(yaml), envOf(map[string]string{"TOKEN": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	crm := cfg.Sources["crm"]
	cols := crm.Entities["accounts"].Columns
	if len(cols) != 3 || cols[0].Optional || !cols[1].Optional || cols[1].Type != "int64" || cols[2].Optional || cols[2].Field != "plan.seats" {
		t.Errorf("columns %+v", cols)
	}
	if crm.MaxNullShareIncrease != 0.2 {
		t.Errorf("max_null_share_increase %v, want the default 0.2", crm.MaxNullShareIncrease)
	}
	out, err := yamlv3.Marshal(cols)
	if err != nil {
		t.Fatal(err)
	}
	if want := "id: string\nemployees:\n    type: int64\n    optional: true\nseats:\n    type: int64\n    field: plan.seats\n"; string(out) != want {
		t.Errorf("marshalled\n%s\nwant\n%s", out, want)
	}
	yaml = strings.Replace(minimal, "    auth:", "    max_null_share_increase: 0.35\n    auth:", 1)
	if cfg, err = config.Parse("c.yaml", []byte(yaml), envOf(map[string]string{"TOKEN": "x"})); err != nil || cfg.Sources["crm"].MaxNullShareIncrease != 0.35 {
		t.Errorf("max_null_share_increase 0.35: %v", err)
	}
}
