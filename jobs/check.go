package jobs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/vendors"
	"github.com/segpipe/segpipe/internal/warehouse"
	segsql "github.com/segpipe/segpipe/sql"
)

// CheckModels builds every model and assertion a segment run of cfg would run, on empty landed
// tables of the very types the config lands (extract.LandedSchema), in a scratch DuckDB session
// under workDir. A staging model that reads a column the config does not land, a canonical table
// no source provides, a models-folder file that does not bind: each fails here, before any run,
// as a *config.Error naming the config key and line, the SQL file and DuckDB's reason. A config
// that passes does not fail a run with a DuckDB Binder Error. It returns the models and
// assertions a run leaves out for want of an input no source provides.
func CheckModels(ctx context.Context, cfg *config.Config, workDir string) ([]warehouse.NotBuilt, error) {
	dir, err := os.MkdirTemp(workDir, "segpipe-check-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sess, err := warehouse.Open(ctx, warehouse.Options{Threads: 1, TempDir: filepath.Join(dir, "duckdb")})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	viewKey := map[string]string{} // raw view -> its entity's config key
	for _, sourceName := range cfg.SourceNames() {
		for _, entityName := range cfg.Sources[sourceName].EntityNames() {
			ent := cfg.Sources[sourceName].Entities[entityName]
			view := cfg.ViewOf(sourceName, entityName)
			file := filepath.Join(dir, view+".parquet")
			if err := writeEmptyLanding(file, ent); err != nil {
				return nil, fmt.Errorf("check %s/%s: %w", sourceName, entityName, err)
			}
			if err := sess.RegisterLanded(ctx, view, []string{file}); err != nil {
				return nil, fmt.Errorf("check %s/%s: %w", sourceName, entityName, err)
			}
			viewKey[view] = "sources." + sourceName + ".entities." + entityName
		}
	}
	files, _, err := warehouse.RunFiles(cfg, segsql.Files)
	if err != nil {
		return nil, &config.Error{Problems: []config.Problem{cfg.Problem("models", "%v", err)}}
	}
	landed, err := sess.Landed(ctx)
	if err != nil {
		return nil, err
	}
	// A generic entity that no staging model reads lands for nothing: a map left out, or a
	// staging model of the models folder under another source's name.
	read := map[string]bool{}
	stagingFiles, err := fs.Glob(files, "staging/*/*.sql")
	if err != nil {
		return nil, err
	}
	for _, f := range stagingFiles {
		b, err := fs.ReadFile(files, f)
		if err != nil {
			return nil, err
		}
		for _, v := range vendors.RawViewRefs(warehouse.StripComments(string(b))) {
			read[v] = true
		}
	}
	var unread []config.Problem
	for _, sourceName := range cfg.SourceNames() {
		if cfg.Sources[sourceName].Vendor != config.Generic {
			continue
		}
		for _, entityName := range cfg.Sources[sourceName].EntityNames() {
			if view := cfg.ViewOf(sourceName, entityName); !read[view] {
				unread = append(unread, cfg.Problem("sources."+sourceName+".entities."+entityName,
					"no staging model reads %s: give the entity provides and map, or write models/staging/%s/<canonical table>.sql reading it (docs/your-data.md)", view, sourceName))
			}
		}
	}
	if len(unread) > 0 {
		return nil, &config.Error{Problems: unread}
	}
	plan, err := warehouse.PlanModels(files, landed)
	if err != nil {
		return nil, &config.Error{Problems: []config.Problem{cfg.Problem("sources", "%v", err)}}
	}
	models := plan.Models

	asOf := time.Now().In(cfg.Location())
	asOf = time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	if _, err := sess.Build(ctx, files, models, warehouse.ConfigVariables(cfg, asOf)); err != nil {
		var me *warehouse.ModelError
		if !errors.As(err, &me) {
			return nil, err
		}
		return nil, &config.Error{Problems: []config.Problem{modelProblem(cfg, me, files, viewKey)}}
	}
	assertions, err := warehouse.LoadAssertions(files)
	if err != nil {
		return nil, &config.Error{Problems: []config.Problem{cfg.Problem("models", "%v", err)}}
	}
	if err := warehouse.ApplyRules(assertions, cfg.Audit); err != nil {
		return nil, &config.Error{Problems: []config.Problem{cfg.Problem("audit.assertions", "%v", err)}}
	}
	assertions, skipped := plan.PlanAssertions(assertions)
	notBuilt := append(plan.NotBuilt, skipped...)
	for _, a := range assertions {
		if err := sess.Exec(ctx, "SELECT * FROM ("+a.SQL+") LIMIT 0"); err != nil {
			return nil, &config.Error{Problems: []config.Problem{cfg.Problem("models", "assertion %s (%s) does not run: %s", a.Name, origin(files, a.Path), firstLine(err))}}
		}
	}
	return notBuilt, nil
}

// modelProblem places a model that failed to build: at the config entity it reads when it is a
// staging model (the config lands what it reads), else at models (a file of the folder) or
// sources (a built-in model: an input the config leaves out).
func modelProblem(cfg *config.Config, me *warehouse.ModelError, files *warehouse.Files, viewKey map[string]string) config.Problem {
	where := origin(files, me.Path)
	key := "sources"
	if strings.HasPrefix(me.Path, "staging/") {
		var keys []string
		for _, v := range vendors.RawViewRefs(warehouse.StripComments(me.SQL)) {
			if k, ok := viewKey[v]; ok && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			key = keys[0] + ".columns"
			return cfg.Problem(key, "%s (%s) does not bind on what %s lands: %s; declare the column it reads under columns: (with its type), or fix the map", me.Model, where, strings.Join(keys, ", "), firstLine(me.Err))
		}
	}
	if files.Origin(me.Path) != warehouse.OriginBuiltIn {
		key = "models"
	}
	return cfg.Problem(key, "%s (%s) does not build: %s", me.Model, where, firstLine(me.Err))
}

func origin(files *warehouse.Files, path string) string {
	switch o := files.Origin(path); {
	case o == warehouse.OriginBuiltIn:
		return "sql/" + path
	case strings.HasPrefix(o, "generated"):
		return path + ", " + o
	default:
		return o
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return strings.TrimSpace(s)
}

// writeEmptyLanding writes a Parquet file of no rows with the schema ent lands with.
func writeEmptyLanding(file string, ent *config.Entity) error {
	schema, err := extract.LandedSchema(ent)
	if err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
	if err != nil {
		f.Close()
		return err
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	rec := rb.NewRecordBatch()
	rb.Release()
	defer rec.Release()
	if err := w.Write(rec); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
