package warehouse

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
)

// The behaviour fixture (internal/warehouse/testdata/behaviour_raw.sql) as of 2025-06-30 with the default
// config: usage windows April-June 2025 (trailing) and January-March (previous); support windows
// [2025-04-02, 2025-07-01) and [2025-01-02, 2025-04-02); thresholds power share 0.6 with 8
// features, regular 0.25, occasional 0.05; support high >= 2, self-sufficient <= 0.2 tickets a
// month; risk drops 30%, ticket rise 2x with at least 2, csat below 3.0, high at 2 flags;
// expansion seat share 0.9, growth 20%, 10 employees a seat; health weights 0.5 / 0.2 / 0.3.
const behaviourAsOf = "2025-06-30"

// perMonth90 is the number of tickets a month one ticket in a 90-day window makes: 30.4375 / 90.
const perMonth90 = 1 / (90.0 / 30.4375)

// strList reads a VARCHAR[] column as strings; nil when it is NULL.
func strList(t *testing.T, r Row, col string) []string {
	t.Helper()
	v := r.Get(col)
	if v == nil {
		return nil
	}
	items, ok := v.([]any)
	if !ok {
		t.Fatalf("column %s: %T is not a list", col, v)
	}
	out := make([]string, len(items))
	for i, x := range items {
		out[i] = fmt.Sprint(x)
	}
	return out
}

func TestBehaviourUsage(t *testing.T) {
	s := buildFixture(t, "behaviour", behaviourAsOf, nil)
	rows := rowsBy(t, s, `select account_id, * exclude (account_id) from int_account_usage`)
	type want struct {
		seats, limit               float64 // NaN: NULL
		users, features, events    float64 // trailing means
		pUsers, pFeatures, pEvents float64 // previous means
		months, pMonths            float64
		share                      float64
		intensity                  string
	}
	nan := math.NaN()
	wants := map[string]want{
		// B1: 12 users of 20 seats = 0.6 >= 0.6 and features 8 >= 8 -> power (both bounds inclusive).
		// July 2025 (20 users) has not ended: left out. Events 5,000 -> 5,999.
		"B1": {20, 40, 12, 8, 5999, 12, 8, 5000, 3, 3, 0.6, "power"},
		// B2: 12 + 6 seats of 14 + 6 (the canceled 50-seat subscription left out); users 9,10,11 -> mean
		// 10, then 12; share 12/18 = 0.667 >= 0.6 but features 7 < 8 -> regular.
		"B2": {18, 20, 12, 7, 1200, 10, 7, 1000, 3, 3, 12.0 / 18, "regular"},
		// B3: no seat limit -> NULL; 7/28 = 0.25 >= 0.25 -> regular (inclusive).
		"B3": {28, nan, 7, 5, 2100, 10, 5, 3000, 3, 3, 0.25, "regular"},
		// B4: canceled after as_of, still active: 50 seats of 100; 6/50 = 0.12 -> occasional.
		// December 2024 (50 users) is before the previous window: previous mean 10, not 20.
		"B4": {50, 100, 6, 7, 2000, 10, 10, 2000, 3, 3, 0.12, "occasional"},
		// B5: the 100-seat subscription starting 2025-07-10 is not known; 1/20 = 0.05 >= 0.05 -> occasional.
		"B5": {20, 40, 1, 2, 100, 1, 3, 100, 3, 3, 0.05, "occasional"},
		// B6: 1/25 = 0.04 < 0.05 -> inactive.
		"B6": {25, 30, 1, 1, 50, 1, 1, 50, 3, 3, 0.04, "inactive"},
		// B7: no usage rows -> 0 active users, share 0, inactive; means NULL.
		"B7": {10, 12, nan, nan, nan, nan, nan, nan, 0, 0, 0, "inactive"},
	}
	if len(rows) != len(wants) {
		t.Errorf("int_account_usage has %d rows, want %d (active customers only: not B8 churned, B9 prospect)", len(rows), len(wants))
	}
	for id, w := range wants {
		r, ok := rows[id]
		if !ok {
			t.Errorf("no int_account_usage row for %s", id)
			continue
		}
		near(t, id+" seats", num(t, r, "seats"), w.seats)
		near(t, id+" seat_limit", num(t, r, "seat_limit"), w.limit)
		near(t, id+" active_users_avg", num(t, r, "active_users_avg"), w.users)
		near(t, id+" features_used_avg", num(t, r, "features_used_avg"), w.features)
		near(t, id+" events_avg", num(t, r, "events_avg"), w.events)
		near(t, id+" prev_active_users_avg", num(t, r, "prev_active_users_avg"), w.pUsers)
		near(t, id+" prev_features_used_avg", num(t, r, "prev_features_used_avg"), w.pFeatures)
		near(t, id+" prev_events_avg", num(t, r, "prev_events_avg"), w.pEvents)
		near(t, id+" usage_months", num(t, r, "usage_months"), w.months)
		near(t, id+" prev_usage_months", num(t, r, "prev_usage_months"), w.pMonths)
		near(t, id+" active_share", num(t, r, "active_share"), w.share)
		if got := str(r, "usage_intensity"); got != w.intensity {
			t.Errorf("%s usage_intensity = %s, want %s", id, got, w.intensity)
		}
	}
}

