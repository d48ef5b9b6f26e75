// Package warehouse is segpipe's in-process DuckDB session: it registers landed Parquet,
// binds config and as_of as DuckDB variables, runs the models and assertions in sql/, and
// exports the marts.
package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the duckdb driver

	"github.com/segpipe/segpipe/internal/canonical"
	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/datadocs"
	"github.com/segpipe/segpipe/internal/vendors"
)

// Options tune the DuckDB session.
type Options struct {
	// Threads DuckDB may use; 0 keeps DuckDB's default (all cores).
	Threads int
	// MemoryLimit such as "2GB"; "" keeps DuckDB's default.
	MemoryLimit string
	// TempDir is where DuckDB spills when memory runs short.
	TempDir string
	// ProfileDir, when set, receives DuckDB's query profile (EXPLAIN ANALYZE, as JSON) of
	// every model RunModels builds, as <model>.json. For tuning; off in production.
	ProfileDir string
}

// Session is one DuckDB database held on one connection, so variables persist across calls.
type Session struct {
	db         *sql.DB
	conn       *sql.Conn
	profileDir string
	onModel    func(n, total int, run ModelRun)
}

// OnModel sets a function told of each model RunModels builds, as it finishes: the n-th of
// total, with its rows and time (progress for a terminal or the log).
func (s *Session) OnModel(fn func(n, total int, run ModelRun)) { s.onModel = fn }

// Variable is a value bound into the session with SET VARIABLE, read in SQL with getvariable.
type Variable struct {
	Name  string
	Value any
}

var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Open starts an in-memory DuckDB session.
func Open(ctx context.Context, opts Options) (*Session, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open duckdb connection: %w", err)
	}
	s := &Session{db: db, conn: conn, profileDir: opts.ProfileDir}
	settings := []string{"SET TimeZone = 'UTC'", "SET preserve_insertion_order = true",
		// The rule turns `qualify row_number() over (partition by k ...) = 1` (every staging
		// model's dedup) into arg_max per key joined back to the rows; that aggregate does not
		// spill, and at 24M invoices it ran out of a 2GB memory_limit where the window it
		// replaces spills and finishes (8.6 s).
		"SET disabled_optimizers = 'top_n_window_elimination'"}
	if opts.Threads > 0 {
		settings = append(settings, fmt.Sprintf("SET threads = %d", opts.Threads))
	}
	for _, q := range settings {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			s.Close()
			return nil, fmt.Errorf("duckdb %s: %w", q, err)
		}
	}
	if opts.MemoryLimit != "" {
		if _, err := conn.ExecContext(ctx, "SET memory_limit = ?", opts.MemoryLimit); err != nil {
			s.Close()
			return nil, fmt.Errorf("duckdb memory_limit %q: %w", opts.MemoryLimit, err)
		}
	}
	if opts.TempDir != "" {
		if _, err := conn.ExecContext(ctx, "SET temp_directory = ?", opts.TempDir); err != nil {
			s.Close()
			return nil, fmt.Errorf("duckdb temp_directory: %w", err)
		}
	}
	return s, nil
}

// Close releases the session.
func (s *Session) Close() error {
	err := s.conn.Close()
	return errors.Join(err, s.db.Close())
}

// SetVariables binds each variable with SET VARIABLE name = ? (a bound parameter, never text).
func (s *Session) SetVariables(ctx context.Context, vars []Variable) error {
	for _, v := range vars {
		if !identifier.MatchString(v.Name) {
			return fmt.Errorf("variable name %q is not an identifier", v.Name)
		}
		if _, err := s.exec(ctx, "SET VARIABLE "+v.Name+" = ?", v.Value); err != nil {
			return fmt.Errorf("set variable %s: %w", v.Name, err)
		}
	}
	return nil
}

// RegisterParquet creates the view name over the given Parquet files; the file list is bound
// as the variable <name>_files.
func (s *Session) RegisterParquet(ctx context.Context, name string, files []string) error {
	return s.registerView(ctx, name, files, "*")
}

