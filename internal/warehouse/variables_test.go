package warehouse

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	segsql "github.com/segpipe/segpipe/sql"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// overrides sets a key of every kind (a number, a list, a mapping, a flag, a group key).
const overrides = `currency: USD
lake: ./data
fx_rates: {EUR: 1.08, GBP: 1.25}
audit: {max_staging_drop_share: 0.05}
sources:
  crm:
    vendor: demo
    base_url: http://localhost:1/api
    currency: EUR
    entities:
      accounts: {path: /accounts, format: json, primary_key: id, columns: {id: string}}
segments:
  size_bands: [{name: Small, min: 1}, {name: Large, min: 500}]
  icp: {min_tenure_months: 0, employee_ranges: [1, 10, 100]}
  tiers: {tier3_min_arr: 0, score_weights: {arr: 0.7, growth: 0}, targets: [{tier: 1, retention: 0.9}]}
  pipeline: {inactive_days: 21, price_list: {Core: 12000, " Add-on  Pack ": 2500.5}, lost_zero_amount_is_unknown: true}
  ltv: {method: realized}
`

// ConfigVariables binds, for each shipped config and one that overrides a key of every kind,
// the variables of testdata/variables/<name>.txt: name, Go type and value, by name.
func TestConfigVariablesGolden(t *testing.T) {
	env := func(name string) (string, bool) {
		if strings.HasSuffix(name, "_URL") {
			return "http://127.0.0.1:1", true
		}
		return "token", true
	}
	files, err := filepath.Glob("../../config/examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../config/segpipe.yaml", "overrides")
	asOf := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			var cfg *config.Config
			var err error
			if file == "overrides" {
				cfg, err = config.Parse("overrides.yaml", []byte(overrides), env)
			} else {
				cfg, err = config.LoadWith(file, env)
			}
			if err != nil {
				t.Fatal(err)
			}
			vars := ConfigVariables(cfg, asOf)
			lines := make([]string, len(vars))
			for i, v := range vars {
				lines[i] = fmt.Sprintf("%s %T %v", v.Name, v.Value, v.Value)
			}
			sort.Strings(lines)
			got := strings.Join(lines, "\n") + "\n"
			golden := filepath.Join("testdata", "variables", name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("ConfigVariables differ from %s:\n%s", golden, got)
			}
		})
	}
}

// variableRead is one getvariable('name') in a file of sql/.
type variableRead struct{ path, name string }

// variableReads lists every getvariable read of sql/ (comments left out).
func variableReads(t *testing.T) []variableRead {
	t.Helper()
	pattern := regexp.MustCompile(`getvariable\('([a-z0-9_]+)'\)`)
	var reads []variableRead
	err := fs.WalkDir(segsql.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(segsql.Files, path)
		if err != nil {
			return err
		}
		for _, m := range pattern.FindAllStringSubmatch(StripComments(string(b)), -1) {
			reads = append(reads, variableRead{path, m[1]})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return reads
}

// Every variable a knob of the segments block binds is read by the SQL or by a Go transform
// (GoTransform.Variables): a threshold without a reader is a setting that does nothing.
func TestEveryKnobIsRead(t *testing.T) {
	read := map[string]bool{}
	for _, r := range variableReads(t) {
		read[r.name] = true
	}
	for _, g := range GoTransforms {
		for _, v := range g.Variables {
			read[v] = true
		}
	}
	vars := config.DefaultSegments().Variables()
	if len(vars) < 50 {
		t.Fatalf("only %d segments variables", len(vars))
	}
	for _, v := range vars {
		if !read[v.Name] {
			t.Errorf("segments variable %s is bound but no file of sql/ reads getvariable('%s')", v.Name, v.Name)
		}
	}
}
