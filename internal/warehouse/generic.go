package warehouse

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/segpipe/segpipe/internal/canonical"
	"github.com/segpipe/segpipe/internal/config"
)

// GenericDir holds the canonical tail of every generic staging model: sql/generic/<table>.sql
// reads a CTE named mapped (the canonical columns, from the entity's map) and applies the
// canonical table's as-of and drop rules, as the preset vendors' staging models do.
const GenericDir = "generic"

// GenericModels returns the staging models of the config's generic sources, by path in the
// models FS (staging/<source>/<table>.sql): for each entity, a CTE mapped generated from its
// map (config.Mapping), then sql/generic/<table>.sql. Config validation has checked the maps
// against the canonical contract, so every expression here has the canonical column's type.
func GenericModels(cfg *config.Config, files fs.FS) (map[string]string, error) {
	out := map[string]string{}
	for _, sourceName := range cfg.SourceNames() {
		src := cfg.Sources[sourceName]
		if src.Vendor != config.Generic {
			continue
		}
		for _, entityName := range src.EntityNames() {
			e := src.Entities[entityName]
			if e.Provides == "" && len(e.Map) == 0 {
				continue // landed only: a staging model of the models folder reads it
			}
			t, ok := canonical.Lookup(e.Provides)
			if !ok {
				return nil, fmt.Errorf("sources.%s.entities.%s.provides: no canonical table %q", sourceName, entityName, e.Provides)
			}
			tmpl, err := fs.ReadFile(files, GenericDir+"/"+t.Name+".sql")
			if err != nil {
				return nil, fmt.Errorf("generic staging of %s: %w", t.Name, err)
			}
			mapped, err := mappedCTE(cfg, sourceName, entityName, t)
			if err != nil {
				return nil, err
			}
			view := cfg.ViewOf(sourceName, entityName)
			body := string(tmpl)
			body = strings.ReplaceAll(body, "{{view}}", view)
			for _, c := range t.Columns {
				_, has := e.Map[c.Name]
				body = strings.ReplaceAll(body, "{{mapped:"+c.Name+"}}", strconv.FormatBool(has))
			}
			if i := strings.Index(body, "{{"); i >= 0 {
				return nil, fmt.Errorf("sql/%s/%s.sql: unknown placeholder at %q", GenericDir, t.Name, body[i:min(len(body), i+30)])
			}
			head, tail, ok := cutWith(body)
			if !ok {
				return nil, fmt.Errorf("sql/%s/%s.sql must start (after its comments) with a WITH clause", GenericDir, t.Name)
			}
			header := fmt.Sprintf("-- Generated from the map of sources.%s.entities.%s (%s) and sql/%s/%s.sql.\n", sourceName, entityName, cfg.File, GenericDir, t.Name)
			path := fmt.Sprintf("%s/%s/%s.sql", Staging, sourceName, t.Name)
			if _, dup := out[path]; dup {
				return nil, fmt.Errorf("source %s provides %s twice (entity %s and another): configure one entity for it", sourceName, t.Name, entityName)
			}
			out[path] = header + head + "with mapped as (\n" + mapped + "\n),\n" + tail
		}
	}
	return out, nil
}

// cutWith splits a template at its leading WITH: the comments before it, and what follows it.
func cutWith(body string) (string, string, bool) {
	lines := strings.SplitAfter(body, "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		if !strings.HasPrefix(strings.ToLower(t), "with ") {
			return "", "", false
		}
		head := strings.Join(lines[:i], "")
		rest := strings.Join(lines[i:], "")
		j := strings.Index(strings.ToLower(rest), "with ")
		return head, rest[j+len("with "):], true
	}
	return "", "", false
}

