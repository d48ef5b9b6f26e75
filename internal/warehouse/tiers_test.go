package warehouse

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	segsql "github.com/segpipe/segpipe/sql"
)

// Hand-computed expectations for internal/warehouse/testdata/tiers_raw.sql (see the table in its header)
// with the demo config's tier rules (domain.md section 7): tier1_arr 100,000,
// tier1_strategic_arr 50,000, tier1_growth_arr 75,000, tier2_min_arr 25,000, tier3_min_arr
// 5,000, growth multiples 3 (high) and 1.5 (medium), addressable_seat_share 0.5.

func TestGrowthPotential(t *testing.T) {
	nan := math.NaN()
	s := buildFixture(t, "tiers", "2025-06-30", nil)
	g := rowsBy(t, s, `select account_id, current_seats, addressable_seats, room_multiple, growth_potential from int_growth_potential`)
	// One row per customer, active or churned: 8 active + CH; never the prospect P.
	if len(g) != 9 {
		t.Errorf("int_growth_potential has %d rows, want 9", len(g))
	}
	cases := []struct {
		id, potential      string
		seats, addr, multi float64
	}{
		{"T1A", "low", 40, 50, 1.25},      // 100 x 0.5 = 50 / 40 = 1.25 < 1.5
		{"T1S", "medium", 100, 150, 1.5},  // 300 x 0.5 = 150 / 100 = 1.5, at the medium bound
		{"T1G", "high", 200, 600, 3},      // 1,200 x 0.5 = 600 / (150 + 50) = 3.0, at the high bound
		{"T2E", "high", 100, 500, 5},      // 1,000 x 0.5 = 500 / 100 (the canceled 400 seats do not count)
		{"T2S", "low", 50, 20, 0.4},       // 40 x 0.5 = 20 / 50
		{"T4", "low", 5, 5, 1},            // 10 x 0.5 = 5 / 5
		{"T3", "unknown", 10, nan, nan},   // employees unknown
		{"T3B", "unknown", nan, nan, nan}, // no subscription: seats unknown
		{"CH", "unknown", nan, nan, nan},  // its only subscription is canceled
	}
	for _, c := range cases {
		r := g[c.id]
		if got := str(r, "growth_potential"); got != c.potential {
			t.Errorf("%s growth_potential = %s, want %s", c.id, got, c.potential)
		}
		near(t, c.id+" current_seats", num(t, r, "current_seats"), c.seats)
		near(t, c.id+" addressable_seats", num(t, r, "addressable_seats"), c.addr)
		near(t, c.id+" room_multiple", num(t, r, "room_multiple"), c.multi)
	}
}

