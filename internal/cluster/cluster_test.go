package cluster

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// blobs plants len(centres) Gaussian groups of size each (sd spread around each centre, in the
// features' own units), shuffled with seed; it returns the rows and each row's planted group.
func blobs(centres [][]float64, size int, spread []float64, seed uint64) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	var rows [][]float64
	var truth []int
	for g, c := range centres {
		for range size {
			r := make([]float64, len(c))
			for j := range c {
				r[j] = c[j] + rng.NormFloat64()*spread[j]
			}
			rows = append(rows, r)
			truth = append(truth, g)
		}
	}
	rng.Shuffle(len(rows), func(i, j int) {
		rows[i], rows[j] = rows[j], rows[i]
		truth[i], truth[j] = truth[j], truth[i]
	})
	return rows, truth
}

var (
	features = []Feature{{Name: "arr"}, {Name: "tenure_months"}, {Name: "active_share"}}
	// Four planted groups: ARR, tenure, usage. Spreads are a tenth of the gaps between centres.
	planted = [][]float64{{200000, 40, 0.8}, {50000, 24, 0.5}, {10000, 6, 0.2}, {10000, 36, 0.7}}
	spread  = []float64{4000, 1.5, 0.03}
)

func TestRecoversPlantedGroups(t *testing.T) {
	rows, truth := blobs(planted, 150, spread, 1)
	res, err := Run(features, rows, Options{KMin: 2, KMax: 8, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	if res.K != 4 {
		t.Errorf("k = %d, want the 4 planted groups (scores %v)", res.K, res.Scores)
	}
	if ari := AdjustedRand(res.Labels, truth); ari < 0.9 {
		t.Errorf("adjusted Rand index = %.3f, want >= 0.9", ari)
	} else {
		t.Logf("k = %d, silhouette %.3f, ARI %.3f, sizes %v", res.K, res.Silhouette, ari, res.Sizes)
	}
	if res.Silhouette < 0.5 || res.Silhouette > 1 {
		t.Errorf("silhouette %.3f: well-separated blobs score above 0.5", res.Silhouette)
	}
	// first-run ids by centroid ARR, highest first: the 200K group is cluster 1; the two 10K
	// groups come last, the larger first (they are the same size: then by centroid values).
	ids := AssignIDs(res, nil, "arr")
	for c := range res.K {
		cent := res.OriginalCentroid(c)
		if ids.ID[c] == 1 && math.Abs(cent["arr"]-200000) > 2000 {
			t.Errorf("cluster 1's ARR centroid = %.0f, want about 200000", cent["arr"])
		}
		if ids.ID[c] == 2 && math.Abs(cent["arr"]-50000) > 2000 {
			t.Errorf("cluster 2's ARR centroid = %.0f, want about 50000", cent["arr"])
		}
		if !math.IsNaN(ids.MatchDistance[c]) {
			t.Errorf("first run: cluster %d has a match distance", ids.ID[c])
		}
	}
}

// The same rows and seed give the same clusters; the ARI holds for other seeds.
func TestDeterministicForASeed(t *testing.T) {
	rows, truth := blobs(planted, 100, spread, 3)
	a, err := Run(features, rows, Options{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(features, rows, Options{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs with the same seed differ")
	}
	for seed := uint64(1); seed <= 5; seed++ {
		r, err := Run(features, rows, Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if ari := AdjustedRand(r.Labels, truth); r.K != 4 || ari < 0.9 {
			t.Errorf("seed %d: k %d, ARI %.3f", seed, r.K, ari)
		}
	}
}

// A second run on shuffled, slightly changed data keeps each planted group's id, even when the
// previous run's ids were not the first-run order; a group that is new gets a new id.
func TestIDsStableAcrossRuns(t *testing.T) {
	rows, truth := blobs(planted, 120, spread, 5)
	first, err := Run(features, rows, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// the previous run named the groups 7, 3, 5, 9 (by planted group)
	prevID := map[int]int{0: 7, 1: 3, 2: 5, 3: 9}
	groupOf := majority(first.Labels, truth, first.K)
	var prev []Previous
	for c := range first.K {
		prev = append(prev, Previous{ID: prevID[groupOf[c]], Centroid: first.OriginalCentroid(c)})
	}
	// second run: other noise, other order, 5% more ARR everywhere
	rows2, truth2 := blobs(planted, 110, spread, 6)
	for _, r := range rows2 {
		r[0] *= 1.05
	}
	second, err := Run(features, rows2, Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	ids := AssignIDs(second, prev, "arr")
	groupOf2 := majority(second.Labels, truth2, second.K)
	for c := range second.K {
		if want := prevID[groupOf2[c]]; ids.ID[c] != want {
			t.Errorf("planted group %d: id %d, want the previous run's %d", groupOf2[c], ids.ID[c], want)
		}
		if d := ids.MatchDistance[c]; !(d < 0.5) {
			t.Errorf("id %d matched at distance %v", ids.ID[c], d)
		}
	}
	// a run with a fifth group far away: it gets 10 (above the previous max, 9)
	five := append(append([][]float64{}, planted...), []float64{500000, 60, 0.95})
	rows3, truth3 := blobs(five, 100, []float64{4000, 1.5, 0.03}, 8)
	third, err := Run(features, rows3, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if third.K != 5 {
		t.Fatalf("k = %d, want 5", third.K)
	}
	ids3 := AssignIDs(third, prev, "arr")
	groupOf3 := majority(third.Labels, truth3, third.K)
	for c := range third.K {
		want := 10
		if g := groupOf3[c]; g < 4 {
			want = prevID[g]
		}
		if ids3.ID[c] != want {
			t.Errorf("third run, planted group %d: id %d, want %d", groupOf3[c], ids3.ID[c], want)
		}
	}
}

// majority maps each cluster to the planted group most of its rows come from.
func majority(labels, truth []int, k int) map[int]int {
	counts := make([]map[int]int, k)
	for i := range counts {
		counts[i] = map[int]int{}
	}
	for i, l := range labels {
		counts[l][truth[i]]++
	}
	out := map[int]int{}
	for c, m := range counts {
		best, bn := -1, -1
		for g, n := range m {
			if n > bn || (n == bn && g < best) {
				best, bn = g, n
			}
		}
		out[c] = best
	}
	return out
}

// Heavy-tailed features: log1p makes groups a factor apart separable; a row missing a value is
// clustered on the others and lists it; a feature mostly missing or without spread is left out.
func TestLogFeaturesMissingValuesAndDroppedFeatures(t *testing.T) {
	feats := []Feature{{Name: "arr", Log: true}, {Name: "seats", Log: true}, {Name: "usage"}, {Name: "flat"}}
	rng := rand.New(rand.NewPCG(1, 2))
	var rows [][]float64
	var truth []int
	for g, c := range [][]float64{{3000, 3}, {30000, 30}, {300000, 300}} {
		for i := range 60 {
			r := []float64{c[0] * math.Exp(rng.NormFloat64()*0.1), c[1] * math.Exp(rng.NormFloat64()*0.1), math.NaN(), 1}
			if i%10 == 0 {
				r[1] = math.NaN()
			}
			if i%4 == 0 {
				r[2] = 0.5
			}
			rows = append(rows, r)
			truth = append(truth, g)
		}
	}
	res, err := Run(feats, rows, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Used) != 2 || res.Used[0].Name != "arr" || res.Used[1].Name != "seats" {
		t.Errorf("used %v, want arr and seats", res.Used)
	}
	if len(res.Dropped) != 2 || res.Dropped[0].Feature != "usage" || res.Dropped[1].Feature != "flat" {
		t.Errorf("dropped %v, want usage (25%% coverage) and flat (no spread)", res.Dropped)
	}
	if ari := AdjustedRand(res.Labels, truth); res.K != 3 || ari < 0.9 {
		t.Errorf("k %d, ARI %.3f", res.K, ari)
	}
	missing := 0
	for i, m := range res.Missing {
		if (i%60)%10 == 0 {
			if !reflect.DeepEqual(m, []string{"seats"}) {
				t.Errorf("row %d missing %v, want [seats]", i, m)
			}
			missing++
		} else if m != nil {
			t.Errorf("row %d missing %v", i, m)
		}
	}
	if missing != 18 {
		t.Errorf("%d rows missing a value, want 18", missing)
	}
	// centroids come back in the features' units: about 3000, 30000, 300000 (geometric means)
	var arrs []float64
	for c := range res.K {
		arrs = append(arrs, res.OriginalCentroid(c)["arr"])
	}
	for _, want := range []float64{3000, 30000, 300000} {
		found := false
		for _, a := range arrs {
			if math.Abs(a-want)/want < 0.05 {
				found = true
			}
		}
		if !found {
			t.Errorf("no ARR centroid near %v: %v", want, arrs)
		}
	}
}

func TestDegenerateInputs(t *testing.T) {
	// every point identical: no spread, nothing to cluster
	same := [][]float64{{1, 2}, {1, 2}, {1, 2}, {1, 2}}
	if _, err := Run([]Feature{{Name: "a"}, {Name: "b"}}, same, Options{}); !errors.Is(err, ErrTooFew) {
		t.Errorf("identical points: error %v, want ErrTooFew", err)
	}
	// fewer points than k_min
	if _, err := Run([]Feature{{Name: "a"}}, [][]float64{{1}, {2}}, Options{KMin: 3, KMax: 4}); !errors.Is(err, ErrTooFew) {
		t.Errorf("2 points, k_min 3: error %v, want ErrTooFew", err)
	}
	// no rows
	if _, err := Run([]Feature{{Name: "a"}}, nil, Options{}); !errors.Is(err, ErrTooFew) {
		t.Errorf("no rows: error %v, want ErrTooFew", err)
	}
	// three distinct points, k_max 8: k stops at 3
	res, err := Run([]Feature{{Name: "a"}}, [][]float64{{0}, {0}, {5}, {5}, {10}, {10}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.K != 3 || res.Silhouette != 1 {
		t.Errorf("k %d silhouette %v, want 3 and 1", res.K, res.Silhouette)
	}
	if _, err := Run([]Feature{{Name: "a"}}, [][]float64{{0}, {1}}, Options{KMin: 3, KMax: 2}); err == nil || errors.Is(err, ErrTooFew) {
		t.Errorf("k_min > k_max: error %v", err)
	}
}

func TestAssign(t *testing.T) {
	// the greedy pick (row 0 -> col 0 at 1) is not optimal: 0->1 and 1->0 cost 2+2 < 1+10
	got := assign([][]float64{{1, 2}, {2, 10}})
	if !reflect.DeepEqual(got, []int{1, 0}) {
		t.Errorf("assign = %v, want [1 0]", got)
	}
	// more rows than columns: the row left unpaired is the one whose pairing costs most
	got = assign([][]float64{{5}, {1}, {3}})
	if !reflect.DeepEqual(got, []int{-1, 0, -1}) {
		t.Errorf("assign = %v, want [-1 0 -1]", got)
	}
	got = assign([][]float64{{4, 1, 3}})
	if !reflect.DeepEqual(got, []int{1}) {
		t.Errorf("assign = %v, want [1]", got)
	}
}

func TestAdjustedRand(t *testing.T) {
	if v := AdjustedRand([]int{0, 0, 1, 1}, []int{5, 5, 3, 3}); v != 1 {
		t.Errorf("same partition: %v", v)
	}
	// hand-computed: a = {0,0,0,1,1,1}, b = {0,0,1,1,2,2}: index 2, sums 6 and 3, expected
	// 6*3/15 = 1.2, max 4.5: (2-1.2)/(4.5-1.2) = 0.2424...
	if v := AdjustedRand([]int{0, 0, 0, 1, 1, 1}, []int{0, 0, 1, 1, 2, 2}); math.Abs(v-0.8/3.3) > 1e-12 {
		t.Errorf("ARI = %v, want %v", v, 0.8/3.3)
	}
}

// At a million rows the clustering takes seconds: k is chosen on a sample, the full fit is
// Lloyd iterations. Skipped with -short.
func TestMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	rows, truth := blobs(planted, 250000, spread, 11)
	start := time.Now()
	res, err := Run(features, rows, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	ari := AdjustedRand(res.Labels, truth)
	t.Logf("1M rows: k %d, silhouette %.3f, ARI %.3f, %v", res.K, res.Silhouette, ari, took)
	if res.K != 4 || ari < 0.9 {
		t.Errorf("k %d ARI %.3f", res.K, ari)
	}
	if took > 30*time.Second {
		t.Errorf("took %v", took)
	}
}
