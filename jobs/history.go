package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
	segsql "github.com/segpipe/segpipe/sql"
)

// PreviousState names, for each state input of sql/state/ (prev_<mart>), the as_of of the
// published partition of <mart> the run read it from; "" when there was none (the input is
// then the empty table of its shape).
type PreviousState map[string]string

// previousPartition returns the newest as_of strictly before asOf that has a published
// partition marts/<table>/as_of=<d>/data.parquet, or "" when there is none. Strictly before,
// so a rerun of a date reads what its first run read, whatever was published since.
func previousPartition(ctx context.Context, s lake.Store, table, asOf string) (string, error) {
	prefix := "marts/" + table + "/as_of="
	objs, err := s.List(ctx, prefix)
	if err != nil {
		return "", fmt.Errorf("list %s: %w", prefix, err)
	}
	best := ""
	for _, o := range objs {
		d, file, ok := strings.Cut(strings.TrimPrefix(o.Key, prefix), "/")
		if !ok || file != "data.parquet" || d >= asOf || d <= best {
			continue
		}
		best = d
	}
	return best, nil
}

// registerPrevious registers each state input prev_<mart> of sql/state/ as a view over the
// newest published partition of <mart> before the run's as_of (previousPartition); an input
// with no such partition is left unregistered, so LoadModels builds its empty table.
func registerPrevious(ctx context.Context, p *Params, sess *warehouse.Session) (PreviousState, error) {
	inputs, err := warehouse.StateInputs(segsql.Files)
	if err != nil {
		return nil, err
	}
	out := PreviousState{}
	for _, name := range inputs {
		table := strings.TrimPrefix(name, warehouse.StatePrefix)
		d, err := previousPartition(ctx, p.Lake, table, p.asOf())
		if err != nil {
			return nil, fmt.Errorf("segment: previous %s: %w", table, err)
		}
		out[table] = d
		if d == "" {
			continue
		}
		local, err := localCopy(ctx, p, fmt.Sprintf("marts/%s/as_of=%s/data.parquet", table, d))
		if err != nil {
			return nil, fmt.Errorf("segment: read previous %s as of %s: %w", table, d, err)
		}
		if err := sess.RegisterParquet(ctx, name, []string{local}); err != nil {
			return nil, fmt.Errorf("segment: %w", err)
		}
	}
	return out, nil
}
