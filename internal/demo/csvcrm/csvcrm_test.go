package csvcrm_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo/csvcrm"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
	"github.com/segpipe/segpipe/internal/warehouse"
	segsql "github.com/segpipe/segpipe/sql"
)

var asOf = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// countryCodes are the ISO-2 code and sales region of each office country the export names.
var countryCodes = map[string][2]string{
	"United States": {"US", "NA"}, "Kenya": {"KE", "EMEA"}, "Philippines": {"PH", "APAC"}, "Japan": {"JP", "APAC"},
	"Italy": {"IT", "EMEA"}, "Norway": {"NO", "EMEA"}, "Korea": {"KR", "APAC"}, "Jordan": {"JO", "EMEA"},
	"Brazil": {"BR", "LATAM"}, "China": {"CN", "APAC"}, "Germany": {"DE", "EMEA"}, "Panama": {"PA", "LATAM"},
	"Belgium": {"BE", "EMEA"}, "Poland": {"PL", "EMEA"},
}

// exampleConfig reads config/examples/csv-crm.yaml pointed at url.
func exampleConfig(t *testing.T, url string) *config.Config {
	t.Helper()
	b, err := os.ReadFile("../../../config/examples/csv-crm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("csv-crm.yaml", b, func(k string) (string, bool) {
		if k == "SEGPIPE_CSV_CRM_URL" {
			return url, true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// stageGeneric lands every entity of cfg and builds the staging models generated for its
// generic sources, as the segment job does (rows with a _drop_reason left out, counted).
func stageGeneric(t *testing.T, cfg *config.Config, dt string, at time.Time) (*warehouse.Session, []warehouse.ModelRun) {
	t.Helper()
	s := vendortest.OpenSession(t)
	store := vendortest.NewStore(t)
	landed := vendortest.LandAll(t, s, store, cfg, dt)
	vendortest.Bind(t, s, cfg, at)
	files, _, err := warehouse.RunFiles(cfg, segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := warehouse.GenericModels(cfg, segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	var models []warehouse.Model
	for path := range gen {
		b, err := files.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(path[strings.LastIndex(path, "/")+1:], ".sql")
		models = append(models, warehouse.Model{Name: name, Layer: warehouse.Staging, Path: path, Origin: files.Origin(path), SQL: strings.TrimRight(strings.TrimSpace(string(b)), "; \n\t")})
	}
	for v := range landed {
		if !strings.HasPrefix(v, "raw_crm__") {
			t.Errorf("landed view %s: a generic source's views are raw_<source>__<entity>", v)
		}
	}
	runs, err := s.RunModels(context.Background(), models)
	if err != nil {
		t.Fatal(err)
	}
	return s, runs
}

// The CSV CRM through the generic source of config/examples/csv-crm.yaml: every account and
// deal arrives in the canonical tables with its values converted as the map says (M/D/YYYY
// dates, revenue in millions, stage words, a constant currency, the account found by name),
// checked against the company the export was written from.
func TestCSVExportMapsOntoTheCanonicalTables(t *testing.T) {
	c := csvcrm.Generate(60, asOf, 1)
	srv := c.Serve()
	defer srv.Close()
	cfg := exampleConfig(t, srv.URL)
	s, runs := stageGeneric(t, cfg, "2026-11-30", asOf)
	for _, r := range runs {
		if len(r.Drops) > 0 {
			t.Errorf("%s left out rows: %+v", r.Name, r.Drops)
		}
	}

	accounts := vendortest.Query(t, s, `select * from stg_accounts`)
	if len(accounts) != len(c.Accounts) {
		t.Fatalf("stg_accounts has %d rows, want %d", len(accounts), len(c.Accounts))
	}
	byID := map[string]warehouse.Row{}
	for _, r := range accounts {
		byID[r.Get("account_id").(string)] = r
	}
	idOf := map[string]string{}
	for _, a := range c.Accounts {
		idOf[a.Name] = a.ID
		r, ok := byID[a.ID]
		if !ok {
			t.Fatalf("account %s missing", a.ID)
		}
		iso := countryCodes[a.Country]
		if r.Get("account_name") != a.Name || r.Get("industry") != a.Sector || r.Get("employees") != a.Employees ||
			r.Get("country") != iso[0] || r.Get("region") != iso[1] {
			t.Errorf("%s: %v, want %s/%s/%d/%s/%s", a.ID, r, a.Name, a.Sector, a.Employees, iso[0], iso[1])
		}
		if got := r.Get("annual_revenue").(float64); math.Abs(got-a.RevenueM*1e6) > 0.01 {
			t.Errorf("%s: annual_revenue %v, want %v (millions x 1e6)", a.ID, got, a.RevenueM*1e6)
		}
		if !vendortest.SameTime(r.Get("created_at"), a.Created) {
			t.Errorf("%s: created_at %v, want %v (read as M/D/YYYY)", a.ID, r.Get("created_at"), a.Created)
		}
		if r.Get("is_strategic") != false || len(r.Get("strategic_reasons").([]any)) != 0 {
			t.Errorf("%s: strategic %v %v, want false and no reasons (the CRM has no such flag)", a.ID, r.Get("is_strategic"), r.Get("strategic_reasons"))
		}
	}

	deals := vendortest.Query(t, s, `select * from stg_opportunities`)
	if len(deals) != len(c.Deals) {
		t.Fatalf("stg_opportunities has %d rows, want %d", len(deals), len(c.Deals))
	}
	dealBy := map[string]warehouse.Row{}
	for _, r := range deals {
		dealBy[r.Get("opportunity_id").(string)] = r
	}
	stageOf := map[string]string{"Prospecting": "prospecting", "Engaging": "engaging", "Won": "closed_won", "Lost": "closed_lost"}
	for _, d := range c.Deals {
		r := dealBy[d.ID]
		wantAccount := any(nil)
		if d.Account != "" {
			wantAccount = idOf[d.Account]
		}
		closed := d.Stage == "Won" || d.Stage == "Lost"
		if r.Get("account_id") != wantAccount || r.Get("stage") != stageOf[d.Stage] || r.Get("is_closed") != closed || r.Get("is_won") != (d.Stage == "Won") ||
			r.Get("currency_original") != "USD" || r.Get("owner") != d.Agent || r.Get("product") != d.Product || r.Get("motion") != "new_business" {
			t.Errorf("deal %s (%s, %s): %v", d.ID, d.Stage, d.Account, r)
			continue
		}
		if !vendortest.SameTime(r.Get("created_at"), d.Engaged) {
			t.Errorf("deal %s: created_at %v, want %v", d.ID, r.Get("created_at"), d.Engaged)
		}
		if closed {
			if !vendortest.SameTime(r.Get("closed_at"), d.Closed) || r.Get("amount") != d.Value || r.Get("amount_original") != d.Value {
				t.Errorf("deal %s: closed %v amount %v, want %v %v", d.ID, r.Get("closed_at"), r.Get("amount"), d.Closed, d.Value)
			}
		} else if r.Get("closed_at") != nil || r.Get("amount") != nil {
			t.Errorf("open deal %s: closed_at %v amount %v, want none", d.ID, r.Get("closed_at"), r.Get("amount"))
		}
		if r.Get("activity_known") != false {
			t.Errorf("deal %s: activity_known %v; the export has no last activity, so it is unknown", d.ID, r.Get("activity_known"))
		}
	}
}

// A generic source of other shapes: a JSON CRM whose accounts carry epoch-millisecond creation
// times, strategic tags as one string and a yes/no flag, and whose deals give DD-MM-YY dates in
// New York time, amounts in cents and stage codes; one deal names an account two accounts share,
// one an account that does not exist, one a stage the map does not list.
func TestGenericMapsOtherShapes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/companies", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"results": [
			{"id": 1, "title": " Northwind ", "staff": 250, "created_ms": 1700000000000, "tags": "brand; reference", "key_account": "YES", "geo": "DE"},
			{"id": 2, "title": "Contoso", "staff": null, "created_ms": 1600000000000, "tags": "", "key_account": "no", "geo": ""},
			{"id": 3, "title": "contoso", "staff": 12, "created_ms": 1650000000000, "tags": null, "key_account": null, "geo": "FR"}
		]}`)
	})
	mux.HandleFunc("/deals.csv", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ref,company,code,opened,closed,cents,cur\n"+
			"D1,Northwind,W,15-01-26 09:30,20-02-26 23:30,123456,eur\n"+
			"D2,CONTOSO,L,01-03-26 00:00,02-03-26 10:00,0,\n"+
			"D3,Fabrikam,O,05-05-26 12:00,,500,USD\n"+
			"D4,northwind,X,06-06-26 12:00,,,USD\n"+
			"D5,,O,31-12-26 23:00,,,USD\n")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	yaml := `
currency: USD
fx_rates: {EUR: 1.10}
lake: ./unused
sources:
  crm:
    vendor: generic
    base_url: ` + srv.URL + `
    entities:
      companies:
        path: /companies
        format: json
        records_path: results
        primary_key: id
        provides: stg_accounts
        columns:
          id: string
          title: string
          staff: int64
          created_ms: {type: timestamp, layout: unix_ms}
          tags: string
          key_account: string
          geo: string
        map:
          account_id: id
          account_name: {column: title, trim: true}
          employees: employees_missing_on_purpose
          created_at: created_ms
`
	_, err := config.Parse("other.yaml", []byte(yaml), nil)
	if err == nil || !strings.Contains(err.Error(), "map.employees.column: employees_missing_on_purpose is not a column of this entity") {
		t.Fatalf("a map reading an undeclared column: %v", err)
	}
	yaml = strings.Replace(yaml, "employees: employees_missing_on_purpose", `employees: staff
          country: geo
          is_strategic: {column: key_account, in: ["yes", "y"]}
          strategic_reasons: {column: tags, split: ";"}`, 1) + `
      deals:
        path: /deals.csv
        format: csv
        primary_key: ref
        provides: stg_opportunities
        columns:
          ref: string
          company: string
          code: string
          opened: {type: timestamp, layout: "02-01-06 15:04", timezone: America/New_York}
          closed: {type: timestamp, layout: "02-01-06 15:04", timezone: America/New_York}
          cents: int64
          cur: string
        map:
          opportunity_id: ref
          account_id: {column: company, ref: {entity: companies, by: account_name}}
          stage: {column: code, values: {W: closed_won, L: closed_lost, O: open}}
          amount_original: {column: cents, multiply: 0.01}
          currency_original: {column: cur, case: upper, default: USD}
          created_at: opened
          closed_at: closed
`
	cfg, err := config.Parse("other.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	s, runs := stageGeneric(t, cfg, "2026-12-01", at)

	acc := map[string]warehouse.Row{}
	for _, r := range vendortest.Query(t, s, `select * from stg_accounts`) {
		acc[r.Get("account_id").(string)] = r
	}
	n := acc["1"]
	if n.Get("account_name") != "Northwind" || n.Get("employees") != int64(250) || n.Get("country") != "DE" || n.Get("region") != "EMEA" || n.Get("is_strategic") != true ||
		fmt.Sprint(n.Get("strategic_reasons")) != "[brand reference]" || !vendortest.SameTime(n.Get("created_at"), time.UnixMilli(1700000000000)) {
		t.Errorf("Northwind: %v", n)
	}
	c := acc["2"]
	if c.Get("employees") != nil || c.Get("country") != nil || c.Get("is_strategic") != false || fmt.Sprint(c.Get("strategic_reasons")) != "[]" {
		t.Errorf("Contoso (2): %v; blank text is NULL, a NULL tag list empty, 'no' is not strategic", c)
	}
	if acc["3"].Get("is_strategic") != false {
		t.Errorf("contoso (3): a NULL flag is not strategic (the canonical default): %v", acc["3"])
	}

	deals := map[string]warehouse.Row{}
	for _, r := range vendortest.Query(t, s, `select * from stg_opportunities`) {
		deals[r.Get("opportunity_id").(string)] = r
	}
	ny, _ := time.LoadLocation("America/New_York")
	d1 := deals["D1"]
	if d1.Get("account_id") != "1" || d1.Get("stage") != "closed_won" || d1.Get("is_won") != true || d1.Get("currency_original") != "EUR" ||
		d1.Get("amount_original") != 1234.56 || math.Abs(d1.Get("amount").(float64)-1234.56*1.10) > 1e-9 ||
		!vendortest.SameTime(d1.Get("created_at"), time.Date(2026, 1, 15, 9, 30, 0, 0, ny)) ||
		!vendortest.SameTime(d1.Get("closed_at"), time.Date(2026, 2, 20, 23, 30, 0, 0, ny)) {
		t.Errorf("D1: %v", d1)
	}
	d4 := deals["D4"]
	if d4.Get("stage") != nil || d4.Get("is_closed") != false || d4.Get("amount") != nil || d4.Get("account_id") != "1" {
		t.Errorf("D4 (stage code X, not in the map): %v; want stage NULL (unknown), open, no amount", d4)
	}
	if _, ok := deals["D5"]; ok {
		t.Errorf("D5 was opened on 31 Dec 2026, after as_of: %v", deals["D5"])
	}
	// D2 names contoso, which two accounts share; D3 names Fabrikam, which no account has.
	got := map[string]int64{}
	for _, r := range runs {
		for _, d := range r.Drops {
			got[r.Name+": "+d.Reason] = d.Rows
		}
	}
	want := map[string]int64{
		"stg_opportunities: account_id: the account_name it names matches several records of crm.companies": 1,
		"stg_opportunities: account_id: the account_name it names matches no record of crm.companies":       1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("left out: %v\nwant %v", got, want)
	}
}