// checkView refuses a view name that is not an identifier, or no files to read.
func checkView(name string, files []string) error {
	if !identifier.MatchString(name) {
		return fmt.Errorf("view name %q is not an identifier", name)
	}
	if len(files) == 0 {
		return fmt.Errorf("register %s: no files", name)
	}
	return nil
}

// registerView creates the view name as SELECT columns over the Parquet files, bound as the
// variable <name>_files.
func (s *Session) registerView(ctx context.Context, name string, files []string, columns string) error {
	if err := checkView(name, files); err != nil {
		return err
	}
	if err := s.SetVariables(ctx, []Variable{{Name: name + "_files", Value: files}}); err != nil {
		return err
	}
	q := fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT %s FROM read_parquet(getvariable('%s_files'), union_by_name = true)", name, columns, name)
	if _, err := s.exec(ctx, q); err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	return nil
}

// RegisterLanded is RegisterParquet for a landed entity's files (a raw view), with every
// TIMESTAMPTZ column read as TIMESTAMP: the same instant in UTC, the session's zone, which is
// what staging casts every landed timestamp to (docs/staging.md). DuckDB casts a TIMESTAMPTZ to
// TIMESTAMP or DATE through ICU's calendar, about 30 times slower than the TIMESTAMP built here
// from its microseconds (1.75 s against 0.06 s for three columns of 2.4M invoices); staging's
// ::timestamp is then a no-op and ::date a cheap one.
func (s *Session) RegisterLanded(ctx context.Context, name string, files []string) error {
	if err := checkView(name, files); err != nil {
		return err
	}
	cols, err := s.Query(ctx, "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true)) WHERE column_type = 'TIMESTAMP WITH TIME ZONE'", files)
	if err != nil {
		return fmt.Errorf("register %s: %w", name, err)
	}
	columns := "*"
	if len(cols) > 0 {
		replace := make([]string, len(cols))
		for i, c := range cols {
			col := quoteIdent(fmt.Sprint(c.Values[0]))
			replace[i] = fmt.Sprintf("make_timestamp(epoch_us(%[1]s)) AS %[1]s", col)
		}
		columns = "* REPLACE (" + strings.Join(replace, ", ") + ")"
	}
	return s.registerView(ctx, name, files, columns)
}

// Landed returns the raw views and tables of the session (raw_<vendor>__<entity>) and the
// previous run's state inputs (prev_<mart>), the inputs LoadModels chooses models by.
func (s *Session) Landed(ctx context.Context) (map[string]bool, error) {
	rows, err := s.Query(ctx, `SELECT table_name FROM information_schema.tables`)
	if err != nil {
		return nil, fmt.Errorf("list raw views: %w", err)
	}
	out := map[string]bool{}
	for _, r := range rows {
		name := fmt.Sprint(r.Values[0])
		if _, _, raw := vendors.ParseRawView(name); raw || strings.HasPrefix(name, StatePrefix) {
			out[name] = true
		}
	}
	return out, nil
}

// ModelRun reports one model's run.
type ModelRun struct {
	Name     string
	Layer    Layer
	Rows     int64
	Duration time.Duration
	// Drops are the rows a staging model left out, by reason (DropReasonColumn); Rows is
	// what it kept.
	Drops []Drop
	// Note is what a Go model's transform says of its run (why its tables are empty, the k it
	// chose); "" for SQL models.
	Note string
}

// DropReasonColumn is the column a staging model may end its select list with: why a
// candidate row is left out of the canonical table (a required field missing, say), NULL for
// the rows kept. RunModels counts the rows left out per reason into the run's results and
// the table StagingDropsTable, then keeps the table without them and without the column.
const DropReasonColumn = "_drop_reason"

// StagingDropsTable lists, for assertions, the rows each staging model left out: table_name,
// reason, dropped (rows) and candidates (rows before any was left out).
const StagingDropsTable = "staging_drops"

// Drop counts the rows a staging model left out for one reason.
type Drop struct {
	Reason string
	Rows   int64
	// Candidates is the model's row count before any row was left out.
	Candidates int64
	// Sample holds up to three of their keys (the model's first column), in order.
	Sample []string
}