func TestTierRules(t *testing.T) {
	s := buildFixture(t, "tiers", "2025-06-30", nil)
	a := rowsBy(t, s, `select account_id, * exclude (account_id) from tier_assignments`)
	// Active customers only: CH churned in June, P never paid.
	if len(a) != 8 {
		t.Fatalf("tier_assignments has %d rows, want 8", len(a))
	}
	cases := []struct {
		id     string
		arr    float64
		tier   float64
		name   string
		reason string
		score  float64
	}{
		// Health (int_account_behaviour, weights 0.5 usage, 0.2 support, 0.3 risk): only T1A has
		// usage (30 active users of 40 seats in May: share 0.75, usage component min(1, 0.75/0.6)
		// = 1) and a ticket (1 in 90 days = 0.34 a month: standard, 0.5), no risk flag (1):
		// health 100 x (0.5 + 0.1 + 0.3) = 90. Every other customer has no usage row in the
		// window (usage 0), no ticket (self-sufficient, 1) and no flag: 100 x (0.2 + 0.3) = 50;
		// except T3B, which has no subscription, so no seats: its usage share is unknown and
		// left out, 100 x (0.2 + 0.3) / (0.2 + 0.3) = 100.
		// Tier 1 by each branch of the OR.
		{"T1A", 120000, 1, "Tier 1 (Strategic)", "ARR 120000 > 100000",
			// ARR 1 (capped), growth low 0, not strategic 0, health 0.9: 100 x (0.4 + 0.1 x 0.9) = 49
			49},
		{"T1S", 60000, 1, "Tier 1 (Strategic)", "ARR 60000 > 50000 and strategic (brand, reference)",
			// 100 x (0.4 x 0.6 + 0.3 x 0.5 + 0.2 x 1 + 0.1 x 0.5) = 100 x 0.64 = 64
			64},
		{"T1G", 84000, 1, "Tier 1 (Strategic)", "ARR 84000 > 75000 and high growth potential (room 3x)",
			// 100 x (0.4 x 0.84 + 0.3 x 1 + 0.1 x 0.5) = 100 x 0.686 = 68.6
			68.6},
		// ARR exactly 75,000 with high growth is NOT Tier 1 (strictly greater): Tier 2.
		{"T2E", 75000, 2, "Tier 2 (Core)", "ARR 75000 >= 25000, no Tier 1 rule", 100 * (0.4*0.75 + 0.3 + 0.05)},
		// Strategic but ARR 48,000 is not above 50,000: Tier 2.
		{"T2S", 48000, 2, "Tier 2 (Core)", "ARR 48000 >= 25000, no Tier 1 rule", 100 * (0.4*0.48 + 0.2 + 0.05)},
		{"T3", 24000, 3, "Tier 3 (Scale)", "ARR 24000 >= 5000 and < 25000", 100 * (0.4*0.24 + 0.05)},
		{"T3B", 6000, 3, "Tier 3 (Scale)", "ARR 6000 >= 5000 and < 25000", 100 * (0.4*0.06 + 0.1)},
		{"T4", 3600, 4, "Tier 4 (Tech-touch)", "ARR 3600 < 5000", 100 * (0.4*0.036 + 0.05)},
	}
	for _, c := range cases {
		r := a[c.id]
		near(t, c.id+" arr", num(t, r, "arr"), c.arr)
		near(t, c.id+" rule_tier", num(t, r, "rule_tier"), c.tier)
		near(t, c.id+" tier (first run: the rule's)", num(t, r, "tier"), c.tier)
		for col, want := range map[string]string{"tier_name": c.name, "rule_reason": c.reason, "reason": c.reason,
			"change": "new", "previous_tier": "<nil>", "held_until": "<nil>"} {
			if got := str(r, col); got != want {
				t.Errorf("%s %s = %q, want %q", c.id, col, got, want)
			}
		}
		// tier_score is rounded to one decimal.
		if got := num(t, r, "tier_score"); got < c.score-0.051 || got > c.score+0.051 {
			t.Errorf("%s tier_score = %v, want %.2f rounded", c.id, got, c.score)
		}
	}
}

