package warehouse

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/segpipe/segpipe/internal/canonical"
	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/vendors"
)

// Layer is a stage of models, run in this order: staging (and state), intermediate, marts.
type Layer string

// The model layers, in run order.
const (
	Staging      Layer = "staging"
	Intermediate Layer = "intermediate"
	Marts        Layer = "marts"
	// State holds sql/state/prev_<mart>.sql: the previous run's copy of a history mart is an
	// input the job registers (a view named prev_<mart>); the file is the empty table of its
	// shape, built only when no such input is registered (the first run, a test).
	State Layer = "state"
)

// StatePrefix starts the name of every state input: prev_<mart>.
const StatePrefix = "prev_"

var layerRank = map[Layer]int{State: 0, Staging: 0, Intermediate: 1, Marts: 2}

// Model is one SQL file: a single SELECT whose result becomes a table named after the file.
type Model struct {
	Name  string
	Layer Layer
	Path  string
	SQL   string
	// Refs are the other models this one reads.
	Refs []string
	// Origin says where the file came from when the FS is a *Files (OriginBuiltIn, generated
	// from the config, or a models-folder path); "" for another FS.
	Origin string
	// Optional are the canonical tables the model is built without, when no source provides
	// them (its "-- optional inputs:" header): it then reads their empty table and says
	// what it cannot know as unknown. Every other canonical table it reads, itself or through
	// the models it reads, is needed.
	Optional []string
	// Empty marks the empty table of a canonical table no source provides.
	Empty bool
	// Key are the columns that identify a row, from the "-- key: a, b" header: non-null and
	// unique together (KeyAssertion checks it). Every built-in mart has one
	// (sql/tables_doc_test.go); a mart of a models folder may.
	Key []string
	// Go names the Go transform that fills the table (the "-- go: <name>" header, GoTransforms):
	// the file's SELECT is then the table's empty shape, and the tables it mentions are the
	// transform's inputs, ordered and planned as any model's.
	Go string
}

// NotBuilt is a model or assertion a run leaves out because an input it needs is not provided.
type NotBuilt struct {
	Name  string `json:"name"`
	Layer Layer  `json:"layer"`
	// Needs are the canonical tables it needs that no configured source provides.
	Needs []string `json:"needs"`
}

// Plan is what a run builds: the models in order, the canonical tables the configured sources
// provide, and the models left out with what they need.
type Plan struct {
	Models   []Model
	Provided []string
	NotBuilt []NotBuilt
	// Unpublished are the marts of Models built only as inputs: a built mart reads them
	// without the tables they need (its optional inputs), so they are computed from empty
	// tables and must not be published; NotBuilt lists them too.
	Unpublished []string
}

// Published reports whether a mart of the plan's Models is published (not only an input).
func (p *Plan) Published(name string) bool { return !slices.Contains(p.Unpublished, name) }

// Assertion is one file of tests/: a SELECT that returns the rows breaking a rule.
type Assertion struct {
	Name string
	Path string
	SQL  string
	// Population is the table whose rows the assertion checks, from its "-- population:
	// <table>" header ("" when it declares none): the denominator of a share in error_if.
	Population string
	// Rule judges the failing rows; the zero Rule makes any failing row an error.
	Rule Rule
	// Optional are canonical tables the assertion runs without ("-- optional inputs:").
	Optional []string
}

// Rule is how an assertion's failing rows are judged (config audit.assertions).
type Rule struct {
	// Severity is config.SeverityError ("" counts as error) or config.SeverityWarn.
	Severity string
	// ErrorIf, when set, makes failing rows above it an error and those at or below it a
	// warning, whatever the severity.
	ErrorIf *config.Threshold
}