// ModelError is a model that DuckDB could not build: its name, path in the models FS, SQL and
// DuckDB's error.
type ModelError struct {
	Model, Path, SQL string
	Err              error
}

func (e *ModelError) Error() string {
	return fmt.Sprintf("model %s (sql/%s): %v", e.Model, e.Path, e.Err)
}

func (e *ModelError) Unwrap() error { return e.Err }

// RunModels builds every model as a table, in the order given.
func (s *Session) RunModels(ctx context.Context, models []Model) ([]ModelRun, error) {
	if err := s.createDropsTable(ctx); err != nil {
		return nil, err
	}
	var runs []ModelRun
	goNotes := map[string]string{} // Go transforms run, with their notes
	for _, m := range models {
		run, err := s.buildModel(ctx, m, models, goNotes)
		if err != nil {
			return runs, err
		}
		runs = append(runs, run)
		if s.onModel != nil {
			s.onModel(len(runs), len(models), run)
		}
	}
	return runs, nil
}

// createDropsTable creates StagingDropsTable, which staging models count their drops into.
func (s *Session) createDropsTable(ctx context.Context) error {
	if _, err := s.exec(ctx, "CREATE TABLE IF NOT EXISTS "+StagingDropsTable+
		" (table_name VARCHAR, reason VARCHAR, dropped BIGINT, candidates BIGINT)"); err != nil {
		return fmt.Errorf("create %s: %w", StagingDropsTable, err)
	}
	return nil
}

// buildModel builds one model as a table (a Go transform's or a SELECT's), leaves out a
// staging model's dropped rows and checks its contract, and counts its rows.
func (s *Session) buildModel(ctx context.Context, m Model, models []Model, goNotes map[string]string) (ModelRun, error) {
	start := time.Now()
	run := ModelRun{Name: m.Name, Layer: m.Layer}
	if m.Go != "" {
		note, err := s.runGo(ctx, m, models, goNotes)
		if err != nil {
			return run, err
		}
		run.Note = note
	} else {
		q := fmt.Sprintf("CREATE OR REPLACE TABLE %s AS\n%s", m.Name, m.selectSQL())
		if err := s.profile(ctx, m.Name); err != nil {
			return run, err
		}
		_, err := s.exec(ctx, q)
		if perr := s.profile(ctx, ""); err == nil && perr != nil {
			err = perr
		}
		if err != nil {
			return run, &ModelError{Model: m.Name, Path: m.Path, SQL: m.SQL, Err: err}
		}
	}
	var err error
	if m.Layer == Staging {
		if run.Drops, err = s.leaveOutDropped(ctx, m.Name); err != nil {
			return run, fmt.Errorf("model %s (sql/%s): %w", m.Name, m.Path, err)
		}
		if err := s.checkContract(ctx, m, m.Origin != "" && m.Origin != OriginBuiltIn); err != nil {
			return run, err
		}
	}
	if err := s.cancelled(ctx, s.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+m.Name).Scan(&run.Rows)); err != nil {
		return run, fmt.Errorf("model %s: count rows: %w", m.Name, err)
	}
	run.Duration = time.Since(start)
	return run, nil
}

