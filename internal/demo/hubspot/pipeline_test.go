package hubspot_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/hubspot"
	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
	segsql "github.com/segpipe/segpipe/sql"
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
	demo    http.Handler
	url     string
	cfg     *config.Config // config/examples/hubspot.yaml
	demoCfg *config.Config // config/segpipe.yaml, for the demo CRM
}

func newFixture(t *testing.T, accounts int) *fixture {
	t.Helper()
	c := demo.Generate(demo.Options{Accounts: accounts, Seed: testSeed}).WithAccountIDs(demo.IDStyleHubSpot)
	f := &fixture{company: c, api: hubspot.New(c, hubspotToken), demo: demo.NewHandler(c, demo.DefaultTokens())}
	mux := http.NewServeMux()
	mux.Handle("/hubspot/", http.StripPrefix("/hubspot", f.api))
	mux.Handle("/", f.demo)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.cfg = parseConfig(t, "../../../config/examples/hubspot.yaml", srv.URL)
	f.demoCfg = parseConfig(t, "../../../config/segpipe.yaml", srv.URL)
	return f
}

func parseConfig(t *testing.T, path, demoURL string) *config.Config {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := func(name string) (string, bool) {
		if name == "SEGPIPE_DEMO_URL" {
			return demoURL, true
		}
		return "", false
	}
	cfg, err := config.Parse(path, b, env)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return cfg
}

var runSeq atomic.Int64

// land lands one entity of a source of cfg into store.
func land(t *testing.T, store lake.Store, cfg *config.Config, source, entity, dt string, since *time.Time) *lake.Manifest {
	t.Helper()
	src := cfg.Sources[source]
	ent := src.Entities[entity]
	if ent == nil {
		t.Fatalf("source %s has no entity %s (has %v)", source, entity, src.EntityNames())
	}
	m, err := extract.LandEntity(context.Background(), store, source, src, entity, ent, extract.Options{
		Dt: dt, RunID: fmt.Sprintf("run-%03d", runSeq.Add(1)), TempDir: t.TempDir(), Since: since,
	})
	if err != nil {
		t.Fatalf("land %s/%s: %v", source, entity, err)
	}
	return m
}

func localFiles(store *lake.FileStore, ms ...*lake.Manifest) []string {
	var out []string
	for _, m := range ms {
		for _, f := range m.Files {
			out = append(out, store.LocalPath(f.Key))
		}
	}
	return out
}