var (
	populationHeader = regexp.MustCompile(`(?m)^--\s*population:\s*(\S+)\s*$`)
	optionalHeader   = regexp.MustCompile(`(?m)^--\s*optional inputs:\s*(.+?)\s*$`)
	keyHeader        = regexp.MustCompile(`(?m)^--\s*key:\s*(.+?)\s*$`)
	goHeader         = regexp.MustCompile(`(?m)^--\s*go:\s*(\S+)\s*$`)
	columnName       = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// keyColumns reads a file's "-- key: dimension, segment" header (nil when it has none).
func keyColumns(f, body string) ([]string, error) {
	ms := keyHeader.FindAllStringSubmatch(body, -1)
	if len(ms) == 0 {
		return nil, nil
	}
	if len(ms) > 1 {
		return nil, fmt.Errorf("model %s: more than one -- key: header", f)
	}
	var out []string
	for _, c := range strings.Split(ms[0][1], ",") {
		c = strings.TrimSpace(c)
		if !columnName.MatchString(c) || slices.Contains(out, c) {
			return nil, fmt.Errorf("model %s: -- key: %q: give the key columns once each, comma-separated", f, ms[0][1])
		}
		out = append(out, c)
	}
	return out, nil
}

// RowKeyColumn is the surrogate key of a mart whose key has more than one column: one value
// a row for the BI and reverse-ETL tools that want a single id to upsert by (RowKey).
const RowKeyColumn = "row_key"

// RowKey is the SQL of a row's surrogate key over key: the MD5, in hex, of the key's columns
// as a JSON object ({"dimension":"size_band","segment":"SMB"}), so that no two keys share a
// text and a value holding a separator cannot make two keys one. It is the same across
// releases for the same key, and leaves as_of out: a row of the same segment keeps its id.
func RowKey(key []string) string {
	parts := make([]string, len(key))
	for i, c := range key {
		parts[i] = `"` + c + `" := "` + c + `"`
	}
	return "md5(to_json(struct_pack(" + strings.Join(parts, ", ") + ")))"
}

// selectSQL is the SELECT whose result becomes the model's table: its SQL, with the
// surrogate row_key first for a mart whose key has more than one column.
func (m Model) selectSQL() string {
	if m.Layer != Marts || len(m.Key) < 2 {
		return m.SQL
	}
	// A row_key the SQL selects itself (from another mart's *) is replaced, not repeated.
	return "SELECT " + RowKey(m.Key) + " AS " + RowKeyColumn + ", COLUMNS(c -> c <> '" + RowKeyColumn + "') FROM (\n" + m.SQL + "\n)"
}

// ReadMarts reads marts/*.sql from fsys: the published tables, unordered and unplanned.
func ReadMarts(fsys fs.FS) ([]Model, error) { return readLayer(fsys, "marts", Marts) }

// KeyAssertion is the assertion that a model's key (Model.Key) holds: it returns a row for
// each key with a NULL part and each key that more than one row has. Named
// assert_<model>_key, it runs with the assertions of tests/ (LoadAssertions).
func KeyAssertion(m Model) Assertion {
	parts := make([]string, len(m.Key))
	nulls := make([]string, len(m.Key))
	for i, c := range m.Key {
		parts[i] = "coalesce(" + c + "::varchar, 'NULL')"
		nulls[i] = c + " is null"
	}
	key := "concat_ws(' | ', " + strings.Join(parts, ", ") + ")"
	cols := strings.Join(m.Key, ", ")
	sql := fmt.Sprintf(`-- %[1]s's key (%[2]s, sql/%[3]s): no part NULL, each key once
select 'a part of the key (%[2]s) is NULL' as problem, %[4]s as key from %[1]s where %[5]s
union all
select 'the key (%[2]s) is on ' || count(*) || ' rows', %[4]s from %[1]s group by %[2]s having count(*) > 1`,
		m.Name, cols, m.Path, key, strings.Join(nulls, " or "))
	return Assertion{Name: "assert_" + m.Name + "_key", Path: m.Path, SQL: sql, Population: m.Name, Optional: m.Optional}
}

// optionalInputs reads a file's "-- optional inputs: stg_tickets, stg_usage" header.
func optionalInputs(body string) []string {
	var out []string
	for _, m := range optionalHeader.FindAllStringSubmatch(body, -1) {
		for _, t := range strings.Split(m[1], ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// ApplyRules sets each assertion's Rule from audit.assertions. A rule naming no assertion,
// or a share threshold on an assertion without a population, is a config error.
func ApplyRules(assertions []Assertion, audit config.Audit) error {
	byName := map[string]*Assertion{}
	var names []string
	for i := range assertions {
		byName[assertions[i].Name] = &assertions[i]
		names = append(names, assertions[i].Name)
	}
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(audit.Assertions)) {
		r := audit.Assertions[name]
		a, ok := byName[name]
		if !ok || r == nil {
			problems = append(problems, fmt.Sprintf("audit.assertions.%s: no such assertion in sql/tests/ (there are %s)", name, strings.Join(names, ", ")))
			continue
		}
		a.Rule = Rule{Severity: r.Severity}
		if r.ErrorIf == "" {
			continue
		}
		t, err := config.ParseErrorIf(r.ErrorIf)
		if err != nil {
			problems = append(problems, fmt.Sprintf("audit.assertions.%s.error_if: %v", name, err))
			continue
		}
		if t.Share != nil && a.Population == "" {
			problems = append(problems, fmt.Sprintf("audit.assertions.%s.error_if: %q is a share, but sql/%s declares no population (-- population: <table>) to take it of; give a row count such as \"> 10\"", name, r.ErrorIf, a.Path))
			continue
		}
		a.Rule.ErrorIf = &t
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

var (
	modelName    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	lineComment  = regexp.MustCompile(`--[^\n]*`)
	blockComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	word         = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
)

var stringLiteral = regexp.MustCompile(`'(?:[^']|'')*'`)

// stripStrings blanks SQL string literals: provided('stg_tickets') names a table without reading it.
func stripStrings(s string) string { return stringLiteral.ReplaceAllString(s, "''") }

// StripComments removes SQL comments (used to find references and to check a body).
func StripComments(s string) string {
	return lineComment.ReplaceAllString(blockComment.ReplaceAllString(s, " "), " ")
}

// DefaultsVendor is the staging folder of empty canonical tables for optional inputs.
const DefaultsVendor = "defaults"

// LoadModels reads the models of fsys and returns the ones this run needs, in an order that
// runs every model after the ones it reads. landed holds the raw views registered for the
// run (raw_<vendor>__<entity>) and the previous run's state inputs (prev_<mart>). From
// staging/<vendor>/, a model runs when every raw view it reads is landed and is skipped when
// none is; staging/defaults/ fills canonical tables no vendor provides. A state/prev_<mart>.sql
// is skipped when prev_<mart> is registered and otherwise builds its empty table. Then come
// intermediate/ and marts/ (docs/staging.md).
func LoadModels(fsys fs.FS, landed map[string]bool) ([]Model, error) {
	p, err := PlanModels(fsys, landed)
	if err != nil {
		return nil, err
	}
	return p.Models, nil
}

// PlanModels is LoadModels that also says which canonical tables are provided and which
// models are left out. A canonical table no landed source provides is read as an empty table
// of its contract (sql/staging/defaults/<table>.sql when there is one). A model is built when
// every canonical table it needs (what it reads, itself or through the models it reads, less
// its optional inputs) is provided, and so is every model a built model reads; the others are
// left out, each with the tables it needs (docs/staging.md, "Which models run").
func PlanModels(fsys fs.FS, landed map[string]bool) (*Plan, error) {
	vendorDirs, err := fs.Glob(fsys, string(Staging)+"/*")
	if err != nil {
		return nil, err
	}
	staged := map[string]Model{} // canonical name -> model
	var defaults []Model
	for _, dir := range vendorDirs {
		vendor := path.Base(dir)
		ms, err := readLayer(fsys, dir, Staging)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if vendor == DefaultsVendor {
				defaults = append(defaults, m)
				continue
			}
			var have, missing []string
			for _, r := range uniq(vendors.RawViewRefs(StripComments(m.SQL))) {
				if landed[r] {
					have = append(have, r)
				} else {
					missing = append(missing, r)
				}
			}
			if len(have) == 0 {
				continue // this vendor does not provide this table in this run
			}
			if len(missing) > 0 {
				return nil, fmt.Errorf("model %s (sql/%s) reads %s, which no configured source lands (it also reads %s, which is landed): add the entity to the %s source",
					m.Name, m.Path, strings.Join(missing, ", "), strings.Join(have, ", "), vendor)
			}
			if other, dup := staged[m.Name]; dup {
				return nil, fmt.Errorf("%s is provided twice, by sql/%s and sql/%s: configure one source for it", m.Name, other.Path, m.Path)
			}
			staged[m.Name] = m
		}
	}
	var provided []string
	for _, name := range canonical.Names() {
		if _, ok := staged[name]; ok {
			provided = append(provided, name)
		}
	}
	for _, m := range defaults {
		if _, ok := staged[m.Name]; !ok {
			m.Empty = true
			staged[m.Name] = m
		}
	}
	for _, t := range canonical.Tables {
		if _, ok := staged[t.Name]; !ok {
			staged[t.Name] = emptyModel(t)
		}
	}
	models := make([]Model, 0, len(staged))
	for _, m := range staged {
		models = append(models, m)
	}
	states, err := readLayer(fsys, string(State), State)
	if err != nil {
		return nil, err
	}
	for _, m := range states {
		if !strings.HasPrefix(m.Name, StatePrefix) {
			return nil, fmt.Errorf("state input %s: names start with %s (%s<mart>)", m.Path, StatePrefix, StatePrefix)
		}
		if !landed[m.Name] {
			models = append(models, m)
		}
	}
	for _, layer := range []Layer{Intermediate, Marts} {
		ms, err := readLayer(fsys, string(layer), layer)
		if err != nil {
			return nil, err
		}
		models = append(models, ms...)
	}
	byName := map[string]*Model{}
	for i := range models {
		if other, dup := byName[models[i].Name]; dup {
			return nil, fmt.Errorf("model %s: a model named %s already exists (sql/%s)", models[i].Path, models[i].Name, other.Path)
		}
		byName[models[i].Name] = &models[i]
	}
	for i := range models {
		m := &models[i]
		if m.Empty {
			continue // reads nothing: its column names are not references
		}
		for _, w := range uniq(word.FindAllString(stripStrings(StripComments(m.SQL)), -1)) {
			dep, ok := byName[w]
			if !ok || w == m.Name {
				if !ok && strings.HasPrefix(w, "stg_") && m.Layer != Staging {
					return nil, fmt.Errorf("model %s (sql/%s) reads %s, which no configured source provides (see docs/staging.md)", m.Name, m.Path, w)
				}
				continue
			}
			if layerRank[dep.Layer] > layerRank[m.Layer] {
				return nil, fmt.Errorf("model %s (%s) reads %s from the later layer %s", m.Path, m.Layer, dep.Name, dep.Layer)
			}
			m.Refs = append(m.Refs, w)
		}
		sort.Strings(m.Refs)
	}
	ordered, err := order(models)
	if err != nil {
		return nil, err
	}
	return plan(ordered, provided), nil
}

// plan keeps the models whose needs are provided and those they read.
func plan(models []Model, provided []string) *Plan {
	needs := map[string][]string{} // model -> canonical tables it needs that are not provided
	for _, m := range models {     // in dependency order
		var n []string
		for _, r := range m.Refs {
			if t, ok := canonical.Lookup(r); ok && !t.Optional && !slices.Contains(provided, r) {
				n = append(n, r)
			}
			n = append(n, needs[r]...)
		}
		var kept []string
		for _, t := range uniq(n) {
			if !slices.Contains(m.Optional, t) {
				kept = append(kept, t)
			}
		}
		sort.Strings(kept)
		needs[m.Name] = kept
	}
	build := map[string]bool{}
	var mark func(string)
	byName := map[string]Model{}
	for _, m := range models {
		byName[m.Name] = m
	}
	mark = func(name string) {
		if build[name] {
			return
		}
		build[name] = true
		for _, r := range byName[name].Refs {
			mark(r)
		}
	}
	for _, m := range models {
		if len(needs[m.Name]) == 0 { // empty tables too: an assertion may read one as optional
			mark(m.Name)
		}
	}
	p := &Plan{Provided: provided}
	for _, m := range models {
		if build[m.Name] {
			p.Models = append(p.Models, m)
			if m.Layer == Marts && len(needs[m.Name]) > 0 {
				// Read by a mart that runs without those tables: built from empty ones, as an
				// input only. Published, it would be an empty table standing in for "not known".
				p.Unpublished = append(p.Unpublished, m.Name)
				p.NotBuilt = append(p.NotBuilt, NotBuilt{Name: m.Name, Layer: m.Layer, Needs: needs[m.Name]})
			}
		} else if m.Layer != Staging {
			p.NotBuilt = append(p.NotBuilt, NotBuilt{Name: m.Name, Layer: m.Layer, Needs: needs[m.Name]})
		}
	}
	return p
}

// PlanAssertions leaves out the assertions that read a model the plan leaves out, or a
// canonical table no source provides (less the assertion's optional inputs).
func (p *Plan) PlanAssertions(assertions []Assertion) ([]Assertion, []NotBuilt) {
	left := map[string][]string{}
	for _, nb := range p.NotBuilt {
		left[nb.Name] = nb.Needs
	}
	var run []Assertion
	var out []NotBuilt
	for _, a := range assertions {
		var n []string
		for _, w := range uniq(word.FindAllString(stripStrings(StripComments(a.SQL)), -1)) {
			if needs, ok := left[w]; ok {
				n = append(n, needs...)
			} else if t, ok := canonical.Lookup(w); ok && !t.Optional && !slices.Contains(p.Provided, w) && !slices.Contains(a.Optional, w) {
				n = append(n, w)
			}
		}
		if len(n) == 0 {
			run = append(run, a)
			continue
		}
		n = uniq(n)
		sort.Strings(n)
		out = append(out, NotBuilt{Name: a.Name, Layer: "tests", Needs: n})
	}
	return run, out
}

// emptyModel is the empty table of a canonical table, of its contract's columns and types.
func emptyModel(t canonical.Table) Model {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = fmt.Sprintf("cast(null as %s) as %s", c.Type, c.Name)
	}
	return Model{Name: t.Name, Layer: Staging, Path: "staging/" + DefaultsVendor + "/" + t.Name + ".sql", Origin: "the contract's empty table (no source provides " + t.Name + ")",
		SQL: "-- " + t.Name + ": no configured source provides it; the empty table of its contract\nselect " + strings.Join(cols, ", ") + " where false", Empty: true}
}

// readLayer reads the .sql files of one folder as models of a layer.
func readLayer(fsys fs.FS, dir string, layer Layer) ([]Model, error) {
	files, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Model
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read model %s: %w", f, err)
		}
		name := strings.TrimSuffix(path.Base(f), ".sql")
		if !modelName.MatchString(name) {
			return nil, fmt.Errorf("model %s: file names are lower-case identifiers", f)
		}
		body := strings.TrimSpace(string(b))
		if strings.TrimSpace(StripComments(body)) == "" {
			return nil, fmt.Errorf("model %s is empty", f)
		}
		m := Model{Name: name, Layer: layer, Path: f, SQL: strings.TrimRight(body, "; \n\t"), Optional: optionalInputs(body)}
		if m.Key, err = keyColumns(f, body); err != nil {
			return nil, err
		}
		if g := goHeader.FindStringSubmatch(body); g != nil {
			t, ok := GoTransforms[g[1]]
			if !ok || !slices.Contains(t.Outputs, name) || layer != Intermediate {
				return nil, fmt.Errorf("model %s: -- go: %s: no Go transform of that name fills %s (an intermediate model; see GoTransforms)", f, g[1], name)
			}
			m.Go = g[1]
		}
		if files, ok := fsys.(*Files); ok {
			m.Origin = files.Origin(f)
		}
		out = append(out, m)
	}
	return out, nil
}

// uniq lower-cases words and drops repeats, keeping first-seen order.
func uniq(words []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range words {
		w = strings.ToLower(w)
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// order sorts models topologically; ties go by layer then name, so runs are reproducible.
func order(models []Model) ([]Model, error) {
	idx := map[string]int{}
	for i, m := range models {
		idx[m.Name] = i
	}
	done := make([]bool, len(models))
	var out []Model
	for len(out) < len(models) {
		next := -1
		for i, m := range models {
			if done[i] {
				continue
			}
			ready := true
			for _, r := range m.Refs {
				if !done[idx[r]] {
					ready = false
					break
				}
			}
			if ready && (next < 0 || less(m, models[next])) {
				next = i
			}
		}
		if next < 0 {
			var stuck []string
			for i, m := range models {
				if !done[i] {
					stuck = append(stuck, m.Name)
				}
			}
			return nil, fmt.Errorf("models read each other in a cycle: %s", strings.Join(stuck, ", "))
		}
		done[next] = true
		out = append(out, models[next])
	}
	return out, nil
}

func less(a, b Model) bool {
	if layerRank[a.Layer] != layerRank[b.Layer] {
		return layerRank[a.Layer] < layerRank[b.Layer]
	}
	return a.Name < b.Name
}

// StateInputs lists the state inputs of fsys (sql/state/prev_<mart>.sql), by name, in name
// order: the job registers each from the newest published partition of <mart> before the run.
func StateInputs(fsys fs.FS) ([]string, error) {
	ms, err := readLayer(fsys, string(State), State)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		if !strings.HasPrefix(m.Name, StatePrefix) {
			return nil, fmt.Errorf("state input %s: names start with %s (%s<mart>)", m.Path, StatePrefix, StatePrefix)
		}
		out = append(out, m.Name)
	}
	return out, nil
}

// Reads lists the models of models the assertion reads, by the names its SQL mentions (the
// way a model's Refs are found), in name order.
func (a Assertion) Reads(models []Model) []string {
	names := map[string]bool{}
	for _, m := range models {
		names[m.Name] = true
	}
	var out []string
	for _, w := range uniq(word.FindAllString(stripStrings(StripComments(a.SQL)), -1)) {
		if names[w] {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return out
}

// LoadAssertions reads tests/*.sql from fsys, in name order, then adds each mart's key
// assertion (KeyAssertion).
func LoadAssertions(fsys fs.FS) ([]Assertion, error) {
	files, err := fs.Glob(fsys, "tests/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Assertion
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("read assertion %s: %w", f, err)
		}
		name := strings.TrimSuffix(path.Base(f), ".sql")
		if !strings.HasPrefix(name, "assert_") {
			return nil, fmt.Errorf("assertion %s: names start with assert_", f)
		}
		a := Assertion{Name: name, Path: f, SQL: strings.TrimRight(strings.TrimSpace(string(b)), "; \n\t"), Optional: optionalInputs(string(b))}
		if m := populationHeader.FindStringSubmatch(string(b)); m != nil {
			if !modelName.MatchString(m[1]) {
				return nil, fmt.Errorf("assertion %s: population %q is not a table name", f, m[1])
			}
			a.Population = m[1]
		}
		out = append(out, a)
	}
	marts, err := ReadMarts(fsys)
	if err != nil {
		return nil, err
	}
	for _, m := range marts {
		if m.Key != nil {
			out = append(out, KeyAssertion(m))
		}
	}
	return out, nil
}