// leaveOutDropped removes the rows of table whose DropReasonColumn is set, and the column,
// counting them per reason into StagingDropsTable. A table without the column is left as it is.
func (s *Session) leaveOutDropped(ctx context.Context, table string) ([]Drop, error) {
	cols, err := s.Query(ctx, "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", table)
	if err != nil {
		return nil, fmt.Errorf("list columns: %w", err)
	}
	if len(cols) == 0 || fmt.Sprint(cols[len(cols)-1].Values[0]) != DropReasonColumn {
		for _, c := range cols {
			if fmt.Sprint(c.Values[0]) == DropReasonColumn {
				return nil, fmt.Errorf("%s must be the last column", DropReasonColumn)
			}
		}
		return nil, nil
	}
	key := `"` + strings.ReplaceAll(fmt.Sprint(cols[0].Values[0]), `"`, `""`) + `"`
	var candidates int64
	if err := s.cancelled(ctx, s.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&candidates)); err != nil {
		return nil, fmt.Errorf("count rows: %w", err)
	}
	rows, err := s.Query(ctx, fmt.Sprintf(`SELECT %[1]s, count(*), list(%[2]s::varchar ORDER BY %[2]s::varchar)[1:3]
		FROM %[3]s WHERE %[1]s IS NOT NULL GROUP BY %[1]s ORDER BY %[1]s`, DropReasonColumn, key, table))
	if err != nil {
		return nil, fmt.Errorf("count the rows left out: %w", err)
	}
	if _, err := s.exec(ctx, "DELETE FROM "+StagingDropsTable+" WHERE table_name = ?", table); err != nil {
		return nil, fmt.Errorf("record the rows left out: %w", err)
	}
	var drops []Drop
	for _, r := range rows {
		d := Drop{Reason: fmt.Sprint(r.Values[0]), Rows: r.Values[1].(int64), Candidates: candidates}
		if l, ok := r.Values[2].([]any); ok {
			for _, k := range l {
				d.Sample = append(d.Sample, fmt.Sprint(k))
			}
		}
		if _, err := s.exec(ctx, "INSERT INTO "+StagingDropsTable+" VALUES (?, ?, ?, ?)", table, d.Reason, d.Rows, d.Candidates); err != nil {
			return nil, fmt.Errorf("record the rows left out: %w", err)
		}
		drops = append(drops, d)
	}
	// In place, not copied: the DELETE marks the few rows left out, and dropping the column
	// keeps the others' data where it is (a copy of stg_invoices cost 0.3 s at 100k accounts).
	var qs []string
	if len(drops) > 0 {
		qs = append(qs, fmt.Sprintf("DELETE FROM %s WHERE %s IS NOT NULL", table, DropReasonColumn))
	}
	for _, q := range append(qs, fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", table, DropReasonColumn)) {
		if _, err := s.exec(ctx, q); err != nil {
			return nil, fmt.Errorf("leave out the dropped rows: %w", err)
		}
	}
	return drops, nil
}

// profile turns DuckDB's profiler on for the next statement, writing into ProfileDir as
// <name>.json, or off when name is "". Without a ProfileDir it does nothing.
func (s *Session) profile(ctx context.Context, name string) error {
	if s.profileDir == "" {
		return nil
	}
	if name == "" {
		_, err := s.exec(ctx, "PRAGMA disable_profiling")
		return err
	}
	for _, q := range []string{"PRAGMA enable_profiling = 'json'", "SET profiling_output = '" + strings.ReplaceAll(filepath.Join(s.profileDir, name+".json"), "'", "''") + "'"} {
		if _, err := s.exec(ctx, q); err != nil {
			return fmt.Errorf("profile model %s: %w", name, err)
		}
	}
	return nil
}

// Outcomes of an assertion.
const (
	Passed = "passed"
	Warned = "warned"
	Failed = "failed"
)

// AssertionResult is the outcome of one assertion.
type AssertionResult struct {
	Name string
	// Severity is the assertion's configured severity: error or warn.
	Severity string
	// Outcome is Passed (no rows), Warned (rows, reported without stopping the publish) or
	// Failed (rows that stop it).
	Outcome string
	// Failures counts the rows the assertion returned; zero means it passed.
	Failures int64
	// Population is the row count of the assertion's population table, -1 when it has none.
	Population int64
	// ErrorIf is the configured threshold as written ("" when none).
	ErrorIf string
	// Sample shows up to three failing rows as column=value text.
	Sample []string
}

// ErrAssertionsFailed is wrapped by RunAssertions' error when any assertion fails: returns
// rows that its rule judges an error.
var ErrAssertionsFailed = errors.New("assertions failed")

// RunAssertions runs every assertion and judges its rows by its Rule; the error wraps
// ErrAssertionsFailed and names each failed assertion with a sample of its rows. Warned
// assertions are in the results only.
func (s *Session) RunAssertions(ctx context.Context, assertions []Assertion) ([]AssertionResult, error) {
	var results []AssertionResult
	var failed []string
	for _, a := range assertions {
		r, err := s.runAssertion(ctx, a)
		if err != nil {
			return results, err
		}
		if r.Outcome == Failed {
			failed = append(failed, r.failure())
		}
		results = append(results, r)
	}
	return results, assertionsFailed(failed)
}