// Every threshold set exactly to an account's ARR: the Tier 1 rules are strictly greater, the
// Tier 2 and 3 minimums inclusive. (With the default thresholds an ARR of exactly 100,000 or
// 25,000 cannot occur: ARR = 12 x MRR in cents, a multiple of 0.12. Moving the thresholds onto
// the fixture's ARRs tests the same comparisons.)
func TestTierBoundaries(t *testing.T) {
	s := buildFixture(t, "tiers", "2025-06-30", func(c *config.Config) {
		c.Segments.Tiers.Tier1ARR = 120000         // T1A: ARR 120,000, not > 120,000
		c.Segments.Tiers.Tier1StrategicARR = 60000 // T1S: strategic, ARR 60,000, not > 60,000
		c.Segments.Tiers.Tier1GrowthARR = 84000    // T1G: high growth, ARR 84,000, not > 84,000
		c.Segments.Tiers.Tier2MinARR = 24000       // T3: ARR 24,000 >= 24,000: Tier 2
		c.Segments.Tiers.Tier3MinARR = 6000        // T3B: ARR 6,000 >= 6,000: Tier 3
	})
	a := rowsBy(t, s, `select account_id, rule_tier, rule_reason from tier_assignments`)
	want := map[string]struct {
		tier   float64
		reason string
	}{
		"T1A": {2, "ARR 120000 >= 24000, no Tier 1 rule"},
		"T1S": {2, "ARR 60000 >= 24000, no Tier 1 rule"},
		"T1G": {2, "ARR 84000 >= 24000, no Tier 1 rule"},
		"T2E": {2, "ARR 75000 >= 24000, no Tier 1 rule"},
		"T2S": {2, "ARR 48000 >= 24000, no Tier 1 rule"},
		"T3":  {2, "ARR 24000 >= 24000, no Tier 1 rule"},
		"T3B": {3, "ARR 6000 >= 6000 and < 24000"},
		"T4":  {4, "ARR 3600 < 6000"},
	}
	for id, w := range want {
		near(t, id+" rule_tier", num(t, a[id], "rule_tier"), w.tier)
		if got := str(a[id], "rule_reason"); got != w.reason {
			t.Errorf("%s rule_reason = %q, want %q", id, got, w.reason)
		}
	}
}

