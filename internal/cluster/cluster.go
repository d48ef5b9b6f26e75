// Package cluster finds natural groups of customers (docs/domain.md §9, "clustering (k-means,
// hierarchical) to find natural groups"): k-means on standardized features, k chosen by mean
// silhouette, and cluster ids kept stable across runs by matching centroids to the previous
// run's. It is plain numeric Go with no database: internal/warehouse reads the feature rows
// from DuckDB, calls Run and writes the result back.
//
// The steps, each deterministic for a seed and for the rows' order (the caller sorts them by
// account id):
//
//  1. Standardize: each feature is log1p-transformed when it is heavy-tailed (Feature.Log:
//     money, counts, ratios), then z-scored (mean 0, population standard deviation 1, over the
//     rows that have a value). A feature with values for fewer than MinCoverage of the rows, or
//     with no spread, is left out (Result.Dropped says why). A row missing a value of a feature
//     that is used is clustered on the features it has (Result.Missing lists them per row):
//     its distance to a centroid is taken over the features present and scaled up by
//     d / present (the partial distance of k-means with missing data), and a centroid is the
//     mean of the values present. No value is made up, so rows with a gap do not form a
//     group of their own around an imputed median.
//  2. Choose k: on a sample of FitSample rows (a seeded permutation), k-means (k-means++ seeding,
//     Restarts restarts, the lowest within-cluster sum of squares kept) for every k in
//     [KMin, KMax]; each fit is scored by the mean silhouette of the first SilhouetteSample
//     rows of that sample (silhouette costs O(s²), so s is capped and the whole run stays
//     O(n·k·iterations)). The highest mean silhouette wins; a tie goes to the smaller k.
//  3. Fit: Lloyd iterations on every row from the chosen fit's centroids.
//  4. Ids (AssignIDs): matched to the previous run's centroids, else ordered by a feature.
package cluster

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// MinCoverage is the share of rows that must have a value of a feature for it to be used.
const MinCoverage = 0.5

// Feature is one column of the input.
type Feature struct {
	Name string
	// Log transforms the value with log1p before it is z-scored (heavy-tailed money and
	// counts). Values at or below -1 have no log1p and count as missing.
	Log bool
}

// Options tune a run. Zero fields take the defaults of Defaults.
type Options struct {
	KMin, KMax int
	Seed       uint64
	// Restarts of k-means++ seeding per k (the fit with the lowest inertia is kept).
	Restarts int
	// MaxIter bounds the Lloyd iterations of one fit.
	MaxIter int
	// FitSample is the number of rows k is chosen on; SilhouetteSample the rows of that
	// sample each k's silhouette is computed over.
	FitSample, SilhouetteSample int
}

// Defaults are the options a zero field takes.
var Defaults = Options{KMin: 2, KMax: 8, Seed: 1, Restarts: 5, MaxIter: 100, FitSample: 10000, SilhouetteSample: 2000}

func (o Options) withDefaults() Options {
	d := Defaults
	if o.KMin > 0 {
		d.KMin = o.KMin
	}
	if o.KMax > 0 {
		d.KMax = o.KMax
	}
	d.Seed = o.Seed
	if o.Restarts > 0 {
		d.Restarts = o.Restarts
	}
	if o.MaxIter > 0 {
		d.MaxIter = o.MaxIter
	}
	if o.FitSample > 0 {
		d.FitSample = o.FitSample
	}
	if o.SilhouetteSample > 0 {
		d.SilhouetteSample = o.SilhouetteSample
	}
	return d
}

// Transform is how one used feature is standardized: z = (t(x) - Mean) / SD, t = log1p when Log.
type Transform struct {
	Feature
	Mean, SD float64
	// Median of t(x) over the rows with a value (a k-means++ seed missing the feature takes it).
	Median float64
}

// Z standardizes an original value (NaN stays NaN).
func (t Transform) Z(x float64) float64 {
	if t.Log {
		if x <= -1 {
			return math.NaN()
		}
		x = math.Log1p(x)
	}
	return (x - t.Mean) / t.SD
}