// assertionsFailed is the error of a run whose assertions in failed (AssertionResult.failure)
// failed; nil when none did.
func assertionsFailed(failed []string) error {
	if len(failed) > 0 {
		return fmt.Errorf("%w: %s", ErrAssertionsFailed, strings.Join(failed, "; "))
	}
	return nil
}

// runAssertion runs one assertion and judges its rows by its Rule.
func (s *Session) runAssertion(ctx context.Context, a Assertion) (AssertionResult, error) {
	rows, err := s.Query(ctx, a.SQL)
	if err != nil {
		return AssertionResult{}, fmt.Errorf("assertion %s (sql/%s) did not run: %w", a.Name, a.Path, err)
	}
	r := AssertionResult{Name: a.Name, Severity: a.Rule.Severity, Failures: int64(len(rows)), Population: -1}
	if r.Severity == "" {
		r.Severity = config.SeverityError
	}
	if a.Population != "" {
		if !identifier.MatchString(a.Population) {
			return r, fmt.Errorf("assertion %s: population %q is not a table name", a.Name, a.Population)
		}
		if err := s.cancelled(ctx, s.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+a.Population).Scan(&r.Population)); err != nil {
			return r, fmt.Errorf("assertion %s: count its population %s: %w", a.Name, a.Population, err)
		}
	}
	for i, row := range rows {
		if i == 3 {
			break
		}
		r.Sample = append(r.Sample, row.String())
	}
	r.Outcome, r.ErrorIf = judge(a.Rule, r.Failures, r.Population)
	return r, nil
}

// failure describes a failed assertion for the run's error: its name, rows and a sample.
func (r AssertionResult) failure() string {
	return fmt.Sprintf("%s: %d rows%s, e.g. %s", r.Name, r.Failures, r.ofPopulation(), strings.Join(r.Sample, " | "))
}

// judge returns the outcome of failures under rule, and the rule's threshold as text.
func judge(rule Rule, failures, population int64) (outcome, errorIf string) {
	if t := rule.ErrorIf; t != nil {
		switch {
		case t.Count != nil:
			errorIf = fmt.Sprintf("> %d", *t.Count)
		case t.Share != nil:
			errorIf = "> " + strconv.FormatFloat(*t.Share*100, 'f', -1, 64) + "%"
		}
	}
	switch {
	case failures == 0:
		return Passed, errorIf
	case rule.ErrorIf != nil && rule.ErrorIf.Count != nil:
		if failures > *rule.ErrorIf.Count {
			return Failed, errorIf
		}
		return Warned, errorIf
	case rule.ErrorIf != nil && rule.ErrorIf.Share != nil:
		if population <= 0 || float64(failures) > *rule.ErrorIf.Share*float64(population) {
			return Failed, errorIf
		}
		return Warned, errorIf
	case rule.Severity == config.SeverityWarn:
		return Warned, errorIf
	}
	return Failed, errorIf
}

// ofPopulation renders " of N (P%)" when the assertion has a population.
func (r AssertionResult) ofPopulation() string {
	if r.Population < 0 {
		return ""
	}
	if r.Population == 0 {
		return " of 0"
	}
	return fmt.Sprintf(" of %d (%s%%)", r.Population, strconv.FormatFloat(100*float64(r.Failures)/float64(r.Population), 'f', 2, 64))
}

// Row is one result row, columns in order.
type Row struct {
	Columns []string
	Values  []any
}

// Get returns the value of column name (nil when absent).
func (r Row) Get(name string) any {
	for i, c := range r.Columns {
		if c == name {
			return r.Values[i]
		}
	}
	return nil
}