func TestBehaviourSupport(t *testing.T) {
	s := buildFixture(t, "behaviour", behaviourAsOf, nil)
	rows := rowsBy(t, s, `select account_id, * exclude (account_id) from int_account_support`)
	type want struct {
		tickets, problems, prevProblems, rated, csat float64
		need                                         string
	}
	wants := map[string]want{
		// B1: no tickets -> 0 a month <= 0.2 -> self_sufficient.
		"B1": {0, 0, 0, 0, math.NaN(), "self_sufficient"},
		// B2: 1 ticket -> 1 x 30.4375 / 90 = 0.338 a month -> standard.
		"B2": {1, 0, 0, 1, 5, "standard"},
		"B3": {1, 0, 0, 1, 3, "standard"},
		// B4: t41-t46 = 6 tickets -> 6 x 30.4375 / 90 = 2.029 >= 2 -> high. Problems: t41 bug, t42 outage
		// = 2; before: t47 bug = 1 (t48 of 2024-12-01 is before 2025-01-02). Rated: t41 2, t42 3 -> 2.5
		// (t46's 5 comes with a solve after as_of: not known).
		"B4": {6, 2, 1, 2, 2.5, "high"},
		// B5: 2 tickets -> 0.676 -> standard; one bug (t51), none before; csat (1 + 4) / 2 = 2.5.
		"B5": {2, 1, 0, 2, 2.5, "standard"},
		// B6: t61 at 2025-04-02 00:00, exactly the window start: counted -> 1 -> standard.
		"B6": {1, 0, 0, 0, math.NaN(), "standard"},
		// B7: t71 one second before the window start is in the previous window; t72 at cutoff is after
		// as_of -> 0 tickets -> self_sufficient; 1 problem ticket before.
		"B7": {0, 0, 1, 0, math.NaN(), "self_sufficient"},
	}
	if len(rows) != len(wants) {
		t.Errorf("int_account_support has %d rows, want %d", len(rows), len(wants))
	}
	for id, w := range wants {
		r, ok := rows[id]
		if !ok {
			t.Errorf("no int_account_support row for %s", id)
			continue
		}
		near(t, id+" tickets", num(t, r, "tickets"), w.tickets)
		near(t, id+" tickets_per_month", num(t, r, "tickets_per_month"), w.tickets*perMonth90)
		near(t, id+" problem_tickets", num(t, r, "problem_tickets"), w.problems)
		near(t, id+" prev_problem_tickets", num(t, r, "prev_problem_tickets"), w.prevProblems)
		near(t, id+" rated_tickets", num(t, r, "rated_tickets"), w.rated)
		near(t, id+" csat_avg", num(t, r, "csat_avg"), w.csat)
		if got := str(r, "support_need"); got != w.need {
			t.Errorf("%s support_need = %s, want %s", id, got, w.need)
		}
	}
}

