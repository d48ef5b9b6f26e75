package warehouse

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// GoTransform is numeric work done in Go between SQL models (clustering: GoTransforms). Each
// table it fills is an intermediate model of its own, sql/intermediate/<output>.sql, headed
// "-- go: <Name>", whose SELECT is the table's empty shape (its columns and types) and whose
// FROM names the tables the transform reads: PlanModels orders and plans it from them as it
// does every model, so marts read its tables like any other and the key assertions, contracts
// and publishing follow. RunModels, on reaching the first output, creates every output's
// empty table and calls Run, which reads its inputs and appends the rows (Session.Append).
// Later outputs' files read the first output (so they come after it) and only what it reads.
type GoTransform struct {
	Name string
	// Outputs are the tables Run fills, the first built first.
	Outputs []string
	// Variables are the DuckDB variables Run reads (ConfigVariables binds them like the SQL's).
	Variables []string
	// Run fills the outputs. Its note says what it did or why the tables are empty (a run
	// record's models[].note); an error stops the run, so a transform that can decline (too
	// little data) returns a note instead.
	Run func(ctx context.Context, s *Session) (note string, err error)
}

// GoTransforms are the Go transforms, by name.
var GoTransforms = map[string]*GoTransform{
	clustersTransform.Name: clustersTransform,
}

// runGo builds model m of a Go transform: on its first output, every output's empty table and
// then the transform; a later output was filled then and returns the same note.
func (s *Session) runGo(ctx context.Context, m Model, models []Model, notes map[string]string) (string, error) {
	t := GoTransforms[m.Go]
	if note, ok := notes[m.Go]; ok {
		return note, nil
	}
	fail := func(err error) error { return &ModelError{Model: m.Name, Path: m.Path, SQL: m.SQL, Err: err} }
	if m.Name != t.Outputs[0] {
		return "", fail(fmt.Errorf("the Go transform %s fills it when %s is built, which must come first", t.Name, t.Outputs[0]))
	}
	for _, out := range t.Outputs {
		i := slices.IndexFunc(models, func(o Model) bool { return o.Name == out })
		if i < 0 {
			return "", fail(fmt.Errorf("the Go transform %s also fills %s, which the run does not build", t.Name, out))
		}
		if err := s.Exec(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s AS\n%s", out, models[i].SQL)); err != nil {
			return "", &ModelError{Model: out, Path: models[i].Path, SQL: models[i].SQL, Err: err}
		}
	}
	note, err := t.Run(ctx, s)
	if err != nil {
		return "", fail(fmt.Errorf("Go transform %s: %w", t.Name, err))
	}
	notes[m.Go] = note
	return note, nil
}

// Append appends rows to table through DuckDB's appender: each row holds the table's columns
// in order, as Go values of their types (float64 for DOUBLE, int32 for INTEGER, []string for
// VARCHAR[], nil for NULL). Rows are read until next returns false.
func (s *Session) Append(ctx context.Context, table string, next func(row []driver.Value) bool, width int) error {
	if !identifier.MatchString(table) {
		return fmt.Errorf("table name %q is not an identifier", table)
	}
	return s.cancelled(ctx, s.conn.Raw(func(dc any) error {
		conn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("append to %s: not a DuckDB connection", table)
		}
		a, err := duckdb.NewAppenderFromConn(conn, "", table)
		if err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		row := make([]driver.Value, width)
		for next(row) {
			if err := a.AppendRow(row...); err != nil {
				a.Close()
				return fmt.Errorf("append to %s: %w", table, err)
			}
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		return nil
	}))
}
