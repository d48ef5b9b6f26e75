package warehouse

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
	segsql "github.com/segpipe/segpipe/sql"
)

// unpricedDeals adds to the pipeline fixture (as of 2025-06-30; pipeline_test.go has its 15
// deals) deals without an amount and a lost one of amount 0, all created in 2025-Q2:
//
//	q1 open, product "analytics"      q2 open, product "Add-on pack"   q3 open, product "Unlisted"
//	q4 lost (price), no amount, product Analytics                      z1 lost (timing), amount 0
const unpricedDeals = `
insert into raw_demo__opportunities values
    ('q1', 'P1', 'q1', null, 'USD', 'discovery',   '2025-06-20', false, false, 'new_business', 'inbound', 'analytics',   'pipeline', 'o', null,     '2025-06-25', 'meeting', '2025-06-01', null,         '2025-06-25', '2025-06-30'),
    ('q2', 'P2', 'q2', null, null,  'discovery',   '2025-06-20', false, false, 'new_business', 'inbound', 'Add-on pack', 'pipeline', 'o', null,     '2025-06-25', 'meeting', '2025-06-01', null,         '2025-06-25', '2025-06-30'),
    ('q3', 'P1', 'q3', null, 'USD', 'discovery',   '2025-06-20', false, false, 'new_business', 'inbound', 'Unlisted',    'pipeline', 'o', null,     '2025-06-25', 'meeting', '2025-06-01', null,         '2025-06-25', '2025-06-30'),
    ('q4', 'P2', 'q4', null, 'USD', 'closed_lost', '2025-06-10', true,  false, 'new_business', 'inbound', 'Analytics',   'closed',   'o', 'price',  '2025-06-09', 'email',   '2025-05-01', '2025-06-10', '2025-06-10', '2025-06-30'),
    ('z1', 'P1', 'z1', 0,    'USD', 'closed_lost', '2025-06-12', true,  false, 'new_business', 'inbound', 'Core',        'closed',   'o', 'timing', '2025-06-11', 'email',   '2025-05-01', '2025-06-12', '2025-06-12', '2025-06-30');
`

// withPrices sets the price list (Analytics 40,000 is Mid-market, the add-on pack 2,000 SMB;
// keys in another case and spacing than the deals') and treats a lost deal's 0 as unknown.
func withPrices(c *config.Config) {
	c.Segments.Pipeline.PriceList = map[string]float64{"Analytics": 40000, " add-on  PACK": 2000}
	c.Segments.Pipeline.LostZeroAmountIsUnknown = true
}

