package warehouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/segpipe/segpipe/internal/canonical"
)

// ContractError is a canonical table that breaks its contract (internal/canonical,
// docs/staging.md): a missing or extra column, a column of another type, a value outside its
// vocabulary or range, or a repeated key; it names the model file that built the table.
type ContractError struct {
	Table, Path, Origin string
	Problems            []string
}

func (e *ContractError) Error() string {
	where := "sql/" + e.Path
	if e.Origin != "" && e.Origin != OriginBuiltIn {
		where = e.Path + " (" + e.Origin + ")"
	}
	return fmt.Sprintf("%s, built by %s, breaks the canonical contract (docs/staging.md): %s", e.Table, where, strings.Join(e.Problems, "; "))
}

// checkContract checks a staging model's table against its canonical table. The columns and
// their types are checked for every model; values and keys only with full (a generic source's
// generated model or a models-folder file: the built-in vendor models map onto the
// vocabulary and keep one row per key by construction, and their tests check it).
func (s *Session) checkContract(ctx context.Context, m Model, full bool) error {
	t, ok := canonical.Lookup(m.Name)
	if !ok {
		return nil
	}
	cerr := &ContractError{Table: m.Name, Path: m.Path, Origin: m.Origin}
	rows, err := s.Query(ctx, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position", m.Name)
	if err != nil {
		return err
	}
	have := map[string]string{}
	var order []string
	for _, r := range rows {
		n := r.Get("column_name").(string)
		have[n] = r.Get("data_type").(string)
		order = append(order, n)
	}
	for _, c := range t.Columns {
		typ, ok := have[c.Name]
		switch {
		case !ok:
			cerr.Problems = append(cerr.Problems, fmt.Sprintf("column %s (%s) is missing", c.Name, c.Type))
		case typ != c.Type:
			cerr.Problems = append(cerr.Problems, fmt.Sprintf("column %s is %s, want %s", c.Name, typ, c.Type))
		}
	}
	for _, n := range order {
		if _, ok := t.Column(n); !ok {
			cerr.Problems = append(cerr.Problems, fmt.Sprintf("column %s is not in the contract", n))
		}
	}
	if len(cerr.Problems) > 0 || !full {
		if len(cerr.Problems) > 0 {
			return cerr
		}
		return nil
	}
	for _, c := range t.Columns {
		var q string
		switch {
		case len(c.Values) > 0 && c.Type == canonical.ListText:
			q = fmt.Sprintf("SELECT v, count(*) AS n FROM (SELECT unnest(%s) AS v FROM %s) WHERE v NOT IN (%s) GROUP BY v ORDER BY n DESC, v LIMIT 3", c.Name, m.Name, sqlList(c.Values))
		case len(c.Values) > 0:
			q = fmt.Sprintf("SELECT %s AS v, count(*) AS n FROM %s WHERE %s NOT IN (%s) GROUP BY v ORDER BY n DESC, v LIMIT 3", c.Name, m.Name, c.Name, sqlList(c.Values))
		case c.Range:
			q = fmt.Sprintf("SELECT %s::varchar AS v, count(*) AS n FROM %s WHERE %s < %v OR %s > %v GROUP BY v ORDER BY n DESC, v LIMIT 3", c.Name, m.Name, c.Name, c.Min, c.Name, c.Max)
		default:
			continue
		}
		bad, err := s.Query(ctx, q)
		if err != nil {
			return err
		}
		if len(bad) > 0 {
			var vals []string
			for _, r := range bad {
				vals = append(vals, fmt.Sprintf("%q (%d rows)", fmt.Sprint(r.Get("v")), r.Get("n")))
			}
			allowed := strings.Join(c.Values, ", ")
			if c.Range {
				allowed = fmt.Sprintf("%v to %v", c.Min, c.Max)
			}
			cerr.Problems = append(cerr.Problems, fmt.Sprintf("column %s holds %s, not one of %s (map the value, or leave it NULL: unknown)", c.Name, strings.Join(vals, ", "), allowed))
		}
	}
	key := strings.Join(t.Key, ", ")
	dups, err := s.Query(ctx, fmt.Sprintf("SELECT concat_ws(' / ', %s) AS k, count(*) AS n FROM %s GROUP BY ALL HAVING count(*) > 1 ORDER BY n DESC, k LIMIT 3", key, m.Name))
	if err != nil {
		return err
	}
	if len(dups) > 0 {
		var ks []string
		for _, r := range dups {
			ks = append(ks, fmt.Sprintf("%v (%d rows)", r.Get("k"), r.Get("n")))
		}
		cerr.Problems = append(cerr.Problems, fmt.Sprintf("key (%s) repeats: %s", key, strings.Join(ks, ", ")))
	}
	if len(cerr.Problems) > 0 {
		return cerr
	}
	return nil
}

func sqlList(vals []string) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = sqlString(v)
	}
	return strings.Join(out, ", ")
}