// mappedCTE is the select of the canonical columns of table t from the entity's raw view.
func mappedCTE(cfg *config.Config, sourceName, entityName string, t canonical.Table) (string, error) {
	e := cfg.Sources[sourceName].Entities[entityName]
	view := cfg.ViewOf(sourceName, entityName)
	var cols, joins, problems []string
	for _, c := range t.Columns {
		m, ok := e.Map[c.Name]
		if !ok {
			cols = append(cols, fmt.Sprintf("    cast(null as %s) as %s", c.Type, c.Name))
			continue
		}
		expr, err := mappingExpr(m, c, "r")
		if err != nil {
			return "", fmt.Errorf("sources.%s.entities.%s.map.%s: %w", sourceName, entityName, c.Name, err)
		}
		if m.Ref != nil {
			alias := "ref_" + c.Name
			rs, re := cfg.ResolveRef(sourceName, m.Ref)
			target := cfg.Sources[rs].Entities[re]
			tt, _ := canonical.Lookup(target.Provides)
			idCol, _ := tt.Column(tt.Key[0])
			byCol, _ := tt.Column(m.Ref.By)
			idExpr, err := mappingExpr(target.Map[idCol.Name], idCol, "t")
			if err != nil {
				return "", fmt.Errorf("sources.%s.entities.%s.map.%s: %w", rs, re, idCol.Name, err)
			}
			byExpr, err := mappingExpr(target.Map[byCol.Name], byCol, "t")
			if err != nil {
				return "", fmt.Errorf("sources.%s.entities.%s.map.%s: %w", rs, re, byCol.Name, err)
			}
			joins = append(joins, fmt.Sprintf("left join (\n        select lower(trim(%s::varchar)) as k, min(%s) as id, count(distinct %s) as n\n        from %s t\n        where %s is not null and %s is not null\n        group by 1\n    ) %s on %s.k = lower(trim((%s)::varchar))",
				byExpr, idExpr, idExpr, cfg.ViewOf(rs, re), byExpr, idExpr, alias, alias, expr))
			what := rs + "." + re
			problems = append(problems, fmt.Sprintf("when (%s) is not null and %s.k is null then %s\n             when %s.n > 1 then %s",
				expr, alias, sqlString(c.Name+": the "+m.Ref.By+" it names matches no record of "+what),
				alias, sqlString(c.Name+": the "+m.Ref.By+" it names matches several records of "+what)))
			expr = fmt.Sprintf("case when %s.n = 1 then %s.id end", alias, alias)
		}
		cols = append(cols, fmt.Sprintf("    cast(%s as %s) as %s", expr, c.Type, c.Name))
	}
	if m, ok := e.Map[config.UpdatedAt]; ok {
		expr, err := mappingExpr(m, canonical.Column{Name: config.UpdatedAt, Type: canonical.Timestamp}, "r")
		if err != nil {
			return "", fmt.Errorf("sources.%s.entities.%s.map.updated_at: %w", sourceName, entityName, err)
		}
		cols = append(cols, fmt.Sprintf("    cast(%s as TIMESTAMP) as updated_at", expr))
	} else {
		cols = append(cols, "    cast(null as TIMESTAMP) as updated_at")
	}
	cols = append(cols, "    r._extracted_at")
	if len(problems) > 0 {
		cols = append(cols, "    case "+strings.Join(problems, "\n             ")+" end as _ref_problem")
	} else {
		cols = append(cols, "    cast(null as VARCHAR) as _ref_problem")
	}
	q := "select\n" + strings.Join(cols, ",\n") + "\nfrom " + view + " r"
	if len(joins) > 0 {
		q += "\n" + strings.Join(joins, "\n")
	}
	return q, nil
}

