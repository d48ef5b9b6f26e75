package warehouse

import (
	"strings"
	"testing"
)

// Money is summed exactly (exact() in sql/prelude.sql), so a sum that is rounded to cents does
// not depend on the order DuckDB adds rows in. Expected values are worked out by hand in
// internal/warehouse/testdata/money_raw.sql.
func TestMoneySumsAreExact(t *testing.T) {
	s := buildFixture(t, "money", "2025-06-30", nil)
	cust := rowsBy(t, s, `select account_id, mrr, realized_revenue from int_customers`)
	// Compared bit for bit: 0.1 + 0.2 as doubles is 0.30000000000000004.
	if got := num(t, cust["M1"], "realized_revenue"); got != 0.3 {
		t.Errorf("M1 realized_revenue = %v, want exactly 0.3", got)
	}
	if got := num(t, cust["M1"], "mrr"); got != 0.2 {
		t.Errorf("M1 mrr = %v, want 0.2", got)
	}
	if got := num(t, cust["M2"], "mrr"); got != 0.03 {
		t.Errorf("M2 mrr = %v, want 0.03 (0.30 / 12 = 0.025, rounded half up)", got)
	}
	months := rowsBy(t, s, `select account_id || ' ' || strftime(month, '%Y-%m') as k, mrr from int_account_mrr_monthly`)
	for k, want := range map[string]float64{"M1 2025-05": 0.1, "M1 2025-06": 0.2, "M2 2025-06": 0.03} {
		r, ok := months[k]
		if !ok {
			t.Errorf("int_account_mrr_monthly has no row %s", k)
			continue
		}
		if got := num(t, r, "mrr"); got != want {
			t.Errorf("int_account_mrr_monthly %s mrr = %v, want %v", k, got, want)
		}
	}
}

// cents(s) is round(s, 2) of an exact sum, on either side of where it stops taking the 64-bit
// path (|s| below 10^11): halves away from zero, negatives, sub-cent sums and sums too large
// for a 64-bit decimal.
func TestCentsIsRoundToCents(t *testing.T) {
	s := buildFixture(t, "money", "2025-06-30", nil)
	rows, err := s.Query(t.Context(), `with v(x) as (values
		(0.005), (-0.005), (0.004999), (1.005), (2.675), (-2.675), (0.0), (12.345678), (-0.000001),
		(99999999999.994999), (99999999999.995), (-99999999999.995), (100000000000.0), (100000000000.005),
		(-100000000000.005), (12345678901234567890.125), (-12345678901234567890.125)),
	s as (select sum(exact(x)) as s, x from v group by x)
	select count(*) as n, count(*) filter (where cents(s) is distinct from round(s, 2)) as differ,
	       string_agg(x::varchar || ' -> ' || cents(s)::varchar, '; ' order by x) as shown
	from s`)
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	if r.Get("n").(int64) != 17 || r.Get("differ").(int64) != 0 {
		t.Fatalf("cents differs from round(s, 2): %v", r)
	}
	for _, want := range []string{"1.005000 -> 1.01", "-2.675000 -> -2.68", "99999999999.995000 -> 100000000000.00", "-100000000000.005000 -> -100000000000.01"} {
		if !strings.Contains(r.String(), want) {
			t.Errorf("%s not in %s", want, r)
		}
	}
}