func TestBehaviourAccountSegments(t *testing.T) {
	s := buildFixture(t, "behaviour", behaviourAsOf, nil)
	acc := rowsBy(t, s, `select account_id, * exclude (account_id) from account_segments`)
	if len(acc) != 9 {
		t.Fatalf("account_segments has %d rows, want 9", len(acc))
	}
	type want struct {
		intensity, need, risk string
		health                float64
		reasons               []string
		signals               []string
		expReasons            []string
	}
	wants := map[string]want{
		// B1: U = min(1, 0.6 / 0.6) = 1, S = 1 (self_sufficient), R = 1 - 0/4 = 1
		//   -> round(100 x (0.5 + 0.2 + 0.3)) = 100. Events +19.98% < 20%; 20/40 seats = 0.5 < 0.9;
		//   150 employees / 20 seats = 7.5 < 10; bought Core, Analytics, Automation = 3 of 3: no signal.
		"B1": {"power", "self_sufficient", "low", 100, []string{}, []string{}, []string{}},
		// B2: users 10 -> 12 = +20% >= 20% -> inviting_colleagues; events 1,000 -> 1,200 = +20% ->
		//   usage_velocity_rising; 18/20 seats = 0.9 >= 0.9 -> near_seat_limit; 180/18 = 10 employees a
		//   seat >= 10 -> seat_whitespace; bought Core only, 1 of 3 -> product_whitespace.
		//   Health: U = min(1, 0.667 / 0.6) = 1, S = 0.5, R = 1 -> 100 x (0.5 + 0.1 + 0.3) = 90.
		"B2": {"regular", "standard", "low", 90, []string{},
			[]string{"near_seat_limit", "inviting_colleagues", "usage_velocity_rising", "seat_whitespace", "product_whitespace"},
			[]string{
				"near_seat_limit: 18 of 20 seats (90%)",
				"inviting_colleagues: active users 10.0 -> 12.0 (+20%)",
				"usage_velocity_rising: events a month 1000 -> 1200 (+20%)",
				"seat_whitespace: 180 employees, 18 seats (10.0 per seat)",
				"product_whitespace: bought 1 of 3 products (Core)",
			}},
		// B3: users 10 -> 7 = -30% <= -30% -> usage_falling (inclusive); csat 3.0 is not below 3.0 (strict);
		//   1 flag -> medium. No seat limit -> no near_seat_limit; Core + Analytics = 2 of 3.
		//   Health: U = 0.25 / 0.6 = 0.4167, S = 0.5, R = 1 - 1/4 = 0.75
		//   -> 100 x (0.2083 + 0.1 + 0.225) = 53.33 -> 53.
		"B3": {"regular", "standard", "medium", 53,
			[]string{"usage_falling: active users 10.0 -> 7.0 (-30%)"},
			[]string{"product_whitespace"},
			[]string{"product_whitespace: bought 2 of 3 products (Analytics, Core)"}},
		// B4: users 10 -> 6 = -40% -> usage_falling; features 10 -> 7 = -30% -> features_falling;
		//   problem tickets 1 -> 2: 2 >= 2 x 1 and 2 >= 2 -> problem_tickets_rising (both inclusive);
		//   csat 2.5 < 3.0 -> low_csat. 4 flags >= 2 -> high. Its only deal was lost: 0 of 3 products.
		//   Health: U = 0.12 / 0.6 = 0.2, S = 0 (high), R = 1 - 4/4 = 0 -> 100 x 0.5 x 0.2 = 10.
		"B4": {"occasional", "high", "high", 10,
			[]string{
				"usage_falling: active users 10.0 -> 6.0 (-40%)",
				"features_falling: features used 10.0 -> 7.0 (-30%)",
				"problem_tickets_rising: bug/outage tickets 1 -> 2 (last 90 days vs the 90 before)",
				"low_csat: mean csat 2.50 < 3.00 over 2 rated tickets in 90 days",
			},
			[]string{"product_whitespace"},
			[]string{"product_whitespace: bought 0 of 3 products"}},
		// B5: features 3 -> 2 = -33% -> features_falling; csat 2.5 -> low_csat; 1 bug vs 0 before is
		//   >= 2 x 0 but below the minimum of 2 -> no problem flag. 2 flags = risk_high_flags -> high
		//   (inclusive). Analytics is won after as_of: 1 of 3 products.
		//   Health: U = 0.05 / 0.6 = 0.0833, S = 0.5, R = 1 - 2/4 = 0.5
		//   -> 100 x (0.0417 + 0.1 + 0.15) = 29.17 -> 29.
		"B5": {"occasional", "standard", "high", 29,
			[]string{
				"features_falling: features used 3.0 -> 2.0 (-33%)",
				"low_csat: mean csat 2.50 < 3.00 over 2 rated tickets in 90 days",
			},
			[]string{"product_whitespace"},
			[]string{"product_whitespace: bought 1 of 3 products (Core)"}},
		// B6: no change, no rated ticket -> low. 200 employees / 25 seats = 8 < 10; the won deal with
		//   an empty product counts for nothing: 1 of 3.
		//   Health: U = 0.04 / 0.6 = 0.0667, S = 0.5, R = 1 -> 100 x (0.0333 + 0.1 + 0.3) = 43.33 -> 43.
		"B6": {"inactive", "standard", "low", 43, []string{},
			[]string{"product_whitespace"},
			[]string{"product_whitespace: bought 1 of 3 products (Core)"}},
		// B7: no usage rows, so no change to flag; 99 employees / 10 seats = 9.9 < 10.
		//   Health: U = 0, S = 1, R = 1 -> 100 x (0 + 0.2 + 0.3) = 50.
		"B7": {"inactive", "self_sufficient", "low", 50, []string{},
			[]string{"product_whitespace"},
			[]string{"product_whitespace: bought 1 of 3 products (Core)"}},
	}
	for id, w := range wants {
		r := acc[id]
		if got := str(r, "customer_status"); got != "active" {
			t.Fatalf("%s customer_status = %s, want active", id, got)
		}
		for col, v := range map[string]string{"usage_intensity": w.intensity, "support_need": w.need, "churn_risk": w.risk} {
			if got := str(r, col); got != v {
				t.Errorf("%s %s = %s, want %s", id, col, got, v)
			}
		}
		near(t, id+" health_score", num(t, r, "health_score"), w.health)
		near(t, id+" churn_risk_flag_count", num(t, r, "churn_risk_flag_count"), float64(len(w.reasons)))
		near(t, id+" expansion_signal_count", num(t, r, "expansion_signal_count"), float64(len(w.signals)))
		if got := strList(t, r, "churn_risk_reasons"); !slices.Equal(got, w.reasons) {
			t.Errorf("%s churn_risk_reasons = %q, want %q", id, got, w.reasons)
		}
		if got := strList(t, r, "expansion_signals"); !slices.Equal(got, w.signals) {
			t.Errorf("%s expansion_signals = %q, want %q", id, got, w.signals)
		}
		if got := strList(t, r, "expansion_reasons"); !slices.Equal(got, w.expReasons) {
			t.Errorf("%s expansion_reasons = %q, want %q", id, got, w.expReasons)
		}
	}
	near(t, "B2 active_share", num(t, acc["B2"], "active_share"), 12.0/18)
	near(t, "B4 tickets_per_month", num(t, acc["B4"], "tickets_per_month"), 6*perMonth90)

	// Acquisition cohorts: B2 since 2024-08-15 -> 2024-Q3; B1 and the churned B8 since 2025-01-01.
	for id, w := range map[string][2]string{
		"B1": {"2025-Q1", "2025-01-01"}, "B2": {"2024-Q3", "2024-08-01"}, "B8": {"2025-Q1", "2025-01-01"},
		"B9": {"<nil>", "<nil>"},
	} {
		if got := str(acc[id], "acquisition_quarter"); got != w[0] {
			t.Errorf("%s acquisition_quarter = %s, want %s", id, got, w[0])
		}
		got := "<nil>"
		if v := acc[id].Get("acquisition_month"); v != nil {
			got = fmt.Sprint(v)[:10]
		}
		if got != w[1] {
			t.Errorf("%s acquisition_month = %s, want %s", id, got, w[1])
		}
	}
	// B8 churned on 2025-04-01 and B9 is a prospect: no behaviour columns.
	for _, id := range []string{"B8", "B9"} {
		for _, col := range []string{"usage_intensity", "active_share", "support_need", "tickets_per_month", "health_score",
			"churn_risk", "churn_risk_flag_count", "churn_risk_reasons", "expansion_signal_count", "expansion_signals", "expansion_reasons"} {
			if v := acc[id].Get(col); v != nil {
				t.Errorf("%s (%s) %s = %v, want NULL", id, str(acc[id], "customer_status"), col, v)
			}
		}
	}
	if got := str(acc["B8"], "customer_status"); got != "churned" {
		t.Errorf("B8 customer_status = %s, want churned", got)
	}
}

