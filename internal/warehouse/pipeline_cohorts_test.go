package warehouse

import (
	"context"
	"strings"
	"testing"
)

// Pipeline cohorts on the pipeline fixture as of 2025-06-30 (internal/warehouse/testdata/pipeline_raw.sql).
// Deals by creation quarter (x1 is created after as_of; p8 closes after it, so it is open):
//
//	2024-Q4: c7 300,000 won, cycle 2024-12-01 -> 2025-05-30 = 180 days.
//	2025-Q1: c1 10,000 won (30 d), c2 20,000 lost, c3 5,000 won (50 d), c4 100,000 won (90 d),
//	         c5 50,000 lost, c6 200,000 lost, p7 400,000 open.
//	         won 3, lost 3, open 1: win rate 3/6 = 0.5, close rate 6/7, mean cycle (30+50+90)/3
//	         = 56.67 days, created 785,000, won 115,000, open value 400,000.
//	2025-Q2: p1..p6 (10,000 .. 20,000) and p8 30,000, all open: created 120,000, no win rate.
func TestPipelineCohorts(t *testing.T) {
	s := buildFixture(t, "pipeline", "2025-06-30", nil)
	rows := rowsBy(t, s, `select cohort_quarter || ' ' || dimension || ' ' || segment as k, * from pipeline_cohorts`)
	type want struct {
		created, won, lost, open  float64
		winRate, closeRate, cycle float64
		createdValue, wonValue    float64
	}
	nan := func() float64 { var z float64; return z / z }()
	for k, w := range map[string]want{
		"2024-Q4 all All":                   {1, 1, 0, 0, 1, 1, 180, 300000, 300000},
		"2025-Q1 all All":                   {7, 3, 3, 1, 0.5, 6.0 / 7, (30 + 50 + 90) / 3.0, 785000, 115000},
		"2025-Q2 all All":                   {7, 0, 0, 7, nan, 0, nan, 120000, 0},
		"2025-Q1 deal_size_tier SMB":        {3, 2, 1, 0, 2.0 / 3, 1, 40, 35000, 15000},
		"2025-Q1 deal_size_tier Mid-market": {2, 1, 1, 0, 0.5, 1, 90, 150000, 100000},
		"2025-Q1 deal_size_tier Enterprise": {2, 0, 1, 1, 0, 0.5, nan, 600000, 0},
		// P1 (100 employees) is SMB, P2 (500) Mid-market. Q1: P1 has c1 won, c2 lost, c5 lost,
		// p7 open; P2 has c3 won, c4 won, c6 lost.
		"2025-Q1 size_band SMB":        {4, 1, 2, 1, 1.0 / 3, 0.75, 30, 480000, 10000},
		"2025-Q1 size_band Mid-market": {3, 2, 1, 0, 2.0 / 3, 1, 70, 305000, 105000},
	} {
		r, ok := rows[k]
		if !ok {
			t.Errorf("no row %s", k)
			continue
		}
		near(t, k+" created", num(t, r, "created"), w.created)
		near(t, k+" won", num(t, r, "won"), w.won)
		near(t, k+" lost", num(t, r, "lost"), w.lost)
		near(t, k+" open", num(t, r, "open"), w.open)
		near(t, k+" win_rate", num(t, r, "win_rate"), w.winRate)
		near(t, k+" close_rate", num(t, r, "close_rate"), w.closeRate)
		near(t, k+" avg_cycle_days_won", num(t, r, "avg_cycle_days_won"), w.cycle)
		near(t, k+" pipeline_created", num(t, r, "pipeline_created"), w.createdValue)
		near(t, k+" revenue_won", num(t, r, "revenue_won"), w.wonValue)
	}
	// 3 quarters x (all + tiers present + size bands present).
	n, err := s.Query(context.Background(), `select count(*) as n from pipeline_cohorts where cohort_quarter = '2025-Q3'`)
	if err != nil || num(t, n[0], "n") != 0 {
		t.Errorf("a cohort after as_of: %v %v", n, err)
	}
}

// assert_pipeline_cohorts passes on the fixture and catches a cohort whose segments stop adding
// up to its 'all' row.
func TestPipelineCohortsAssertion(t *testing.T) {
	ctx := context.Background()
	s := buildFixture(t, "pipeline", "2025-06-30", nil)
	mine := assertionNamed(t, "assert_pipeline_cohorts")
	if _, err := s.RunAssertions(ctx, mine); err != nil {
		t.Fatalf("fails on the fixture: %v", err)
	}
	if err := s.Exec(ctx, `update pipeline_cohorts set won = won + 1, lost = lost - 1
		where cohort_quarter = '2025-Q1' and dimension = 'size_band' and segment = 'SMB'`); err != nil {
		t.Fatal(err)
	}
	_, err := s.RunAssertions(ctx, mine)
	if err == nil || !strings.Contains(err.Error(), "does not add up") {
		t.Fatalf("want the broken sum caught, got %v", err)
	}
}

// Deals lost by reason on the pipeline fixture as of 2025-06-30: c2 20,000 price (SMB),
// c5 50,000 timing (Mid-market), c6 200,000 competitor (Enterprise) are lost; p8 (lost
// 10 July, price) is still open. All: 3 lost, one each, shares 1/3; amounts 20,000 / 270,000 ...
func TestPipelineLossReasons(t *testing.T) {
	s := buildFixture(t, "pipeline", "2025-06-30", nil)
	rows := rowsBy(t, s, `select dimension || ' ' || segment || ' ' || loss_reason as k, * from pipeline_loss_reasons`)
	// The three lost deals have three different reasons, so each of the 6 dimensions has 3
	// (segment, reason) rows: all 3; tier SMB, Mid-market, Enterprise; motion new_business 3;
	// source inbound 2 (price, timing) + partner 1; region NA 2 (P1: c2, c5) + EMEA 1;
	// industry Software 2 + FinTech 1.
	if len(rows) != 18 {
		t.Errorf("%d rows, want 18", len(rows))
	}
	for k, w := range map[string][3]float64{ // lost, share of lost, share of lost amount
		"all All price":               {1, 1.0 / 3, 20000.0 / 270000},
		"all All competitor":          {1, 1.0 / 3, 200000.0 / 270000},
		"deal_size_tier SMB price":    {1, 1, 1},
		"source inbound timing":       {1, 0.5, 50000.0 / 70000},
		"region NA price":             {1, 0.5, 20000.0 / 70000},
		"industry FinTech competitor": {1, 1, 1},
		"motion new_business timing":  {1, 1.0 / 3, 50000.0 / 270000},
	} {
		r, ok := rows[k]
		if !ok {
			t.Errorf("no row %s", k)
			continue
		}
		near(t, k+" lost", num(t, r, "lost"), w[0])
		near(t, k+" share_of_lost", num(t, r, "share_of_lost"), w[1])
		near(t, k+" share_of_lost_amount", num(t, r, "share_of_lost_amount"), w[2])
	}
}
