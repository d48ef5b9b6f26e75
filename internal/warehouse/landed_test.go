package warehouse

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// A raw view gives the landed TIMESTAMPTZ columns as TIMESTAMP, each the instant's UTC
// time to the microsecond, as ::timestamp would; other columns are as landed.
func TestRegisterLandedReadsTimestampsAsUTC(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	file := filepath.Join(dir, "part.parquet")
	// Values around the epoch, month and leap-day ends, an instant given in another zone, a
	// NULL, and a column name that needs quoting.
	if err := s.Exec(ctx, `COPY (select * from (values
		(1, '2026-10-31 23:59:59.999999+00'::timestamptz, '2026-01-01 00:30:00+02'::timestamptz, 'a'),
		(2, '1969-12-31 23:59:59.5+00'::timestamptz, '2024-02-29 12:00:00-11'::timestamptz, 'b'),
		(3, '2000-03-01 00:00:00+00'::timestamptz, null::timestamptz, 'c')) t(id, "updated at", issued_at, name))
		TO '`+file+`' (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	if err := s.RegisterLanded(ctx, "raw_demo__things", []string{file}); err != nil {
		t.Fatal(err)
	}
	types, err := s.Query(ctx, "SELECT column_name, column_type FROM (DESCRIBE raw_demo__things)")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range types {
		got = append(got, r.String())
	}
	if g := strings.Join(got, "; "); g != "column_name=id column_type=INTEGER; column_name=updated at column_type=TIMESTAMP; "+
		"column_name=issued_at column_type=TIMESTAMP; column_name=name column_type=VARCHAR" {
		t.Errorf("types: %s", g)
	}
	rows, err := s.Query(ctx, `select
		count(*) filter (where v."updated at" = p."updated at"::timestamp and v.issued_at is not distinct from p.issued_at::timestamp) as same,
		list(v.issued_at::varchar order by v.id) as issued, list(v."updated at"::date::varchar order by v.id) as days
		from raw_demo__things v join read_parquet('`+file+`') p using (id)`)
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[0].String(); r != "same=3 issued=[2025-12-31 22:30:00 2024-02-29 23:00:00 <nil>] days=[2026-10-31 1969-12-31 2000-03-01]" {
		t.Errorf("values: %s", r)
	}
}
