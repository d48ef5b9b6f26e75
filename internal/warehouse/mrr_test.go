package warehouse

import (
	"context"
	"math"
	"testing"
)

// Expected values are worked out by hand from internal/warehouse/testdata/mrr_raw.sql (as of 2025-06-30,
// months January to June 2025; domain.md section 11).
func TestMRRMovements(t *testing.T) {
	s := buildFixture(t, "mrr", "2025-06-30", nil)
	rows := rowsBy(t, s, `select account_id || ' ' || strftime(month, '%Y-%m') as k, * from mrr_movements`)
	want := []struct {
		key             string
		mrr, prev, move float64
		movement        string
	}{
		{"B1 2025-01", 100, 0, 100, "new"},
		{"B1 2025-02", 150, 100, 50, "expansion"},
		{"B1 2025-03", 150, 150, 0, "<nil>"},
		{"B1 2025-04", 120, 150, -30, "contraction"},
		{"B1 2025-05", 0, 120, -120, "churn"},
		// B2's two subscriptions make one customer row a month: 200, then 200 + 50, then 50.
		{"B2 2025-01", 200, 0, 200, "new"},
		{"B2 2025-04", 250, 200, 50, "expansion"},
		{"B2 2025-05", 250, 250, 0, "<nil>"},
		{"B2 2025-06", 50, 250, -200, "contraction"},
		// $3,600 over 12 months = $300.
		{"B3 2025-03", 300, 0, 300, "new"},
		{"B3 2025-06", 300, 300, 0, "<nil>"},
		{"B4 2025-01", 80, 0, 80, "new"},
		{"B4 2025-02", 0, 80, -80, "churn"},
		{"B4 2025-04", 100, 0, 100, "reactivation"},
		{"B4 2025-06", 100, 100, 0, "<nil>"},
		{"B5 2025-06", 40, 0, 40, "new"},
	}
	for _, w := range want {
		r, ok := rows[w.key]
		if !ok {
			t.Errorf("no row %s", w.key)
			continue
		}
		near(t, w.key+" mrr", num(t, r, "mrr"), w.mrr)
		near(t, w.key+" previous_mrr", num(t, r, "previous_mrr"), w.prev)
		near(t, w.key+" movement_mrr", num(t, r, "movement_mrr"), w.move)
		if got := str(r, "movement"); got != w.movement {
			t.Errorf("%s movement = %s, want %s", w.key, got, w.movement)
		}
	}
	// Zero months without a movement are left out: B1 in June (churned in May, the invoice
	// issued in July is not known yet) and B4 in March (churned in February).
	for _, k := range []string{"B1 2025-06", "B4 2025-03"} {
		if _, ok := rows[k]; ok {
			t.Errorf("%s: a zero month without a movement must not appear", k)
		}
	}
	// B1 Jan-May (5), B2 Jan-Jun (6), B3 Mar-Jun (4), B4 Jan, Feb, Apr-Jun (5), B5 Jun (1);
	// nothing for the void-only B6.
	if len(rows) != 21 {
		t.Errorf("mrr_movements has %d rows, want 21", len(rows))
	}
}

func TestMRRMonthly(t *testing.T) {
	s := buildFixture(t, "mrr", "2025-06-30", nil)
	rows := rowsBy(t, s, `select strftime(month, '%Y-%m') as k, * from mrr_monthly`)
	nan := math.NaN()
	type month struct {
		active, mrr, newM, exp, react, contr, churn, net, quick, arpa float64
		newC, churnC, reactC                                          float64
	}
	want := map[string]month{
		// B1 100 + B2 200 + B4 80, all new; nothing lost: no quick ratio.
		"2025-01": {3, 380, 380, 0, 0, 0, 0, 380, nan, 380.0 / 3, 3, 0, 0},
		// B1 +50 expansion, B4 -80 churn: net -30 = 350 - 380; quick 50 / 80.
		"2025-02": {2, 350, 0, 50, 0, 0, 80, -30, 50.0 / 80, 175, 0, 1, 0},
		// B3 +300 new: 650 = 350 + 300; nothing lost.
		"2025-03": {3, 650, 300, 0, 0, 0, 0, 300, nan, 650.0 / 3, 1, 0, 0},
		// B2 +50 expansion, B4 +100 reactivation, B1 -30 contraction: net 120 = 770 - 650;
		// quick (0 + 50) / 30, reactivation not in the numerator.
		"2025-04": {4, 770, 0, 50, 100, 30, 0, 120, 50.0 / 30, 192.5, 0, 0, 1},
		// B1 -120 churn: 650; quick 0 / 120.
		"2025-05": {3, 650, 0, 0, 0, 0, 120, -120, 0, 650.0 / 3, 0, 1, 0},
		// B5 +40 new, B2 -200 contraction: net -160 = 490 - 650; quick 40 / 200.
		// Active: B2 (one customer, two subscriptions before), B3, B4, B5.
		"2025-06": {4, 490, 40, 0, 0, 200, 0, -160, 0.2, 122.5, 1, 0, 0},
	}
	if len(rows) != len(want) {
		t.Errorf("mrr_monthly has %d rows, want %d", len(rows), len(want))
	}
	for k, w := range want {
		r, ok := rows[k]
		if !ok {
			t.Errorf("no month %s", k)
			continue
		}
		for _, c := range []struct {
			col  string
			want float64
		}{
			{"customers_active", w.active}, {"mrr", w.mrr}, {"new_mrr", w.newM}, {"expansion_mrr", w.exp},
			{"reactivation_mrr", w.react}, {"contraction_mrr", w.contr}, {"churned_mrr", w.churn},
			{"net_new_mrr", w.net}, {"arpa", w.arpa}, {"new_customers", w.newC},
			{"churned_customers", w.churnC}, {"reactivated_customers", w.reactC},
		} {
			near(t, k+" "+c.col, num(t, r, c.col), c.want)
		}
		if math.IsNaN(w.quick) {
			if v := r.Get("quick_ratio"); v != nil {
				t.Errorf("%s quick_ratio = %v, want NULL (no contraction or churn)", k, v)
			}
		} else {
			near(t, k+" quick_ratio", num(t, r, "quick_ratio"), w.quick)
		}
	}
}

func TestMRRAssertionsPassOnFixture(t *testing.T) {
	s := buildFixture(t, "mrr", "2025-06-30", nil)
	assertionsPass(t, s)
}

// A month whose movements do not add up to the change of MRR fails assert_mrr_reconciles.
func TestMRRReconciliationCatchesDrift(t *testing.T) {
	s := buildFixture(t, "mrr", "2025-06-30", nil)
	ctx := context.Background()
	if err := s.Exec(ctx, `update mrr_monthly set expansion_mrr = expansion_mrr + 0.01 where month = date '2025-04-01'`); err != nil {
		t.Fatal(err)
	}
	only := assertionNamed(t, "assert_mrr_reconciles")
	if _, err := s.RunAssertions(ctx, only); err == nil {
		t.Fatal("a one-cent drift in April passed assert_mrr_reconciles")
	}
}
