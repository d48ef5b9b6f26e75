package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo/csvcrm"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

// csvCRMEnv serves a CSV CRM company and returns params for a nightly of
// config/examples/csv-crm.yaml against it, as of the company's date, in a fresh lake.
func csvCRMEnv(t *testing.T, c *csvcrm.Company, extra string) jobs.Params {
	t.Helper()
	srv := c.Serve()
	t.Cleanup(srv.Close)
	return exampleParams(t, "csv-crm.yaml", extra, "SEGPIPE_CSV_CRM_URL", srv.URL, c.AsOf)
}

// exampleParams are params for a run as of asOf of config/examples/<file> (extra appended),
// with ${envName} standing for url, in a fresh lake.
func exampleParams(t *testing.T, file, extra, envName, url string, asOf time.Time) jobs.Params {
	t.Helper()
	yaml, err := os.ReadFile("../config/examples/" + file)
	if err != nil {
		t.Fatal(err)
	}
	yaml = append(yaml, extra...)
	cfg, err := config.Parse(file, yaml, func(k string) (string, bool) {
		if k == envName {
			return url, true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return jobs.Params{Config: cfg, Lake: store, AsOf: asOf, RunID: jobs.NewRunID(time.Now()), WorkDir: t.TempDir()}
}

// vendorExamples lists the example configs of the preset vendors (config/examples/*.yaml but
// those of generic sources, which read exports of their own shape, not the demo company's).
func vendorExamples() ([]string, error) {
	all, err := filepath.Glob("../config/examples/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range all {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(string(b), "vendor: generic") {
			out = append(out, f)
		}
	}
	return out, nil
}

// The case of issue 15: a CRM-only company (accounts and deals, no billing, support or usage
// source) from plain CSV exports in a foreign shape, run with `segpipe run nightly` and
// config/examples/csv-crm.yaml alone. The firmographic and pipeline tables are published and
// checked against values computed here from the company; the billing-based marts are reported
// as not built, not published empty; the customer columns are unknown, never prospect or 0.
func TestCSVCRMOnlyNightly(t *testing.T) {
	asOf := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	c := csvcrm.Generate(120, asOf, 3)
	p := csvCRMEnv(t, c, "")
	res, err := jobs.Nightly(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	latest := filepath.Join(p.Lake.(*lake.FileStore).Root(), "latest")
	pub, err := lake.ReadPublished(context.Background(), p.Lake)
	if err != nil {
		t.Fatal(err)
	}
	var published []string
	for _, tb := range pub.Tables {
		published = append(published, tb.Name)
	}
	sort.Strings(published)
	if got := strings.Join(published, " "); got != "account_segments pipeline_aging pipeline_cohorts pipeline_loss_reasons pipeline_segments segment_validation" {
		t.Errorf("published %s", got)
	}
	notBuilt := map[string][]string{}
	for _, nb := range res.Segment.NotBuilt {
		if nb.Layer == warehouse.Marts {
			notBuilt[nb.Name] = nb.Needs
		}
	}
	// tier_assignments is computed, from empty billing tables, as an input of segment_validation
	// only: not published, and listed as not built.
	for _, m := range []string{"mrr_monthly", "mrr_movements", "cohort_retention", "ltv_quintiles", "tier_assignments", "segment_metrics", "icp_profile", "prospect_fit"} {
		if needs := notBuilt[m]; len(needs) == 0 || needs[0] != "stg_invoices" {
			t.Errorf("%s: not built needs %v, want stg_invoices first", m, needs)
		}
	}
	for _, f := range []string{"mrr_monthly.parquet", "ltv_quintiles.parquet", "tier_assignments.parquet"} {
		if _, err := os.Stat(filepath.Join(latest, f)); !os.IsNotExist(err) {
			t.Errorf("latest/%s exists: a mart that was not built is not published", f)
		}
	}
	// The report: the pipeline drawn, the billing sections saying what they need, the
	// customers' status unknown rather than counted as prospects.
	rep := res.Segment.Report
	if len(rep.NotDrawn) != 0 || strings.Join(rep.NotBuilt, ", ") != "MRR movements, ARR and customers by segment, LTV quintiles, Cohort retention, ICP and anti-ICP traits, Natural clusters, Customer-success tiers" {
		t.Errorf("report: not built %v, not drawn %v", rep.NotBuilt, rep.NotDrawn)
	}
	page, err := os.ReadFile(filepath.Join(latest, lake.ReportName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mrr_monthly was not built: it needs stg_invoices", `data-chart="pipeline-value"`, `data-chart="pipeline-aging"`,
		"have no known customer status (no billing source)"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the CRM-only report does not say %q", want)
		}
	}
	var rec struct {
		Extra struct {
			NotBuilt []warehouse.NotBuilt `json:"not_built"`
			Provided []string             `json:"provided_tables"`
		} `json:"extra"`
	}
	b, err := lake.GetBytes(context.Background(), p.Lake, "runs/"+res.Segment.RunID+".json")
	if err == nil {
		err = json.Unmarshal(b, &rec)
	}
	if err != nil || len(rec.Extra.NotBuilt) == 0 || strings.Join(rec.Extra.Provided, ",") != "stg_accounts,stg_opportunities,stg_products" {
		t.Errorf("run record: %v, not_built %v, provided %v", err, rec.Extra.NotBuilt, rec.Extra.Provided)
	}

	// account_segments: the CRM's firmographics; customer columns unknown.
	size := func(emp int64) string {
		switch {
		case emp >= 2000:
			return "Enterprise"
		case emp >= 200:
			return "Mid-market"
		}
		return "SMB"
	}
	rows := readTable(t, filepath.Join(latest, "account_segments.parquet"))
	if len(rows) != len(c.Accounts) {
		t.Fatalf("account_segments has %d rows, want %d", len(rows), len(c.Accounts))
	}
	byID := map[string]warehouse.Row{}
	for _, r := range rows {
		byID[r.Get("account_id").(string)] = r
	}
	for _, a := range c.Accounts {
		r := byID[a.ID]
		if r.Get("size_band") != size(a.Employees) || r.Get("industry") != a.Sector || r.Get("customer_status") != "unknown" ||
			r.Get("arr") != nil || r.Get("mrr") != nil || r.Get("is_icp") != nil || r.Get("churn_risk") != nil || r.Get("support_need") != nil {
			t.Errorf("%s: %v", a.ID, r)
		}
	}

	// pipeline_segments, the grand total, computed from the deals.
	var open, won, lost int
	var wonAmount float64
	for _, d := range c.Deals {
		switch d.Stage {
		case "Won":
			won++
			wonAmount += d.Value
		case "Lost":
			lost++
		default:
			open++
		}
	}
	var total warehouse.Row
	for _, r := range readTable(t, filepath.Join(latest, "pipeline_segments.parquet")) {
		if r.Get("grouping") == "total" {
			total = r
		}
	}
	if total.Columns == nil {
		t.Fatal("pipeline_segments has no total row")
	}
	if total.Get("opportunities") != int64(len(c.Deals)) || total.Get("open_opportunities") != int64(open) ||
		total.Get("won") != int64(won) || total.Get("lost") != int64(lost) {
		t.Errorf("total: %d deals, %v open, %v won, %v lost; want %d, %d, %d, %d", total.Get("opportunities"), total.Get("open_opportunities"),
			total.Get("won"), total.Get("lost"), len(c.Deals), open, won, lost)
	}
	if got := total.Float("revenue_won"); math.Abs(got-wonAmount) > 0.005 {
		t.Errorf("revenue_won %.2f, want %.2f", got, wonAmount)
	}
	// Open deals have no amount in the export: the example's product table (products.csv) values them.
	price := map[string]float64{}
	for _, pr := range c.Products {
		price[pr.Name] = pr.Price
	}
	var pipeline float64
	for _, d := range c.Deals {
		if d.Stage != "Won" && d.Stage != "Lost" {
			pipeline += price[d.Product]
		}
	}
	if got := total.Float("pipeline_value"); math.Abs(got-pipeline) > 0.005 || pipeline == 0 {
		t.Errorf("pipeline_value %.2f, want %.2f (open deals at list price)", got, pipeline)
	}
	if got := total.Float("pipeline_value_price_list"); math.Abs(got-pipeline) > 0.005 {
		t.Errorf("pipeline_value_price_list %.2f, want all of it, %.2f", got, pipeline)
	}
	for _, r := range readTable(t, filepath.Join(latest, "pipeline_aging.parquet")) {
		if r.Get("amount_source") != "product_table" {
			t.Errorf("open deal %v: amount_source %v, want product_table", r.Get("opportunity_id"), r.Get("amount_source"))
			break
		}
	}
	if got, want := total.Float("win_rate"), float64(won)/float64(won+lost); math.Abs(got-want) > 1e-12 {
		t.Errorf("win_rate %v, want %v", got, want)
	}
	// By region: the office countries' regions.
	regionDeals := map[string]int64{}
	regionOf := map[string]string{}
	for _, a := range c.Accounts {
		regionOf[a.Name] = map[string]string{"United States": "NA", "Kenya": "EMEA", "Philippines": "APAC", "Japan": "APAC", "Italy": "EMEA",
			"Norway": "EMEA", "Korea": "APAC", "Jordan": "EMEA", "Brazil": "LATAM", "China": "APAC", "Germany": "EMEA", "Panama": "LATAM",
			"Belgium": "EMEA", "Poland": "EMEA"}[a.Country]
	}
	for _, d := range c.Deals {
		r := regionOf[d.Account]
		if r == "" {
			r = "Unknown" // a deal that names no account
		}
		regionDeals[r]++
	}
	for _, r := range readTable(t, filepath.Join(latest, "pipeline_segments.parquet")) {
		if r.Get("grouping") == "region" {
			if got, want := r.Get("opportunities"), regionDeals[r.Get("region").(string)]; got != want {
				t.Errorf("region %v: %v deals, want %d", r.Get("region"), got, want)
			}
			delete(regionDeals, r.Get("region").(string))
		}
	}
	if len(regionDeals) > 0 {
		t.Errorf("regions missing from pipeline_segments: %v", regionDeals)
	}

	// segment_validation without billing: no customer, so every account metric has no test;
	// the pipeline segments are tested. region x win_rate, computed from the deals: the regions
	// (not Unknown) with at least validation.min_segment_size (30) closed deals.
	closed := map[string]int64{}
	for _, d := range c.Deals {
		if r := regionOf[d.Account]; r != "" && (d.Stage == "Won" || d.Stage == "Lost") {
			closed[r]++
		}
	}
	var wantN, wantK int64
	for _, n := range closed {
		if n >= 30 {
			wantN += n
			wantK++
		}
	}
	tested := 0
	for _, r := range readTable(t, filepath.Join(latest, "segment_validation.parquet")) {
		key := fmt.Sprint(r.Get("dimension"), "/", r.Get("metric"))
		switch r.Get("metric") {
		case "ltv", "arr", "logo_churn":
			if r.Get("verdict") != "not enough segments" || r.Get("n") != int64(0) {
				t.Errorf("%s without billing: %v", key, r)
			}
		default:
			if r.Get("p_value") != nil {
				tested++
			}
		}
		if key == "region/win_rate" && (r.Get("n") != wantN || r.Get("segments_tested") != wantK) {
			t.Errorf("region/win_rate: n %v over %v segments, want %d over %d (closed deals by region %v)", r.Get("n"), r.Get("segments_tested"), wantN, wantK, closed)
		}
	}
	if tested == 0 {
		t.Error("no pipeline segment was tested without billing")
	}
}

// Billing without support or product usage (the demo config with those two sources removed):
// every mart is built; what is derived from billing equals a run with every system, and the
// labels derived from the missing systems are unknown, never self_sufficient, low or a usage
// level.
func TestNoSupportOrUsageSourceMeansUnknownNotDefault(t *testing.T) {
	full, _ := demoEnv(t, 800, nil)
	part, _ := demoEnv(t, 800, func(c *config.Config) {
		delete(c.Sources, "support")
		delete(c.Sources, "product")
	})
	ctx := context.Background()
	var segs [2]*jobs.SegmentResult
	for i, p := range []jobs.Params{full, part} {
		res, err := jobs.Nightly(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		segs[i] = res.Segment
	}
	for _, nb := range segs[1].NotBuilt {
		if nb.Layer == warehouse.Marts {
			t.Errorf("%s not built without support and usage (needs %v)", nb.Name, nb.Needs)
		}
	}
	read := func(p jobs.Params) map[string]warehouse.Row {
		out := map[string]warehouse.Row{}
		for _, r := range readTable(t, filepath.Join(p.Lake.(*lake.FileStore).Root(), "latest", "account_segments.parquet")) {
			out[r.Get("account_id").(string)] = r
		}
		return out
	}
	a, b := read(full), read(part)
	active := 0
	for id, r := range a {
		s := b[id]
		for _, col := range []string{"customer_status", "arr", "mrr", "ltv", "ltv_quintile", "size_band", "arr_band", "adoption_stage", "is_icp"} {
			if fmt.Sprint(r.Get(col)) != fmt.Sprint(s.Get(col)) {
				t.Errorf("%s %s: %v with every system, %v without support and usage", id, col, r.Get(col), s.Get(col))
			}
		}
		if r.Get("customer_status") != "active" {
			continue
		}
		active++
		if s.Get("support_need") != "unknown" || s.Get("tickets_per_month") != nil || s.Get("usage_intensity") != "unknown" || s.Get("active_share") != nil {
			t.Errorf("%s: support_need %v, tickets %v, usage %v, share %v; want unknown, NULL, unknown, NULL",
				id, s.Get("support_need"), s.Get("tickets_per_month"), s.Get("usage_intensity"), s.Get("active_share"))
		}
		// The flags left are the expansion ones; no churn flag can be seen, so the risk is unknown.
		if s.Get("churn_risk") != "unknown" || s.Get("health_score") != nil {
			t.Errorf("%s: churn_risk %v, health %v; want unknown and NULL", id, s.Get("churn_risk"), s.Get("health_score"))
		}
	}
	if active < 50 {
		t.Fatalf("only %d active customers", active)
	}
}

// Billing alone (the demo config with only its billing source): the MRR marts, which need
// invoices and nothing else, are built and equal a full run's; every mart that needs the CRM's
// accounts is reported as not built, needing stg_accounts.
func TestBillingOnly(t *testing.T) {
	full, _ := demoEnv(t, 500, nil)
	only, _ := demoEnv(t, 500, func(c *config.Config) {
		for name := range c.Sources {
			if name != "billing" {
				delete(c.Sources, name)
			}
		}
	})
	ctx := context.Background()
	if _, err := jobs.Nightly(ctx, full); err != nil {
		t.Fatal(err)
	}
	res, err := jobs.Nightly(ctx, only)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := lake.ReadPublished(ctx, only.Lake)
	var names []string
	for _, tb := range pub.Tables {
		names = append(names, tb.Name)
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "mrr_monthly mrr_movements" {
		t.Errorf("billing alone published %s", got)
	}
	for _, nb := range res.Segment.NotBuilt {
		if nb.Name == "account_segments" && (len(nb.Needs) == 0 || nb.Needs[0] != "stg_accounts") {
			t.Errorf("account_segments needs %v", nb.Needs)
		}
	}
	for _, table := range names {
		f := table + ".parquet"
		a, _ := os.ReadFile(filepath.Join(full.Lake.(*lake.FileStore).Root(), "latest", f))
		b, _ := os.ReadFile(filepath.Join(only.Lake.(*lake.FileStore).Root(), "latest", f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs from the full run's", table)
		}
	}
}

// The same CRM-only company through SQL of the user's own: the deals entity lands as it is (no
// provides, no map) and models/staging/crm/stg_opportunities.sql stages it by hand, finding the
// account by name. Every published table equals, byte for byte, the run that maps by config.
func TestCSVCRMThroughOwnStagingSQL(t *testing.T) {
	asOf := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	c := csvcrm.Generate(80, asOf, 5)
	ctx := context.Background()
	byMap := csvCRMEnv(t, c, "")
	if _, err := jobs.Nightly(ctx, byMap); err != nil {
		t.Fatal(err)
	}
	bySQL := csvCRMEnv(t, c, "")
	deals := bySQL.Config.Sources["crm"].Entities["deals"]
	deals.Provides, deals.Map = "", nil
	bySQL.Config.Models = writeModels(t, map[string]string{"staging/crm/stg_opportunities.sql": `-- The CSV CRM's deals, staged by hand.
with accounts as (
    select lower(trim(account)) as k, min(account_id) as account_id, count(distinct account_id) as n
    from raw_crm__accounts
    where blank_null(trim(account)) is not null
    group by 1
),
deals as (
    select * from raw_crm__deals
    qualify row_number() over (partition by opportunity_id order by _extracted_at desc) = 1
)
select
    d.opportunity_id,
    case when a.n = 1 then a.account_id end             as account_id,
    null::varchar                                       as opportunity_name,
    to_reporting(d.close_value, 'USD')                  as amount,
    'USD'                                               as currency_original,
    d.close_value                                       as amount_original,
    case lower(trim(d.deal_stage)) when 'won' then 'closed_won' when 'lost' then 'closed_lost'
         when 'engaging' then 'engaging' when 'prospecting' then 'prospecting' end as stage,
    null::timestamp                                     as stage_entered_at,
    coalesce(lower(trim(d.deal_stage)) in ('won', 'lost') and d.close_date::timestamp < cutoff(), false) as is_closed,
    coalesce(lower(trim(d.deal_stage)) = 'won' and d.close_date::timestamp < cutoff(), false) as is_won,
    'new_business'                                      as motion,
    null::varchar                                       as source,
    blank_null(trim(d.product))                         as product,
    null::varchar                                       as forecast_category,
    blank_null(d.sales_agent)                           as owner,
    null::varchar                                       as loss_reason,
    null::timestamp                                     as last_activity_at,
    null::varchar                                       as last_activity_type,
    false                                               as activity_known,
    d.engage_date::timestamp                            as created_at,
    case when d.close_date::timestamp < cutoff() then d.close_date::timestamp end as closed_at
from deals d
left join accounts a on a.k = lower(trim(d.account))
where d.engage_date::timestamp < cutoff()`})
	if _, err := jobs.CheckModels(ctx, bySQL.Config, t.TempDir()); err != nil {
		t.Fatalf("config check: %v", err)
	}
	if _, err := jobs.Nightly(ctx, bySQL); err != nil {
		t.Fatal(err)
	}
	root := func(p jobs.Params) string { return filepath.Join(p.Lake.(*lake.FileStore).Root(), "latest") }
	entries, err := os.ReadDir(root(byMap))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".parquet") {
			continue
		}
		n++
		a, _ := os.ReadFile(filepath.Join(root(byMap), e.Name()))
		b, err := os.ReadFile(filepath.Join(root(bySQL), e.Name()))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the map and the user's SQL (%v)", e.Name(), err)
		}
	}
	if n != 6 {
		t.Errorf("%d tables published, want the 6 of a CRM-only run", n)
	}
}