// Original turns a standardized value back into the feature's units.
func (t Transform) Original(z float64) float64 {
	x := z*t.SD + t.Mean
	if t.Log {
		return math.Expm1(x)
	}
	return x
}

// Dropped is a feature left out, with why.
type Dropped struct {
	Feature string
	Reason  string
}

// KScore is the mean silhouette of one k tried.
type KScore struct {
	K          int
	Silhouette float64
}

// Result is one run's clustering.
type Result struct {
	// Used are the features clustered on, in input order, with their standardization.
	Used    []Transform
	Dropped []Dropped
	K       int
	// Silhouette is the chosen k's mean silhouette over the silhouette sample, after the fit
	// on every row.
	Silhouette float64
	Scores     []KScore
	// Labels holds each row's cluster, 0..K-1 (internal order; AssignIDs gives the ids).
	Labels []int
	// Centroids are the clusters' centres in standardized space (K x len(Used)).
	Centroids [][]float64
	// Distance is each row's Euclidean distance to its centroid, in standardized units (over
	// the features it has, scaled up to all of them).
	Distance []float64
	// Missing lists, per row, the used features it has no value of (nil when none).
	Missing [][]string
	// Sizes counts the rows of each cluster.
	Sizes []int
}

// OriginalCentroid is cluster c's centre in the features' own units (by feature name).
func (r *Result) OriginalCentroid(c int) map[string]float64 {
	out := make(map[string]float64, len(r.Used))
	for j, t := range r.Used {
		out[t.Name] = t.Original(r.Centroids[c][j])
	}
	return out
}

// ErrTooFew is wrapped by Run's error when there is not enough to cluster: fewer rows or
// distinct points than KMin, or no feature left.
var ErrTooFew = errors.New("not enough to cluster")

