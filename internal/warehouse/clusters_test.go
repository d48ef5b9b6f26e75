package warehouse

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/cluster"
	"github.com/segpipe/segpipe/internal/config"
	segsql "github.com/segpipe/segpipe/sql"
)

// buildClusters builds the clusters fixture (testdata/clusters_raw.sql) with extra run before
// the models (a prev_cluster_profiles table, say), runs every assertion and returns the session
// and the build's model runs.
func buildClusters(t *testing.T, mutate func(*config.Config), extra string) (*Session, []ModelRun) {
	t.Helper()
	ctx := context.Background()
	cfg := demoConfig(t)
	if mutate != nil {
		mutate(cfg)
	}
	s, err := Open(ctx, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Exec(ctx, fixtureSQL(t, "clusters")); err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	if extra != "" {
		if err := s.Exec(ctx, extra); err != nil {
			t.Fatalf("extra: %v", err)
		}
	}
	landed, err := s.Landed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	models, err := LoadModels(segsql.Files, landed)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Build(ctx, segsql.Files, models, ConfigVariables(cfg, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	assertions, err := LoadAssertions(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunAssertions(ctx, assertions); err != nil {
		t.Fatalf("assertions: %v", err)
	}
	return s, runs
}

func noteOf(runs []ModelRun, model string) string {
	for _, r := range runs {
		if r.Name == model {
			return r.Note
		}
	}
	return "<not built>"
}

// The planted groups come out as the clusters: k 3, adjusted Rand index >= 0.9 against the
// planted group (the account id's first letter), ids by centroid ARR on a first run, profiles
// with the group's size, centroid, ARR and over-represented industry.
func TestClustersRecoverPlantedGroups(t *testing.T) {
	s, runs := buildClusters(t, nil, "")
	ctx := context.Background()
	rows, err := s.Query(ctx, "select account_id, cluster_id, distance_to_centroid, missing_features from customer_clusters order by account_id")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 90 {
		t.Fatalf("customer_clusters has %d rows, want the 90 active customers (not P1, C1)", len(rows))
	}
	var truth, labels []int
	idOf := map[string]int{}
	for _, r := range rows {
		acc := str(r, "account_id")
		truth = append(truth, int(acc[0]))
		id := int(num(t, r, "cluster_id"))
		labels = append(labels, id)
		if prev, ok := idOf[acc[:1]]; ok && prev != id {
			t.Errorf("%s in cluster %d, others of its group in %d", acc, id, prev)
		}
		idOf[acc[:1]] = id
		if d := num(t, r, "distance_to_centroid"); !(d >= 0 && d < 1) {
			t.Errorf("%s: distance %v", acc, d)
		}
		if m, ok := r.Get("missing_features").([]any); !ok || len(m) != 0 {
			t.Errorf("%s: missing_features %v, want empty (every feature is known)", acc, r.Get("missing_features"))
		}
	}
	ari := cluster.AdjustedRand(labels, truth)
	if ari < 0.9 {
		t.Errorf("adjusted Rand index %.3f, want >= 0.9", ari)
	}
	if idOf["E"] != 1 || idOf["M"] != 2 || idOf["S"] != 3 {
		t.Errorf("first-run ids %v, want E 1, M 2, S 3 (by centroid ARR)", idOf)
	}
	t.Logf("ARI %.3f; note: %s", ari, noteOf(runs, "int_customer_clusters"))
	if note := noteOf(runs, "cluster_profiles"); note != "" {
		t.Errorf("a SQL model has a note: %q", note)
	}
	if !strings.HasPrefix(noteOf(runs, "int_customer_clusters"), "k 3 (silhouette") {
		t.Errorf("note %q", noteOf(runs, "int_customer_clusters"))
	}

	profiles := rowsBy(t, s, "select cluster_id as id, * from cluster_profiles")
	if len(profiles) != 3 {
		t.Fatalf("cluster_profiles has %d rows, want 3", len(profiles))
	}
	want := map[string]struct {
		arr, employees, seats, tenure, industryLift float64
		industry                                    string
	}{
		"1": {240000 * 1.2, 5000, 400, 36, 3, "FinTech"},
		"2": {36000, 400, 40, 17, 3, "Software"},
		"3": {3600, 20, 5, 5, 3, ""}, // Retail and Media: half each, lift 1.5 (= icp.min_lift)
	}
	for id, w := range want {
		p := profiles[id]
		if num(t, p, "customers") != 30 || math.Abs(num(t, p, "share_of_customers")-1.0/3) > 1e-12 {
			t.Errorf("cluster %s: %v customers, share %v", id, p.Get("customers"), p.Get("share_of_customers"))
		}
		if num(t, p, "k") != 3 {
			t.Errorf("cluster %s: k %v", id, p.Get("k"))
		}
		if sil := num(t, p, "silhouette"); sil < 0.7 || sil > 1 {
			t.Errorf("cluster %s: silhouette %v, planted groups this far apart score above 0.7", id, sil)
		}
		if f := fmt.Sprint(p.Get("features")); f != "[arr tenure_months active_share seats tickets_per_month mrr_growth employees]" {
			t.Errorf("cluster %s: features %s", id, f)
		}
		// centroids in the features' units, within the planted noise (±10%)
		for col, v := range map[string]float64{"centroid_arr": w.arr, "centroid_employees": w.employees, "centroid_seats": w.seats} {
			if got := num(t, p, col); math.Abs(got-v)/v > 0.1 {
				t.Errorf("cluster %s: %s = %.1f, want about %v", id, col, got, v)
			}
		}
		if got := num(t, p, "centroid_tenure_months"); math.Abs(got-w.tenure) > 1.5 {
			t.Errorf("cluster %s: centroid_tenure_months %.2f, want about %v", id, got, w.tenure)
		}
		if p.Get("previous_distance") != nil {
			t.Errorf("cluster %s: previous_distance %v on a first run", id, p.Get("previous_distance"))
		}
		over := fmt.Sprint(p.Get("over_represented"))
		if w.industry != "" && !strings.Contains(over, "attribute:industry") || w.industry != "" && !strings.Contains(over, "value:"+w.industry) {
			t.Errorf("cluster %s: over_represented %s, want industry=%s (lift 3)", id, over, w.industry)
		}
	}
	var arrShare float64
	for _, p := range profiles {
		arrShare += num(t, p, "arr_share")
	}
	near(t, "sum of arr_share", arrShare, 1)
	// the enterprise cluster's industry: FinTech for all 30, a third of the clustered customers
	lifts, err := s.Query(ctx, "select o.share_in_cluster, o.lift from cluster_profiles, unnest(over_represented) u(o) where cluster_id = 1 and o.attribute = 'industry' and o.value = 'FinTech'")
	if err != nil || len(lifts) != 1 {
		t.Fatalf("FinTech lift of cluster 1: %v %v", lifts, err)
	}
	near(t, "share_in_cluster", num(t, lifts[0], "share_in_cluster"), 1)
	near(t, "lift", num(t, lifts[0], "lift"), 3)
}

// A second run reads the previous run's profiles: each planted group keeps the id it had
// there, whatever the first-run order would give; a cluster no previous one matches gets an id
// above the previous largest.
func TestClusterIDsKeptFromThePreviousRun(t *testing.T) {
	first, _ := buildClusters(t, nil, "")
	ctx := context.Background()
	prev, err := first.Query(ctx, "select cluster_id, centroid_arr, centroid_tenure_months, centroid_active_share, centroid_seats, centroid_tickets_per_month, centroid_mrr_growth, centroid_employees from cluster_profiles order by cluster_id")
	if err != nil {
		t.Fatal(err)
	}
	// the previous run called E 7 and S 4, and had no cluster like M: its third one was far away
	newID := map[int]int{1: 7, 3: 4}
	var values []string
	for _, r := range prev {
		id := int(num(t, r, "cluster_id"))
		vals := []string{}
		for _, c := range r.Columns[1:] {
			v := num(t, r, c)
			if id == 2 {
				v *= 1000 // M's centroid moved far off
			}
			vals = append(vals, fmt.Sprint(v))
		}
		pid := newID[id]
		if id == 2 {
			pid = 5
		}
		values = append(values, fmt.Sprintf("(%d, %s)", pid, strings.Join(vals, ", ")))
	}
	extra := `create table prev_cluster_profiles as select * from (values ` + strings.Join(values, ", ") + `)
		t(cluster_id, centroid_arr, centroid_tenure_months, centroid_active_share, centroid_seats, centroid_tickets_per_month, centroid_mrr_growth, centroid_employees)`
	// and this run's data differ a little: every invoice 3% higher
	extra += `; update raw_demo__invoices set amount_cents = round(amount_cents * 1.03)`
	second, runs := buildClusters(t, nil, extra)
	got := rowsBy(t, second, "select left(account_id, 1) as grp, min(cluster_id) as id, max(cluster_id) as id_max from customer_clusters group by 1")
	// k is 3 again, so the 3 clusters pair with the 3 previous ones: M takes the far 5, whose
	// distance says how far it moved
	for grp, want := range map[string]int{"E": 7, "S": 4, "M": 5} {
		if r := got[grp]; num(t, r, "id") != float64(want) || num(t, r, "id_max") != float64(want) {
			t.Errorf("group %s: ids %v-%v, want %d", grp, r.Get("id"), r.Get("id_max"), want)
		}
	}
	dist := rowsBy(t, second, "select cluster_id, previous_distance from cluster_profiles")
	if d := num(t, dist["7"], "previous_distance"); !(d < 0.3) {
		t.Errorf("E matched at distance %v, want small", d)
	}
	if d := num(t, dist["5"], "previous_distance"); !(d > 3) {
		t.Errorf("M matched at distance %v, want large (its previous centroid moved)", d)
	}
	t.Logf("second run: %s", noteOf(runs, "int_customer_clusters"))

	// k_max 2 against three previous clusters: two ids kept, none new
	third, _ := buildClusters(t, func(c *config.Config) { c.Segments.Clusters.KMax = 2 }, extra)
	ids := rowsBy(t, third, "select cluster_id, customers from cluster_profiles")
	if len(ids) != 2 {
		t.Fatalf("k_max 2: %d clusters", len(ids))
	}
	for id := range ids {
		if id != "7" && id != "4" && id != "5" {
			t.Errorf("k_max 2: cluster id %s is not a previous one", id)
		}
	}
}

// Clustering that cannot or should not run leaves both tables empty, says why in the note
// and fails nothing (the assertions pass on empty tables).
func TestClustersEmptyWithAReason(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*config.Config)
		note   string
	}{
		{"too few customers", func(c *config.Config) { c.Segments.Clusters.MinCustomers = 91 },
			"90 active customers, fewer than segments.clusters.min_customers (91): no clusters"},
		{"off", func(c *config.Config) { c.Segments.Clusters.Enabled = false },
			"clustering is off (segments.clusters.enabled: false): no clusters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, runs := buildClusters(t, tc.mutate, "")
			for _, table := range []string{"customer_clusters", "cluster_profiles", "int_cluster_centroids"} {
				if n := rowsBy(t, s, "select count(*) from "+table); n["0"].Values == nil {
					t.Errorf("%s is not empty", table)
				}
			}
			for _, m := range []string{"int_customer_clusters", "int_cluster_centroids"} {
				if got := noteOf(runs, m); got != tc.note {
					t.Errorf("%s note %q, want %q", m, got, tc.note)
				}
			}
		})
	}
}

// A feature no source provides is left out and the tables say so: without usage rows and
// tickets (no product or support source), active_share and tickets_per_month are dropped.
func TestClustersWithoutUsageAndSupport(t *testing.T) {
	s, _ := buildClusters(t, nil, "drop table raw_demo__usage; drop table raw_demo__tickets")
	p := rowsBy(t, s, "select cluster_id, features, dropped_features, centroid_active_share, centroid_tickets_per_month, customers from cluster_profiles")
	if len(p) != 3 {
		t.Fatalf("%d clusters, want the 3 planted", len(p))
	}
	for id, r := range p {
		if f := fmt.Sprint(r.Get("features")); f != "[arr tenure_months seats mrr_growth employees]" {
			t.Errorf("cluster %s: features %s", id, f)
		}
		if d := fmt.Sprint(r.Get("dropped_features")); !strings.Contains(d, "active_share: values for 0 of 90") || !strings.Contains(d, "tickets_per_month: values for 0 of 90") {
			t.Errorf("cluster %s: dropped_features %s", id, d)
		}
		if r.Get("centroid_active_share") != nil || r.Get("centroid_tickets_per_month") != nil {
			t.Errorf("cluster %s: a centroid of a feature not used", id)
		}
		if num(t, r, "customers") != 30 {
			t.Errorf("cluster %s: %v customers", id, r.Get("customers"))
		}
	}
}
