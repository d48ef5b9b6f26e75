package warehouse

import (
	"context"
	"crypto/md5"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
	segsql "github.com/segpipe/segpipe/sql"
)

// Hand-computed from internal/warehouse/testdata/pipeline_raw.sql, as of 2025-06-30. stg_opportunities
// holds 15 deals (x1 is created after as_of): 7 closed and 8 open (p8 closes after as_of).
//
//	SMB:        c1 10,000 won (30 d), c2 20,000 lost, c3 5,000 won (50 d), p1-p6 open 10-20,000
//	Mid-market: c4 100,000 won (90 d), c5 50,000 lost, p8 30,000 open
//	Enterprise: c6 200,000 lost, c7 300,000 won (180 d), p7 400,000 open
func TestPipelineSegments(t *testing.T) {
	s := buildFixture(t, "pipeline", "2025-06-30", nil)
	seg := rowsBy(t, s, `select grouping || ' ' || deal_size_tier || ' ' || motion || ' ' || region || ' ' || industry || ' ' || source as k, *
		from pipeline_segments`)
	type want struct {
		opps, open, pipeline, avg, won, lost, winRate, winRateAmount, cycle, revenue, shareOpps, shareRev, ev, forecast float64
	}
	cases := map[string]want{
		// SMB: 9 deals totalling 125,000 (35,000 closed + 90,000 open); avg 125,000 / 9.
		// win rate 2 / 3; by amount 15,000 / 35,000 = 3/7; cycle (30 + 50) / 2 = 40.
		// expected value = 125,000/9 x 2/3 x 6 open = 55,555.56; forecast = 90,000 x 2/3 = 60,000.
		"deal_size_tier SMB all all all all": {9, 6, 90000, 125000.0 / 9, 2, 1, 2.0 / 3, 3.0 / 7, 40, 15000, 0.6, 15000.0 / 415000,
			125000.0 / 9 * 2 / 3 * 6, 60000},
		// Mid-market: avg (100,000 + 50,000 + 30,000) / 3 = 60,000; win rate 1/2, by amount
		// 100,000 / 150,000; expected value 60,000 x 0.5 x 1 = 30,000; forecast 30,000 x 0.5.
		"deal_size_tier Mid-market all all all all": {3, 1, 30000, 60000, 1, 1, 0.5, 2.0 / 3, 90, 100000, 0.2, 100000.0 / 415000,
			30000, 15000},
		// Enterprise: avg 900,000 / 3 = 300,000; by amount 300,000 / 500,000 = 0.6;
		// expected value 300,000 x 0.5 x 1 = 150,000; forecast 400,000 x 0.5 = 200,000.
		"deal_size_tier Enterprise all all all all": {3, 1, 400000, 300000, 1, 1, 0.5, 0.6, 180, 300000, 0.2, 300000.0 / 415000,
			150000, 200000},
		// Total: 1,205,000 over 15 deals; 4 won of 7 closed; 415,000 won of 685,000 closed;
		// cycle (30 + 50 + 90 + 180) / 4 = 87.5; expected value 1,205,000/15 x 4/7 x 8;
		// forecast 520,000 x 4/7.
		"total all all all all all": {15, 8, 520000, 1205000.0 / 15, 4, 3, 4.0 / 7, 415000.0 / 685000, 87.5, 415000, 1, 1,
			1205000.0 / 15 * 4 / 7 * 8, 520000.0 * 4 / 7},
		// NA (account P1): c1 W 10,000, c2 L 20,000, c5 L 50,000, c7 W 300,000 (cycles 30, 180),
		// open p1 10,000, p3 14,000, p5 18,000, p7 400,000 = 442,000; 822,000 in all.
		"region all all NA all all": {8, 4, 442000, 822000.0 / 8, 2, 2, 0.5, 310000.0 / 380000, 105, 310000, 8.0 / 15, 310000.0 / 415000,
			822000.0 / 8 * 0.5 * 4, 221000},
		// Enterprise + new business + NA + Software + partner: c7 won (180 d) and p7 open.
		"combination Enterprise new_business NA Software partner": {2, 1, 400000, 350000, 1, 0, 1, 1, 180, 300000, 2.0 / 15,
			300000.0 / 415000, 350000, 400000},
	}
	for k, w := range cases {
		r, ok := seg[k]
		if !ok {
			t.Errorf("no pipeline_segments row %q", k)
			continue
		}
		for col, v := range map[string]float64{
			"opportunities": w.opps, "open_opportunities": w.open, "pipeline_value": w.pipeline, "avg_deal_size": w.avg,
			"won": w.won, "lost": w.lost, "win_rate": w.winRate, "win_rate_amount": w.winRateAmount,
			"loss_rate": 1 - w.winRate, "avg_sales_cycle_days": w.cycle, "revenue_won": w.revenue,
			"share_of_opportunities": w.shareOpps, "share_of_revenue_won": w.shareRev,
			"expected_value": w.ev, "segment_forecast": w.forecast,
		} {
			near(t, k+" "+col, num(t, r, col), v)
		}
	}
	// Sales-cycle percentiles of the won deals (quantile_cont, linear): total 30, 50, 90, 180 ->
	// median (50 + 90) / 2 = 70; p75 at 2.25 -> 90 + 0.25 x 90 = 112.5; p90 at 2.7 -> 90 + 0.7 x 90
	// = 153. SMB 30, 50 -> 40, 45, 48. Mid-market's one won deal (90 d) gives 90 for all three.
	for k, w := range map[string][3]float64{
		"total all all all all all":                 {70, 112.5, 153},
		"deal_size_tier SMB all all all all":        {40, 45, 48},
		"deal_size_tier Mid-market all all all all": {90, 90, 90},
	} {
		for i, col := range []string{"median_sales_cycle_days", "p75_sales_cycle_days", "p90_sales_cycle_days"} {
			near(t, k+" "+col, num(t, seg[k], col), w[i])
		}
	}
	if r := seg["motion * renewal * * *"]; r.Get("median_sales_cycle_days") != nil {
		t.Errorf("renewal (nothing won): median cycle %v, want NULL", r.Get("median_sales_cycle_days"))
	}
	// A segment with no closed deal has no win rate, expected value or forecast: motion
	// renewal is p3 and p6, both open.
	if r := seg["motion * renewal * * *"]; r.Get("win_rate") != nil || r.Get("expected_value") != nil || r.Get("segment_forecast") != nil {
		t.Errorf("renewal: win_rate %v, expected_value %v, forecast %v; want NULL", r.Get("win_rate"), r.Get("expected_value"), r.Get("segment_forecast"))
	}
	// One row per value of each dimension: 3 tiers, 3 motions, 2 regions, 2 industries,
	// 4 sources, and the total.
	counts := rowsBy(t, s, `select grouping, count(*) as n from pipeline_segments group by grouping`)
	for g, n := range map[string]float64{"deal_size_tier": 3, "motion": 3, "region": 2, "industry": 2, "source": 4, "total": 1} {
		near(t, g+" rows", num(t, counts[g], "n"), n)
	}
}