func TestOpenDealsValuedFromThePriceList(t *testing.T) {
	s := buildFixtureWith(t, "pipeline", "2025-06-30", withPrices, unpricedDeals)
	opps := rowsBy(t, s, `select opportunity_id, amount, amount_source, deal_size_tier from int_opportunities`)
	for id, want := range map[string]string{
		"q1": "40000 price_list Mid-market", "q2": "2000 price_list SMB", "q3": "<nil> <nil> Unknown",
		"q4": "<nil> <nil> Unknown", // closed: never valued from the list
		"z1": "<nil> <nil> Unknown", // lost at 0: unknown
		"c2": "20000 deal SMB", "p8": "30000 deal Mid-market",
	} {
		r := opps[id]
		if got := str(r, "amount") + " " + str(r, "amount_source") + " " + str(r, "deal_size_tier"); got != want {
			t.Errorf("%s: amount, amount_source, deal_size_tier = %s, want %s", id, got, want)
		}
	}
	aging := rowsBy(t, s, `select opportunity_id, amount, amount_source, deal_size_tier from pipeline_aging`)
	fit := rowsBy(t, s, `select opportunity_id, amount, amount_source, deal_size_tier from prospect_fit`)
	for id, want := range map[string]string{"q1": "40000 price_list Mid-market", "q3": "<nil> <nil> Unknown", "p1": "10000 deal SMB"} {
		for mart, rows := range map[string]map[string]Row{"pipeline_aging": aging, "prospect_fit": fit} {
			r := rows[id]
			if got := str(r, "amount") + " " + str(r, "amount_source") + " " + str(r, "deal_size_tier"); got != want {
				t.Errorf("%s %s: %s, want %s", mart, id, got, want)
			}
		}
	}

	// pipeline_segments, 20 deals:
	//   SMB: the fixture's 9 (125,000) + q2 2,000 open = 10 deals, 127,000, avg 12,700; 7 open
	//        worth 92,000 (2,000 from the price list); won 2, lost 1.
	//   Mid-market: 100,000 won, 50,000 lost, p8 30,000 and q1 40,000 open: avg 220,000 / 4.
	//   Unknown: q3 open, q4 and z1 lost, no amount: no average, no pipeline value; win rate 0.
	//   Total: 1,247,000 over the 17 deals with an amount; 11 open worth 562,000 (42,000 listed);
	//          won 4, lost 5; by amount 415,000 / 685,000 as without the new deals (0 adds nothing).
	seg := rowsBy(t, s, `select grouping || ' ' || deal_size_tier as k, * from pipeline_segments where grouping in ('deal_size_tier', 'total')`)
	type want struct{ opps, open, pipeline, listed, avg, won, lost, winRate, ev float64 }
	for k, w := range map[string]want{
		"deal_size_tier SMB":        {10, 7, 92000, 2000, 12700, 2, 1, 2.0 / 3, 12700 * 2.0 / 3 * 7},
		"deal_size_tier Mid-market": {4, 2, 70000, 40000, 55000, 1, 1, 0.5, 55000},
		"deal_size_tier Unknown":    {3, 1, 0, 0, math.NaN(), 0, 2, 0, math.NaN()},
		"total all":                 {20, 11, 562000, 42000, 1247000.0 / 17, 4, 5, 4.0 / 9, 1247000.0 / 17 * 4 / 9 * 11},
	} {
		r, ok := seg[k]
		if !ok {
			t.Errorf("no pipeline_segments row %s", k)
			continue
		}
		for col, v := range map[string]float64{"opportunities": w.opps, "open_opportunities": w.open, "pipeline_value": w.pipeline,
			"pipeline_value_price_list": w.listed, "avg_deal_size": w.avg, "won": w.won, "lost": w.lost, "win_rate": w.winRate,
			"expected_value": w.ev} {
			near(t, k+" "+col, numOrNaN(r, col), v)
		}
	}
	near(t, "total win_rate_amount", num(t, seg["total all"], "win_rate_amount"), 415000.0/685000)

	// pipeline_loss_reasons by tier: q4 (price) and z1 (timing) are Unknown; SMB keeps c2 alone.
	loss := rowsBy(t, s, `select segment || ' ' || loss_reason as k, lost, lost_amount, share_of_lost from pipeline_loss_reasons where dimension = 'deal_size_tier'`)
	for k, w := range map[string][2]float64{"Unknown price": {1, 0}, "Unknown timing": {1, 0}, "SMB price": {1, 20000}} {
		near(t, k+" lost", num(t, loss[k], "lost"), w[0])
		near(t, k+" lost_amount", num(t, loss[k], "lost_amount"), w[1])
	}
	if _, ok := loss["SMB timing"]; ok {
		t.Error("z1 (lost at 0, unknown) is in the SMB tier")
	}
	// pipeline_cohorts and segment_trends, Mid-market deals created in 2025-Q2: p8 30,000 and
	// q1 40,000, both open.
	coh := rowsBy(t, s, `select segment, created, open, pipeline_created, open_value from pipeline_cohorts where dimension = 'deal_size_tier' and cohort_quarter = '2025-Q2'`)
	for col, v := range map[string]float64{"created": 2, "open": 2, "pipeline_created": 70000, "open_value": 70000} {
		near(t, "cohort Mid-market "+col, num(t, coh["Mid-market"], col), v)
	}
	tr := rowsBy(t, s, `select segment, opportunities_created, pipeline_created from segment_trends where dimension = 'deal_size_tier' and quarter = '2025-04-01'`)
	near(t, "trend Mid-market opportunities_created", num(t, tr["Mid-market"], "opportunities_created"), 2)
	near(t, "trend Mid-market pipeline_created", num(t, tr["Mid-market"], "pipeline_created"), 70000)
	pipelineAssertionsPass(t, s)
}