func TestTierSummary(t *testing.T) {
	nan := math.NaN()
	s := buildFixture(t, "tiers", "2025-06-30", nil)
	sum := rowsBy(t, s, `select tier, * exclude (tier) from tier_summary`)
	if len(sum) != 4 {
		t.Fatalf("tier_summary has %d rows, want 4", len(sum))
	}
	// Tier 1: T1A 120,000 + T1S 60,000 + T1G 84,000 = 264,000; Tier 2: T2E 75,000 + T2S 48,000
	// = 123,000; Tier 3: T3 24,000 + T3B 6,000 = 30,000; Tier 4: T4 3,600. Total 8 customers,
	// 420,600 ARR.
	const total = 420600.0
	type want struct {
		customers, arr                float64
		customersIn, arrIn, note      string
		csmMin, csmMax                float64
		cohort, retained, ret, expand float64
	}
	wants := map[string]want{
		// 3/8 = 37.5% above 10-20%; 264,000 / 420,600 = 62.8% within 50-70%.
		// CSMs: ceil(3 / 30) = 1 .. ceil(3 / 15) = 1.
		// Trailing 12 months (June 2024 -> June 2025): T1A and CH had $10,000 MRR in June 2024
		// (ARR 120,000: Tier 1); T1A still pays $10,000, CH nothing: retention 1/2,
		// NRR 10,000 / 20,000 = 0.5, expansion -0.5.
		"1": {3, 264000, "false", "true", "customers 37.5% above the target 10-20%", 1, 1, 2, 1, 0.5, -0.5},
		// 2/8 = 25% below 30-40%; 123,000 / 420,600 = 29.2% within 25-35%.
		// T2E had $5,000 MRR in June 2024 (ARR 60,000, not strategic: Tier 2), $6,250 now:
		// retention 1/1, expansion 6,250 / 5,000 - 1 = 0.25.
		"2": {2, 123000, "false", "true", "customers 25.0% below the target 30-40%", 1, 1, 1, 1, 1, 0.25},
		// 25% below 40-60%; 30,000 / 420,600 = 7.1% below 10-20%. One CSM per 200+: no minimum,
		// at most ceil(2 / 200) = 1. Nobody in Tier 3 a year ago: no retention.
		"3": {2, 30000, "false", "false", "customers 25.0% below the target 40-60%; ARR 7.1% below the target 10-20%", nan, 1, 0, 0, nan, nan},
		// Tier 4: no targets, no CSMs.
		"4": {1, 3600, "<nil>", "<nil>", "<nil>", 0, 0, 0, 0, nan, nan},
	}
	var custShare, arrShare float64
	for tier, w := range wants {
		r := sum[tier]
		near(t, "tier "+tier+" customers", num(t, r, "customers"), w.customers)
		near(t, "tier "+tier+" share_of_customers", num(t, r, "share_of_customers"), w.customers/8)
		near(t, "tier "+tier+" arr", num(t, r, "arr"), w.arr)
		near(t, "tier "+tier+" share_of_arr", num(t, r, "share_of_arr"), w.arr/total)
		custShare += num(t, r, "share_of_customers")
		arrShare += num(t, r, "share_of_arr")
		for col, v := range map[string]string{"customers_in_target": w.customersIn, "arr_in_target": w.arrIn, "target_note": w.note} {
			if got := str(r, col); got != v {
				t.Errorf("tier %s %s = %q, want %q", tier, col, got, v)
			}
		}
		near(t, "tier "+tier+" csm_min", num(t, r, "csm_min"), w.csmMin)
		near(t, "tier "+tier+" csm_max", num(t, r, "csm_max"), w.csmMax)
		near(t, "tier "+tier+" customers_12m_ago", num(t, r, "customers_12m_ago"), w.cohort)
		near(t, "tier "+tier+" retained_12m", num(t, r, "retained_12m"), w.retained)
		near(t, "tier "+tier+" retention_actual", num(t, r, "retention_actual"), w.ret)
		near(t, "tier "+tier+" expansion_actual", num(t, r, "expansion_actual"), w.expand)
	}
	near(t, "sum of share_of_customers", custShare, 1)
	near(t, "sum of share_of_arr", arrShare, 1)
	near(t, "tier 1 retention_target", num(t, sum["1"], "retention_target"), 0.98)
	near(t, "tier 3 expansion_target", num(t, sum["3"], "expansion_target"), nan)

	// Tighter coverage ratios make the headcount formulas visible: Tier 1 one CSM per 1-2
	// accounts -> ceil(3 / 2) = 2 .. ceil(3 / 1) = 3; Tier 3 one per 1+ -> at most ceil(2 / 1) = 2.
	s = buildFixture(t, "tiers", "2025-06-30", func(c *config.Config) {
		one, two := 1.0, 2.0
		for i := range c.Segments.Tiers.Targets {
			switch c.Segments.Tiers.Targets[i].Tier {
			case 1:
				c.Segments.Tiers.Targets[i].AccountsPerCSMMin, c.Segments.Tiers.Targets[i].AccountsPerCSMMax = &one, &two
			case 3:
				c.Segments.Tiers.Targets[i].AccountsPerCSMMin = &one
			}
		}
	})
	sum = rowsBy(t, s, `select tier, csm_min, csm_max from tier_summary`)
	near(t, "tier 1 csm_min", num(t, sum["1"], "csm_min"), 2)
	near(t, "tier 1 csm_max", num(t, sum["1"], "csm_max"), 3)
	near(t, "tier 3 csm_min", num(t, sum["3"], "csm_min"), nan)
	near(t, "tier 3 csm_max", num(t, sum["3"], "csm_max"), 2)
}

// runWithPrevious builds the tiers fixture as of asOf with the previous run's tables (table
// name -> Parquet file) registered as prev_<table>, as the segment job does, and exports the
// history marts to dir for the next run.
func runWithPrevious(t *testing.T, asOf string, prev map[string]string, dir string) (*Session, map[string]string) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Exec(ctx, fixtureSQL(t, "tiers")); err != nil {
		t.Fatal(err)
	}
	for table, file := range prev {
		if err := s.RegisterParquet(ctx, StatePrefix+table, []string{file}); err != nil {
			t.Fatal(err)
		}
	}
	landed, err := s.Landed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	models, err := LoadModels(segsql.Files, landed)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models {
		if m.Layer == State && prev[strings.TrimPrefix(m.Name, StatePrefix)] != "" {
			t.Fatalf("%s is registered, yet its empty default is built too", m.Name)
		}
	}
	d, _ := time.Parse(time.DateOnly, asOf)
	if _, err := s.Build(ctx, segsql.Files, models, ConfigVariables(demoConfig(t), d)); err != nil {
		t.Fatalf("build %s: %v", asOf, err)
	}
	assertionsPass(t, s)
	out := map[string]string{}
	for _, table := range []string{"tier_history", "segment_history"} {
		f := filepath.Join(dir, table+"_"+asOf+".parquet")
		if _, err := s.ExportParquet(ctx, table, f); err != nil {
			t.Fatal(err)
		}
		out[table] = f
	}
	return s, out
}