func TestPipelineAging(t *testing.T) {
	s := buildFixture(t, "pipeline", "2025-06-30", nil)
	rows := rowsBy(t, s, `select opportunity_id, * exclude (opportunity_id) from pipeline_aging`)
	if len(rows) != 8 {
		t.Fatalf("pipeline_aging has %d rows, want the 8 open deals", len(rows))
	}
	// SMB discovery durations 10, 20, 30, 40, 50, 60 (quantile_cont, linear interpolation):
	// p75 at position 0.75 x 5 = 3.75 -> 40 + 0.75 x 10 = 47.5; p90 at 4.5 -> 50 + 0.5 x 10 = 55.
	// 40 is not beyond 47.5: on track; 50 is aging; 60 stalled.
	// Engagement vs 14 days: p1 meeting 5 d ago active; p2 email 10 d passive; p3 demo 14 d
	// inactive (14+); p4 proposal 13 d active; p5 no activity inactive; p6 email 29 d inactive;
	// p7 only activity after as_of: unknown (the CRM keeps only the last one, so the activity at as_of
	// is not known; never inactive); p8 email 1 d: passive.
	want := map[string]struct {
		tier, stage     string
		days, p75, p90  float64
		status, engaged string
	}{
		"p1": {"SMB", "discovery", 10, 47.5, 55, "on_track", "active"},
		"p2": {"SMB", "discovery", 20, 47.5, 55, "on_track", "passive"},
		"p3": {"SMB", "discovery", 30, 47.5, 55, "on_track", "inactive"},
		"p4": {"SMB", "discovery", 40, 47.5, 55, "on_track", "active"},
		"p5": {"SMB", "discovery", 50, 47.5, 55, "aging", "inactive"},
		"p6": {"SMB", "discovery", 60, 47.5, 55, "stalled", "inactive"},
		// p7 is alone in Enterprise proposal: both percentiles are its own 15 days.
		"p7": {"Enterprise", "proposal", 15, 15, 15, "on_track", "unknown"},
		// p8 closed after as_of: no known stage, so no duration.
		"p8": {"Mid-market", "<nil>", math.NaN(), math.NaN(), math.NaN(), "unknown", "passive"},
	}
	for id, w := range want {
		r := rows[id]
		if got := str(r, "deal_size_tier"); got != w.tier {
			t.Errorf("%s deal_size_tier = %s, want %s", id, got, w.tier)
		}
		if got := str(r, "stage"); got != w.stage {
			t.Errorf("%s stage = %s, want %s", id, got, w.stage)
		}
		near(t, id+" days_in_stage", num(t, r, "days_in_stage"), w.days)
		near(t, id+" p75_days", num(t, r, "p75_days"), w.p75)
		near(t, id+" p90_days", num(t, r, "p90_days"), w.p90)
		if got := str(r, "aging_status"); got != w.status {
			t.Errorf("%s aging_status = %s, want %s", id, got, w.status)
		}
		if got := str(r, "engagement"); got != w.engaged {
			t.Errorf("%s engagement = %s, want %s", id, got, w.engaged)
		}
	}
	if got := str(rows["p4"], "forecast_category"); got != "commit" {
		t.Errorf("p4 forecast_category = %s, want commit", got)
	}
}

