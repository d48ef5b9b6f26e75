package hubspot_test

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
	"github.com/segpipe/segpipe/internal/demo/hubspot"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/warehouse"
)

// The tests below run the preset and the staging SQL end to end: the example config parsed
// as a user would, every entity landed from the fake, and the staging output compared with
// what the demo vendor's staging makes of the same company.

const (
	hubspotToken = "demo-hubspot-token"
	testAccounts = 600
	testSeed     = 21
)

// fixture is one company served by the HubSpot fake and the demo vendor's fakes, and the
// example config pointed at them.
type fixture struct {
	company *demo.Company
	api     *hubspot.API
	url     string
	cfg     *config.Config // config/examples/hubspot.yaml
	demoCfg *config.Config // config/segpipe.yaml, for the demo CRM
}

func newFixture(t *testing.T, accounts int) *fixture {
	t.Helper()
	c := demo.Generate(demo.Options{Accounts: accounts, Seed: testSeed}).WithAccountIDs(demo.IDStyleHubSpot)
	f := &fixture{company: c, api: hubspot.New(c, hubspotToken)}
	srv := vendortest.ServeWithDemo(t, c, "/hubspot", f.api)
	f.url = srv.URL
	f.cfg = vendortest.ReadConfig(t, "../../../config/examples/hubspot.yaml", srv.URL)
	f.demoCfg = vendortest.ReadConfig(t, "../../../config/segpipe.yaml", srv.URL)
	return f
}