// TestBehaviourThresholds moves one config threshold at a time and checks the account at that
// bound crosses it.
func TestBehaviourThresholds(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*config.Config)
		col    string
		want   map[string]string
	}{
		// B1's share is exactly 0.6: a power bound of 0.61 makes it regular (0.6 >= 0.25).
		{"power share", func(c *config.Config) { c.Segments.Usage.PowerMinActiveShare = 0.61 }, "usage_intensity",
			map[string]string{"B1": "regular", "B2": "regular"}},
		// B2 uses 7 features with share 0.667: 7 features are enough for power at 7.
		{"power features", func(c *config.Config) { c.Segments.Usage.PowerMinFeatures = 7 }, "usage_intensity",
			map[string]string{"B1": "power", "B2": "power"}},
		// B6's share 0.04 is occasional from a bound of 0.04 (inclusive).
		{"occasional share", func(c *config.Config) { c.Segments.Usage.OccasionalMinActiveShare = 0.04 }, "usage_intensity",
			map[string]string{"B5": "occasional", "B6": "occasional", "B7": "inactive"}},
		// B4 makes exactly 6 x 30.4375 / 90 tickets a month: high at that bound, standard just above.
		{"high support at the bound", func(c *config.Config) { c.Segments.Support.HighTicketsPerMonth = 6 * perMonth90 }, "support_need",
			map[string]string{"B4": "high"}},
		{"high support above", func(c *config.Config) {
			c.Segments.Support.HighTicketsPerMonth = math.Nextafter(6*perMonth90, math.Inf(1))
		}, "support_need", map[string]string{"B4": "standard"}},
		// One ticket in 90 days (B2, B3, B6) is self-sufficient at a bound of exactly 1 x 30.4375 / 90.
		{"self-sufficient at the bound", func(c *config.Config) { c.Segments.Support.SelfSufficientTicketsPerMonth = perMonth90 }, "support_need",
			map[string]string{"B2": "self_sufficient", "B3": "self_sufficient", "B6": "self_sufficient", "B5": "standard"}},
		// B5 has 2 flags: medium when 3 are needed for high; B4 (4 flags) stays high.
		{"high risk flags", func(c *config.Config) { c.Segments.ChurnRisk.HighFlags = 3 }, "churn_risk",
			map[string]string{"B4": "high", "B5": "medium", "B3": "medium"}},
		// Mean csat 2.5 is not below 2.5: B5 keeps only features_falling -> medium.
		{"low csat", func(c *config.Config) { c.Segments.ChurnRisk.LowCSAT = 2.5 }, "churn_risk",
			map[string]string{"B5": "medium", "B4": "high"}},
		// B3's users fell exactly 30%: a 31% drop bound clears the flag -> low.
		{"usage drop", func(c *config.Config) { c.Segments.ChurnRisk.UsageDrop = 0.31 }, "churn_risk",
			map[string]string{"B3": "low"}},
		// Two-month windows: B3 users (Mar 10 + Apr 7) / 2 = 8.5 -> (May, Jun) 7 = -17.6% -> no flag.
		{"usage window", func(c *config.Config) { c.Segments.Usage.WindowMonths = 2 }, "churn_risk",
			map[string]string{"B3": "low"}},
		// B2 has exactly 10 employees a seat: none at 10.01.
		{"employees per seat", func(c *config.Config) { c.Segments.Expansion.EmployeesPerSeat = 10.01 }, "expansion_signals",
			map[string]string{"B2": "[near_seat_limit inviting_colleagues usage_velocity_rising product_whitespace]"}},
		// Growth of exactly 20%: none at 21%.
		{"usage growth", func(c *config.Config) { c.Segments.Expansion.UsageGrowth = 0.21 }, "expansion_signals",
			map[string]string{"B2": "[near_seat_limit seat_whitespace product_whitespace]"}},
		// Health from usage alone: B3 round(100 x 0.25 / 0.6) = round(41.67) = 42; B7 0.
		{"health weights", func(c *config.Config) {
			c.Segments.Health.UsageWeight, c.Segments.Health.SupportWeight, c.Segments.Health.RiskWeight = 1, 0, 0
		}, "health_score", map[string]string{"B3": "42", "B1": "100", "B7": "0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := buildFixture(t, "behaviour", behaviourAsOf, c.mutate)
			acc := rowsBy(t, s, `select account_id, `+c.col+` from account_segments`)
			for id, w := range c.want {
				if got := str(acc[id], c.col); got != w {
					t.Errorf("%s %s = %s, want %s", id, c.col, got, w)
				}
			}
		})
	}
}

