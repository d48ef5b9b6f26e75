package vendors_test

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/fakes"
	"github.com/segpipe/segpipe/internal/vendors"
	"github.com/segpipe/segpipe/internal/warehouse"
	segsql "github.com/segpipe/segpipe/sql"
)

// root is the repository root, where the registry's paths start.
const root = "../.."

// demoURL stands for ${SEGPIPE_DEMO_URL} when the example configs are parsed.
const demoURL = "http://127.0.0.1:1"

func readRepoFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("%v", err)
	}
	return b
}

func parseExample(t *testing.T, name string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(name, readRepoFile(t, name), func(k string) (string, bool) {
		if k == "SEGPIPE_DEMO_URL" {
			return demoURL, true
		}
		return "", false
	})
	if err != nil {
		t.Fatalf("example config %s does not pass validation: %v", name, err)
	}
	return cfg
}

// Every vendor of the registry has all it needs: a preset that parses (or none, as registered),
// staging SQL that reads only the vendor's raw views, a fake in the demo, a docs page naming its
// example config, and that example config, which validates and reads the vendor for each of its
// kinds from the fake.
func TestRegistryIsComplete(t *testing.T) {
	for _, v := range vendors.All() {
		t.Run(v.Name, func(t *testing.T) {
			// The preset: the file named, embedded in the config package, a YAML mapping of
			// source keys with entities.
			embedded, ok := config.Preset(v.Name)
			if v.Preset == "" {
				if ok {
					t.Errorf("config.Preset(%q) has a preset the registry does not name", v.Name)
				}
			} else {
				if !ok || !bytes.Equal(embedded, readRepoFile(t, v.Preset)) {
					t.Errorf("config.Preset(%q) is not %s (found %v)", v.Name, v.Preset, ok)
				}
				var preset struct {
					Entities map[string]yaml.Node `yaml:"entities"`
				}
				if err := yaml.Unmarshal(embedded, &preset); err != nil || len(preset.Entities) == 0 {
					t.Errorf("preset %s: no entities (%v)", v.Preset, err)
				}
			}

			// The staging SQL: embedded, at least one model, each reading raw views of this
			// vendor only.
			dir, ok := strings.CutPrefix(v.Staging, "sql/")
			if !ok {
				t.Fatalf("staging folder %s is not under sql/", v.Staging)
			}
			models, err := fs.Glob(segsql.Files, dir+"/*.sql")
			if err != nil || len(models) == 0 {
				t.Errorf("staging folder %s has no models (%v)", v.Staging, err)
			}
			for _, m := range models {
				b, err := fs.ReadFile(segsql.Files, m)
				if err != nil {
					t.Fatal(err)
				}
				refs := vendors.RawViewRefs(warehouse.StripComments(string(b)))
				if len(refs) == 0 {
					t.Errorf("sql/%s reads no raw view", m)
				}
				for _, r := range refs {
					if from, _, ok := vendors.ParseRawView(r); !ok || from != v.Name {
						t.Errorf("sql/%s reads %s, not a raw view of %s", m, r, v.Name)
					}
				}
			}

			// The fake.
			fake, ok := fakes.Fakes[v.Name]
			hasFake := ok && fake.New != nil
			if !hasFake {
				t.Errorf("internal/demo/fakes has no fake of %s", v.Name)
			}

			// The docs page names the example config.
			if docs := readRepoFile(t, v.Docs); !bytes.Contains(docs, []byte(v.Example)) {
				t.Errorf("%s does not name the example config %s", v.Docs, v.Example)
			}

			// The example config validates and reads the vendor, from its fake, for each of
			// its kinds, in a source named after the kind.
			cfg := parseExample(t, v.Example)
			for _, k := range v.Kinds {
				src := cfg.Sources[string(k)]
				if src == nil || src.Vendor != v.Name {
					t.Errorf("%s has no %s source of vendor %s", v.Example, k, v.Name)
					continue
				}
				if !hasFake {
					continue
				}
				if at := demoURL + fake.Mount; src.BaseURL != at && !strings.HasPrefix(src.BaseURL, at+"/") {
					t.Errorf("%s: sources.%s.base_url is %s, not under the fake's %s", v.Example, k, src.BaseURL, demoURL+fake.Mount)
				}
				token := fake.Token
				if token == "" {
					token = demo.DefaultTokens()[string(k)]
				}
				if got := src.Auth.Token.Reveal(); got != token {
					t.Errorf("%s: sources.%s defaults its token to %q, the fake accepts %q", v.Example, k, got, token)
				}
			}

			// The docs that list the vendors name it.
			for _, page := range []string{"docs/configuration.md", "docs/sources.md"} {
				if !bytes.Contains(readRepoFile(t, page), []byte("`"+v.Name+"`")) {
					t.Errorf("%s does not list the vendor `%s`", page, v.Name)
				}
			}
		})
	}
}

// Every vendor's file on disk belongs to a vendor of the registry: a preset, a staging folder,
// a docs page, an example config and a fake without an entry would be a vendor half added.
func TestEveryVendorFileIsRegistered(t *testing.T) {
	registered := map[string]bool{} // every path the registry names
	for _, v := range vendors.All() {
		for _, p := range []string{v.Preset, v.Staging, v.Docs, v.Example} {
			if p != "" {
				registered[p] = true
			}
		}
	}
	glob := func(pattern string) []string {
		t.Helper()
		matches, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
		if err != nil || len(matches) == 0 {
			t.Fatalf("%s: nothing found (%v)", pattern, err)
		}
		var out []string
		for _, m := range matches {
			rel, err := filepath.Rel(root, m)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return out
	}
	for _, p := range slices.Concat(glob("internal/config/presets/*.yaml"), glob("docs/vendors/*.md")) {
		if !registered[p] {
			t.Errorf("%s belongs to no vendor of internal/vendors", p)
		}
	}
	for _, p := range glob("sql/staging/*") {
		if info, err := os.Stat(filepath.Join(root, p)); err != nil || !info.IsDir() || path.Base(p) == warehouse.DefaultsVendor {
			continue
		}
		if !registered[p] {
			t.Errorf("%s belongs to no vendor of internal/vendors", p)
		}
	}
	// An example config that is no vendor's reads a system of the user's own (vendor: generic).
	for _, p := range glob("config/examples/*.yaml") {
		if registered[p] {
			continue
		}
		cfg := parseExample(t, p)
		if !slices.ContainsFunc(cfg.SourceNames(), func(s string) bool { return cfg.Sources[s].Vendor == config.Generic }) {
			t.Errorf("%s belongs to no vendor of internal/vendors and has no generic source", p)
		}
	}
	for name := range fakes.Fakes {
		if _, ok := vendors.Lookup(name); !ok {
			t.Errorf("internal/demo/fakes has a fake of %s, which is no vendor of internal/vendors", name)
		}
	}
}
