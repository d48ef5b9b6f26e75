package cluster

import (
	"math"
	"slices"
	"sort"
)

// Previous is a cluster of the previous run: its id and its centroid in the features' own
// units (features it was not clustered on are absent or NaN).
type Previous struct {
	ID       int
	Centroid map[string]float64
}

// IDs are the ids a run's clusters get (AssignIDs), by internal cluster index.
type IDs struct {
	ID []int
	// MatchDistance is the standardized distance between the cluster's centroid and the
	// previous run's centroid whose id it took, NaN for a new id.
	MatchDistance []float64
}

// AssignIDs gives the clusters of res their ids. With previous clusters, each previous
// centroid is standardized with this run's transforms (so both are compared in this run's
// units) over the features both runs used, and clusters and previous centroids are paired
// by an optimal assignment: the pairing of min(K, len(prev)) pairs with the least total
// Euclidean distance (exact, by dynamic programming over subsets: K and len(prev) are at most
// MaxK). A paired cluster takes the previous id; the others get new ids above the largest
// previous one. The new ids, and every id of a first run (no previous cluster, or no feature
// in common), follow the first-run order: by the centroid of orderBy in its own units,
// highest first (ties and a missing feature: larger cluster first, then the centroid's
// values), numbered from 1.
func AssignIDs(res *Result, prev []Previous, orderBy string) IDs {
	k := res.K
	out := IDs{ID: make([]int, k), MatchDistance: make([]float64, k)}
	for c := range k {
		out.MatchDistance[c] = math.NaN()
	}
	order := firstRunOrder(res, orderBy)
	// previous centroids standardized in this run's units, over the common features
	var common []int // indexes into res.Used
	for j, t := range res.Used {
		for _, p := range prev {
			if v, ok := p.Centroid[t.Name]; ok && !math.IsNaN(v) && !math.IsNaN(t.Z(v)) {
				common = append(common, j)
				break
			}
		}
	}
	var usable []Previous
	for _, p := range prev {
		ok := len(common) > 0
		for _, j := range common {
			v, has := p.Centroid[res.Used[j].Name]
			if !has || math.IsNaN(v) || math.IsNaN(res.Used[j].Z(v)) {
				ok = false
			}
		}
		if ok {
			usable = append(usable, p)
		}
	}
	if len(usable) == 0 || len(usable) > MaxK || k > MaxK {
		for rank, c := range order {
			out.ID[c] = rank + 1
		}
		return out
	}
	slices.SortFunc(usable, func(a, b Previous) int { return a.ID - b.ID })
	cost := make([][]float64, k)
	for c := range k {
		cost[c] = make([]float64, len(usable))
		for q, p := range usable {
			var s float64
			for _, j := range common {
				x := res.Centroids[c][j] - res.Used[j].Z(p.Centroid[res.Used[j].Name])
				s += x * x
			}
			cost[c][q] = math.Sqrt(s)
		}
	}
	match := assign(cost)
	maxID := 0
	for _, p := range prev {
		maxID = max(maxID, p.ID)
	}
	for c, q := range match {
		out.ID[c] = -1
		if q >= 0 {
			out.ID[c] = usable[q].ID
			out.MatchDistance[c] = cost[c][q]
		}
	}
	next := maxID
	for _, c := range order {
		if out.ID[c] < 0 {
			next++
			out.ID[c] = next
		}
	}
	return out
}

// MaxK is the largest number of clusters (and of previous clusters) AssignIDs matches.
const MaxK = 12

// firstRunOrder lists the clusters in first-run id order.
func firstRunOrder(res *Result, orderBy string) []int {
	col := -1
	for j, t := range res.Used {
		if t.Name == orderBy {
			col = j
		}
	}
	order := make([]int, res.K)
	for c := range order {
		order[c] = c
	}
	sort.SliceStable(order, func(a, b int) bool {
		ca, cb := order[a], order[b]
		if col >= 0 && res.Centroids[ca][col] != res.Centroids[cb][col] {
			return res.Centroids[ca][col] > res.Centroids[cb][col]
		}
		if res.Sizes[ca] != res.Sizes[cb] {
			return res.Sizes[ca] > res.Sizes[cb]
		}
		return slices.Compare(res.Centroids[cb], res.Centroids[ca]) < 0
	})
	return order
}

// assign pairs rows with columns of cost (each used at most once, min(rows, cols) pairs) at
// the least total cost; it returns each row's column, -1 when unpaired. Ties go to the
// pairing found first (rows in order, lower columns first), so the result is deterministic.
func assign(cost [][]float64) []int {
	rows := len(cost)
	cols := 0
	if rows > 0 {
		cols = len(cost[0])
	}
	pairs := min(rows, cols)
	type state struct {
		cost float64
		ok   bool
	}
	// dp[i][mask]: least cost over rows[:i] with the columns of mask used, having made
	// popcount(mask) pairs; rows may stay unpaired only as many times as rows - pairs allows.
	full := 1 << cols
	dp := make([][]state, rows+1)
	for i := range dp {
		dp[i] = make([]state, full)
	}
	dp[0][0] = state{0, true}
	for i := range rows {
		for mask := range full {
			s := dp[i][mask]
			if !s.ok {
				continue
			}
			used := popcount(mask)
			if unpaired := i - used; unpaired < rows-pairs { // leave row i unpaired
				if t := &dp[i+1][mask]; !t.ok || s.cost < t.cost {
					*t = state{s.cost, true}
				}
			}
			for q := range cols {
				if mask&(1<<q) != 0 {
					continue
				}
				nm := mask | 1<<q
				if t := &dp[i+1][nm]; !t.ok || s.cost+cost[i][q] < t.cost {
					*t = state{s.cost + cost[i][q], true}
				}
			}
		}
	}
	best := -1
	for mask := range full {
		if s := dp[rows][mask]; s.ok && popcount(mask) == pairs && (best < 0 || s.cost < dp[rows][best].cost) {
			best = mask
		}
	}
	out := make([]int, rows)
	mask := best
	for i := rows - 1; i >= 0; i-- {
		// which move into (i+1, mask) the optimum took
		out[i] = -1
		target := dp[i+1][mask].cost
		if unpaired := i - popcount(mask); unpaired >= 0 && unpaired < rows-pairs {
			if s := dp[i][mask]; s.ok && s.cost == target {
				continue
			}
		}
		for q := range cols {
			if mask&(1<<q) == 0 {
				continue
			}
			pm := mask &^ (1 << q)
			if s := dp[i][pm]; s.ok && s.cost+cost[i][q] == target {
				out[i] = q
				mask = pm
				break
			}
		}
	}
	return out
}

func popcount(m int) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}

// AdjustedRand is the adjusted Rand index of two labellings of the same rows (1 = the same
// partition, about 0 = chance agreement), to score how well a clustering recovers known groups.
func AdjustedRand(a, b []int) float64 {
	n := len(a)
	type pair struct{ x, y int }
	nij := map[pair]int{}
	ai := map[int]int{}
	bj := map[int]int{}
	for i := range n {
		nij[pair{a[i], b[i]}]++
		ai[a[i]]++
		bj[b[i]]++
	}
	c2 := func(m int) float64 { return float64(m) * float64(m-1) / 2 }
	var index, sa, sb float64
	for _, v := range nij {
		index += c2(v)
	}
	for _, v := range ai {
		sa += c2(v)
	}
	for _, v := range bj {
		sb += c2(v)
	}
	expected := sa * sb / c2(n)
	maxIndex := (sa + sb) / 2
	if maxIndex == expected {
		return 1
	}
	return (index - expected) / (maxIndex - expected)
}