// Two runs in the warehouse, the first's history exported and read back as prev_*: the second
// run holds a downgrade, moves an upgrade at once, and records a churn (the full three-run
// story through the segment job and the lake is jobs/tier_history_test.go).
func TestTierMigrationAcrossTwoRuns(t *testing.T) {
	dir := t.TempDir()
	_, d1 := runWithPrevious(t, "2025-06-30", nil, dir)
	s, _ := runWithPrevious(t, "2025-07-31", d1, dir)

	a := rowsBy(t, s, `select account_id, * exclude (account_id) from tier_assignments`)
	// T1A: ARR 120,000 -> 60,000 (July-September at $5,000 a month), not strategic: the rule
	// gives Tier 2; it keeps Tier 1 until its renewal, the current_period_end 2025-08-31 of its
	// active subscription.
	for col, want := range map[string]string{"rule_tier": "2", "previous_tier": "1", "tier": "1", "change": "held",
		"reason": "held at Tier 1 until renewal 2025-08-31: rule gives Tier 2"} {
		if got := str(a["T1A"], col); got != want {
			t.Errorf("T1A %s = %q, want %q", col, got, want)
		}
	}
	if got := a["T1A"].Get("held_until"); got == nil || got.(time.Time).Format(time.DateOnly) != "2025-08-31" {
		t.Errorf("T1A held_until = %v, want 2025-08-31", got)
	}
	// T3: ARR 24,000 -> 36,000: up to Tier 2 at once.
	for col, want := range map[string]string{"rule_tier": "2", "previous_tier": "3", "tier": "2", "change": "up", "held_until": "<nil>"} {
		if got := str(a["T3"], col); got != want {
			t.Errorf("T3 %s = %q, want %q", col, got, want)
		}
	}
	if got := str(a["T1S"], "change"); got != "unchanged" {
		t.Errorf("T1S change = %s, want unchanged", got)
	}
	// T4 has no invoice for July: churned, no longer tiered.
	if _, ok := a["T4"]; ok {
		t.Error("T4 churned in July but is still tiered")
	}

	h := rowsBy(t, s, `select account_id || ' ' || strftime(valid_from, '%Y-%m-%d'), tier, state, valid_to, is_current, change, held_until
		from tier_history`)
	type row struct{ tier, state, validTo, current, change string }
	want := map[string]row{
		"T1A 2025-06-30": {"1", "active", "2025-07-31", "false", "new"},
		"T1A 2025-07-31": {"1", "held", "<nil>", "true", "held"},
		"T3 2025-06-30":  {"3", "active", "2025-07-31", "false", "new"},
		"T3 2025-07-31":  {"2", "active", "<nil>", "true", "up"},
		"T4 2025-06-30":  {"4", "active", "2025-07-31", "false", "new"},
		"T4 2025-07-31":  {"<nil>", "churned", "<nil>", "true", "churned"},
		"T1S 2025-06-30": {"1", "active", "<nil>", "true", "new"}, // unchanged: the first row stays open
	}
	for k, w := range want {
		r, ok := h[k]
		if !ok {
			t.Errorf("tier_history has no row %s", k)
			continue
		}
		validTo := "<nil>"
		if v := r.Get("valid_to"); v != nil {
			validTo = v.(time.Time).Format(time.DateOnly)
		}
		got := row{str(r, "tier"), str(r, "state"), validTo, str(r, "is_current"), str(r, "change")}
		if got != w {
			t.Errorf("tier_history %s = %+v, want %+v", k, got, w)
		}
	}
	// 8 accounts opened at D1; T1A, T3 and T4 closed one row and opened one each: 11 rows.
	if len(h) != 11 {
		t.Errorf("tier_history has %d rows, want 11", len(h))
	}

	sh := rowsBy(t, s, `select account_id || ' ' || dimension || ' ' || strftime(valid_from, '%Y-%m-%d'), segment, change_reason, is_current
		from segment_history where dimension in ('arr_band', 'tier')`)
	for k, w := range map[string][3]string{
		// T3's ARR 24,000 (SMB, below 25,000) -> 36,000 (Mid-market).
		"T3 arr_band 2025-07-31": {"Mid-market", "entered Mid-market from SMB", "true"},
		"T3 tier 2025-07-31":     {"Tier 2 (Core)", "entered Tier 2 (Core) from Tier 3 (Scale)", "true"},
		"T3 arr_band 2025-06-30": {"SMB", "new account", "false"},
		"T4 arr_band 2025-07-31": {"<nil>", "churned", "true"},
		"T4 tier 2025-07-31":     {"<nil>", "churned", "true"},
		// T1A is held at Tier 1: its tier segment does not change.
		"T1A tier 2025-06-30": {"Tier 1 (Strategic)", "new account", "true"},
	} {
		r, ok := sh[k]
		if !ok {
			t.Errorf("segment_history has no row %s", k)
			continue
		}
		if got := [3]string{str(r, "segment"), str(r, "change_reason"), str(r, "is_current")}; got != w {
			t.Errorf("segment_history %s = %v, want %v", k, got, w)
		}
	}
}