// With a 13-day inactivity threshold, p4 (proposal 13 days ago) becomes inactive too.
func TestPipelineInactiveDaysFromConfig(t *testing.T) {
	s := buildFixture(t, "pipeline", "2025-06-30", func(c *config.Config) { c.Segments.Pipeline.InactiveDays = 13 })
	rows := rowsBy(t, s, `select opportunity_id, engagement from pipeline_aging`)
	if got := str(rows["p4"], "engagement"); got != "inactive" {
		t.Errorf("p4 engagement = %s, want inactive with inactive_days 13", got)
	}
}

func TestPipelineAssertionsPass(t *testing.T) {
	s := buildFixture(t, "pipeline", "2025-06-30", nil)
	as, err := LoadAssertions(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	// Only the pipeline assertions: this fixture has no paying customer, and
	// assert_ltv_quintiles_partition flags an empty ltv_quintiles (least(5, NULL) is 5).
	var mine []Assertion
	for _, a := range as {
		if strings.HasPrefix(a.Name, "assert_pipeline_") {
			mine = append(mine, a)
		}
	}
	// assert_pipeline_aging, _cohorts, _loss_reasons, _segments, and each table's key.
	if len(mine) != 8 {
		t.Fatalf("%d pipeline assertions, want 8", len(mine))
	}
	if _, err := s.RunAssertions(context.Background(), mine); err != nil {
		t.Fatal(err)
	}
}

// A mart with a composite key carries row_key first: the MD5 of the key as a JSON object,
// recomputed here in Go from the rows' key columns; unique, and the same in another build.
func TestRowKeyIsTheKeysHash(t *testing.T) {
	s := buildFixture(t, "pipeline", "2025-06-30", nil)
	rows, err := s.Query(t.Context(), `select * from pipeline_segments`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := s.Query(t.Context(), `select column_name from information_schema.columns where table_name = 'pipeline_segments' order by ordinal_position limit 1`)
	if err != nil || fmt.Sprint(cols[0].Values[0]) != RowKeyColumn {
		t.Fatalf("first column %v, %v", cols, err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		var b strings.Builder
		b.WriteString("{")
		for i, c := range []string{"grouping", "deal_size_tier", "motion", "region", "industry", "source"} {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%q:%q", c, str(r, c))
		}
		b.WriteString("}")
		want := fmt.Sprintf("%x", md5.Sum([]byte(b.String())))
		if got := str(r, RowKeyColumn); got != want {
			t.Errorf("row_key of %s = %s, want md5 %s", b.String(), got, want)
		}
		if seen[want] {
			t.Errorf("row_key %s twice", want)
		}
		seen[want] = true
	}
	if len(seen) < 20 {
		t.Fatalf("only %d rows", len(seen))
	}
	again := buildFixture(t, "pipeline", "2025-06-30", nil)
	keys, err := again.Query(t.Context(), `select row_key from pipeline_segments`)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !seen[fmt.Sprint(k.Values[0])] {
			t.Errorf("row_key %v is not the first build's", k.Values[0])
		}
	}
}
