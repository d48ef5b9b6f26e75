package warehouse

import (
	"errors"
	"strings"
	"testing"
)

// A staging model's table is checked against its canonical table as soon as it is built: a
// missing column, a wrong type, a value outside the vocabulary or range and a repeated key are
// each named with the file that built the table. Built-in vendor models are checked for columns
// and types only; generated and models-folder ones for values and keys too.
func TestContractCheckNamesWhatBreaksIt(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	good := `select 't1' as ticket_id, 'A1' as account_id, timestamp '2026-01-01' as created_at,
		cast(null as timestamp) as solved_at, 'high' as priority, 'bug' as category, 4::bigint as csat`
	run := func(sql, origin string) error {
		_, err := s.RunModels(ctx, []Model{{Name: "stg_tickets", Layer: Staging, Path: "staging/x/stg_tickets.sql", SQL: sql, Origin: origin}})
		return err
	}
	if err := run(good, "models/staging/x/stg_tickets.sql"); err != nil {
		t.Fatalf("a table that keeps the contract: %v", err)
	}
	cases := []struct{ name, sql, origin, want string }{
		{"missing column", strings.Replace(good, ", 4::bigint as csat", "", 1), OriginBuiltIn, "column csat (BIGINT) is missing"},
		{"wrong type", strings.Replace(good, "4::bigint", "4.5::double", 1), OriginBuiltIn, "column csat is DOUBLE, want BIGINT"},
		{"extra column", good + ", 1 as extra", OriginBuiltIn, "column extra is not in the contract"},
		{"unknown value", strings.Replace(good, "'bug' as category", "'Bug report' as category", 1), "models/staging/x/stg_tickets.sql",
			`column category holds "Bug report" (1 rows), not one of bug, how_to, billing, feature_request, outage`},
		{"out of range", strings.Replace(good, "4::bigint", "10::bigint", 1), "generated from the config's map", `column csat holds "10" (1 rows), not one of 1 to 5`},
		{"repeated key", good + " union all " + good, "models/staging/x/stg_tickets.sql", "key (ticket_id) repeats: t1 (2 rows)"},
	}
	for _, c := range cases {
		err := run(c.sql, c.origin)
		var ce *ContractError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "stg_tickets, built by ") {
			t.Errorf("%s: %v\nwant %q", c.name, err, c.want)
		}
	}
	// A built-in model is not scanned for values (its vendor mapping is tested instead).
	if err := run(strings.Replace(good, "'bug' as category", "'Bug report' as category", 1), OriginBuiltIn); err != nil {
		t.Errorf("built-in model, value check: %v", err)
	}
}