func openSession(t *testing.T) *warehouse.Session {
	t.Helper()
	s, err := warehouse.Open(context.Background(), warehouse.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func exec(t *testing.T, s *warehouse.Session, q string, args ...any) {
	t.Helper()
	if err := s.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
}

func query(t *testing.T, s *warehouse.Session, q string, args ...any) []warehouse.Row {
	t.Helper()
	rows, err := s.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	return rows
}

func count(t *testing.T, s *warehouse.Session, q string, args ...any) int64 {
	t.Helper()
	rows := query(t, s, "select count(*) as n from ("+q+")", args...)
	return int64(rows[0].Float("n"))
}

func modelSQL(t *testing.T, path string) string {
	t.Helper()
	b, err := fs.ReadFile(segsql.Files, path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// bind sets the config variables for asOf and runs the prelude's macros.
func bind(t *testing.T, s *warehouse.Session, cfg *config.Config, asOf time.Time) {
	t.Helper()
	if err := s.SetVariables(context.Background(), warehouse.ConfigVariables(cfg, asOf)); err != nil {
		t.Fatal(err)
	}
	exec(t, s, modelSQL(t, "prelude.sql"))
}

func build(t *testing.T, s *warehouse.Session, table, path string) {
	t.Helper()
	exec(t, s, "create or replace table "+table+" as\n"+modelSQL(t, path))
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
	b := []byte(strings.Replace(string(mustRead(t, "../../../config/examples/hubspot.yaml")),
		"    base_url: ${SEGPIPE_DEMO_URL:-http://127.0.0.1:8765}/hubspot\n", "", 1))
	cfg, err := config.Parse("hubspot.yaml", b, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Sources["crm"].BaseURL; got != "https://api.hubapi.com" {
		t.Errorf("preset base_url %s", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPresetLandsEveryEntity(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	c := f.company
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dt := c.AsOf().Format(time.DateOnly)
	companies := land(t, store, f.cfg, "crm", "companies", dt, nil)
	deals := land(t, store, f.cfg, "crm", "deals", dt, nil)
	owners := land(t, store, f.cfg, "crm", "owners", dt, nil)
	if companies.Rows != int64(len(c.Accounts)) || deals.Rows != int64(len(c.Opportunities)) || companies.Quarantined+deals.Quarantined+owners.Quarantined != 0 {
		t.Fatalf("landed %d companies, %d deals (quarantined %d, %d); want %d, %d",
			companies.Rows, deals.Rows, companies.Quarantined, deals.Quarantined, len(c.Accounts), len(c.Opportunities))
	}
	wantPages := (len(c.Accounts)+99)/100 + (len(c.Opportunities)+99)/100 + 1
	if got := f.api.Requests(); got != int64(wantPages) {
		t.Errorf("%d requests, want %d (one per page)", got, wantPages)
	}
	t.Logf("landed %d companies, %d deals, %d owners in %d requests", companies.Rows, deals.Rows, owners.Rows, f.api.Requests())

	s := openSession(t)
	if err := s.RegisterParquet(context.Background(), "raw_hubspot__companies", localFiles(store, companies)); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterParquet(context.Background(), "raw_hubspot__deals", localFiles(store, deals)); err != nil {
		t.Fatal(err)
	}
	a := c.Accounts[17]
	row := query(t, s, "select * from raw_hubspot__companies where id = ?", a.ID)[0]
	if row.Get("name") != a.Name || row.Get("industry") != hubspot.Industries[a.Industry] || row.Get("numberofemployees") != int64(a.EmployeeCount) ||
		row.Get("annualrevenue") != a.AnnualRevenue || row.Get("country") != hubspot.Countries[a.Country] || row.Get("archived") != false {
		t.Errorf("company %s landed as %s", a.ID, row)
	}
	if ts, _ := row.Get("updated_at").(time.Time); !ts.Equal(a.UpdatedAt) {
		t.Errorf("updated_at %v, want %v", row.Get("updated_at"), a.UpdatedAt)
	}
	o := c.Opportunities[len(c.Opportunities)-1]
	row = query(t, s, "select * from raw_hubspot__deals where id = ?", hubspot.DealID(o.ID))[0]
	if row.Get("company_id") != o.AccountID || row.Get("dealname") != o.Name || row.Get("amount") != o.Amount ||
		row.Get("dealstage") != hubspot.DealStages[o.Stage] || row.Get("deal_motion") != o.Motion || row.Get("pipeline") != "default" {
		t.Errorf("deal %s landed as %s", o.ID, row)
	}
	if n := count(t, s, "select * from raw_hubspot__deals where company_id is null or dealstage is null or hs_is_closed is null"); n != 0 {
		t.Errorf("%d deals lack a company, stage or closed flag", n)
	}
	if n := count(t, s, "select * from raw_hubspot__deals where closed_lost_reason is not null"); n == 0 {
		t.Error("no deal landed with a closed_lost_reason")
	}
}

func TestPresetIncrementalFiltersClientSide(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	c := f.company
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	since := c.End.AddDate(0, -3, 0)
	want := 0
	for _, a := range c.Accounts {
		if a.UpdatedAt.After(since) {
			want++
		}
	}
	m := land(t, store, f.cfg, "crm", "companies", c.AsOf().Format(time.DateOnly), &since)
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
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The per-second limit: the 10-second window's (TEN_SECONDLY_ROLLING, the default) makes
	// the extract wait out its 10 seconds, which the fake's own tests cover.
	f.api.InjectFault(hubspot.Fault{Request: 2, Status: http.StatusTooManyRequests, Policy: "SECONDLY"})
	m := land(t, store, f.cfg, "crm", "companies", "2026-10-31", nil)
	if m.Rows != 150 || f.api.Requests() != 3 {
		t.Errorf("after a 429: %d rows in %d requests, want 150 in 3", m.Rows, f.api.Requests())
	}
	src := *f.cfg.Sources["crm"]
	src.Auth.Token = "pat-na1-revoked"
	src.MaxRetries = 0
	_, err = extract.LandEntity(context.Background(), store, "crm", &src, "deals", src.Entities["deals"], extract.Options{Dt: "2026-10-31", RunID: "bad-token", TempDir: t.TempDir()})
	var he *extract.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "INVALID_AUTHENTICATION") {
		t.Errorf("bad token: %v", err)
	}
}

// landCRMs lands the HubSpot entities and the demo CRM's for the same company, registers the
// raw views and binds asOf.
func landCRMs(t *testing.T, f *fixture, extra func(store *lake.FileStore) []*lake.Manifest) (*warehouse.Session, *lake.FileStore) {
	t.Helper()
	c := f.company
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dt := c.AsOf().Format(time.DateOnly)
	views := map[string][]*lake.Manifest{
		"raw_hubspot__companies":  {land(t, store, f.cfg, "crm", "companies", dt, nil)},
		"raw_hubspot__deals":      {land(t, store, f.cfg, "crm", "deals", dt, nil)},
		"raw_hubspot__owners":     {land(t, store, f.cfg, "crm", "owners", dt, nil)},
		"raw_demo__accounts":      {land(t, store, f.demoCfg, "crm", "accounts", dt, nil)},
		"raw_demo__opportunities": {land(t, store, f.demoCfg, "crm", "opportunities", dt, nil)},
	}
	if extra != nil {
		for _, m := range extra(store) {
			v := config.RawView("hubspot", m.Entity)
			views[v] = append(views[v], m)
		}
	}
	s := openSession(t)
	for v, ms := range views {
		if err := s.RegisterParquet(context.Background(), v, localFiles(store, ms...)); err != nil {
			t.Fatal(err)
		}
	}
	var demoIDs, dealIDs []string
	for _, o := range c.Opportunities {
		demoIDs = append(demoIDs, o.ID)
		dealIDs = append(dealIDs, hubspot.DealID(o.ID))
	}
	if err := s.SetVariables(context.Background(), []warehouse.Variable{{Name: "demo_ids", Value: demoIDs}, {Name: "vendor_ids", Value: dealIDs}}); err != nil {
		t.Fatal(err)
	}
	exec(t, s, "create table id_map as select unnest(getvariable('demo_ids')) as demo_id, unnest(getvariable('vendor_ids')) as vendor_id")
	return s, store
}

// assertSameTable checks that two tables have the same columns and types, in order, and the
// same rows (EXCEPT ALL both ways is empty), and returns their row count.
func assertSameTable(t *testing.T, s *warehouse.Session, want, got string) int64 {
	t.Helper()
	cols := func(table string) string {
		var parts []string
		for _, r := range query(t, s, "select column_name, data_type from information_schema.columns where table_name = ? order by ordinal_position", table) {
			parts = append(parts, fmt.Sprintf("%v %v", r.Values[0], r.Values[1]))
		}
		return strings.Join(parts, ", ")
	}
	if w, g := cols(want), cols(got); w != g {
		t.Fatalf("columns differ:\n want %s\n  got %s", w, g)
	}
	n := count(t, s, "select * from "+want)
	if m := count(t, s, "select * from "+got); m != n || n == 0 {
		t.Fatalf("%s has %d rows, %s %d", want, n, got, m)
	}
	for _, pair := range [][2]string{{want, got}, {got, want}} {
		rows := query(t, s, fmt.Sprintf("select * from (select * from %s except all select * from %s) limit 3", pair[0], pair[1]))
		if len(rows) > 0 {
			var sample []string
			for _, r := range rows {
				sample = append(sample, r.String())
			}
			t.Fatalf("rows of %s not in %s, e.g.\n%s", pair[0], pair[1], strings.Join(sample, "\n"))
		}
	}
	return n
}

func TestStagingMatchesTheDemoVendor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	s, _ := landCRMs(t, f, nil)
	for _, asOf := range []time.Time{f.company.AsOf(), f.company.AsOf().AddDate(0, -5, -3)} {
		t.Run(asOf.Format(time.DateOnly), func(t *testing.T) {
			bind(t, s, f.cfg, asOf)
			build(t, s, "demo_accounts", "staging/demo/stg_accounts.sql")
			build(t, s, "hubspot_accounts", "staging/hubspot/stg_accounts.sql")
			accounts := assertSameTable(t, s, "demo_accounts", "hubspot_accounts")

			build(t, s, "demo_opps", "staging/demo/stg_opportunities.sql")
			exec(t, s, `create or replace table demo_opps_mapped as
				select m.vendor_id as opportunity_id, d.* exclude (opportunity_id)
				from demo_opps d join id_map m on m.demo_id = d.opportunity_id`)
			build(t, s, "hubspot_opps", "staging/hubspot/stg_opportunities.sql")
			opps := assertSameTable(t, s, "demo_opps_mapped", "hubspot_opps")

			// The comparison means something only if the cut and the vocabulary are exercised.
			n := func(q string) int64 { return count(t, s, q) }
			t.Logf("as_of %s: %d accounts, %d opportunities equal; %d open, %d stage unknown (closed after as_of), %d strategic",
				asOf.Format(time.DateOnly), accounts, opps, n("select * from hubspot_opps where not is_closed"),
				n("select * from hubspot_opps where stage is null"), n("select * from hubspot_accounts where is_strategic"))
			for q, what := range map[string]string{
				"select * from hubspot_opps where stage = 'closed_lost' and loss_reason is not null": "lost deals with a reason",
				"select * from hubspot_opps where motion = 'renewal'":                                "renewals",
				"select * from hubspot_accounts where len(strategic_reasons) > 1":                    "accounts with several strategic reasons",
				"select * from hubspot_accounts where region = 'LATAM'":                              "LATAM accounts",
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
	s, _ := landCRMs(t, f, nil)
	gone, renamed, reextracted := c.Accounts[3].ID, c.Accounts[4].ID, c.Accounts[5].ID
	deal := hubspot.DealID(c.Opportunities[2].ID)
	// Later versions of some records, as incremental landings would bring them.
	replaceRaw(t, s, "raw_hubspot__companies", `
		select * from raw_hubspot__companies
		union all select * replace (true as archived, updated_at + interval 1 day as updated_at) from raw_hubspot__companies where id = ?
		union all select * replace ('Stale Name' as name, updated_at - interval 1 day as updated_at) from raw_hubspot__companies where id = ?
		union all select * replace ('Re-extracted Name' as name, _extracted_at + interval 1 hour as _extracted_at) from raw_hubspot__companies where id = ?`,
		gone, renamed, reextracted)
	replaceRaw(t, s, "raw_hubspot__deals", `
		select * from raw_hubspot__deals
		union all select * replace ('OMIT' as hs_manual_forecast_category, 'someothervalue' as deal_motion, 'pipeline_2_stage_7' as dealstage,
		                            false as hs_is_closed, 'EUR' as deal_currency_code, updated_at + interval 1 day as updated_at)
		from raw_hubspot__deals where id = ?`, deal)
	bind(t, s, f.cfg, c.AsOf())
	build(t, s, "stg_accounts", "staging/hubspot/stg_accounts.sql")
	build(t, s, "stg_opportunities", "staging/hubspot/stg_opportunities.sql")
	if n := count(t, s, "select * from stg_accounts"); n != int64(len(c.Accounts)-1) {
		t.Errorf("%d accounts, want %d (one archived)", n, len(c.Accounts)-1)
	}
	if n := count(t, s, "select * from stg_accounts where account_id = ?", gone); n != 0 {
		t.Error("an archived company is still staged")
	}
	if r := query(t, s, "select account_name from stg_accounts where account_id = ?", renamed); r[0].Values[0] != c.Accounts[4].Name {
		t.Errorf("an older version won: %v", r[0])
	}
	if r := query(t, s, "select account_name from stg_accounts where account_id = ?", reextracted); r[0].Values[0] != "Re-extracted Name" {
		t.Errorf("on equal updated_at the later extraction should win: %v", r[0])
	}
	r := query(t, s, "select * from stg_opportunities where opportunity_id = ?", deal)[0]
	amount := c.Opportunities[2].Amount
	if r.Get("stage") != nil || r.Get("forecast_category") != nil || r.Get("motion") != nil || r.Get("is_closed") != false ||
		r.Get("currency_original") != "EUR" || math.Abs(r.Float("amount")-amount*1.08) > 1e-6 || r.Float("amount_original") != amount {
		t.Errorf("unmapped vocabulary should be NULL and EUR converted: %s", r)
	}
	// Every country key names one country.
	if n := count(t, s, `select country_key from ref_countries group by all having count(*) > 1`); n != 0 {
		t.Errorf("%d country names map to two countries", n)
	}
	// Country names and codes as users type them.
	replaceRaw(t, s, "raw_hubspot__companies", `
		select * replace (case id when ? then 'uk' when ? then 'DE' when ? then 'Atlantis' else country end as country) from raw_hubspot__companies`,
		c.Accounts[10].ID, c.Accounts[11].ID, c.Accounts[12].ID)
	build(t, s, "stg_accounts", "staging/hubspot/stg_accounts.sql")
	for id, want := range map[string]string{c.Accounts[10].ID: "GB EMEA", c.Accounts[11].ID: "DE EMEA", c.Accounts[12].ID: "Atlantis <nil>"} {
		r := query(t, s, "select country, region from stg_accounts where account_id = ?", id)[0]
		if got := fmt.Sprintf("%v %v", r.Values[0], r.Values[1]); got != want {
			t.Errorf("country/region %s, want %s", got, want)
		}
	}
}

// replaceRaw replaces a raw view (or table) with a table made by q, which may read it.
func replaceRaw(t *testing.T, s *warehouse.Session, name, q string, args ...any) {
	t.Helper()
	exec(t, s, "create or replace table replacement as "+q, args...)
	kind := "table"
	if r := query(t, s, "select table_type from information_schema.tables where table_name = ?", name); len(r) > 0 && r[0].Values[0] == "VIEW" {
		kind = "view"
	}
	exec(t, s, "drop "+kind+" if exists "+name)
	exec(t, s, "alter table replacement rename to "+name)
}

// landAll lands every entity of every source of cfg and registers raw_<vendor>__<entity>.
func landAll(t *testing.T, s *warehouse.Session, store *lake.FileStore, cfg *config.Config, dt string) map[string]bool {
	t.Helper()
	landed := map[string]bool{}
	for _, source := range cfg.SourceNames() {
		src := cfg.Sources[source]
		for _, entity := range src.EntityNames() {
			m := land(t, store, cfg, source, entity, dt, nil)
			view := config.RawView(src.Vendor, entity)
			if err := s.RegisterParquet(context.Background(), view, localFiles(store, m)); err != nil {
				t.Fatal(err)
			}
			landed[view] = true
		}
	}
	return landed
}

// buildAll builds every model the landed views call for and runs the assertions.
func buildAll(t *testing.T, s *warehouse.Session, cfg *config.Config, asOf time.Time, landed map[string]bool) []warehouse.ModelRun {
	t.Helper()
	models, err := warehouse.LoadModels(segsql.Files, landed)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Build(context.Background(), segsql.Files, models, warehouse.ConfigVariables(cfg, asOf))
	if err != nil {
		t.Fatal(err)
	}
	assertions, err := warehouse.LoadAssertions(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunAssertions(context.Background(), assertions); err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestWholePipelineWithHubSpotAsTheCRM builds every model and assertion from the example
// config's sources, and checks that the marts equal those of the demo CRM on the same company.
func TestWholePipelineWithHubSpotAsTheCRM(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := openSession(t)
	asOf := f.company.AsOf()
	landed := landAll(t, s, store, f.cfg, asOf.Format(time.DateOnly))
	runs := buildAll(t, s, f.cfg, asOf, landed)
	var marts []string
	for _, r := range runs {
		if r.Layer == warehouse.Marts {
			marts = append(marts, r.Name)
			exec(t, s, fmt.Sprintf("create table hubspot_%s as select * from %s", r.Name, r.Name))
		}
		if r.Name == "stg_accounts" && r.Rows != int64(len(f.company.Accounts)) {
			t.Errorf("stg_accounts has %d rows, want %d", r.Rows, len(f.company.Accounts))
		}
	}
	if len(marts) == 0 {
		t.Fatal("no marts built")
	}
	// The same company through the demo CRM.
	demoLanded := map[string]bool{}
	for v := range landed {
		if strings.HasPrefix(v, "raw_demo__") {
			demoLanded[v] = true
		}
	}
	for _, entity := range []string{"accounts", "opportunities"} {
		m := land(t, store, f.demoCfg, "crm", entity, asOf.Format(time.DateOnly), nil)
		if err := s.RegisterParquet(context.Background(), config.RawView("demo", entity), localFiles(store, m)); err != nil {
			t.Fatal(err)
		}
		demoLanded[config.RawView("demo", entity)] = true
	}
	buildAll(t, s, f.demoCfg, asOf, demoLanded)
	// Sums of doubles come out of DuckDB's parallel aggregation in any order: compare doubles
	// to 9 significant digits.
	for _, m := range marts {
		rounded(t, s, m)
		rounded(t, s, "hubspot_"+m)
		n := assertSameTable(t, s, m+"_rounded", "hubspot_"+m+"_rounded")
		t.Logf("mart %s: %d rows equal", m, n)
	}
}

// rounded makes <table>_rounded: table with every DOUBLE rounded to 9 significant digits.
func rounded(t *testing.T, s *warehouse.Session, table string) {
	t.Helper()
	var cols []string
	for _, r := range query(t, s, "select column_name, data_type from information_schema.columns where table_name = ? order by ordinal_position", table) {
		name := fmt.Sprint(r.Values[0])
		if r.Values[1] == "DOUBLE" {
			cols = append(cols, fmt.Sprintf(`case when "%[1]s" = 0 or not isfinite("%[1]s") then "%[1]s" else round("%[1]s", 8 - floor(log10(abs("%[1]s")))::int) end as "%[1]s"`, name))
		} else {
			cols = append(cols, `"`+name+`"`)
		}
	}
	exec(t, s, fmt.Sprintf("create or replace table %s_rounded as select %s from %s", table, strings.Join(cols, ", "), table))
}
