package demo

import (
	"math"
	"math/rand/v2"
	"time"
)

// day is 24 hours.
const day = 24 * time.Hour

// addMonths returns t plus k calendar months, the day clamped to the month's length (a billing
// anchor on the 31st bills on the 30th, the 28th or 29th in shorter months), time of day kept.
// Periods computed from one anchor with k, k+1 are contiguous and never overlap.
func addMonths(t time.Time, k int) time.Time {
	y, m, d := t.Date()
	total := int(m) - 1 + k
	y += floorDiv(total, 12)
	mm := time.Month(total - floorDiv(total, 12)*12 + 1)
	if dim := daysIn(y, mm); d > dim {
		d = dim
	}
	return time.Date(y, mm, d, t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}

// floorDiv is a / b rounded towards minus infinity.
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// monthStart returns the first instant of t's month.
func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// monthIndex numbers months consecutively (year*12 + month-1).
func monthIndex(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }

// uniform returns a float in [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// jitter returns t plus a uniform duration in [lo, hi), truncated to the second.
func jitter(r *rand.Rand, t time.Time, lo, hi time.Duration) time.Time {
	d := lo + time.Duration(r.Int64N(int64(hi-lo)+1))
	return t.Add(d).Truncate(time.Second)
}

// between returns a uniform instant in [a, b), truncated to the second; a when b <= a.
func between(r *rand.Rand, a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(r.Int64N(int64(b.Sub(a))))).Truncate(time.Second)
}

// pick returns an index drawn with the given weights (they need not sum to 1).
func pick(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// poisson draws a Poisson count with mean lambda (Knuth's method; lambda is small here).
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		n := int(math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64()))
		return max(n, 0)
	}
	l := math.Exp(-lambda)
	k, p := 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// boundedPareto maps u in [0,1) to a bounded Pareto value in [lo, hi) with shape alpha.
func boundedPareto(u, lo, hi, alpha float64) float64 {
	ratio := math.Pow(lo/hi, alpha)
	return lo / math.Pow(1-u*(1-ratio), 1/alpha)
}

// logUniform returns a value in [lo, hi) uniform on a log scale.
func logUniform(r *rand.Rand, lo, hi float64) float64 {
	return lo * math.Exp(r.Float64()*math.Log(hi/lo))
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// maxTime returns the later of a and b.
func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// usdToEURCents converts USD cents to EUR cents at FXRateEUR, rounded half up.
func usdToEURCents(usd int64) int64 {
	return (usd*100 + 54) / 108
}
