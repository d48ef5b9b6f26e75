package salesforce_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/salesforce"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
	"github.com/segpipe/segpipe/internal/extract"
)

// The tests below run the preset and the staging SQL end to end: the example config parsed
// as a user would, every entity landed from the fake through Bulk API 2.0 query jobs, and the
// staging output compared with what the demo vendor's staging makes of the same company.

const (
	salesforceToken = "demo-salesforce-token"
	testAccounts    = 600
	testSeed        = 23
	// testPageSize makes the results come in several sets, so locators are followed.
	testPageSize = 250
)

// fixture is one company served by the Salesforce fake and the demo vendor's fakes, and the
// example config pointed at them.
type fixture struct {
	company *demo.Company
	api     *salesforce.API
	url     string
	cfg     *config.Config // config/examples/salesforce.yaml
	demoCfg *config.Config // config/segpipe.yaml, for the demo CRM
}

func newFixture(t *testing.T, accounts int) *fixture {
	t.Helper()
	c := demo.Generate(demo.Options{Accounts: accounts, Seed: testSeed}).WithAccountIDs(demo.IDStyleSalesforce)
	f := &fixture{company: c, api: salesforce.New(c, salesforceToken)}
	srv := vendortest.ServeWithDemo(t, c, "/salesforce", f.api)
	f.url = srv.URL
	f.cfg = vendortest.ReadConfig(t, "../../../config/examples/salesforce.yaml", srv.URL)
	f.demoCfg = vendortest.ReadConfig(t, "../../../config/segpipe.yaml", srv.URL)
	// Poll the fake's jobs quickly; its jobs complete on the second poll.
	src := f.cfg.Sources["crm"]
	src.PageSize = testPageSize
	for _, e := range src.Entities {
		e.BulkQuery.PollInterval = config.Duration(5 * time.Millisecond)
	}
	return f
}

