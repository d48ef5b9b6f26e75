package warehouse

import "testing"

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