func TestExampleConfigUsesThePreset(t *testing.T) {
	f := newFixture(t, 50)
	src := f.cfg.Sources["crm"]
	if src.Vendor != "hubspot" || src.BaseURL != f.url+"/hubspot" || src.PageSize != 100 || src.Auth.Type != "bearer" || src.Auth.Token.Reveal() != hubspotToken {
		t.Fatalf("crm source: %+v", src)
	}
	if got := strings.Join(src.EntityNames(), ","); got != "companies,deals,owners" {
		t.Fatalf("entities %s", got)
	}
	deals := src.Entities["deals"]
	if deals.Params["associations"] != "companies" || deals.Pagination.NextCursorPath != "paging.next.after" || deals.Incremental == nil || deals.Incremental.Param != "" {
		t.Errorf("deals: %+v", deals)
	}
	for _, name := range []string{"billing", "support", "product"} {
		if f.cfg.Sources[name].Vendor != "demo" {
			t.Errorf("source %s is %q, want the demo vendor", name, f.cfg.Sources[name].Vendor)
		}
	}
	// The preset alone, against the real API, parses too.
	b := []byte(strings.Replace(string(vendortest.MustRead(t, "../../../config/examples/hubspot.yaml")),
		"    base_url: ${SEGPIPE_DEMO_URL:-http://127.0.0.1:8765}/hubspot\n", "", 1))
	cfg, err := config.Parse("hubspot.yaml", b, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sources["crm"].BaseURL; got != "https://api.hubapi.com" {
		t.Errorf("preset base_url %s", got)
	}
}

func TestPresetLandsEveryEntity(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	c := f.company
	store := vendortest.NewStore(t)
	dt := c.AsOf().Format(time.DateOnly)
	companies := vendortest.Land(t, store, f.cfg, "crm", "companies", dt, extract.Options{})
	deals := vendortest.Land(t, store, f.cfg, "crm", "deals", dt, extract.Options{})
	owners := vendortest.Land(t, store, f.cfg, "crm", "owners", dt, extract.Options{})
	if companies.Rows != int64(len(c.Accounts)) || deals.Rows != int64(len(c.Opportunities)) || companies.Quarantined+deals.Quarantined+owners.Quarantined != 0 {
		t.Fatalf("landed %d companies, %d deals (quarantined %d, %d); want %d, %d",
			companies.Rows, deals.Rows, companies.Quarantined, deals.Quarantined, len(c.Accounts), len(c.Opportunities))
	}
	wantPages := (len(c.Accounts)+99)/100 + (len(c.Opportunities)+99)/100 + 1
	if got := f.api.Requests(); got != int64(wantPages) {
		t.Errorf("%d requests, want %d (one per page)", got, wantPages)
	}
	t.Logf("landed %d companies, %d deals, %d owners in %d requests", companies.Rows, deals.Rows, owners.Rows, f.api.Requests())

	s := vendortest.OpenSession(t)
	vendortest.Register(t, s, store, "raw_hubspot__companies", companies)
	vendortest.Register(t, s, store, "raw_hubspot__deals", deals)
	a := c.Accounts[17]
	row := vendortest.Query(t, s, "select * from raw_hubspot__companies where id = ?", a.ID)[0]
	if row.Get("name") != a.Name || row.Get("industry") != hubspot.Industries[a.Industry] || row.Get("numberofemployees") != int64(a.EmployeeCount) ||
		row.Get("annualrevenue") != a.AnnualRevenue || row.Get("country") != demo.CountryNames[a.Country] || row.Get("archived") != false {
		t.Errorf("company %s landed as %s", a.ID, row)
	}
	if ts, _ := row.Get("updated_at").(time.Time); !ts.Equal(a.UpdatedAt) {
		t.Errorf("updated_at %v, want %v", row.Get("updated_at"), a.UpdatedAt)
	}
	o := c.Opportunities[len(c.Opportunities)-1]
	row = vendortest.Query(t, s, "select * from raw_hubspot__deals where id = ?", hubspot.DealID(o.ID))[0]
	if row.Get("dealname") != o.Name || row.Get("amount") != o.Amount ||
		row.Get("dealstage") != hubspot.DealStages[o.Stage] || row.Get("deal_motion") != o.Motion || row.Get("pipeline") != "default" {
		t.Errorf("deal %s landed as %s", o.ID, row)
	}
	if n := vendortest.Count(t, s, `select * from raw_hubspot__deals
		where json_extract(_raw, '$.associations.companies.results') is null or dealstage is null or hs_is_closed is null`); n != 0 {
		t.Errorf("%d deals lack company associations, a stage or the closed flag", n)
	}
	if n := vendortest.Count(t, s, "select * from raw_hubspot__deals where closed_lost_reason is not null"); n == 0 {
		t.Error("no deal landed with a closed_lost_reason")
	}
}

func TestPresetIncrementalFiltersClientSide(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	c := f.company
	store := vendortest.NewStore(t)
	since := c.End.AddDate(0, -3, 0)
	want := 0
	for _, a := range c.Accounts {
		if a.UpdatedAt.After(since) {
			want++
		}
	}
	m := vendortest.Land(t, store, f.cfg, "crm", "companies", c.AsOf().Format(time.DateOnly), extract.Options{Since: &since})
	if m.Rows != int64(want) || m.Mode != "incremental" || m.Filtered != int64(len(c.Accounts)-want) {
		t.Errorf("incremental landing: rows %d (want %d), mode %s, filtered %d (want %d)", m.Rows, want, m.Mode, m.Filtered, len(c.Accounts)-want)
	}
	if m.CursorMax == nil || m.CursorMax.After(c.End) || m.CursorMax.Before(since) {
		t.Errorf("cursor_max %v", m.CursorMax)
	}
	// HubSpot has no updated-since filter: every page is still read.
	if got := f.api.Requests(); got != int64((len(c.Accounts)+99)/100) {
		t.Errorf("%d requests for an incremental landing, want every page", got)
	}
}

func TestPresetSurvivesRateLimitAndFailsOnBadToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 150)
	store := vendortest.NewStore(t)
	// The per-second limit: the 10-second window's (TEN_SECONDLY_ROLLING, the default) makes
	// the extract wait out its 10 seconds, which the fake's own tests cover.
	f.api.InjectFault(hubspot.Fault{Request: 2, Status: http.StatusTooManyRequests, Policy: "SECONDLY"})
	m := vendortest.Land(t, store, f.cfg, "crm", "companies", "2026-10-31", extract.Options{})
	if m.Rows != 150 || f.api.Requests() != 3 {
		t.Errorf("after a 429: %d rows in %d requests, want 150 in 3", m.Rows, f.api.Requests())
	}
	src := *f.cfg.Sources["crm"]
	src.Auth.Token = "pat-na1-revoked"
	src.MaxRetries = 0
	_, err := extract.LandEntity(context.Background(), store, "crm", &src, "deals", src.Entities["deals"], extract.Options{Dt: "2026-10-31", RunID: "bad-token", TempDir: t.TempDir()})
	var he *extract.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "INVALID_AUTHENTICATION") {
		t.Errorf("bad token: %v", err)
	}
}

