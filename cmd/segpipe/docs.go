package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/datadocs"
	"github.com/segpipe/segpipe/internal/warehouse"
	segsql "github.com/segpipe/segpipe/sql"
)

// docsFile is the file name `segpipe docs` writes when --out is a directory.
const docsFile = "segpipe-docs.html"

// cmdDocs writes the data docs: one self-contained HTML file with the model graph and every
// published table's grain, key, columns and assertions, for the models a run of the config
// builds.
func cmdDocs(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("docs", "segpipe docs [--out FILE_OR_DIR] [--config FILE]", stdout)
	out := fs.String("out", docsFile, "HTML file to write, or an existing directory to write "+docsFile+" into")
	file := fs.String("config", "", "config whose run to document (default: the embedded demo config/segpipe.yaml)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("docs takes no arguments, got %q", fs.Args())
	}
	cfg, err := demoConfig(*file, os.LookupEnv)
	if err != nil {
		return err
	}
	site, err := docsSite(cfg)
	if err != nil {
		return err
	}
	name := *file
	if name == "" {
		name = "config/segpipe.yaml (the demo)"
	}
	site.Config = name
	var buf bytes.Buffer
	if err := datadocs.Render(&buf, site); err != nil {
		return err
	}
	path := *out
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, docsFile)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("docs: write %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d models, %d published tables, %d assertions\n", path, len(site.Models), countMarts(site), len(site.Assertions))
	return nil
}

// docsSite plans the models and assertions a segment run of cfg builds, as the run does
// (warehouse.RunFiles, PlanModels on the views the config lands, PlanAssertions), and pairs
// them with the data dictionary.
func docsSite(cfg *config.Config) (datadocs.Site, error) {
	files, _, err := warehouse.RunFiles(cfg, segsql.Files)
	if err != nil {
		return datadocs.Site{}, &config.Error{Problems: []config.Problem{cfg.Problem("models", "%v", err)}}
	}
	landed := map[string]bool{}
	for _, s := range cfg.SourceNames() {
		for _, e := range cfg.Sources[s].EntityNames() {
			landed[cfg.ViewOf(s, e)] = true
		}
	}
	plan, err := warehouse.PlanModels(files, landed)
	if err != nil {
		return datadocs.Site{}, &config.Error{Problems: []config.Problem{cfg.Problem("sources", "%v", err)}}
	}
	assertions, err := warehouse.LoadAssertions(files)
	if err != nil {
		return datadocs.Site{}, &config.Error{Problems: []config.Problem{cfg.Problem("models", "%v", err)}}
	}
	assertions, _ = plan.PlanAssertions(assertions)
	dict, err := datadocs.Builtin()
	if err != nil {
		return datadocs.Site{}, fmt.Errorf("docs: read the data dictionary: %w", err)
	}
	site := datadocs.Site{Dictionary: dict}
	for _, m := range plan.Models {
		if m.Layer == warehouse.Marts && !plan.Published(m.Name) {
			continue // an input only, not a table the run publishes
		}
		path := m.Path
		if m.Origin != "" && m.Origin != warehouse.OriginBuiltIn && !strings.HasPrefix(m.Origin, "generated") {
			path = m.Origin
		}
		site.Models = append(site.Models, datadocs.Model{Name: m.Name, Layer: string(m.Layer), Path: path, Refs: m.Refs})
	}
	for _, a := range assertions {
		site.Assertions = append(site.Assertions, datadocs.Assertion{Name: a.Name, Path: a.Path, Reads: a.Reads(plan.Models)})
	}
	return site, nil
}

func countMarts(s datadocs.Site) int {
	n := 0
	for _, m := range s.Models {
		if m.Layer == string(warehouse.Marts) {
			n++
		}
	}
	return n
}
