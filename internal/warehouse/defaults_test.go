package warehouse

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	segsql "github.com/segpipe/segpipe/sql"
)

// A config without fx_rates (its documented default is none) binds empty rate lists: the
// models build, amounts in the reporting currency convert, and an amount in any other currency
// fails assert_known_currencies as an unknown currency, never as a SQL binder error.
// basic_raw.sql: A1 paid $1,000 in each of January to April; A2's one invoice is EUR 12,000.
func TestWithoutFXRates(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", func(c *config.Config) { c.FXRates = nil })
	inv := rowsBy(t, s, `select invoice_id, amount from stg_invoices where invoice_id in ('i1', 'i4', 'i5')`)
	near(t, "i1 amount (USD)", num(t, inv["i1"], "amount"), 1000)
	near(t, "i4 amount (usd)", num(t, inv["i4"], "amount"), 1000)
	if v := inv["i5"].Get("amount"); v != nil {
		t.Errorf("i5 (EUR, no rate) amount = %v, want NULL", v)
	}
	as, err := LoadAssertions(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.RunAssertions(context.Background(), as)
	if err == nil || !strings.Contains(err.Error(), "assert_known_currencies") || !strings.Contains(err.Error(), "EUR") {
		t.Fatalf("want assert_known_currencies to fail naming EUR, got %v", err)
	}
}

// bareConfig is a config with no segments block and no fx_rates: every threshold is its
// documented default (internal/config's DefaultSegments).
func bareConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse("bare.yaml", []byte(`currency: USD
lake: ./data
sources:
  crm:
    vendor: demo
    base_url: http://localhost:1/api
    entities:
      accounts: {path: /accounts, format: json, primary_key: id, columns: {id: string}}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Every variable the SQL reads is bound from a config without a segments block (or bound by
// the segment job: known_at_*, and <view>_files by RegisterParquet).
func TestBareConfigBindsEveryVariable(t *testing.T) {
	// known_at_* are bound by the segment job, provided_tables by Build.
	bound := map[string]bool{"known_at_views": true, "known_at_dates": true, "provided_tables": true}
	for _, v := range ConfigVariables(bareConfig(t), time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)) {
		if v.Value == nil {
			t.Errorf("variable %s is nil", v.Name)
		}
		bound[v.Name] = true
	}
	reads := variableReads(t)
	for _, g := range GoTransforms {
		for _, v := range g.Variables {
			reads = append(reads, variableRead{"(Go transform " + g.Name + ")", v})
		}
	}
	for _, r := range reads {
		if !bound[r.name] {
			t.Errorf("sql/%s reads getvariable('%s'), which ConfigVariables does not bind", r.path, r.name)
		}
	}
	if n := len(reads); n < 50 {
		t.Fatalf("found only %d getvariable reads", n)
	}
}

// The models build from a config without a segments block or fx_rates, and publish what the
// demo config (whose segments spell out the defaults) does: every mart of the pipeline fixture
// (all USD) is the same, row for row.
func TestBareConfigBuildsTheDemoMarts(t *testing.T) {
	bare := bareConfig(t)
	withDemo := buildFixture(t, "pipeline", "2025-06-30", nil)
	withBare := buildFixture(t, "pipeline", "2025-06-30", func(c *config.Config) { *c = *bare })
	marts, err := fs.Glob(segsql.Files, "marts/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range marts {
		table := strings.TrimSuffix(path.Base(f), ".sql")
		q := "select * from " + table + " order by all"
		a, err := withDemo.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := withBare.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s differs between the demo config and a config without segments:\n%v\n%v", table, a, b)
		}
	}
}

// missingCurrency adds to the pipeline fixture (as of 2025-06-30) an open deal and a lost one
// without a currency (NULL, blank) and a paid invoice of $/EUR 1,000 with none.
const missingCurrency = `
insert into raw_demo__opportunities values
    ('n1', 'P1', 'n1', 10000, null, 'discovery', '2025-06-20', false, false, 'new_business', 'inbound', 'Core', 'pipeline', 'o', null, '2025-06-25', 'meeting', '2025-06-01', null, '2025-06-25', '2025-06-30'),
    ('n2', 'P2', 'n2', 20000, '  ', 'closed_lost', '2025-06-10', true, false, 'new_business', 'inbound', 'Core', 'closed', 'o', 'price', '2025-06-09', 'email', '2025-05-01', '2025-06-10', '2025-06-10', '2025-06-30');
insert into raw_demo__invoices values
    ('n3', 'P1', 'sn', 100000, null, '2025-06-01', '2025-07-01', '2025-06-01', '2025-06-02', 'paid', '2025-06-30', null, null);
`

// A record without a currency is in its source's currency (sources.<name>.currency): the
// crm's deals in EUR (1.08), the billing source's invoice in the reporting currency. Without
// one the amounts are unknown and assert_known_currencies stops the run, as before.
func TestSourceDefaultCurrency(t *testing.T) {
	s := buildFixtureWith(t, "pipeline", "2025-06-30", func(c *config.Config) {
		c.Sources["crm"].Currency = "EUR"
		c.Sources["billing"].Currency = "USD"
	}, missingCurrency)
	opps := rowsBy(t, s, `select opportunity_id, amount, currency_original, amount_original from stg_opportunities where opportunity_id in ('n1', 'n2', 'c1')`)
	for id, want := range map[string]float64{"n1": 10800, "n2": 21600, "c1": 10000} {
		near(t, id+" amount", num(t, opps[id], "amount"), want)
	}
	if got := str(opps["n1"], "currency_original") + " " + str(opps["n2"], "currency_original") + " " + str(opps["c1"], "currency_original"); got != "EUR EUR USD" {
		t.Errorf("currency_original n1, n2, c1 = %s, want EUR EUR USD (a deal's own currency wins)", got)
	}
	near(t, "n1 amount_original", num(t, opps["n1"], "amount_original"), 10000)
	inv := rowsBy(t, s, `select invoice_id, amount, currency_original from stg_invoices where invoice_id = 'n3'`)
	near(t, "n3 amount", num(t, inv["n3"], "amount"), 1000)
	if got := str(inv["n3"], "currency_original"); got != "USD" {
		t.Errorf("n3 currency_original = %s, want USD", got)
	}
	if _, err := s.RunAssertions(context.Background(), assertionNamed(t, "assert_known_currencies")); err != nil {
		t.Errorf("with source currencies: %v", err)
	}

	s = buildFixtureWith(t, "pipeline", "2025-06-30", nil, missingCurrency)
	if r := rowsBy(t, s, `select opportunity_id, amount from stg_opportunities where opportunity_id = 'n1'`); r["n1"].Get("amount") != nil {
		t.Errorf("without a source currency n1's amount = %v, want NULL", r["n1"].Get("amount"))
	}
	_, err := s.RunAssertions(context.Background(), assertionNamed(t, "assert_known_currencies"))
	if err == nil || !strings.Contains(err.Error(), "assert_known_currencies") {
		t.Errorf("without source currencies: want assert_known_currencies to fail, got %v", err)
	}
}