// Float returns the numeric value of column name as a float64 (integers, DOUBLE, DECIMAL,
// HUGEINT); NaN when it is NULL, absent or not a number.
func (r Row) Float(name string) float64 {
	switch x := r.Get(name).(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case int16:
		return float64(x)
	case int8:
		return float64(x)
	case int:
		return float64(x)
	case uint64:
		return float64(x)
	case uint32:
		return float64(x)
	case uint16:
		return float64(x)
	case uint8:
		return float64(x)
	case uint:
		return float64(x)
	case *big.Int: // HUGEINT
		if x != nil {
			f, _ := new(big.Float).SetInt(x).Float64()
			return f
		}
	case interface{ Float64() float64 }: // DECIMAL (duckdb.Decimal)
		return x.Float64()
	}
	return math.NaN()
}

// Equal reports whether two rows have the same columns and values, floating-point values
// compared to a relative tolerance: DuckDB's parallel aggregation may sum doubles in a
// different order from run to run and differ in the last bits.
func (r Row) Equal(o Row, relTol float64) bool {
	if len(r.Columns) != len(o.Columns) {
		return false
	}
	for i, c := range r.Columns {
		if o.Columns[i] != c {
			return false
		}
		a, b := r.Values[i], o.Values[i]
		fa, aIsFloat := a.(float64)
		fb, bIsFloat := b.(float64)
		if aIsFloat && bIsFloat {
			if fa != fb && !(math.Abs(fa-fb) <= relTol*math.Max(math.Abs(fa), math.Abs(fb))) {
				return false
			}
			continue
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			return false
		}
	}
	return true
}

// String renders the row as column=value pairs.
func (r Row) String() string {
	parts := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		parts[i] = fmt.Sprintf("%s=%v", c, r.Values[i])
	}
	return strings.Join(parts, " ")
}

// exec runs a statement on the session's connection; see cancelled.
func (s *Session) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	res, err := s.conn.ExecContext(ctx, q, args...)
	return res, s.cancelled(ctx, err)
}

// query runs a query on the session's connection; see cancelled.
func (s *Session) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	rows, err := s.conn.QueryContext(ctx, q, args...)
	return rows, s.cancelled(ctx, err)
}

// cancelled makes an error of a statement stopped by ctx say so: DuckDB reports an interrupted
// statement as its own "Interrupted" error, which does not wrap context.Canceled.
func (s *Session) cancelled(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// Query runs a query with bound arguments and returns all its rows.
func (s *Session) Query(ctx context.Context, q string, args ...any) ([]Row, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []Row
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, Row{Columns: cols, Values: vals})
	}
	return out, rows.Err()
}

// Exec runs a statement with bound arguments.
func (s *Session) Exec(ctx context.Context, q string, args ...any) error {
	_, err := s.exec(ctx, q, args...)
	return err
}

// quotePath renders a local file path as a SQL string literal. Paths are ones segpipe made
// in its own temporary directory; COPY and ATTACH take no bound parameters.
func quotePath(p string) string {
	return "'" + strings.ReplaceAll(p, "'", "''") + "'"
}

// ExportParquet writes table to a local Parquet file (zstd at its fastest level, as the
// landed Parquet is: docs/performance.md) and returns its row count.
func (s *Session) ExportParquet(ctx context.Context, table, file string) (int64, error) {
	if !identifier.MatchString(table) {
		return 0, fmt.Errorf("table name %q is not an identifier", table)
	}
	q := fmt.Sprintf("COPY %s TO %s (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)", table, quotePath(file))
	if _, err := s.exec(ctx, q); err != nil {
		return 0, fmt.Errorf("export %s: %w", table, err)
	}
	var n int64
	if err := s.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("export %s: %w", table, err)
	}
	return n, nil
}

// ExportDatabase writes the tables into a new DuckDB database file for BI tools, each table
// and column with its description from the data dictionary, docs/tables.md, as a comment
// (ExportDatabaseWith).
func (s *Session) ExportDatabase(ctx context.Context, tables []string, file string) error {
	dict, err := datadocs.Builtin()
	if err != nil {
		return fmt.Errorf("export database: read the data dictionary: %w", err)
	}
	return s.ExportDatabaseWith(ctx, tables, file, dict)
}

