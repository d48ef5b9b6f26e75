package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/cluster"
	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/vendors"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

// fixtureEnv lands internal/warehouse/testdata/<fixture>_raw.sql in a fresh lake as a full
// export of every configured demo entity it has, once for each of dates (the same rows each
// time), and returns params for segment runs on it.
func fixtureEnv(t *testing.T, fixture string, dates ...string) jobs.Params {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Parse(defaultconfig.DemoName, defaultconfig.DemoYAML, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := warehouse.Open(ctx, warehouse.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var raw []byte
	for _, f := range []string{"raw_schema.sql", fixture + "_raw.sql"} {
		b, err := os.ReadFile("../internal/warehouse/testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(append(raw, b...), '\n')
	}
	if err := s.Exec(ctx, string(raw)); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	tables, err := s.Query(ctx, "select table_name from information_schema.tables")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tables {
		have[r.Get("table_name").(string)] = true
	}
	dir := t.TempDir()
	for _, dt := range dates {
		for _, sourceName := range cfg.SourceNames() {
			src := cfg.Sources[sourceName]
			for _, entity := range src.EntityNames() {
				view := vendors.RawView(src.Vendor, entity)
				if !have[view] {
					continue
				}
				file := filepath.Join(dir, fmt.Sprintf("%s_%s_%s.parquet", sourceName, entity, dt))
				if err := s.Exec(ctx, fmt.Sprintf("copy (select * from %s) to '%s' (format parquet)", view, file)); err != nil {
					t.Fatalf("land %s/%s: %v", sourceName, entity, err)
				}
				rows, err := s.Query(ctx, "select count(*) as n from read_parquet(?)", file)
				if err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				key := lake.RawPrefix(sourceName, entity, dt) + "part-00000.parquet"
				info, err := store.Put(ctx, key, f)
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				n := int64(rows[0].Float("n"))
				if err := lake.WriteManifest(ctx, store, &lake.Manifest{
					Source: sourceName, Entity: entity, Dt: dt, RunID: "fixture", Mode: "full",
					Rows: n, Bytes: info.Size, Files: []lake.LandedFile{{Key: key, Rows: n, Bytes: info.Size}},
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return jobs.Params{Config: cfg, Lake: store, WorkDir: t.TempDir()}
}

// Two runs of the real segment job on the planted-clusters fixture: both publish the planted
// groups as clusters; the second reads the first's cluster_profiles from the lake
// (prev_cluster_profiles) and matches every cluster to its previous centroid, so each group
// keeps its id; the run record carries the transform's note.
func TestClustersAcrossRuns(t *testing.T) {
	const d1, d2 = "2025-06-29", "2025-06-30"
	p := fixtureEnv(t, "clusters", d1, d2)
	r1 := segmentAt(t, p, d1, 1)
	r2 := segmentAt(t, p, d2, 2)
	if got := r1.Previous["cluster_profiles"]; got != "" {
		t.Errorf("first run read a previous cluster_profiles of %s", got)
	}
	if got := r2.Previous["cluster_profiles"]; got != d1 {
		t.Errorf("second run read the previous cluster_profiles of %q, want %s", got, d1)
	}
	groups := func(asOf string) map[string]int {
		out := map[string]int{}
		var truth, labels []int
		for _, r := range readTable(t, historyFile(p, "customer_clusters", asOf)) {
			acc := r.Get("account_id").(string)
			id := int(r.Float("cluster_id"))
			if prev, ok := out[acc[:1]]; ok && prev != id {
				t.Errorf("%s: %s in cluster %d, others of its group in %d", asOf, acc, id, prev)
			}
			out[acc[:1]] = id
			truth, labels = append(truth, int(acc[0])), append(labels, id)
		}
		if ari := cluster.AdjustedRand(labels, truth); len(labels) != 90 || ari < 0.9 {
			t.Errorf("%s: %d customers clustered, ARI %.3f; want 90 and >= 0.9", asOf, len(labels), ari)
		}
		return out
	}
	g1, g2 := groups(d1), groups(d2)
	if fmt.Sprint(g1) != fmt.Sprint(g2) || g1["E"] != 1 || g1["M"] != 2 || g1["S"] != 3 {
		t.Errorf("ids %v then %v, want E 1, M 2, S 3 both times", g1, g2)
	}
	for _, r := range readTable(t, historyFile(p, "cluster_profiles", d2)) {
		if d := r.Float("previous_distance"); !(d < 0.2) {
			t.Errorf("second run: cluster %v matched at distance %v, want near 0 (one day apart)", r.Get("cluster_id"), r.Get("previous_distance"))
		}
	}
	for _, r := range readTable(t, historyFile(p, "cluster_profiles", d1)) {
		if r.Get("previous_distance") != nil {
			t.Errorf("first run: cluster %v has a previous_distance", r.Get("cluster_id"))
		}
	}
	b, err := lake.GetBytes(context.Background(), p.Lake, "runs/"+r2.RunID+".json")
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Models []jobs.ModelSummary `json:"models"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	note := ""
	for _, m := range rec.Models {
		if m.Name == "int_customer_clusters" {
			note = m.Note
		}
	}
	if !strings.HasPrefix(note, "k 3 (silhouette ") || !strings.Contains(note, "sizes by id 1: 30, 2: 30, 3: 30") {
		t.Errorf("run record note of int_customer_clusters: %q", note)
	}
}
