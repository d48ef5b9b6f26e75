package warehouse

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
	segsql "github.com/segpipe/segpipe/sql"
)

// brokenRecords adds to the basic fixture (as of 2025-06-30) records staging cannot use: a deal
// without created_at, an invoice without a service period end and one without a customer.
// stg_invoices then has 16 candidates (i1-i14 and these two; i15 is issued after as_of) of
// which 2 are left out; stg_opportunities has 3 candidates (o1, o2, o3) of which 1.
const brokenRecords = `
insert into raw_demo__opportunities values
    ('o3', 'A3', 'No date', 5000, 'USD', 'discovery', '2025-05-01', false, false, 'new_business', 'inbound', 'Core', 'pipeline', 'o', null, '2025-05-02', 'email', null, null, '2025-05-02', '2025-06-30');
insert into raw_demo__invoices values
    ('i16', 'A3', 's3', 1000, 'USD', '2025-06-01', null, '2025-06-01', null, 'open', '2025-06-30', null, null),
    ('i17', null, 's3', 1000, 'USD', '2025-06-01', '2025-07-01', '2025-06-01', null, 'open', '2025-06-30', null, null);
`

func TestStagingLeavesOutAndCountsRecordsItCannotUse(t *testing.T) {
	ctx := context.Background()
	s := buildFixtureWith(t, "basic", "2025-06-30", nil, brokenRecords)

	rows := rowsBy(t, s, "select table_name || ': ' || reason, dropped, candidates from staging_drops")
	want := map[string][2]int64{
		"stg_invoices: customer_id is missing":     {1, 16},
		"stg_invoices: service period is missing":  {1, 16},
		"stg_opportunities: created_at is missing": {1, 3},
	}
	if len(rows) != len(want) {
		t.Errorf("staging_drops has %d rows, want %d: %v", len(rows), len(want), rows)
	}
	for k, w := range want {
		r, ok := rows[k]
		if !ok {
			t.Errorf("staging_drops lacks %q", k)
			continue
		}
		if got := [2]int64{r.Values[1].(int64), r.Values[2].(int64)}; got != w {
			t.Errorf("%s: dropped, candidates = %v, want %v", k, got, w)
		}
	}
	for _, q := range []struct{ sql, want string }{
		{"select count(*) from stg_invoices", "14"},
		{"select count(*) from stg_invoices where invoice_id in ('i16', 'i17')", "0"},
		{"select count(*) from stg_opportunities", "2"},
		{"select count(*) from (describe stg_invoices) where column_name = '_drop_reason'", "0"},
	} {
		got, err := s.Query(ctx, q.sql)
		if err != nil {
			t.Fatal(err)
		}
		if g := fmtKey(got[0].Values[0]); g != q.want {
			t.Errorf("%s = %s, want %s", q.sql, g, q.want)
		}
	}

	// 1 of 16 invoices (6.25%) is over the default 2% bound: the assertion fails, naming it.
	a := assertionNamed(t, "assert_staging_drops")
	res, err := s.RunAssertions(ctx, a)
	if !errors.Is(err, ErrAssertionsFailed) || !strings.Contains(err.Error(), "customer_id is missing") {
		t.Fatalf("want assert_staging_drops to fail naming the reason, got %v", err)
	}
	if res[0].Failures != 3 || res[0].Outcome != Failed {
		t.Errorf("assert_staging_drops: %d rows, %s; want 3 (every reason is past 2%%), failed", res[0].Failures, res[0].Outcome)
	}
}

func TestStagingDropBoundIsConfigured(t *testing.T) {
	ctx := context.Background()
	// 1/16 = 6.25% and 1/3 = 33%: a bound of 10% lets the invoices through, not the deal.
	s := buildFixtureWith(t, "basic", "2025-06-30", func(c *config.Config) {
		b := 0.10
		c.Audit.MaxStagingDropShare = &b
	}, brokenRecords)
	res, err := s.RunAssertions(ctx, assertionNamed(t, "assert_staging_drops"))
	if err == nil || res[0].Failures != 1 || !strings.Contains(res[0].Sample[0], "stg_opportunities") {
		t.Fatalf("want only the deal past a 10%% bound, got %v: %+v", err, res)
	}
}