// Run clusters the rows of values (n rows, one column per feature, NaN = missing).
func Run(features []Feature, values [][]float64, opts Options) (*Result, error) {
	o := opts.withDefaults()
	if o.KMin < 2 || o.KMax < o.KMin {
		return nil, fmt.Errorf("cluster: need 2 <= k_min <= k_max, got %d and %d", o.KMin, o.KMax)
	}
	n := len(values)
	res := &Result{}
	// 1. Standardize.
	var cols []int
	for j, f := range features {
		t, reason := transformOf(f, values, j)
		if reason != "" {
			res.Dropped = append(res.Dropped, Dropped{f.Name, reason})
			continue
		}
		res.Used = append(res.Used, t)
		cols = append(cols, j)
	}
	if len(res.Used) == 0 {
		return res, fmt.Errorf("%w: no feature has values for at least %.0f%% of the %d customers and a spread", ErrTooFew, 100*MinCoverage, n)
	}
	d := len(cols)
	z := make([]float64, n*d) // row-major
	res.Missing = make([][]string, n)
	medians := make([]float64, d)
	for jj, t := range res.Used {
		medians[jj] = (t.Median - t.Mean) / t.SD
	}
	for i, row := range values {
		for jj, j := range cols {
			t := res.Used[jj]
			v := t.Z(row[j])
			if math.IsNaN(v) {
				res.Missing[i] = append(res.Missing[i], t.Name)
			}
			z[i*d+jj] = v
		}
	}
	pts := points{z: z, d: d, n: n, medians: medians}
	for i := range n {
		if res.Missing[i] != nil {
			pts.complete = make([]bool, n)
			for i, m := range res.Missing {
				pts.complete[i] = m == nil
			}
			break
		}
	}
	if distinct := pts.distinctUpTo(o.KMin); distinct < o.KMin {
		return res, fmt.Errorf("%w: %d customers with %d distinct feature vectors, fewer than k_min %d", ErrTooFew, n, distinct, o.KMin)
	}
	// 2. Choose k on a sample.
	rng := rand.New(rand.NewPCG(o.Seed, 0x5e9))
	perm := rng.Perm(n)
	fit := perm
	if len(fit) > o.FitSample {
		fit = fit[:o.FitSample]
	}
	sort.Ints(fit) // the sample's rows in input order: the fits do not depend on the draw order
	sample := pts.subset(fit)
	// the silhouette's rows (positions in the sample): all of it, or a seeded draw from it
	var silIdx []int
	if len(fit) <= o.SilhouetteSample {
		silIdx = make([]int, len(fit))
		for i := range silIdx {
			silIdx[i] = i
		}
	} else {
		silIdx = rand.New(rand.NewPCG(o.Seed, 0x511)).Perm(len(fit))[:o.SilhouetteSample]
		sort.Ints(silIdx)
	}
	distinct := sample.distinctUpTo(o.KMax)
	var best struct {
		k         int
		sil       float64
		centroids []float64
	}
	for k := o.KMin; k <= o.KMax; k++ {
		if k > distinct || k > sample.n {
			break
		}
		cents, labels := kmeans(sample, k, o, uint64(k))
		sil := silhouette(sample, labels, k, silIdx)
		res.Scores = append(res.Scores, KScore{K: k, Silhouette: sil})
		if best.k == 0 || sil > best.sil+1e-12 {
			best.k, best.sil, best.centroids = k, sil, cents
		}
	}
	if best.k == 0 {
		return res, fmt.Errorf("%w: the sample has %d distinct feature vectors, fewer than k_min %d", ErrTooFew, distinct, o.KMin)
	}
	// 3. Fit on every row from the sample's centroids.
	cents := slices.Clone(best.centroids)
	labels := make([]int, n)
	lloyd(pts, best.k, cents, labels, o.MaxIter)
	res.K = best.k
	res.Labels = labels
	res.Centroids = make([][]float64, best.k)
	for c := range best.k {
		res.Centroids[c] = slices.Clone(cents[c*d : (c+1)*d])
	}
	res.Sizes = make([]int, best.k)
	res.Distance = make([]float64, n)
	for i, l := range labels {
		res.Sizes[l]++
		res.Distance[i] = math.Sqrt(sqDist(pts.row(i), cents[l*d:(l+1)*d]))
	}
	fitLabels := make([]int, len(fit))
	for i, r := range fit {
		fitLabels[i] = labels[r]
	}
	res.Silhouette = silhouette(sample, fitLabels, best.k, silIdx)
	return res, nil
}

// transformOf standardizes column j of values, or says why it cannot be used.
func transformOf(f Feature, values [][]float64, j int) (Transform, string) {
	t := Transform{Feature: f}
	var xs []float64
	for _, row := range values {
		x := row[j]
		if f.Log {
			if x <= -1 || math.IsNaN(x) {
				continue
			}
			x = math.Log1p(x)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		xs = append(xs, x)
	}
	n := len(values)
	if n == 0 || float64(len(xs)) < MinCoverage*float64(n) {
		return t, fmt.Sprintf("values for %d of %d customers (fewer than %.0f%%)", len(xs), n, 100*MinCoverage)
	}
	sort.Float64s(xs) // sorted: the sums below do not depend on the rows' order
	var sum float64
	for _, x := range xs {
		sum += x
	}
	t.Mean = sum / float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - t.Mean) * (x - t.Mean)
	}
	t.SD = math.Sqrt(ss / float64(len(xs)))
	if m := len(xs); m%2 == 1 {
		t.Median = xs[m/2]
	} else {
		t.Median = (xs[m/2-1] + xs[m/2]) / 2
	}
	if !(t.SD > 1e-12*math.Max(1, math.Abs(t.Mean))) {
		return t, "no spread (every customer has the same value)"
	}
	return t, ""
}

// points is n rows of d standardized values, row-major.
type points struct {
	z    []float64 // NaN: missing
	d, n int
	// medians stand in for a missing value where a row becomes a centroid (seeding).
	medians []float64
	// complete marks the rows without a missing value (nil: every row).
	complete []bool
}