// Without a price list an open deal without an amount stays unknown: tier Unknown, never the
// first tier (SMB from 0) as a NULL amount read as below every threshold would be. A lost deal
// at 0 is then a deal of 0 (the default): SMB, and in its average.
func TestUnpricedDealsWithTheDefaults(t *testing.T) {
	s := buildFixtureWith(t, "pipeline", "2025-06-30", nil, unpricedDeals)
	opps := rowsBy(t, s, `select opportunity_id, amount, amount_source, deal_size_tier from int_opportunities`)
	for id, want := range map[string]string{"q1": "<nil> <nil> Unknown", "q2": "<nil> <nil> Unknown", "z1": "0 deal SMB"} {
		r := opps[id]
		if got := str(r, "amount") + " " + str(r, "amount_source") + " " + str(r, "deal_size_tier"); got != want {
			t.Errorf("%s: amount, amount_source, deal_size_tier = %s, want %s", id, got, want)
		}
	}
	// SMB: the fixture's 9 and z1: 125,000 / 10, lost 2 of 4 closed. Unknown: q1-q4.
	seg := rowsBy(t, s, `select deal_size_tier as k, * from pipeline_segments where grouping = 'deal_size_tier'`)
	near(t, "SMB opportunities", num(t, seg["SMB"], "opportunities"), 10)
	near(t, "SMB avg_deal_size", num(t, seg["SMB"], "avg_deal_size"), 12500)
	near(t, "SMB win_rate", num(t, seg["SMB"], "win_rate"), 0.5)
	near(t, "Unknown opportunities", num(t, seg["Unknown"], "opportunities"), 4)
	near(t, "Unknown open_opportunities", num(t, seg["Unknown"], "open_opportunities"), 3)
	near(t, "SMB pipeline_value_price_list", num(t, seg["SMB"], "pipeline_value_price_list"), 0)
	pipelineAssertionsPass(t, s)
}

// numOrNaN is a numeric column, NaN when NULL.
func numOrNaN(r Row, col string) float64 {
	if r.Get(col) == nil {
		return math.NaN()
	}
	return r.Float(col)
}

// pipelineAssertionsPass runs the assertions of the deal marts (sql/tests/assert_pipeline_*,
// assert_prospect_fit) on s and fails the test for any that finds a row.
func pipelineAssertionsPass(t *testing.T, s *Session) {
	t.Helper()
	as, err := LoadAssertions(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	var mine []Assertion
	for _, a := range as {
		if strings.HasPrefix(a.Name, "assert_pipeline_") || a.Name == "assert_prospect_fit" || a.Name == "assert_segment_trends" {
			mine = append(mine, a)
		}
	}
	if _, err := s.RunAssertions(context.Background(), mine); err != nil {
		t.Error(err)
	}
}

// A product table (stg_products, from a source that lands one) values the open deals the price
// list does not: after the list, matched whatever the case and spacing; a product it lists twice
// with two prices has no price (unknown), and closed deals are never valued from it.
func TestOpenDealsValuedFromAProductTable(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(*config.Config)
		want   map[string]string
	}{
		{"product table only", nil, map[string]string{
			"q1": "35000 product_table Mid-market", // "analytics" matches "ANALYTICS"
			"q2": "<nil> <nil> Unknown",            // not in the table
			"q3": "<nil> <nil> Unknown",            // listed twice, at 100 and 200
			"q4": "<nil> <nil> Unknown",            // closed
		}},
		{"the price list first", withPrices, map[string]string{
			"q1": "40000 price_list Mid-market", "q2": "2000 price_list SMB", "q3": "<nil> <nil> Unknown",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := buildFixtureWith(t, "pipeline", "2025-06-30", c.mutate, unpricedDeals)
			if err := s.Exec(context.Background(), `create or replace table stg_products as
				select * from (values ('ANALYTICS', 35000.0, 'USD', 35000.0), ('Unlisted', 100.0, 'USD', 100.0), (' unlisted', 200.0, 'USD', 200.0))
				t(product, list_price, currency_original, list_price_original)`); err != nil {
				t.Fatal(err)
			}
			b, err := segsql.Files.ReadFile("intermediate/int_opportunities.sql")
			if err != nil {
				t.Fatal(err)
			}
			m := Model{Name: "int_opportunities", Layer: Intermediate, Path: "intermediate/int_opportunities.sql", SQL: strings.TrimRight(strings.TrimSpace(string(b)), "; \n\t")}
			if _, err := s.RunModels(context.Background(), []Model{m}); err != nil {
				t.Fatal(err)
			}
			opps := rowsBy(t, s, `select opportunity_id, amount, amount_source, deal_size_tier from int_opportunities`)
			for id, want := range c.want {
				r := opps[id]
				if got := str(r, "amount") + " " + str(r, "amount_source") + " " + str(r, "deal_size_tier"); got != want {
					t.Errorf("%s: %s, want %s", id, got, want)
				}
			}
		})
	}
}
