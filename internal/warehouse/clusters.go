package warehouse

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/segpipe/segpipe/internal/cluster"
)

// clusterFeatures are the columns of int_cluster_features after account_id, in order, and
// whether each is log1p-transformed before it is standardized (docs/domain.md §12): money and
// counts are heavy-tailed (a $1M customer is not a hundred $10K ones apart from the rest), and
// so is growth (log1p(mrr_growth) = log of the MRR ratio: doubling and halving are the same
// distance); tenure and the active share are spread evenly enough as they are.
var clusterFeatures = []cluster.Feature{
	{Name: "arr", Log: true},
	{Name: "tenure_months"},
	{Name: "active_share"},
	{Name: "seats", Log: true},
	{Name: "tickets_per_month", Log: true},
	{Name: "mrr_growth", Log: true},
	{Name: "employees", Log: true},
}

// clusterIDsBy orders a first run's cluster ids: by centroid ARR, highest first.
const clusterIDsBy = "arr"

var clustersTransform = &GoTransform{
	Name:    "clusters",
	Outputs: []string{"int_customer_clusters", "int_cluster_centroids"},
	Variables: []string{"cluster_enabled", "cluster_k_min", "cluster_k_max", "cluster_seed", "cluster_restarts",
		"cluster_fit_sample", "cluster_silhouette_sample", "cluster_min_customers"},
	Run: runClusters,
}

// runClusters reads int_cluster_features (by account_id) and prev_cluster_profiles, clusters
// the customers (internal/cluster) and fills int_customer_clusters and int_cluster_centroids.
func runClusters(ctx context.Context, s *Session) (string, error) {
	vars, err := s.Query(ctx, `select getvariable('cluster_enabled') as enabled,
		getvariable('cluster_k_min') as k_min, getvariable('cluster_k_max') as k_max,
		getvariable('cluster_seed') as seed, getvariable('cluster_restarts') as restarts,
		getvariable('cluster_fit_sample') as fit_sample, getvariable('cluster_silhouette_sample') as silhouette_sample,
		getvariable('cluster_min_customers') as min_customers`)
	if err != nil || len(vars) != 1 {
		return "", fmt.Errorf("read the clusters variables: %v", err)
	}
	v := vars[0]
	if enabled, _ := v.Get("enabled").(bool); !enabled {
		return "clustering is off (segments.clusters.enabled: false): no clusters", nil
	}
	intVar := func(name string) int {
		f := v.Float(name)
		if math.IsNaN(f) {
			return 0
		}
		return int(f)
	}
	opts := cluster.Options{KMin: intVar("k_min"), KMax: intVar("k_max"), Seed: uint64(intVar("seed")),
		Restarts: intVar("restarts"), FitSample: intVar("fit_sample"), SilhouetteSample: intVar("silhouette_sample")}
	minCustomers := intVar("min_customers")

	cols := []string{"account_id"}
	for _, f := range clusterFeatures {
		cols = append(cols, f.Name)
	}
	rows, err := s.query(ctx, "select "+strings.Join(cols, ", ")+" from int_cluster_features order by account_id")
	if err != nil {
		return "", fmt.Errorf("read int_cluster_features: %w", err)
	}
	var ids []string
	var values [][]float64
	for rows.Next() {
		var id string
		vals := make([]*float64, len(clusterFeatures))
		dest := []any{&id}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return "", fmt.Errorf("read int_cluster_features: %w", err)
		}
		row := make([]float64, len(vals))
		for i, p := range vals {
			row[i] = math.NaN()
			if p != nil {
				row[i] = *p
			}
		}
		ids, values = append(ids, id), append(values, row)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return "", fmt.Errorf("read int_cluster_features: %w", err)
	}
	rows.Close()
	if len(ids) < minCustomers {
		return fmt.Sprintf("%d active customers, fewer than segments.clusters.min_customers (%d): no clusters", len(ids), minCustomers), nil
	}
	res, err := cluster.Run(clusterFeatures, values, opts)
	if errors.Is(err, cluster.ErrTooFew) {
		return fmt.Sprintf("%v: no clusters", err), nil
	}
	if err != nil {
		return "", err
	}
	prev, err := previousClusters(ctx, s)
	if err != nil {
		return "", err
	}
	assigned := cluster.AssignIDs(res, prev, clusterIDsBy)

	i := 0
	err = s.Append(ctx, "int_customer_clusters", func(row []driver.Value) bool {
		if i == len(ids) {
			return false
		}
		missing := res.Missing[i]
		if missing == nil {
			missing = []string{}
		}
		row[0], row[1], row[2], row[3] = ids[i], int32(assigned.ID[res.Labels[i]]), res.Distance[i], missing
		i++
		return true
	}, 4)
	if err != nil {
		return "", err
	}
	var used, dropped []string
	for _, t := range res.Used {
		used = append(used, t.Name)
	}
	dropped = []string{}
	for _, d := range res.Dropped {
		dropped = append(dropped, d.Feature+": "+d.Reason)
	}
	var byK []any
	for _, sc := range res.Scores {
		byK = append(byK, map[string]any{"k": int32(sc.K), "silhouette": sc.Silhouette})
	}
	c := 0
	err = s.Append(ctx, "int_cluster_centroids", func(row []driver.Value) bool {
		if c == res.K {
			return false
		}
		cent := res.OriginalCentroid(c)
		row[0], row[1], row[2], row[3], row[4], row[5] = int32(assigned.ID[c]), int32(res.K), res.Silhouette, byK, used, dropped
		for j, f := range clusterFeatures {
			row[6+j] = nil
			if x, ok := cent[f.Name]; ok {
				row[6+j] = x
			}
		}
		row[6+len(clusterFeatures)] = nil
		if d := assigned.MatchDistance[c]; !math.IsNaN(d) {
			row[6+len(clusterFeatures)] = d
		}
		c++
		return true
	}, 7+len(clusterFeatures))
	if err != nil {
		return "", err
	}
	order := make([]int, res.K)
	for c := range order {
		order[c] = c
	}
	slices.SortFunc(order, func(a, b int) int { return assigned.ID[a] - assigned.ID[b] })
	var sizes []string
	for _, c := range order {
		sizes = append(sizes, fmt.Sprintf("%d: %d", assigned.ID[c], res.Sizes[c]))
	}
	note := fmt.Sprintf("k %d (silhouette %.3f) on %s; %d customers; sizes by id %s", res.K, res.Silhouette, strings.Join(used, ", "), len(ids), strings.Join(sizes, ", "))
	if len(dropped) > 0 {
		note += "; left out " + strings.Join(dropped, "; ")
	}
	return note, nil
}