// centre is row i as a centroid: its missing values are the medians.
func (p points) centre(i int) []float64 {
	c := slices.Clone(p.row(i))
	for j, v := range c {
		if math.IsNaN(v) {
			c[j] = p.medians[j]
		}
	}
	return c
}

func (p points) row(i int) []float64 { return p.z[i*p.d : (i+1)*p.d] }

func (p points) subset(idx []int) points {
	out := points{z: make([]float64, 0, len(idx)*p.d), d: p.d, n: len(idx), medians: p.medians}
	if p.complete != nil {
		out.complete = make([]bool, 0, len(idx))
	}
	for _, i := range idx {
		out.z = append(out.z, p.row(i)...)
		if p.complete != nil {
			out.complete = append(out.complete, p.complete[i])
		}
	}
	return out
}

// distinctUpTo counts distinct rows, stopping once it has found limit.
func (p points) distinctUpTo(limit int) int {
	var seen [][]float64
	for i := range p.n {
		r := p.row(i)
		dup := false
		for _, s := range seen {
			if slices.EqualFunc(s, r, func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }) {
				dup = true
				break
			}
		}
		if !dup {
			seen = append(seen, r)
			if len(seen) >= limit {
				break
			}
		}
	}
	return len(seen)
}

// sqDist is the squared Euclidean distance over the coordinates both a and b have, scaled
// up by len(a) / present (the partial distance); +Inf when they share none.
func sqDist(a, b []float64) float64 {
	var s float64
	present := 0
	for i := range a {
		x := a[i] - b[i]
		if math.IsNaN(x) {
			continue
		}
		s += x * x
		present++
	}
	switch present {
	case len(a):
		return s
	case 0:
		return math.Inf(1)
	}
	return s * float64(len(a)) / float64(present)
}

// kmeans fits k clusters to p: Restarts k-means++ seedings, each refined by Lloyd, the lowest
// inertia kept (ties: the earlier restart). It returns the centroids (k x d) and labels.
func kmeans(p points, k int, o Options, stream uint64) ([]float64, []int) {
	var bestC []float64
	var bestL []int
	bestInertia := math.Inf(1)
	for r := range o.Restarts {
		rng := rand.New(rand.NewPCG(o.Seed, stream<<16|uint64(r)))
		c := seedPlusPlus(p, k, rng)
		l := make([]int, p.n)
		inertia := lloyd(p, k, c, l, o.MaxIter)
		if inertia < bestInertia {
			bestInertia, bestC, bestL = inertia, c, l
		}
	}
	return bestC, bestL
}

// seedPlusPlus picks k starting centroids by k-means++ (each next centre drawn with
// probability proportional to the squared distance to the nearest centre chosen).
func seedPlusPlus(p points, k int, rng *rand.Rand) []float64 {
	c := make([]float64, 0, k*p.d)
	c = append(c, p.centre(rng.IntN(p.n))...)
	d2 := make([]float64, p.n)
	for i := range p.n {
		d2[i] = sqDist(p.row(i), c[:p.d])
	}
	for len(c) < k*p.d {
		var total float64
		for _, v := range d2 {
			total += v
		}
		next := -1
		if total > 0 {
			u := rng.Float64() * total
			for i, v := range d2 {
				u -= v
				if u < 0 && v > 0 {
					next = i
					break
				}
			}
			if next < 0 { // rounding: the last point with a distance
				for i := p.n - 1; i >= 0; i-- {
					if d2[i] > 0 {
						next = i
						break
					}
				}
			}
		} else {
			next = rng.IntN(p.n)
		}
		nc := p.centre(next)
		c = append(c, nc...)
		for i := range p.n {
			if v := sqDist(p.row(i), nc); v < d2[i] {
				d2[i] = v
			}
		}
	}
	return c
}