// A state input is built from its empty default unless the run registered it; its name must
// start with prev_.
func TestStateInputs(t *testing.T) {
	fsys := fstest.MapFS{
		"state/prev_h.sql": {Data: []byte("select null::integer as x where false")},
		"marts/h.sql":      {Data: []byte("select * from prev_h")},
	}
	ms, err := LoadModels(fsys, landedSet())
	if err != nil {
		t.Fatal(err)
	}
	ms = slices.DeleteFunc(ms, func(m Model) bool { return m.Empty }) // the canonical empty tables
	if got := names(ms); got != "prev_h h" || ms[0].Layer != State || strings.Join(ms[1].Refs, ",") != "prev_h" {
		t.Fatalf("without a previous run: %s %+v", got, ms)
	}
	ms, err = LoadModels(fsys, landedSet("prev_h"))
	if err != nil {
		t.Fatal(err)
	}
	ms = slices.DeleteFunc(ms, func(m Model) bool { return m.Empty })
	if got := names(ms); got != "h" || len(ms[0].Refs) != 0 {
		t.Fatalf("with prev_h registered: %s", got)
	}
	if in, err := StateInputs(fsys); err != nil || strings.Join(in, ",") != "prev_h" {
		t.Fatalf("StateInputs = %v, %v", in, err)
	}
	if in, err := StateInputs(segsql.Files); err != nil || strings.Join(in, ",") != "prev_cluster_profiles,prev_segment_history,prev_tier_history" {
		t.Fatalf("embedded state inputs = %v, %v", in, err)
	}
	bad := fstest.MapFS{"state/h.sql": {Data: []byte("select 1")}}
	if _, err := LoadModels(bad, landedSet()); err == nil || !strings.Contains(err.Error(), "names start with prev_") {
		t.Fatalf("a state file not named prev_*: %v", err)
	}

	// Landed lists registered prev_* views beside the raw ones.
	ctx := context.Background()
	s, err := Open(ctx, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Exec(ctx, "create table raw_demo__a (x integer); create view prev_h as select 1 as x; create table other (x integer)"); err != nil {
		t.Fatal(err)
	}
	landed, err := s.Landed(ctx)
	if err != nil || len(landed) != 2 || !landed["raw_demo__a"] || !landed["prev_h"] {
		t.Fatalf("Landed = %v, %v", landed, err)
	}
}

// Every branch of the migration rules in one run, from a hand-written previous tier_history
// (as the run of 2025-05-31 would have left it) and the tiers fixture as of 2025-06-30, whose
// rule tiers TestTierRules checks: T1A 1, T1S 1, T1G 1, T2E 2, T2S 2, T3 3, T3B 3, T4 4.
func TestTierMigrationBranches(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw := fixtureSQL(t, "tiers")
	prev := `create table prev_tier_history as
	select '2025-05-31'::date as as_of, account_id, tier::integer as tier, state, valid_from::date as valid_from,
	       valid_to::date as valid_to, is_current, change, reason, held_until::date as held_until, written_as_of::date as written_as_of
	from (values
	    ('T1A', 1, 'active',  '2025-04-30', '2025-05-31', false, 'new',      'r0', null,         '2025-05-31'),
	    ('T1A', 1, 'held',    '2025-05-31', null,         true,  'held',     'r1', '2025-08-31', '2025-05-31'),
	    ('T1S', 2, 'active',  '2025-04-30', null,         true,  'new',      'r2', null,         '2025-04-30'),
	    ('T1G', null, 'deleted', '2025-05-31', null,      true,  'deleted',  'r3', null,         '2025-05-31'),
	    ('T2E', 1, 'active',  '2025-04-30', null,         true,  'new',      'r4', null,         '2025-04-30'),
	    ('T2S', 1, 'held',    '2025-05-31', null,         true,  'held',     'r5', '2025-09-30', '2025-05-31'),
	    ('T3',  2, 'held',    '2025-05-31', null,         true,  'held',     'r6', '2025-06-30', '2025-05-31'),
	    ('T3B', 2, 'active',  '2025-04-30', null,         true,  'new',      'r7', null,         '2025-04-30'),
	    ('T4',  null, 'churned', '2025-05-31', null,      true,  'churned',  'r8', null,         '2025-05-31'),
	    ('CH',  1, 'active',  '2025-04-30', null,         true,  'new',      'r9', null,         '2025-04-30'),
	    ('GONE', 3, 'active', '2025-04-30', null,         true,  'new',      'rg', null,         '2025-04-30')
	) v(account_id, tier, state, valid_from, valid_to, is_current, change, reason, held_until, written_as_of)`
	if err := s.Exec(ctx, raw+";\n"+prev); err != nil {
		t.Fatal(err)
	}
	landed, err := s.Landed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	models, err := LoadModels(segsql.Files, landed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Build(ctx, segsql.Files, models, ConfigVariables(demoConfig(t), time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	assertionsPass(t, s)

	a := rowsBy(t, s, `select account_id, previous_tier, tier, change, strftime(held_until, '%Y-%m-%d') as held_until, reason from tier_assignments`)
	for id, w := range map[string][4]string{
		// held at 1, the rule gives 1 again: unchanged, the pending downgrade is cleared.
		"T1A": {"1", "1", "unchanged", "<nil>"},
		// previous 2, rule 1: up at once.
		"T1S": {"2", "1", "up", "<nil>"},
		// previous row deleted (back in the CRM): reactivated at the rule's tier.
		"T1G": {"<nil>", "1", "reactivated", "<nil>"},
		// previous 1, rule 2, nothing pending: held until the next renewal, the active
		// subscription's current_period_end 2026-06-01.
		"T2E": {"1", "1", "held", "2026-06-01"},
		// held at 1 until 2025-09-30, rule still 2, before the renewal: still held, same date.
		"T2S": {"1", "1", "held", "2025-09-30"},
		// held at 2 until 2025-06-30 = as_of: the renewal is reached, down to the rule's 3.
		"T3": {"2", "3", "down", "<nil>"},
		// previous 2, rule 3, no subscription: held for default_renewal_months (12) from as_of.
		"T3B": {"2", "2", "held", "2026-06-30"},
		// previous row churned: reactivated.
		"T4": {"<nil>", "4", "reactivated", "<nil>"},
	} {
		r := a[id]
		if got := [4]string{str(r, "previous_tier"), str(r, "tier"), str(r, "change"), str(r, "held_until")}; got != w {
			t.Errorf("%s previous_tier, tier, change, held_until = %v, want %v", id, got, w)
		}
	}
	if got := str(a["T3"], "reason"); got != "moved down at renewal 2025-06-30: ARR 24000 >= 5000 and < 25000" {
		t.Errorf("T3 reason = %q", got)
	}
	if got := str(a["T3B"], "reason"); got != "held at Tier 2 until renewal 2026-06-30: rule gives Tier 3" {
		t.Errorf("T3B reason = %q", got)
	}

	h, err := s.Query(ctx, `select account_id, strftime(valid_from, '%Y-%m-%d') as f, coalesce(strftime(valid_to, '%Y-%m-%d'), '-') as t,
		coalesce(tier::varchar, '-') as tier, state, change, reason, coalesce(strftime(held_until, '%Y-%m-%d'), '-') as hu
		from tier_history order by account_id, valid_from`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range h {
		got = append(got, strings.Join([]string{str(r, "account_id"), str(r, "f"), str(r, "t"), str(r, "tier"), str(r, "state"), str(r, "change"), str(r, "hu")}, " "))
	}
	want := []string{
		"CH 2025-04-30 2025-06-30 1 active new -", // churned in June: closed, a churned row opens
		"CH 2025-06-30 - - churned churned -",
		"GONE 2025-04-30 2025-06-30 3 active new -", // not in the CRM any more: deleted
		"GONE 2025-06-30 - - deleted deleted -",
		"T1A 2025-04-30 2025-05-31 1 active new -", // closed before: kept as it was
		"T1A 2025-05-31 2025-06-30 1 held held 2025-08-31",
		"T1A 2025-06-30 - 1 active unchanged -", // pending cleared: a new version
		"T1G 2025-05-31 2025-06-30 - deleted deleted -",
		"T1G 2025-06-30 - 1 active reactivated -",
		"T1S 2025-04-30 2025-06-30 2 active new -",
		"T1S 2025-06-30 - 1 active up -",
		"T2E 2025-04-30 2025-06-30 1 active new -",
		"T2E 2025-06-30 - 1 held held 2026-06-01",
		"T2S 2025-05-31 - 1 held held 2025-09-30", // still held: the open row stays as it was
		"T3 2025-05-31 2025-06-30 2 held held 2025-06-30",
		"T3 2025-06-30 - 3 active down -",
		"T3B 2025-04-30 2025-06-30 2 active new -",
		"T3B 2025-06-30 - 2 held held 2026-06-30",
		"T4 2025-05-31 2025-06-30 - churned churned -",
		"T4 2025-06-30 - 4 active reactivated -",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tier_history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The kept rows keep their reason and writer; closed ones are rewritten by this run.
	kept := rowsBy(t, s, `select account_id || ' ' || strftime(valid_from, '%Y-%m-%d'), reason, strftime(written_as_of, '%Y-%m-%d') as w from tier_history`)
	for k, w := range map[string][2]string{"T2S 2025-05-31": {"r5", "2025-05-31"}, "T1A 2025-04-30": {"r0", "2025-05-31"}, "T1A 2025-05-31": {"r1", "2025-06-30"}} {
		if got := [2]string{str(kept[k], "reason"), str(kept[k], "w")}; got != w {
			t.Errorf("%s reason, written_as_of = %v, want %v", k, got, w)
		}
	}
}