// mappingExpr is the SQL of one mapping, on the raw view aliased alias, before any ref lookup.
func mappingExpr(m *config.Mapping, c canonical.Column, alias string) (string, error) {
	if m == nil {
		return "", fmt.Errorf("not mapped")
	}
	if m.Column == "" {
		return literal(m.Const, c.Type)
	}
	v := alias + "." + quoteIdent(m.Column)
	if strings.HasPrefix(m.Column, "_") {
		v = alias + "." + m.Column
	}
	text := false
	if m.Trim {
		v = "trim(" + v + ")"
		text = true
	}
	switch m.Case {
	case "upper":
		v, text = "upper("+v+")", true
	case "lower":
		v, text = "lower("+v+")", true
	}
	if text || m.Split != "" || len(m.Values) > 0 || len(m.In) > 0 || c.Type == canonical.Varchar {
		// Empty text is NULL (docs/staging.md) for every text value read.
		v = "blank_null(" + v + ")"
	}
	if m.Split != "" {
		v = fmt.Sprintf("list_filter(list_transform(string_split(%s, %s), x -> trim(x)), x -> x <> '')", v, sqlString(m.Split))
	}
	switch {
	case len(m.Values) > 0:
		keys := make([]string, 0, len(m.Values))
		for k := range m.Values {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		fmt.Fprintf(&b, "case lower(trim((%s)::varchar))", v)
		for _, k := range keys {
			lit, err := literal(m.Values[k], c.Type)
			if err != nil {
				return "", fmt.Errorf("values.%s: %w", k, err)
			}
			fmt.Fprintf(&b, " when %s then %s", sqlString(strings.ToLower(strings.TrimSpace(k))), lit)
		}
		if m.Unmapped == "keep" {
			fmt.Fprintf(&b, " else %s end", v)
		} else {
			b.WriteString(" end")
		}
		v = b.String()
	case len(m.In) > 0:
		lits := make([]string, len(m.In))
		for i, s := range m.In {
			lits[i] = sqlString(strings.ToLower(strings.TrimSpace(s)))
		}
		v = fmt.Sprintf("(lower(trim((%s)::varchar)) in (%s))", v, strings.Join(lits, ", "))
	}
	if m.Multiply != nil {
		v = fmt.Sprintf("(%s * %s)", v, strconv.FormatFloat(*m.Multiply, 'g', -1, 64))
	}
	if m.Default != nil {
		lit, err := literal(m.Default, c.Type)
		if err != nil {
			return "", fmt.Errorf("default: %w", err)
		}
		v = fmt.Sprintf("coalesce(%s, %s)", v, lit)
	}
	return v, nil
}

// literal renders a YAML constant as a SQL literal of the type.
func literal(v any, typ string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "cast(null as " + typ + ")", nil
	case string:
		return "cast(" + sqlString(x) + " as " + typ + ")", nil
	case bool:
		return "cast(" + strconv.FormatBool(x) + " as " + typ + ")", nil
	case int:
		return "cast(" + strconv.Itoa(x) + " as " + typ + ")", nil
	case float64:
		return "cast(" + strconv.FormatFloat(x, 'g', -1, 64) + " as " + typ + ")", nil
	}
	return "", fmt.Errorf("a constant is a string, number or bool, got %T", v)
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// RunFiles is the set of SQL files a run of cfg reads: base (sql/), the staging models generated
// for its generic sources, then the files of its models folder. It returns which built-in files
// the folder replaced ("marts/segment_metrics.sql <- models/marts/segment_metrics.sql").
func RunFiles(cfg *config.Config, base fs.FS) (*Files, []string, error) {
	files, err := NewFiles(base)
	if err != nil {
		return nil, nil, err
	}
	gen, err := GenericModels(cfg, base)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range slices.Sorted(maps.Keys(gen)) {
		if old := files.Add(p, []byte(gen[p]), "generated from the config's map"); old != "" {
			return nil, nil, fmt.Errorf("%s: a generic source and %s both give this file; rename the source", p, old)
		}
	}
	dir := cfg.ModelsDir()
	if dir == "" {
		return files, nil, nil
	}
	var replaced []string
	root := os.DirFS(dir)
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("models folder %s: %w", dir, err)
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		if !userModelPath(p) {
			return fmt.Errorf("models folder %s: %s is not a model: models go in staging/<source>/, intermediate/ or marts/, assertions in tests/, as <name>.sql", dir, p)
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return fmt.Errorf("models folder %s: %w", dir, err)
		}
		origin := filepath.Join(dir, filepath.FromSlash(p))
		if old := files.Add(p, b, origin); old != "" {
			replaced = append(replaced, fmt.Sprintf("%s <- %s", p, origin))
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return files, replaced, nil
}

// userModelPath reports whether p is where a models folder may put SQL.
func userModelPath(p string) bool {
	if !strings.HasSuffix(p, ".sql") {
		return false
	}
	parts := strings.Split(p, "/")
	switch {
	case len(parts) == 3 && parts[0] == string(Staging) && parts[1] != DefaultsVendor:
		return true
	case len(parts) == 2 && (parts[0] == string(Intermediate) || parts[0] == string(Marts) || parts[0] == "tests"):
		return true
	}
	return false
}