func TestWarnSeverityReportsWithoutFailing(t *testing.T) {
	ctx := context.Background()
	s := buildFixtureWith(t, "basic", "2025-06-30", nil, brokenRecords)
	for _, tc := range []struct {
		rule    config.AssertionRule
		outcome string
	}{
		{config.AssertionRule{Severity: "warn"}, Warned},
		{config.AssertionRule{Severity: "error"}, Failed},
		// The assertion returns 3 rows: error_if on the row count decides.
		{config.AssertionRule{Severity: "warn", ErrorIf: "> 2"}, Failed},
		{config.AssertionRule{Severity: "warn", ErrorIf: "> 3"}, Warned},
		{config.AssertionRule{Severity: "error", ErrorIf: "> 3"}, Warned},
	} {
		a := assertionNamed(t, "assert_staging_drops")
		if err := ApplyRules(a, config.Audit{Assertions: map[string]*config.AssertionRule{"assert_staging_drops": &tc.rule}}); err != nil {
			t.Fatal(err)
		}
		res, err := s.RunAssertions(ctx, a)
		if got := res[0].Outcome; got != tc.outcome {
			t.Errorf("%+v: outcome %s, want %s", tc.rule, got, tc.outcome)
		}
		if (err != nil) != (tc.outcome == Failed) {
			t.Errorf("%+v: error %v with outcome %s", tc.rule, err, tc.outcome)
		}
	}
}

func TestShareThresholdTakesThePopulation(t *testing.T) {
	ctx := context.Background()
	s := buildFixtureWith(t, "basic", "2025-06-30", nil, `
create table probe as select * from range(200) t(i);
create table probe_bad as select * from range(3) t(i);`)
	mk := func(errorIf string) []Assertion {
		a := []Assertion{{Name: "assert_probe", Path: "tests/assert_probe.sql", Population: "probe", SQL: "select * from probe_bad"}}
		if err := ApplyRules(a, config.Audit{Assertions: map[string]*config.AssertionRule{"assert_probe": {Severity: "warn", ErrorIf: errorIf}}}); err != nil {
			t.Fatal(err)
		}
		return a
	}
	// 3 of 200 is 1.5%.
	for _, tc := range []struct {
		errorIf, outcome string
	}{{"> 1.5%", Warned}, {"> 1.4%", Failed}, {"> 2%", Warned}, {"> 0%", Failed}} {
		res, _ := s.RunAssertions(ctx, mk(tc.errorIf))
		if res[0].Outcome != tc.outcome || res[0].Population != 200 || res[0].Failures != 3 {
			t.Errorf("error_if %s: %+v, want %s of 200", tc.errorIf, res[0], tc.outcome)
		}
	}
}

func TestApplyRulesRejectsWhatCannotApply(t *testing.T) {
	as, err := LoadAssertions(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(as, func(a Assertion) bool { return a.Population == "" })
	if i < 0 {
		t.Fatal("every assertion declares a population; pick another for this test")
	}
	err = ApplyRules(as, config.Audit{Assertions: map[string]*config.AssertionRule{
		"assert_no_such_thing": {Severity: "warn"},
		as[i].Name:             {Severity: "warn", ErrorIf: "> 5%"},
	}})
	for _, want := range []string{"audit.assertions.assert_no_such_thing: no such assertion", "audit.assertions." + as[i].Name + ".error_if", "declares no population"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}

// TestBlankTextIsNull: a text field exported empty or blank ("" in JSON, spaces in a CSV cell)
// is no value: every staging model reads it as NULL, so an account with a cleared owner is not
// published under owner ” and a deal with a blank account is a deal without one.
func TestBlankTextIsNull(t *testing.T) {
	ctx := context.Background()
	s := buildFixtureWith(t, "basic", "2025-06-30", nil, `
insert into raw_demo__accounts values
    ('A9', '', ' ', 10, 1000, '', '  ', '', false, '', '2025-01-01', '2025-01-01', '2025-06-30');
insert into raw_demo__opportunities values
    ('o9', '', ' ', 5000, 'USD', 'discovery', '2025-05-01', false, false, '', ' ', '', 'pipeline', '', null, '2025-05-02', '', '2025-05-01', null, '2025-05-02', '2025-06-30');
insert into raw_demo__tickets values
    ('t9', '', '2025-04-10', null, '', ' ', null, '2025-06-30');`)
	for _, q := range []struct{ sql, want string }{
		{"select count(*) from stg_accounts where account_id = 'A9' and account_name is null and industry is null and country is null and region is null and owner is null", "1"},
		{"select count(*) from stg_opportunities where opportunity_id = 'o9' and account_id is null and opportunity_name is null and motion is null and source is null and product is null and owner is null", "1"},
		{"select count(*) from stg_tickets where ticket_id = 't9' and account_id is null and priority is null and category is null", "1"},
		{"select count(*) from account_segments where industry = '' or region = '' or country = ''", "0"},
	} {
		got, err := s.Query(ctx, q.sql)
		if err != nil {
			t.Fatal(err)
		}
		if g := fmtKey(got[0].Values[0]); g != q.want {
			t.Errorf("%s = %s, want %s", q.sql, g, q.want)
		}
	}
}
