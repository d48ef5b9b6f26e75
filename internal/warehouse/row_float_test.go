package warehouse

import (
	"context"
	"math"
	"testing"
)

// Row.Float reads every numeric type a model may produce: a DECIMAL sum in a user's replaced
// mart is a number, not NULL.
func TestRowFloatReadsEveryNumericType(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.Query(ctx, `SELECT 1.25::DECIMAL(10, 2) AS d, 123456789012.345678::DECIMAL(38, 6) AS wide,
		(2::HUGEINT ** 70)::HUGEINT AS h, 7::UTINYINT AS u8, 3::INTEGER AS i, 0.5::DOUBLE AS f, NULL::DOUBLE AS n, 'x' AS s`)
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	for col, want := range map[string]float64{"d": 1.25, "wide": 123456789012.345678, "h": math.Pow(2, 70), "i": 3, "f": 0.5} {
		if got := r.Float(col); math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Errorf("%s = %v, want %v", col, got, want)
		}
	}
	for _, col := range []string{"n", "s", "absent"} {
		if got := r.Float(col); !math.IsNaN(got) {
			t.Errorf("%s = %v, want NaN", col, got)
		}
	}
	if got := r.Float("u8"); got != 7 {
		t.Errorf("UTINYINT reads as %v (%T), want 7", got, r.Get("u8"))
	}
}