// lloydTol stops Lloyd iterations once an iteration lowers the inertia by less than this share
// of it: on overlapping groups the last labels can keep changing for many iterations that move
// nothing that matters (the same rule as scikit-learn's tol, on the inertia).
const lloydTol = 1e-5

// lloyd refines centroids c (k x d, in place) and fills labels, until no label changes, an
// iteration lowers the inertia by less than lloydTol of it, or maxIter iterations; it returns
// the inertia (sum of squared distances to the centroids). A cluster left empty takes the row
// farthest from its centroid (the lowest row number on a tie).
func lloyd(p points, k int, c []float64, labels []int, maxIter int) float64 {
	d := p.d
	for i := range labels {
		labels[i] = -1
	}
	sums := make([]float64, k*d)
	counts := make([]int, k*d) // rows with a value, per cluster and feature
	dist := make([]float64, p.n)
	var inertia float64
	prev := math.Inf(1)
	for iter := 0; ; iter++ {
		changed := false
		inertia = 0
		for i := range p.n {
			r := p.row(i)
			bl, bd := 0, math.Inf(1)
			if p.complete == nil || p.complete[i] {
				for cl := range k { // sqDist without the missing-value checks, inlined
					cc := c[cl*d : (cl+1)*d : (cl+1)*d]
					var v float64
					for j, x := range r {
						t := x - cc[j]
						v += t * t
					}
					if v < bd {
						bl, bd = cl, v
					}
				}
			} else {
				for cl := range k {
					if v := sqDist(r, c[cl*d:(cl+1)*d]); v < bd {
						bl, bd = cl, v
					}
				}
			}
			if labels[i] != bl {
				labels[i] = bl
				changed = true
			}
			dist[i] = bd
			inertia += bd
		}
		if !changed || iter >= maxIter || (iter > 0 && prev-inertia <= lloydTol*prev) {
			return inertia
		}
		prev = inertia
		clear(sums)
		clear(counts)
		size := make([]int, k)
		for i, l := range labels {
			size[l]++
			for j, v := range p.row(i) {
				if !math.IsNaN(v) {
					sums[l*d+j] += v
					counts[l*d+j]++
				}
			}
		}
		for cl := range k {
			if size[cl] == 0 {
				far := 0
				for i := range p.n {
					if dist[i] > dist[far] {
						far = i
					}
				}
				copy(c[cl*d:(cl+1)*d], p.centre(far))
				dist[far] = 0
				continue
			}
			for j := range d {
				if n := counts[cl*d+j]; n > 0 { // else the centroid keeps its value
					c[cl*d+j] = sums[cl*d+j] / float64(n)
				}
			}
		}
	}
}

// silhouette is the mean silhouette of the rows idx of p under labels: for a row, a = its mean
// distance to the other rows of its cluster, b = the lowest mean distance to another
// cluster's rows, s = (b - a) / max(a, b); 0 for a row alone in its cluster (within idx).
func silhouette(p points, labels []int, k int, idx []int) float64 {
	if len(idx) < 2 {
		return 0
	}
	sum := make([]float64, k)
	cnt := make([]int, k)
	var total float64
	for _, i := range idx {
		clear(sum)
		clear(cnt)
		ri := p.row(i)
		for _, j := range idx {
			if j == i {
				continue
			}
			dd := sqDist(ri, p.row(j))
			if math.IsInf(dd, 1) {
				continue // no feature in common: the pair says nothing
			}
			sum[labels[j]] += math.Sqrt(dd)
			cnt[labels[j]]++
		}
		own := labels[i]
		if cnt[own] == 0 {
			continue // a singleton scores 0
		}
		a := sum[own] / float64(cnt[own])
		b := math.Inf(1)
		for cl := range k {
			if cl != own && cnt[cl] > 0 {
				b = math.Min(b, sum[cl]/float64(cnt[cl]))
			}
		}
		if math.IsInf(b, 1) {
			continue
		}
		if m := math.Max(a, b); m > 0 {
			total += (b - a) / m
		}
	}
	return total / float64(len(idx))
}