func TestStagingMatchesTheDemoVendor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	s := vendortest.LandCRMs(t, f.cfg, f.demoCfg, f.company, hubspot.DealID)
	for _, asOf := range []time.Time{f.company.AsOf(), f.company.AsOf().AddDate(0, -5, -3)} {
		t.Run(asOf.Format(time.DateOnly), func(t *testing.T) {
			accounts := vendortest.StageCRMs(t, s, f.cfg, asOf, "hubspot", "hubspot")
			opps := vendortest.AssertSameTable(t, s, "demo_opps_mapped", "hubspot_opps")

			// The comparison means something only if the cut and the vocabulary are exercised.
			n := func(q string) int64 { return vendortest.Count(t, s, q) }
			t.Logf("as_of %s: %d accounts, %d opportunities equal; %d open, %d stage unknown (closed after as_of), %d strategic",
				asOf.Format(time.DateOnly), accounts, opps, n("select * from hubspot_opps where not is_closed"),
				n("select * from hubspot_opps where stage is null"), n("select * from hubspot_accounts where is_strategic"))
			for q, what := range map[string]string{
				"select * from hubspot_opps where stage = 'closed_lost' and loss_reason is not null": "lost deals with a reason",
				"select * from hubspot_opps where motion = 'renewal'":                                "renewals",
				"select * from hubspot_accounts where len(strategic_reasons) > 1":                    "accounts with several strategic reasons",
				"select * from hubspot_accounts where region = 'LATAM'":                              "LATAM accounts",
				// Reading the first association (the old preset) would have put these wrong.
				`select * from raw_hubspot__deals d join hubspot_opps o on o.opportunity_id = d.id
				 where json_extract_string(d._raw, '$.associations.companies.results[0].id') <> o.account_id`: "deals listing another company first",
			} {
				if n(q) == 0 {
					t.Errorf("no %s", what)
				}
			}
			if asOf.Before(f.company.AsOf()) && n("select * from hubspot_opps where stage is null") == 0 {
				t.Error("an early as_of should leave deals closed later with an unknown stage")
			}
		})
	}
}

func TestStagingRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 150)
	c := f.company
	s := vendortest.LandCRMs(t, f.cfg, f.demoCfg, f.company, hubspot.DealID)
	gone, renamed, reextracted := c.Accounts[3].ID, c.Accounts[4].ID, c.Accounts[5].ID
	deal := hubspot.DealID(c.Opportunities[2].ID)
	// Later versions of some records, as incremental landings would bring them.
	vendortest.ReplaceRaw(t, s, "raw_hubspot__companies", `
		select * from raw_hubspot__companies
		union all select * replace (true as archived, updated_at + interval 1 day as updated_at) from raw_hubspot__companies where id = ?
		union all select * replace ('Stale Name' as name, updated_at - interval 1 day as updated_at) from raw_hubspot__companies where id = ?
		union all select * replace ('Re-extracted Name' as name, _extracted_at + interval 1 hour as _extracted_at) from raw_hubspot__companies where id = ?`,
		gone, renamed, reextracted)
	vendortest.ReplaceRaw(t, s, "raw_hubspot__deals", `
		select * from raw_hubspot__deals
		union all select * replace ('OMIT' as hs_manual_forecast_category, 'someothervalue' as deal_motion, 'pipeline_2_stage_7' as dealstage,
		                            false as hs_is_closed, 'EUR' as deal_currency_code, updated_at + interval 1 day as updated_at)
		from raw_hubspot__deals where id = ?`, deal)
	vendortest.Bind(t, s, f.cfg, c.AsOf())
	vendortest.Build(t, s, "stg_accounts", "staging/hubspot/stg_accounts.sql")
	vendortest.Build(t, s, "stg_opportunities", "staging/hubspot/stg_opportunities.sql")
	if n := vendortest.Count(t, s, "select * from stg_accounts"); n != int64(len(c.Accounts)-1) {
		t.Errorf("%d accounts, want %d (one archived)", n, len(c.Accounts)-1)
	}
	if n := vendortest.Count(t, s, "select * from stg_accounts where account_id = ?", gone); n != 0 {
		t.Error("an archived company is still staged")
	}
	if r := vendortest.Query(t, s, "select account_name from stg_accounts where account_id = ?", renamed); r[0].Values[0] != c.Accounts[4].Name {
		t.Errorf("an older version won: %v", r[0])
	}
	if r := vendortest.Query(t, s, "select account_name from stg_accounts where account_id = ?", reextracted); r[0].Values[0] != "Re-extracted Name" {
		t.Errorf("on equal updated_at the later extraction should win: %v", r[0])
	}
	r := vendortest.Query(t, s, "select * from stg_opportunities where opportunity_id = ?", deal)[0]
	amount := c.Opportunities[2].Amount
	if r.Get("stage") != nil || r.Get("forecast_category") != nil || r.Get("motion") != nil || r.Get("is_closed") != false ||
		r.Get("currency_original") != "EUR" || math.Abs(r.Float("amount")-amount*1.08) > 1e-6 || r.Float("amount_original") != amount {
		t.Errorf("unmapped vocabulary should be NULL and EUR converted: %s", r)
	}
	// A deal without a currency code is in the source's currency (sources.crm.currency), else
	// in the reporting currency.
	nocode := hubspot.DealID(c.Opportunities[3].ID)
	vendortest.ReplaceRaw(t, s, "raw_hubspot__deals", `
		select * replace (case id when ? then '' else deal_currency_code end as deal_currency_code) from raw_hubspot__deals`, nocode)
	for _, cur := range []string{"", "EUR"} {
		cfg := *f.cfg
		cfg.Sources = maps.Clone(f.cfg.Sources)
		crm := *cfg.Sources["crm"]
		crm.Currency = cur
		cfg.Sources["crm"] = &crm
		vendortest.Bind(t, s, &cfg, c.AsOf())
		vendortest.Build(t, s, "stg_opportunities", "staging/hubspot/stg_opportunities.sql")
		r := vendortest.Query(t, s, "select currency_original, amount from stg_opportunities where opportunity_id = ?", nocode)[0]
		want, rate := "USD", 1.0
		if cur != "" {
			want, rate = cur, 1.08
		}
		if amount := c.Opportunities[3].Amount; r.Get("currency_original") != want || math.Abs(r.Float("amount")-amount*rate) > 1e-6 {
			t.Errorf("source currency %q: a deal without a code staged as %s, want %s x %v", cur, r, want, rate)
		}
	}
	// Every country key names one country.
	if n := vendortest.Count(t, s, `select country_key from ref_countries group by all having count(*) > 1`); n != 0 {
		t.Errorf("%d country names map to two countries", n)
	}
	// Country names and codes as users type them.
	vendortest.ReplaceRaw(t, s, "raw_hubspot__companies", `
		select * replace (case id when ? then 'uk' when ? then 'DE' when ? then 'Atlantis' when ? then 'U.S.A.'
		                          when ? then 'jpn' when ? then '  Deutschland ' when ? then 'Brasil' else country end as country) from raw_hubspot__companies`,
		c.Accounts[10].ID, c.Accounts[11].ID, c.Accounts[12].ID, c.Accounts[13].ID, c.Accounts[14].ID, c.Accounts[15].ID, c.Accounts[16].ID)
	vendortest.Build(t, s, "stg_accounts", "staging/hubspot/stg_accounts.sql")
	for id, want := range map[string]string{c.Accounts[10].ID: "GB EMEA", c.Accounts[11].ID: "DE EMEA", c.Accounts[12].ID: "Atlantis <nil>",
		c.Accounts[13].ID: "US NA", c.Accounts[14].ID: "JP APAC", c.Accounts[15].ID: "DE EMEA", c.Accounts[16].ID: "BR LATAM"} {
		r := vendortest.Query(t, s, "select country, region from stg_accounts where account_id = ?", id)[0]
		if got := fmt.Sprintf("%v %v", r.Values[0], r.Values[1]); got != want {
			t.Errorf("country/region %s, want %s", got, want)
		}
	}
}