func TestExampleConfigUsesThePreset(t *testing.T) {
	f := newFixture(t, 50)
	src := f.cfg.Sources["crm"]
	if src.Vendor != "salesforce" || src.BaseURL != f.url+"/salesforce" || src.Auth.Type != "bearer" || src.Auth.Token.Reveal() != salesforceToken {
		t.Fatalf("crm source: %+v", src)
	}
	if got := strings.Join(src.EntityNames(), ","); got != "account,opportunity" {
		t.Fatalf("entities %s", got)
	}
	for name, e := range src.Entities {
		bq := e.BulkQuery
		if bq == nil || bq.APIVersion != salesforce.APIVersion || !strings.Contains(bq.SOQL, "WHERE SystemModstamp > {{cursor}}") ||
			e.Format != "csv" || e.Pagination.NextCursorHeader != "Sforce-Locator" || e.Pagination.CursorParam != "locator" ||
			e.Incremental == nil || e.Incremental.CursorColumn != "system_modstamp" {
			t.Errorf("entity %s: %+v, bulk query %+v", name, e, bq)
		}
	}
	for _, name := range []string{"billing", "support", "product"} {
		if f.cfg.Sources[name].Vendor != "demo" {
			t.Errorf("source %s is %q, want the demo vendor", name, f.cfg.Sources[name].Vendor)
		}
	}
	// Without base_url, the preset's placeholder instance URL is used.
	b := []byte(strings.Replace(string(vendortest.MustRead(t, "../../../config/examples/salesforce.yaml")),
		"    base_url: ${SEGPIPE_DEMO_URL:-http://127.0.0.1:8765}/salesforce\n", "", 1))
	cfg, err := config.Parse("salesforce.yaml", b, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	src = cfg.Sources["crm"]
	if src.BaseURL != "https://MyDomainName.my.salesforce.com" || src.PageSize != 50000 || src.Entities["account"].BulkQuery.PollInterval.D() != 2*time.Second {
		t.Errorf("preset defaults: base_url %s, page_size %d, poll %v", src.BaseURL, src.PageSize, src.Entities["account"].BulkQuery.PollInterval)
	}
}

func TestPresetLandsEveryEntity(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	c := f.company
	store := vendortest.NewStore(t)
	dt := c.AsOf().Format(time.DateOnly)
	accounts := vendortest.Land(t, store, f.cfg, "crm", "account", dt, extract.Options{})
	opps := vendortest.Land(t, store, f.cfg, "crm", "opportunity", dt, extract.Options{})
	if accounts.Rows != int64(len(c.Accounts)) || opps.Rows != int64(len(c.Opportunities)) || accounts.Quarantined+opps.Quarantined != 0 {
		t.Fatalf("landed %d accounts, %d opportunities (quarantined %d, %d); want %d, %d",
			accounts.Rows, opps.Rows, accounts.Quarantined, opps.Quarantined, len(c.Accounts), len(c.Opportunities))
	}
	sets := func(n int) int { return (n + testPageSize - 1) / testPageSize }
	// Per entity: create the job, two polls (InProgress, JobComplete), one call per result set.
	wantCalls := 3 + sets(len(c.Accounts)) + 3 + sets(len(c.Opportunities))
	if got := f.api.Requests(); got != int64(wantCalls) {
		t.Errorf("%d requests, want %d", got, wantCalls)
	}
	if accounts.Pages != sets(len(c.Accounts)) || opps.Pages != sets(len(c.Opportunities)) {
		t.Errorf("pages %d, %d; want %d, %d", accounts.Pages, opps.Pages, sets(len(c.Accounts)), sets(len(c.Opportunities)))
	}
	for _, q := range f.api.Queries() {
		if !strings.HasSuffix(q, "WHERE SystemModstamp > 1970-01-01T00:00:00Z") {
			t.Errorf("a full load sent %q", q)
		}
	}
	t.Logf("landed %d accounts, %d opportunities in %d requests", accounts.Rows, opps.Rows, f.api.Requests())

	s := vendortest.OpenSession(t)
	vendortest.Register(t, s, store, "raw_salesforce__account", accounts)
	vendortest.Register(t, s, store, "raw_salesforce__opportunity", opps)
	a := c.Accounts[17]
	row := vendortest.Query(t, s, "select * from raw_salesforce__account where id = ?", a.ID)[0]
	if row.Get("name") != a.Name || row.Get("industry") != salesforce.Industries[a.Industry] || row.Get("number_of_employees") != int64(a.EmployeeCount) ||
		row.Get("annual_revenue") != a.AnnualRevenue || row.Get("billing_country") != demo.CountryNames[a.Country] ||
		row.Get("owner_name") != a.Owner || row.Get("region") != a.Region || row.Get("is_deleted") != false || row.Get("strategic") != a.IsStrategic {
		t.Errorf("account %s landed as %s", a.ID, row)
	}
	if ts, _ := row.Get("system_modstamp").(time.Time); !ts.Equal(a.UpdatedAt) {
		t.Errorf("system_modstamp %v, want %v", row.Get("system_modstamp"), a.UpdatedAt)
	}
	var o demo.Opportunity
	for _, x := range c.Opportunities {
		if x.LossReason != nil {
			o = x
		}
	}
	row = vendortest.Query(t, s, "select * from raw_salesforce__opportunity where id = ?", salesforce.OpportunityID(o.ID))[0]
	closeDate, _ := row.Get("close_date").(time.Time)
	if row.Get("account_id") != o.AccountID || row.Get("name") != o.Name || row.Get("amount") != o.Amount ||
		row.Get("stage_name") != "Closed Lost" || row.Get("is_won") != false || row.Get("type") != salesforce.Types[o.Motion] ||
		row.Get("loss_reason") != salesforce.LossReasons[*o.LossReason] || closeDate.Format(time.DateOnly) != o.ClosedAt.Format(time.DateOnly) {
		t.Errorf("opportunity %s landed as %s", o.ID, row)
	}
	if n := vendortest.Count(t, s, "select * from raw_salesforce__opportunity where account_id is null or stage_name is null or is_closed is null or owner_name is null"); n != 0 {
		t.Errorf("%d opportunities lack an account, stage, closed flag or owner", n)
	}
}

func TestPresetIncrementalFiltersInTheQuery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	c := f.company
	store := vendortest.NewStore(t)
	since := c.End.AddDate(0, -3, 0).Add(90 * time.Minute)
	want := 0
	for _, o := range c.Opportunities {
		if o.UpdatedAt.After(since) {
			want++
		}
	}
	m := vendortest.Land(t, store, f.cfg, "crm", "opportunity", c.AsOf().Format(time.DateOnly), extract.Options{Since: &since})
	if m.Rows != int64(want) || m.Mode != "incremental" || m.Filtered != 0 {
		t.Errorf("incremental landing: rows %d (want %d), mode %s, filtered %d", m.Rows, want, m.Mode, m.Filtered)
	}
	qs := f.api.Queries()
	if len(qs) != 1 || !strings.HasSuffix(qs[0], "WHERE SystemModstamp > "+since.UTC().Format("2006-01-02T15:04:05Z")) {
		t.Errorf("queries %q", qs)
	}
}

func TestPresetFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 150)
	store := vendortest.NewStore(t)
	// A 503 on the first poll is retried.
	f.api.InjectFault(salesforce.Fault{Request: 2, Status: http.StatusServiceUnavailable})
	if m := vendortest.Land(t, store, f.cfg, "crm", "account", "2026-10-31", extract.Options{}); m.Rows != 150 {
		t.Errorf("after a 503: %d rows", m.Rows)
	}
	src := f.cfg.Sources["crm"]
	landErr := func(src *config.Source, entity, run string) error {
		_, err := extract.LandEntity(context.Background(), store, "crm", src, entity, src.Entities[entity], extract.Options{Dt: "2026-10-31", RunID: run, TempDir: t.TempDir()})
		return err
	}
	// A failed job fails the landing with Salesforce's message.
	f.api.FailNextJob("InvalidBatch : Failed to process query: OPERATION_TOO_LARGE: exceeded 100000 distinct ids")
	if err := landErr(src, "opportunity", "failed-job"); err == nil || !strings.Contains(err.Error(), "Failed") || !strings.Contains(err.Error(), "OPERATION_TOO_LARGE") {
		t.Errorf("failed job: %v", err)
	}
	// The org's API limit is not retried.
	before := f.api.Requests()
	f.api.InjectFault(salesforce.Fault{Request: before + 1, Status: http.StatusForbidden})
	var he *extract.HTTPError
	if err := landErr(src, "opportunity", "limit"); !errors.As(err, &he) || he.Status != http.StatusForbidden || !strings.Contains(err.Error(), "REQUEST_LIMIT_EXCEEDED") || f.api.Requests() != before+1 {
		t.Errorf("request limit: %v after %d requests", err, f.api.Requests()-before)
	}
	// A bad token.
	bad := *src
	bad.Auth.Token = "00Dxx!expired"
	bad.MaxRetries = 0
	if err := landErr(&bad, "account", "bad-token"); !errors.As(err, &he) || he.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "INVALID_SESSION_ID") {
		t.Errorf("bad token: %v", err)
	}
}

func TestStagingMatchesTheDemoVendor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	s := vendortest.LandCRMs(t, f.cfg, f.demoCfg, f.company, salesforce.OpportunityID)
	for _, asOf := range []time.Time{f.company.AsOf(), f.company.AsOf().AddDate(0, -5, -3)} {
		t.Run(asOf.Format(time.DateOnly), func(t *testing.T) {
			accounts := vendortest.StageCRMs(t, s, f.cfg, asOf, "salesforce", "sf")
			// CloseDate and LastActivityDate are dates in Salesforce: compare those two at a
			// day's precision, every other column exactly.
			const byDay = `select * replace (date_trunc('day', closed_at) as closed_at, date_trunc('day', last_activity_at) as last_activity_at) from `
			vendortest.Exec(t, s, "create or replace table demo_opps_by_day as "+byDay+"demo_opps_mapped")
			vendortest.Exec(t, s, "create or replace table sf_opps_by_day as "+byDay+"sf_opps")
			opps := vendortest.AssertSameTable(t, s, "demo_opps_by_day", "sf_opps_by_day")
			n := func(q string) int64 { return vendortest.Count(t, s, q) }
			if k := n(`select * from sf_opps where (closed_at is not null and closed_at <> date_trunc('day', closed_at))
				or (last_activity_at is not null and last_activity_at <> date_trunc('day', last_activity_at))`); k != 0 {
				t.Errorf("%d dates with a time of day", k)
			}
			lossy := n(`select * from demo_opps_mapped d join sf_opps o using (opportunity_id)
				where d.closed_at is distinct from o.closed_at or d.last_activity_at is distinct from o.last_activity_at`)
			t.Logf("as_of %s: %d accounts, %d opportunities equal (%d differ only in the time of day of closed_at/last_activity_at); %d open, %d stage unknown",
				asOf.Format(time.DateOnly), accounts, opps, lossy, n("select * from sf_opps where not is_closed"), n("select * from sf_opps where stage is null"))
			for q, what := range map[string]string{
				"select * from sf_opps where stage = 'closed_lost' and loss_reason is not null": "lost opportunities with a reason",
				"select * from sf_opps where motion = 'renewal'":                                "renewals",
				"select * from sf_opps where source = 'partner'":                                "partner-sourced opportunities",
				"select * from sf_accounts where len(strategic_reasons) > 1":                    "accounts with several strategic reasons",
				"select * from sf_accounts where region = 'APAC'":                               "APAC accounts",
			} {
				if n(q) == 0 {
					t.Errorf("no %s", what)
				}
			}
		})
	}
}

func TestStagingRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 150)
	c := f.company
	s := vendortest.LandCRMs(t, f.cfg, f.demoCfg, f.company, salesforce.OpportunityID)
	gone, renamed, reextracted, moved := c.Accounts[3].ID, c.Accounts[4].ID, c.Accounts[5].ID, c.Accounts[6].ID
	opp := salesforce.OpportunityID(c.Opportunities[2].ID)
	vendortest.ReplaceRaw(t, s, "raw_salesforce__account", `
		select * from raw_salesforce__account
		union all select * replace (true as is_deleted, system_modstamp + interval 1 day as system_modstamp) from raw_salesforce__account where id = ?
		union all select * replace ('Stale Name' as name, system_modstamp - interval 1 day as system_modstamp) from raw_salesforce__account where id = ?
		union all select * replace ('Re-extracted Name' as name, _extracted_at + interval 1 hour as _extracted_at) from raw_salesforce__account where id = ?`,
		gone, renamed, reextracted)
	// Region__c wins over the country; an empty one falls back to it.
	vendortest.ReplaceRaw(t, s, "raw_salesforce__account", `
		select * replace (case id when ? then 'apac' when ? then null else region end as region,
		                  case id when ? then 'Deutschland' else billing_country end as billing_country)
		from raw_salesforce__account`, moved, renamed, renamed)
	vendortest.ReplaceRaw(t, s, "raw_salesforce__opportunity", `
		select * from raw_salesforce__opportunity
		union all select * replace ('Omitted' as forecast_category_name, 'Existing Customer - Downgrade' as type, 'Closing Soon' as stage_name,
		                            false as is_closed, 'EUR' as currency_iso_code, 'Trade Show' as lead_source,
		                            system_modstamp + interval 1 day as system_modstamp)
		from raw_salesforce__opportunity where id = ?`, opp)
	// Blank text is NULL: an opportunity whose account, owner name and owner id came back
	// blank; an account without CreatedDate is left out, counted.
	blank, undated := salesforce.OpportunityID(c.Opportunities[7].ID), c.Accounts[8].ID
	vendortest.ReplaceRaw(t, s, "raw_salesforce__opportunity", `
		select * replace (case id when ? then '  ' else account_id end as account_id,
		                  case id when ? then '' else owner_name end as owner_name,
		                  case id when ? then ' ' else owner_id end as owner_id)
		from raw_salesforce__opportunity`, blank, blank, blank)
	vendortest.ReplaceRaw(t, s, "raw_salesforce__account", `
		select * replace (case id when ? then null else created_date end as created_date) from raw_salesforce__account`, undated)
	vendortest.Bind(t, s, f.cfg, c.AsOf())
	if r := vendortest.Query(t, s, "select account_id, owner from ("+vendortest.StagingModel(t, "salesforce/stg_opportunities")+") where opportunity_id = ?", blank)[0]; r.Values[0] != nil || r.Values[1] != nil {
		t.Errorf("blank account and owner staged as %q, %q; want NULL", r.Values[0], r.Values[1])
	}
	if r := vendortest.Query(t, s, "select _drop_reason from ("+vendortest.StagingModel(t, "salesforce/stg_accounts")+") where account_id = ?", undated); len(r) != 1 || r[0].Values[0] != "created_at is missing" {
		t.Errorf("an account without CreatedDate: %v, want one row left out as created_at is missing", r)
	}
	vendortest.Build(t, s, "stg_accounts", "staging/salesforce/stg_accounts.sql")
	vendortest.Build(t, s, "stg_opportunities", "staging/salesforce/stg_opportunities.sql")
	if n := vendortest.Count(t, s, "select * from stg_accounts"); n != int64(len(c.Accounts)-2) {
		t.Errorf("%d accounts, want %d (one deleted, one without CreatedDate)", n, len(c.Accounts)-2)
	}
	if n := vendortest.Count(t, s, "select * from stg_accounts where account_id = ?", gone); n != 0 {
		t.Error("a deleted account is still staged")
	}
	r := vendortest.Query(t, s, "select account_name, country, region from stg_accounts where account_id = ?", renamed)[0]
	if r.Values[0] != c.Accounts[4].Name || r.Values[1] != "DE" || r.Values[2] != "EMEA" {
		t.Errorf("an older version won, or the region was not derived from the country: %s", r)
	}
	if r := vendortest.Query(t, s, "select account_name from stg_accounts where account_id = ?", reextracted); r[0].Values[0] != "Re-extracted Name" {
		t.Errorf("on equal SystemModstamp the later extraction should win: %v", r[0])
	}
	if r := vendortest.Query(t, s, "select region from stg_accounts where account_id = ?", moved); r[0].Values[0] != "APAC" {
		t.Errorf("Region__c apac staged as %v", r[0])
	}
	r = vendortest.Query(t, s, "select * from stg_opportunities where opportunity_id = ?", opp)[0]
	amount := c.Opportunities[2].Amount
	if r.Get("stage") != nil || r.Get("forecast_category") != nil || r.Get("motion") != nil || r.Get("source") != nil || r.Get("is_closed") != false ||
		r.Get("currency_original") != "EUR" || math.Abs(r.Float("amount")-amount*1.08) > 1e-6 || r.Float("amount_original") != amount {
		t.Errorf("unmapped vocabulary should be NULL and EUR converted: %s", r)
	}
	if n := vendortest.Count(t, s, `select country_key from ref_countries group by all having count(*) > 1`); n != 0 {
		t.Errorf("%d country names map to two countries", n)
	}
	// BillingCountry as users type it, without Region__c: ISO-2 and ISO-3 codes and names, in
	// any case and spacing, become the ISO-2 code and its region; an unknown one is kept as typed.
	typed := map[string]string{"u.s.": "US NA", "GBR": "GB EMEA", " united  kingdom": "GB EMEA", "Japan": "JP APAC",
		"México": "MX LATAM", "Atlantis": "Atlantis <nil>"}
	var cases []string
	ids := map[string]string{}
	i := 10
	for typedAs, want := range typed {
		id := c.Accounts[i].ID
		cases = append(cases, fmt.Sprintf("when '%s' then '%s'", id, strings.ReplaceAll(typedAs, "'", "''")))
		ids[id] = want
		i++
	}
	vendortest.ReplaceRaw(t, s, "raw_salesforce__account", `select * replace (
		case id `+strings.Join(cases, " ")+` else billing_country end as billing_country,
		case when id in (`+"'"+strings.Join(slices.Collect(maps.Keys(ids)), "', '")+"'"+`) then null else region end as region)
		from raw_salesforce__account`)
	vendortest.Build(t, s, "stg_accounts", "staging/salesforce/stg_accounts.sql")
	for id, want := range ids {
		r := vendortest.Query(t, s, "select country, region from stg_accounts where account_id = ?", id)[0]
		if got := fmt.Sprintf("%v %v", r.Values[0], r.Values[1]); got != want {
			t.Errorf("%s: country/region %s, want %s", id, got, want)
		}
	}
}

// TestWholePipelineWithSalesforceAsTheCRM builds every model and assertion from the example
// config's sources, and checks that the marts equal those of the demo CRM on the same company.
func TestWholePipelineWithSalesforceAsTheCRM(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	vendortest.AssertMartsMatchDemo(t, f.cfg, f.demoCfg, "salesforce", f.company.AsOf(), len(f.company.Accounts))
}
