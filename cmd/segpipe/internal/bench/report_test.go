package bench

import (
	"math"
	"testing"
)

// The targets of issue #21 by size, each measured against its own figure.
func TestTargets(t *testing.T) {
	small := &Report{Accounts: 100_000, TotalWall: 12, FullWall: 40, PeakRSS: 1 << 30, Ratios: map[string]float64{"extract_vs_decode_floor": 0.7}}
	got := Targets(small, nil)
	want := []Target{
		{Name: "nightly wall", Measured: 12, Target: 15, Unit: "s", Ratio: 0.8, Met: true},
		{Name: "full recompute wall", Measured: 40, Target: 35, Unit: "s", Ratio: 40.0 / 35, Met: false},
		{Name: "nightly peak RSS", Measured: 1, Target: 2, Unit: "GiB", Ratio: 0.5, Met: true},
	}
	check := func(got, want []Target) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("targets %+v, want %+v", got, want)
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.Name != w.Name || g.Unit != w.Unit || g.AtLeast != w.AtLeast || g.Met != w.Met ||
				math.Abs(g.Measured-w.Measured) > 1e-9 || g.Target != w.Target || math.Abs(g.Ratio-w.Ratio) > 1e-9 {
				t.Errorf("target %d: %+v, want %+v", i, g, w)
			}
		}
	}
	check(got, want) // the extract ratio's target is set at 1M only

	big := &Report{Accounts: 1_000_000, TotalWall: 150, FullWall: 480, PeakRSS: 3 << 30, Ratios: map[string]float64{"extract_vs_decode_floor": 0.85}}
	check(Targets(big, small), []Target{
		{Name: "nightly wall", Measured: 150, Target: 180, Unit: "s", Ratio: 150.0 / 180, Met: true},
		{Name: "full recompute wall", Measured: 480, Target: 300, Unit: "s", Ratio: 1.6, Met: false},
		{Name: "nightly peak RSS", Measured: 3, Target: 2, Unit: "GiB", Ratio: 1.5, Met: false},
		{Name: "extract ÷ floor (2) rows/s", Measured: 0.85, Target: 0.8, AtLeast: true, Ratio: 0.85 / 0.8, Met: true},
		{Name: "10x accounts: nightly time", Measured: 12.5, Target: 10.5, Unit: "x", Ratio: 12.5 / 10.5, Met: false},
		{Name: "10x accounts: full time", Measured: 12, Target: 10.5, Unit: "x", Ratio: 12 / 10.5, Met: false},
	})
	// A report of another size gives no growth; other sizes have no wall targets.
	if got := Targets(&Report{Accounts: 5000, TotalWall: 1, FullWall: 2, Ratios: map[string]float64{}}, small); len(got) != 1 || got[0].Name != "nightly peak RSS" {
		t.Errorf("5,000 accounts: %+v", got)
	}
}