// previousClusters reads the previous run's centroids (prev_cluster_profiles: the published
// partition, or the empty shape on a first run), by the centroid_<feature> columns it has.
func previousClusters(ctx context.Context, s *Session) ([]cluster.Previous, error) {
	have, err := s.Query(ctx, "select column_name from information_schema.columns where table_name = 'prev_cluster_profiles'")
	if err != nil {
		return nil, fmt.Errorf("read prev_cluster_profiles: %w", err)
	}
	present := map[string]bool{}
	for _, r := range have {
		present[fmt.Sprint(r.Values[0])] = true
	}
	if !present["cluster_id"] {
		return nil, nil
	}
	var cols, names []string
	for _, f := range clusterFeatures {
		if present["centroid_"+f.Name] {
			cols = append(cols, "centroid_"+f.Name)
			names = append(names, f.Name)
		}
	}
	if len(cols) == 0 {
		return nil, nil
	}
	rows, err := s.Query(ctx, "select cluster_id, "+strings.Join(cols, ", ")+" from prev_cluster_profiles where cluster_id is not null order by cluster_id")
	if err != nil {
		return nil, fmt.Errorf("read prev_cluster_profiles: %w", err)
	}
	var out []cluster.Previous
	for _, r := range rows {
		p := cluster.Previous{ID: int(r.Float("cluster_id")), Centroid: map[string]float64{}}
		for i, n := range names {
			if x := r.Float(cols[i]); !math.IsNaN(x) {
				p.Centroid[n] = x
			}
		}
		out = append(out, p)
	}
	return out, nil
}