// TestBehaviourWithoutUsageSource: the mrr fixture lands no usage (an optional input), so usage is
// not measured: usage_intensity is unknown, churn_risk is unknown rather than low when no flag
// fires (the usage flags cannot be seen), and the health score leaves the usage component out.
func TestBehaviourWithoutUsageSource(t *testing.T) {
	s := buildFixture(t, "mrr", "2025-06-30", nil)
	acc := rowsBy(t, s, `select account_id, customer_status, usage_intensity, active_share, support_need, churn_risk, health_score
		from account_segments where customer_status = 'active'`)
	if len(acc) == 0 {
		t.Fatal("no active customer in the mrr fixture")
	}
	for id, r := range acc {
		if v := r.Get("usage_intensity"); v != "unknown" || r.Get("active_share") != nil {
			t.Errorf("%s usage_intensity = %v, active_share %v, want unknown and NULL (no usage source)", id, v, r.Get("active_share"))
		}
		// No tickets: self_sufficient (S = 1), no flag (R = 1): round(100 x (0.2 + 0.3) / (0.2 + 0.3)) = 100.
		if got := str(r, "support_need") + " " + str(r, "churn_risk"); got != "self_sufficient unknown" {
			t.Errorf("%s support_need, churn_risk = %s, want self_sufficient unknown", id, got)
		}
		near(t, id+" health_score", num(t, r, "health_score"), 100)
	}
}

func TestBehaviourAssertionsPass(t *testing.T) {
	s := buildFixture(t, "behaviour", behaviourAsOf, nil)
	if ran := assertionsPass(t, s); !ran["assert_account_segments_behaviour"] {
		t.Error("assert_account_segments_behaviour did not run")
	}
}

// TestBehaviourAssertionCatchesInconsistency breaks churn_risk against its reasons and expects
// assert_account_segments_behaviour to report it.
func TestBehaviourAssertionCatchesInconsistency(t *testing.T) {
	s := buildFixture(t, "behaviour", behaviourAsOf, nil)
	ctx := context.Background()
	if err := s.Exec(ctx, `update account_segments set churn_risk = 'low' where account_id = 'B4'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, `update account_segments set usage_intensity = 'heavy' where account_id = 'B1'`); err != nil {
		t.Fatal(err)
	}
	mine := assertionNamed(t, "assert_account_segments_behaviour")
	res, _ := s.RunAssertions(ctx, mine)
	if len(res) != 1 || res[0].Failures != 2 {
		t.Errorf("assertion results %+v, want 2 failures (B4 churn_risk, B1 usage_intensity)", res)
	}
}
