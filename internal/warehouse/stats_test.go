package warehouse

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestStatisticalMacros checks the prelude's p-value macros against textbook values: the 5%
// critical values of the chi-square distribution (1 df: 3.841459, 5 df: 11.070498), the closed
// form for 2 df (P(X >= x) = exp(-x/2)) and the normal 1.959964 (two-sided 5%).
func TestStatisticalMacros(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", nil)
	rows, err := s.Query(context.Background(), `select
		chi2_sf(3.841459, 1) as a, chi2_sf(11.070498, 5) as b, chi2_sf(0.5, 2) as c,
		chi2_sf(30, 3) as d, chi2_sf(5000, 10) as e, chi2_sf(0, 3) as f, chi2_sf(624, 2) as j, chi2_sf(46, 2) as k,
		normal_p_two_sided(1.959964) as g, normal_p_two_sided(-2.575829) as h, normal_p_two_sided(0) as i`)
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	for _, c := range []struct {
		col       string
		want, tol float64
	}{
		{"a", 0.05, 1e-7}, {"b", 0.05, 1e-7}, {"c", 0.7788007830714049, 1e-12},
		// P(chi2_3 >= 30) = erfc(sqrt(15)) + sqrt(60/pi) * exp(-15) = 1.3800570312932e-06.
		{"d", 1.3800570312932e-06, 1e-12},
		{"e", 0, 0}, {"f", 1, 0}, {"g", 0.05, 1e-7}, {"h", 0.01, 1e-7}, {"i", 1, 0},
		// Below 1e-10 only rounding noise is left: 0. P(chi2_2 >= 46) = exp(-23) = 1.026e-10.
		{"j", 0, 0}, {"k", 1.0261879631701890e-10, 1e-13},
	} {
		if got := r.Float(c.col); got < c.want-c.tol || got > c.want+c.tol {
			t.Errorf("%s = %.15g, want %.15g ± %g", c.col, got, c.want, c.tol)
		}
	}
}

// A statement stopped by its context reports the context's error: DuckDB's own is an
// "INTERRUPT Error: Interrupted!" that does not wrap it, and a scheduler must tell a cancelled
// run from a failed one. Contexts are cancelled at staggered moments while short statements run,
// so some land mid-statement (without Session.cancelled about one in six gave DuckDB's error).
func TestCancelledStatementSaysSo(t *testing.T) {
	s, err := Open(context.Background(), Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cancelled := 0
	for i := range 300 {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Duration(i%30)*100*time.Microsecond, cancel)
		for range 50 {
			if err := s.Exec(ctx, "SET VARIABLE x = ?", []string{"a", "b"}); err != nil {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("a cancelled statement: %v, want an error wrapping context.Canceled", err)
				}
				cancelled++
				break
			}
		}
		cancel()
	}
	if cancelled == 0 {
		t.Fatal("no statement was cancelled: the test did not test anything")
	}
}
