package salesforce_test

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
	"github.com/segpipe/segpipe/internal/demo/salesforce"
	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
	segsql "github.com/segpipe/segpipe/sql"
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
	mux := http.NewServeMux()
	mux.Handle("/salesforce/", http.StripPrefix("/salesforce", f.api))
	mux.Handle("/", demo.NewHandler(c, demo.DefaultTokens()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.cfg = parseConfig(t, "../../../config/examples/salesforce.yaml", srv.URL)
	f.demoCfg = parseConfig(t, "../../../config/segpipe.yaml", srv.URL)
	// Poll the fake's jobs quickly; its jobs complete on the second poll.
	src := f.cfg.Sources["crm"]
	src.PageSize = testPageSize
	for _, e := range src.Entities {
		e.BulkQuery.PollInterval = config.Duration(5 * time.Millisecond)
	}
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

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
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
	b := []byte(strings.Replace(string(mustRead(t, "../../../config/examples/salesforce.yaml")),
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
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dt := c.AsOf().Format(time.DateOnly)
	accounts := land(t, store, f.cfg, "crm", "account", dt, nil)
	opps := land(t, store, f.cfg, "crm", "opportunity", dt, nil)
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

	s := openSession(t)
	if err := s.RegisterParquet(context.Background(), "raw_salesforce__account", localFiles(store, accounts)); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterParquet(context.Background(), "raw_salesforce__opportunity", localFiles(store, opps)); err != nil {
		t.Fatal(err)
	}
	a := c.Accounts[17]
	row := query(t, s, "select * from raw_salesforce__account where id = ?", a.ID)[0]
	if row.Get("name") != a.Name || row.Get("industry") != salesforce.Industries[a.Industry] || row.Get("number_of_employees") != int64(a.EmployeeCount) ||
		row.Get("annual_revenue") != a.AnnualRevenue || row.Get("billing_country") != salesforce.Countries[a.Country] ||
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
	row = query(t, s, "select * from raw_salesforce__opportunity where id = ?", salesforce.OpportunityID(o.ID))[0]
	closeDate, _ := row.Get("close_date").(time.Time)
	if row.Get("account_id") != o.AccountID || row.Get("name") != o.Name || row.Get("amount") != o.Amount ||
		row.Get("stage_name") != "Closed Lost" || row.Get("is_won") != false || row.Get("type") != salesforce.Types[o.Motion] ||
		row.Get("loss_reason") != salesforce.LossReasons[*o.LossReason] || closeDate.Format(time.DateOnly) != o.ClosedAt.Format(time.DateOnly) {
		t.Errorf("opportunity %s landed as %s", o.ID, row)
	}
	if n := count(t, s, "select * from raw_salesforce__opportunity where account_id is null or stage_name is null or is_closed is null or owner_name is null"); n != 0 {
		t.Errorf("%d opportunities lack an account, stage, closed flag or owner", n)
	}
}

func TestPresetIncrementalFiltersInTheQuery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	c := f.company
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	since := c.End.AddDate(0, -3, 0).Add(90 * time.Minute)
	want := 0
	for _, o := range c.Opportunities {
		if o.UpdatedAt.After(since) {
			want++
		}
	}
	m := land(t, store, f.cfg, "crm", "opportunity", c.AsOf().Format(time.DateOnly), &since)
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
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// A 503 on the first poll is retried.
	f.api.InjectFault(salesforce.Fault{Request: 2, Status: http.StatusServiceUnavailable})
	if m := land(t, store, f.cfg, "crm", "account", "2026-10-31", nil); m.Rows != 150 {
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

// landCRMs lands the Salesforce entities and the demo CRM's for the same company, registers
// the raw views and the opportunity id map.
func landCRMs(t *testing.T, f *fixture) *warehouse.Session {
	t.Helper()
	c := f.company
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dt := c.AsOf().Format(time.DateOnly)
	views := map[string]*lake.Manifest{
		"raw_salesforce__account":     land(t, store, f.cfg, "crm", "account", dt, nil),
		"raw_salesforce__opportunity": land(t, store, f.cfg, "crm", "opportunity", dt, nil),
		"raw_demo__accounts":          land(t, store, f.demoCfg, "crm", "accounts", dt, nil),
		"raw_demo__opportunities":     land(t, store, f.demoCfg, "crm", "opportunities", dt, nil),
	}
	s := openSession(t)
	for v, m := range views {
		if err := s.RegisterParquet(context.Background(), v, localFiles(store, m)); err != nil {
			t.Fatal(err)
		}
	}
	var demoIDs, oppIDs []string
	for _, o := range c.Opportunities {
		demoIDs = append(demoIDs, o.ID)
		oppIDs = append(oppIDs, salesforce.OpportunityID(o.ID))
	}
	if err := s.SetVariables(context.Background(), []warehouse.Variable{{Name: "demo_ids", Value: demoIDs}, {Name: "vendor_ids", Value: oppIDs}}); err != nil {
		t.Fatal(err)
	}
	exec(t, s, "create table id_map as select unnest(getvariable('demo_ids')) as demo_id, unnest(getvariable('vendor_ids')) as vendor_id")
	return s
}

func TestStagingMatchesTheDemoVendor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testAccounts)
	s := landCRMs(t, f)
	for _, asOf := range []time.Time{f.company.AsOf(), f.company.AsOf().AddDate(0, -5, -3)} {
		t.Run(asOf.Format(time.DateOnly), func(t *testing.T) {
			bind(t, s, f.cfg, asOf)
			build(t, s, "demo_accounts", "staging/demo/stg_accounts.sql")
			build(t, s, "sf_accounts", "staging/salesforce/stg_accounts.sql")
			accounts := assertSameTable(t, s, "demo_accounts", "sf_accounts")

			build(t, s, "demo_opps", "staging/demo/stg_opportunities.sql")
			exec(t, s, `create or replace table demo_opps_mapped as
				select m.vendor_id as opportunity_id, d.* exclude (opportunity_id)
				from demo_opps d join id_map m on m.demo_id = d.opportunity_id`)
			build(t, s, "sf_opps", "staging/salesforce/stg_opportunities.sql")
			// CloseDate and LastActivityDate are dates in Salesforce: compare those two at a
			// day's precision, every other column exactly.
			const byDay = `select * replace (date_trunc('day', closed_at) as closed_at, date_trunc('day', last_activity_at) as last_activity_at) from `
			exec(t, s, "create or replace table demo_opps_by_day as "+byDay+"demo_opps_mapped")
			exec(t, s, "create or replace table sf_opps_by_day as "+byDay+"sf_opps")
			opps := assertSameTable(t, s, "demo_opps_by_day", "sf_opps_by_day")
			n := func(q string) int64 { return count(t, s, q) }
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
	s := landCRMs(t, f)
	gone, renamed, reextracted, moved := c.Accounts[3].ID, c.Accounts[4].ID, c.Accounts[5].ID, c.Accounts[6].ID
	opp := salesforce.OpportunityID(c.Opportunities[2].ID)
	replaceRaw(t, s, "raw_salesforce__account", `
		select * from raw_salesforce__account
		union all select * replace (true as is_deleted, system_modstamp + interval 1 day as system_modstamp) from raw_salesforce__account where id = ?
		union all select * replace ('Stale Name' as name, system_modstamp - interval 1 day as system_modstamp) from raw_salesforce__account where id = ?
		union all select * replace ('Re-extracted Name' as name, _extracted_at + interval 1 hour as _extracted_at) from raw_salesforce__account where id = ?`,
		gone, renamed, reextracted)
	// Region__c wins over the country; an empty one falls back to it.
	replaceRaw(t, s, "raw_salesforce__account", `
		select * replace (case id when ? then 'apac' when ? then null else region end as region,
		                  case id when ? then 'Deutschland' else billing_country end as billing_country)
		from raw_salesforce__account`, moved, renamed, renamed)
	replaceRaw(t, s, "raw_salesforce__opportunity", `
		select * from raw_salesforce__opportunity
		union all select * replace ('Omitted' as forecast_category_name, 'Existing Customer - Downgrade' as type, 'Closing Soon' as stage_name,
		                            false as is_closed, 'EUR' as currency_iso_code, 'Trade Show' as lead_source,
		                            system_modstamp + interval 1 day as system_modstamp)
		from raw_salesforce__opportunity where id = ?`, opp)
	bind(t, s, f.cfg, c.AsOf())
	build(t, s, "stg_accounts", "staging/salesforce/stg_accounts.sql")
	build(t, s, "stg_opportunities", "staging/salesforce/stg_opportunities.sql")
	if n := count(t, s, "select * from stg_accounts"); n != int64(len(c.Accounts)-1) {
		t.Errorf("%d accounts, want %d (one deleted)", n, len(c.Accounts)-1)
	}
	if n := count(t, s, "select * from stg_accounts where account_id = ?", gone); n != 0 {
		t.Error("a deleted account is still staged")
	}
	r := query(t, s, "select account_name, country, region from stg_accounts where account_id = ?", renamed)[0]
	if r.Values[0] != c.Accounts[4].Name || r.Values[1] != "DE" || r.Values[2] != "EMEA" {
		t.Errorf("an older version won, or the region was not derived from the country: %s", r)
	}
	if r := query(t, s, "select account_name from stg_accounts where account_id = ?", reextracted); r[0].Values[0] != "Re-extracted Name" {
		t.Errorf("on equal SystemModstamp the later extraction should win: %v", r[0])
	}
	if r := query(t, s, "select region from stg_accounts where account_id = ?", moved); r[0].Values[0] != "APAC" {
		t.Errorf("Region__c apac staged as %v", r[0])
	}
	r = query(t, s, "select * from stg_opportunities where opportunity_id = ?", opp)[0]
	amount := c.Opportunities[2].Amount
	if r.Get("stage") != nil || r.Get("forecast_category") != nil || r.Get("motion") != nil || r.Get("source") != nil || r.Get("is_closed") != false ||
		r.Get("currency_original") != "EUR" || math.Abs(r.Float("amount")-amount*1.08) > 1e-6 || r.Float("amount_original") != amount {
		t.Errorf("unmapped vocabulary should be NULL and EUR converted: %s", r)
	}
	if n := count(t, s, `select country_key from ref_countries group by all having count(*) > 1`); n != 0 {
		t.Errorf("%d country names map to two countries", n)
	}
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

// TestWholePipelineWithSalesforceAsTheCRM builds every model and assertion from the example
// config's sources, and checks that the marts equal those of the demo CRM on the same company.
func TestWholePipelineWithSalesforceAsTheCRM(t *testing.T) {
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
			exec(t, s, fmt.Sprintf("create table salesforce_%s as select * from %s", r.Name, r.Name))
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
		rounded(t, s, "salesforce_"+m)
		n := assertSameTable(t, s, m+"_rounded", "salesforce_"+m+"_rounded")
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
