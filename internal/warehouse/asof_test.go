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