// ExportDatabaseWith writes the tables into a new DuckDB database file and, for each table
// dict documents, COMMENT ON TABLE (its grain and key) and COMMENT ON COLUMN (the meaning, as
// plain text) of each of its columns dict has a row for, so that Metabase, Superset and the
// DuckDB CLI show them. A table or column dict leaves out (a mart of a models folder) has no
// comment; a nil dict writes none.
func (s *Session) ExportDatabaseWith(ctx context.Context, tables []string, file string, dict *datadocs.Dictionary) error {
	if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("export database: %w", err)
	}
	if _, err := s.exec(ctx, "ATTACH "+quotePath(file)+" AS "+exportCatalog); err != nil {
		return fmt.Errorf("export database: %w", err)
	}
	var err error
	for _, t := range tables {
		if !identifier.MatchString(t) {
			err = fmt.Errorf("table name %q is not an identifier", t)
			break
		}
		if _, err = s.exec(ctx, fmt.Sprintf("CREATE TABLE %s.%s AS SELECT * FROM %s", exportCatalog, t, t)); err != nil {
			err = fmt.Errorf("export database table %s: %w", t, err)
			break
		}
		if err = s.comment(ctx, t, dict); err != nil {
			err = fmt.Errorf("export database table %s: %w", t, err)
			break
		}
	}
	if _, derr := s.exec(ctx, "DETACH "+exportCatalog); derr != nil && err == nil {
		err = fmt.Errorf("export database: %w", derr)
	}
	return err
}

// exportCatalog is the name the database file is attached under while it is written.
const exportCatalog = "bi_export"

// comment writes the comments of the exported table t from dict (COMMENT ON takes no bound
// parameters: the texts are quoted as SQL literals).
func (s *Session) comment(ctx context.Context, t string, dict *datadocs.Dictionary) error {
	if dict == nil {
		return nil
	}
	doc, ok := dict.Table(t)
	if !ok {
		return nil
	}
	table := exportCatalog + ".main." + t
	if _, err := s.exec(ctx, "COMMENT ON TABLE "+table+" IS "+sqlString(doc.Comment())); err != nil {
		return fmt.Errorf("comment on table (%s:%d): %w", dict.Name, doc.Line, err)
	}
	cols, err := s.Query(ctx, "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'main' AND table_name = ? ORDER BY column_index", exportCatalog, t)
	if err != nil {
		return fmt.Errorf("list its columns: %w", err)
	}
	for _, r := range cols {
		name := fmt.Sprint(r.Values[0])
		c, ok := doc.Column(name)
		if !ok {
			continue
		}
		q := "COMMENT ON COLUMN " + table + "." + quoteIdent(name) + " IS " + sqlString(c.Description())
		if _, err := s.exec(ctx, q); err != nil {
			return fmt.Errorf("comment on column %s (%s:%d): %w", name, dict.Name, c.Line, err)
		}
	}
	return nil
}

// Build binds vars, runs fsys's prelude.sql (macros) and then the models, in the order given
// (LoadModels' order).
func (s *Session) Build(ctx context.Context, fsys fs.FS, models []Model, vars []Variable) ([]ModelRun, error) {
	if err := s.prepare(ctx, fsys, models, vars); err != nil {
		return nil, err
	}
	return s.RunModels(ctx, models)
}

// prepare binds vars and provided(t)'s tables and runs fsys's prelude.sql (macros).
func (s *Session) prepare(ctx context.Context, fsys fs.FS, models []Model, vars []Variable) error {
	// provided(t) in SQL: whether a configured source provides canonical table t (not its
	// empty table), so that a label derived from a missing input is unknown, not a default.
	provided := []string{}
	for _, m := range models {
		if _, ok := canonical.Lookup(m.Name); ok && m.Layer == Staging && !m.Empty {
			provided = append(provided, m.Name)
		}
	}
	vars = append(slices.Clone(vars), Variable{Name: "provided_tables", Value: provided})
	if err := s.SetVariables(ctx, vars); err != nil {
		return err
	}
	prelude, err := fs.ReadFile(fsys, "prelude.sql")
	if err != nil {
		return fmt.Errorf("read sql/prelude.sql: %w", err)
	}
	if _, err := s.exec(ctx, string(prelude)); err != nil {
		return fmt.Errorf("sql/prelude.sql: %w", err)
	}
	return nil
}
