package main

import (
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/datadocs"
)

// segpipe docs with no flags documents the demo's run: every published table with its key
// and every column, the assertions under the tables they read, one graph node per model and
// assertion and an edge per dependency the warehouse computes, and nothing fetched from
// outside the file.
func TestDocsWritesOneSelfContainedFile(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "docs", "--out", dir)
	if code != 0 {
		t.Fatalf("segpipe docs: exit %d: %s%s", code, out, errOut)
	}
	b, err := os.ReadFile(filepath.Join(dir, docsFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	cfg, err := config.Parse(defaultconfig.DemoName, defaultconfig.DemoYAML, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	site, err := docsSite(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dict, err := datadocs.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if m := countMarts(site); m != 21 {
		t.Errorf("the demo run builds %d marts, want 21", m)
	}
	sections := map[string]string{}
	for _, s := range regexp.MustCompile(`(?s)<section id="table-([a-z0-9_]+)" class="table">(.*?)</section>`).FindAllStringSubmatch(page, -1) {
		sections[s[1]] = s[2]
	}
	for _, m := range site.Models {
		if !strings.Contains(page, `id="node-`+m.Name+`"`) {
			t.Errorf("the graph has no node for model %s", m.Name)
		}
		if m.Layer != "marts" {
			continue
		}
		sec, ok := sections[m.Name]
		if !ok {
			t.Errorf("no section for published table %s", m.Name)
			continue
		}
		doc, ok := dict.Table(m.Name)
		if !ok {
			t.Errorf("%s is not in docs/tables.md", m.Name)
			continue
		}
		key := regexp.MustCompile(`<p class="key">(.*?)</p>`).FindStringSubmatch(sec)
		for _, k := range doc.Key {
			if key == nil || !strings.Contains(key[1], "<code>"+k+"</code>") {
				t.Errorf("%s: the key line %q lacks %s", m.Name, key, k)
			}
		}
		if doc.Surrogate && !strings.Contains(key[1], "<code>row_key</code> is its surrogate") {
			t.Errorf("%s: the key line does not name row_key", m.Name)
		}
		for _, c := range doc.Columns {
			row := "<tr class=\"column\"><td><code>" + c.Name + "</code></td><td>" + c.Type + "</td><td>" + c.Description() + "</td></tr>"
			if !strings.Contains(html.UnescapeString(sec), row) {
				t.Errorf("%s: no row %s", m.Name, row)
			}
		}
	}
	for _, a := range site.Assertions {
		if !strings.Contains(page, `id="node-`+a.Name+`"`) || !strings.Contains(page, `id="assertion-`+a.Name+`"`) {
			t.Errorf("assertion %s is not in the graph and the list", a.Name)
		}
		for _, r := range a.Reads {
			if sec, ok := sections[r]; ok && !strings.Contains(sec, `href="#assertion-`+a.Name+`">`) {
				t.Errorf("%s reads %s, but the table's section does not list it", a.Name, r)
			}
		}
	}
	nodes := strings.Count(page, `<g class="node `)
	if want := len(site.Models) + len(site.Assertions); nodes != want {
		t.Errorf("%d graph nodes, want %d (models and assertions)", nodes, want)
	}
	edges, want := strings.Count(page, `<path class="edge"`), 0
	for _, m := range site.Models {
		want += len(m.Refs)
	}
	for _, a := range site.Assertions {
		want += len(a.Reads)
	}
	if edges != want || want < 100 {
		t.Errorf("%d graph edges, want %d (a model's refs, an assertion's reads)", edges, want)
	}
	if ext := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/|<script|<link|@import|url\(`).FindAllString(page, -1); len(ext) > 0 {
		t.Errorf("the page refers outside itself: %q", ext)
	}
	if !strings.Contains(out, "21 published tables") {
		t.Errorf("stdout %q", out)
	}
}

func TestDocsUsage(t *testing.T) {
	if code, _, errOut := runCLI(t, "docs", "extra"); code != exitUsage || !strings.Contains(errOut, "docs takes no arguments") {
		t.Errorf("docs extra: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "docs", "--out", filepath.Join(t.TempDir(), "no", "such", "x.html")); code != exitFailed || !strings.Contains(errOut, "docs: write") {
		t.Errorf("docs into a missing folder: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "docs", "--config", filepath.Join(t.TempDir(), "missing.yaml")); code == 0 {
		t.Errorf("docs with a missing config: %d %q", code, errOut)
	}
}
