package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

// writeModels writes files (path -> SQL) into a new models folder and returns it.
func writeModels(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, sql := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A models folder joins the project's DAG at run time: a user mart is built after the marts it
// reads, audited by its own assertion and published beside the built-in ones; when its
// assertion fails nothing is published. A file at a built-in model's path replaces it, and the
// run record says which.
func TestModelsFolderJoinsTheDAG(t *testing.T) {
	p, _ := demoEnv(t, 600, nil)
	ctx := context.Background()
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	mart := `-- industry_arr: one row per industry of active customers, with their ARR.
select industry, count(*) as customers, sum(exact(arr))::double as arr
from account_segments
where customer_status = 'active' and industry is not null
group by industry`
	guard := `-- population: industry_arr
select * from industry_arr where arr <= 0 or customers < %d`
	p.Config.Models = writeModels(t, map[string]string{
		"marts/industry_arr.sql":             mart,
		"tests/assert_industry_arr.sql":      strings.Replace(guard, "%d", "1", 1),
		"intermediate/int_account_seats.sql": mustReadBuiltIn(t, "intermediate/int_account_seats.sql") + "\n-- (a copy: replaces the built-in)",
	})
	p.RunID = jobs.NewRunID(time.Now())
	res, err := jobs.Segment(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := lake.ReadPublished(ctx, p.Lake)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range pub.Tables {
		names = append(names, tb.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "industry_arr") {
		t.Fatalf("published %v, want industry_arr among them", names)
	}
	rows := readTable(t, filepath.Join(p.Lake.(*lake.FileStore).Root(), "latest", "industry_arr.parquet"))
	want := readTable(t, filepath.Join(p.Lake.(*lake.FileStore).Root(), "latest", "account_segments.parquet"))
	arr := map[string]float64{}
	for _, r := range want {
		if r.Get("customer_status") == "active" && r.Get("industry") != nil {
			arr[r.Get("industry").(string)] += r.Float("arr")
		}
	}
	if len(rows) != len(arr) || len(rows) == 0 {
		t.Fatalf("industry_arr has %d rows, want %d industries", len(rows), len(arr))
	}
	for _, r := range rows {
		if got, w := r.Float("arr"), arr[r.Get("industry").(string)]; got-w > 0.01 || w-got > 0.01 {
			t.Errorf("%v: arr %v, want %v (from account_segments)", r.Get("industry"), got, w)
		}
	}
	var ran bool
	for _, a := range res.Assertions {
		ran = ran || (a.Name == "assert_industry_arr" && a.Outcome == warehouse.Passed)
	}
	if !ran {
		t.Errorf("assert_industry_arr did not run and pass: %+v", res.Assertions)
	}
	rec, err := lake.GetBytes(ctx, p.Lake, "runs/"+res.RunID+".json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Extra struct {
			Replaced []string `json:"replaced_models"`
		} `json:"extra"`
	}
	if err := json.Unmarshal(rec, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Extra.Replaced) != 1 || !strings.HasPrefix(r.Extra.Replaced[0], "intermediate/int_account_seats.sql <- "+p.Config.Models) {
		t.Errorf("run record replaced_models = %q", r.Extra.Replaced)
	}

	// The user's assertion fails (no industry has a million customers): nothing is published.
	before, _ := lake.ReadPublished(ctx, p.Lake)
	p.Config.Models = writeModels(t, map[string]string{
		"marts/industry_arr.sql":        mart,
		"tests/assert_industry_arr.sql": strings.Replace(guard, "%d", "1000000", 1),
	})
	p.RunID = jobs.NewRunID(time.Now())
	_, err = jobs.Segment(ctx, p)
	if !errors.Is(err, warehouse.ErrAssertionsFailed) || !strings.Contains(err.Error(), "assert_industry_arr") {
		t.Fatalf("a failing user assertion: %v", err)
	}
	after, _ := lake.ReadPublished(ctx, p.Lake)
	if after.RunID != before.RunID {
		t.Errorf("published run moved from %s to %s after a failed audit", before.RunID, after.RunID)
	}
}

func mustReadBuiltIn(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "sql", filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// config check builds the models folder too: a user mart reading a column no table has fails
// the check, naming the file and DuckDB's reason, before any run.
func TestCheckModelsNamesABadUserModel(t *testing.T) {
	p, _ := demoEnv(t, 10, nil)
	p.Config.Models = writeModels(t, map[string]string{"marts/broken.sql": "select no_such_column from account_segments"})
	_, err := jobs.CheckModels(context.Background(), p.Config, t.TempDir())
	var ce *config.Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "broken ("+filepath.Join(p.Config.Models, "marts", "broken.sql")+") does not build: Binder Error") {
		t.Errorf("check of a broken user mart: %v", err)
	}
	p.Config.Models = writeModels(t, map[string]string{"notes.txt": "x"})
	if _, err := jobs.CheckModels(context.Background(), p.Config, t.TempDir()); err == nil || !strings.Contains(err.Error(), "notes.txt is not a model") {
		t.Errorf("a stray file in the models folder: %v", err)
	}
	p.Config.Models = ""
	if _, err := jobs.CheckModels(context.Background(), p.Config, t.TempDir()); err != nil {
		t.Errorf("the demo config: %v", err)
	}
}

// A source with no preset and no map, read by a staging model of the user's own: the demo
// support desk declared generic, its tickets landed as they are and staged by
// models/staging/support/stg_tickets.sql (the demo vendor's staging, written against
// raw_support__tickets). Every published table equals, byte for byte, a run with the preset.
func TestUserStagingForAGenericSource(t *testing.T) {
	p, _ := demoEnv(t, 800, nil)
	ctx := context.Background()
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	want := publishedFiles(t, p, 2, filepath.Join(tmp, "preset"))

	cfg := *p.Config
	cfg.Sources = map[string]*config.Source{}
	for name, src := range p.Config.Sources {
		cfg.Sources[name] = src
	}
	support := *p.Config.Sources["support"]
	support.Vendor = config.Generic
	cfg.Sources["support"] = &support
	staging := strings.ReplaceAll(mustReadBuiltIn(t, "staging/demo/stg_tickets.sql"), "raw_demo__tickets", "raw_support__tickets")
	cfg.Models = writeModels(t, map[string]string{"staging/support/stg_tickets.sql": staging})
	if _, err := jobs.CheckModels(ctx, &cfg, t.TempDir()); err != nil {
		t.Fatalf("config check: %v", err)
	}
	p.Config = &cfg
	got := publishedFiles(t, p, 2, filepath.Join(tmp, "custom"))
	if len(got) != len(want) {
		t.Fatalf("%d tables published, the preset run %d", len(got), len(want))
	}
	for name, b := range want {
		if !bytes.Equal(b, got[name]) {
			t.Errorf("%s differs from the preset run's", name)
		}
	}

	// Without the user's model nothing reads the landed tickets: config check says so up front.
	cfg.Models = writeModels(t, map[string]string{"marts/nothing.sql": "select 1 as x"})
	_, err := jobs.CheckModels(ctx, &cfg, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "sources.support.entities.tickets: no staging model reads raw_support__tickets") {
		t.Errorf("a generic entity that nothing stages: %v", err)
	}
}