// TestWholePipelineWithHubSpotAsTheCRM builds every model and assertion from the example
// config's sources, and checks that the marts equal those of the demo CRM on the same company.
func TestWholePipelineWithHubSpotAsTheCRM(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	vendortest.AssertMartsMatchDemo(t, f.cfg, f.demoCfg, "hubspot", f.company.AsOf(), len(f.company.Accounts))
}

// TestStagingPicksThePrimaryCompany: a deal's account is its primary company (association
// type deal_to_company) wherever HubSpot lists it; a deal that names several companies but no
// single primary is left out, counted with its reason, never given the first one listed.
// Cleared text fields ("") are NULL, and a deal without createdAt is left out and counted.
func TestStagingPicksThePrimaryCompany(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 150)
	c := f.company
	s := vendortest.LandCRMs(t, f.cfg, f.demoCfg, f.company, hubspot.DealID)
	vendortest.Bind(t, s, f.cfg, c.AsOf())
	var deals []string
	for _, o := range c.Opportunities {
		if o.AccountID != "" && o.CreatedAt.Before(c.AsOf().AddDate(0, 0, -1)) {
			deals = append(deals, hubspot.DealID(o.ID))
		}
	}
	if len(deals) < 8 {
		t.Fatalf("only %d deals to work with", len(deals))
	}
	assoc := func(pairs ...string) string {
		var b strings.Builder
		b.WriteString(`{"associations":{"companies":{"results":[`)
		for i := 0; i < len(pairs); i += 2 {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":%q,"type":%q}`, pairs[i], pairs[i+1])
		}
		b.WriteString(`]}}}`)
		return b.String()
	}
	const u, primary = "deal_to_company_unlabeled", "deal_to_company"
	raws := map[string]string{
		// the primary listed last, after two other companies, one of them labelled
		deals[0]: assoc("100", u, "200", u, "200", "partner", "300", primary, "300", u),
		// no primary label, one company: that company
		deals[1]: assoc("400", u),
		// two companies, none primary: ambiguous, left out
		deals[2]: assoc("500", u, "600", u),
		// no association at all: a deal without an account, kept
		deals[3]: `{"associations":{}}`,
		// two primaries (not possible in HubSpot, but a merge or import might leave it): left out
		deals[4]: assoc("700", primary, "700", u, "800", primary, "800", u),
		// a custom label and the unlabeled type on one company: that company
		deals[5]: assoc("900", "partner", "900", u),
		// the same primary listed twice: one company
		deals[6]: assoc("950", u, "950", primary, "950", primary),
	}
	var cases []string
	var args []any
	for id, raw := range raws {
		cases = append(cases, "when ? then ?")
		args = append(args, id, raw)
	}
	args = append(args, deals[7], deals[7], deals[6])
	vendortest.ReplaceRaw(t, s, "raw_hubspot__deals", `
		select * replace (
			case id `+strings.Join(cases, " ")+` else _raw end as _raw,
			case id when ? then null else created_at end as created_at,
			case id when ? then '' else hubspot_owner_id end as hubspot_owner_id,
			case id when ? then '   ' else dealname end as dealname)
		from raw_hubspot__deals`, args...)

	rows := vendortest.Query(t, s, "select opportunity_id, account_id, owner, opportunity_name, _drop_reason from ("+
		vendortest.StagingModel(t, "hubspot/stg_opportunities")+") where opportunity_id in (?, ?, ?, ?, ?, ?, ?, ?) order by opportunity_id",
		deals[0], deals[1], deals[2], deals[3], deals[4], deals[5], deals[6], deals[7])
	got := map[string]warehouse.Row{}
	for _, r := range rows {
		got[r.Get("opportunity_id").(string)] = r
	}
	want := map[string][2]any{ // account_id, _drop_reason
		deals[0]: {"300", nil},
		deals[1]: {"400", nil},
		deals[2]: {nil, "several companies associated, none primary"},
		deals[3]: {nil, nil},
		deals[4]: {nil, "several primary companies associated"},
		deals[5]: {"900", nil},
		deals[6]: {"950", nil},
		deals[7]: {c.Opportunities[slices.IndexFunc(c.Opportunities, func(o demo.Opportunity) bool { return hubspot.DealID(o.ID) == deals[7] })].AccountID,
			"created_at is missing"},
	}
	for id, w := range want {
		r, ok := got[id]
		if !ok {
			t.Errorf("deal %s not staged", id)
			continue
		}
		if r.Get("account_id") != w[0] || r.Get("_drop_reason") != w[1] {
			t.Errorf("deal %s: account_id %v, _drop_reason %v; want %v, %v", id, r.Get("account_id"), r.Get("_drop_reason"), w[0], w[1])
		}
	}
	if r := got[deals[7]]; r.Get("owner") != nil {
		t.Errorf("a cleared owner (\"\") staged as %q, want NULL", r.Get("owner"))
	}
	if r := got[deals[6]]; r.Get("opportunity_name") != nil {
		t.Errorf("a blank deal name staged as %q, want NULL", r.Get("opportunity_name"))
	}
	// The segment job's build leaves the three out and counts them, per reason.
	runs, err := s.RunModels(context.Background(), []warehouse.Model{{Name: "stg_opportunities", Layer: warehouse.Staging,
		Path: "staging/hubspot/stg_opportunities.sql", SQL: strings.TrimRight(strings.TrimSpace(vendortest.StagingModel(t, "hubspot/stg_opportunities")), "; \n\t")}})
	if err != nil {
		t.Fatal(err)
	}
	dropped := map[string]int64{}
	for _, d := range runs[0].Drops {
		dropped[d.Reason] = d.Rows
	}
	if len(dropped) != 3 || dropped["created_at is missing"] != 1 || dropped["several companies associated, none primary"] != 1 ||
		dropped["several primary companies associated"] != 1 {
		t.Errorf("dropped %v, want one of each of the three reasons", dropped)
	}
	if n := vendortest.Count(t, s, "select * from stg_opportunities where opportunity_id in (?, ?, ?)", deals[2], deals[4], deals[7]); n != 0 {
		t.Errorf("%d left-out deals are in stg_opportunities", n)
	}
}
