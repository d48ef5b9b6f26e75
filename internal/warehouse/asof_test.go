package warehouse

import "testing"

// The version of a record a run reads is the one known at its as_of (docs/staging.md): the
// basic fixture lands account A1 twice, updated 2024-12-01 ("Old name", Software) and
// 2025-02-01 ("Alpha", Retail).
func TestVersionKnownAtAsOf(t *testing.T) {
	cases := []struct{ asOf, name, industry string }{
		{"2025-01-31", "Old name", "Software"}, // the 2025-02-01 update is not yet known
		{"2025-02-01", "Alpha", "Retail"},      // updated at 00:00 on as_of: known
		{"2025-06-30", "Alpha", "Retail"},
	}
	for _, c := range cases {
		s := buildFixture(t, "basic", c.asOf, nil)
		r := rowsBy(t, s, `select account_id, account_name, industry from stg_accounts`)["A1"]
		if got := str(r, "account_name") + "/" + str(r, "industry"); got != c.name+"/"+c.industry {
			t.Errorf("as of %s: A1 = %s, want %s/%s", c.asOf, got, c.name, c.industry)
		}
	}
	// Every landed version updated after as_of: the earliest, the one closest to as_of.
	s := buildFixture(t, "basic", "2024-12-01", nil)
	if err := s.Exec(t.Context(), `create or replace table later as select id, name, as_of_rank(updated_at) as r
		from raw_demo__accounts where id = 'A1' and updated_at > '2024-12-02' union all
		select 'A1', 'Newest', as_of_rank('2025-05-01'::timestamptz)`); err != nil {
		t.Fatal(err)
	}
	r := rowsBy(t, s, `select id, name from later qualify row_number() over (partition by id order by r desc nulls last) = 1`)["A1"]
	if got := str(r, "name"); got != "Alpha" {
		t.Errorf("with only later versions, picked %s, want the earliest (Alpha, updated 2025-02-01)", got)
	}
}

// A deal that closed after as_of shows none of its later state (pipeline fixture, as of
// 2025-06-30): p8, lost on 10 July, is open with no stage, stage entry, forecast category,
// close date or loss reason; p7's only activity (2 July) is not known yet.
func TestNoLaterDealStateLeaks(t *testing.T) {
	s := buildFixture(t, "pipeline", "2025-06-30", nil)
	opps := rowsBy(t, s, `select opportunity_id, * exclude (opportunity_id) from stg_opportunities`)
	p8 := opps["p8"]
	for _, col := range []string{"stage", "stage_entered_at", "forecast_category", "closed_at", "loss_reason"} {
		if v := p8.Get(col); v != nil {
			t.Errorf("p8 %s = %v, want NULL (known only after as_of)", col, v)
		}
	}
	if str(p8, "is_closed") != "false" || str(p8, "is_won") != "false" {
		t.Errorf("p8 closed/won = %s/%s, want false/false", str(p8, "is_closed"), str(p8, "is_won"))
	}
	if v := opps["p7"].Get("last_activity_at"); v != nil {
		t.Errorf("p7 last_activity_at = %v, want NULL", v)
	}
	if str(opps["p7"], "forecast_category") != "commit" || str(opps["p7"], "stage") != "proposal" {
		t.Errorf("p7 = %v, want its known stage and forecast", opps["p7"])
	}
	if _, ok := opps["x1"]; ok {
		t.Error("x1 is created after as_of")
	}
}
