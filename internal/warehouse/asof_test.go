package warehouse

import (
	"io/fs"
	"math"
	"strings"
	"testing"

	segsql "github.com/segpipe/segpipe/sql"
)

// stagingModel reads sql/staging/<vendor>/<name>.sql as a staging model, to rebuild it alone.
func stagingModel(t *testing.T, vendor, name string) Model {
	t.Helper()
	path := "staging/" + vendor + "/" + name + ".sql"
	b, err := fs.ReadFile(segsql.Files, path)
	if err != nil {
		t.Fatal(err)
	}
	return Model{Name: name, Layer: Staging, Path: path, SQL: strings.TrimRight(strings.TrimSpace(string(b)), "; \n\t")}
}

// The version of a record a run reads is the one known at its as_of (docs/staging.md): the
// basic fixture lands account A1 twice, updated 2024-12-01 ("Old name", Software) and
// 2025-02-01 ("Alpha", Retail).
func TestVersionKnownAtAsOf(t *testing.T) {
	cases := []struct{ asOf, name, industry string }{
		{"2025-01-31", "Old name", "Software"}, // the 2025-02-01 update is not yet known
		{"2025-02-01", "Alpha", "Retail"},      // updated at 00:00 on as_of: known
		{"2025-06-30", "Alpha", "Retail"},
	}
	for _, c := range cases {
		s := buildFixture(t, "basic", c.asOf, nil)
		r := rowsBy(t, s, `select account_id, account_name, industry from stg_accounts`)["A1"]
		if got := str(r, "account_name") + "/" + str(r, "industry"); got != c.name+"/"+c.industry {
			t.Errorf("as of %s: A1 = %s, want %s/%s", c.asOf, got, c.name, c.industry)
		}
	}
	// Every landed version updated after as_of: the earliest, the one closest to as_of.
	s := buildFixture(t, "basic", "2024-12-01", nil)
	if err := s.Exec(t.Context(), `create or replace table later as select id, name, as_of_rank(updated_at, 'raw_demo__accounts') as r
		from raw_demo__accounts where id = 'A1' and updated_at > '2024-12-02' union all
		select 'A1', 'Newest', as_of_rank('2025-05-01'::timestamptz, 'raw_demo__accounts')`); err != nil {
		t.Fatal(err)
	}
	r := rowsBy(t, s, `select id, name from later qualify row_number() over (partition by id order by r desc nulls last) = 1`)["A1"]
	if got := str(r, "name"); got != "Alpha" {
		t.Errorf("with only later versions, picked %s, want the earliest (Alpha, updated 2025-02-01)", got)
	}
}

// Landings that reach as_of only through a gap (the newest before it is older than as_of, the
// next one later: known_at after as_of) do not say which version was current at as_of: one
// updated before as_of may have been replaced in the gap. Then the newest landed version wins,
// as on a single later landing, and not the old one.
func TestVersionAcrossAGapIsTheNewestLanded(t *testing.T) {
	// A1's versions (basic fixture): "Old name" updated 2024-12-01, "Alpha" updated 2025-02-01,
	// both landed 2025-06-30. As of 2025-01-31 on landings known at 2025-01-31 (no gap): the
	// version of 2024-12-01 is the one of that day. Known at 2025-06-30: it is not trusted.
	for _, c := range []struct{ knownAt, want string }{{"2025-01-31", "Old name"}, {"2025-06-30", "Alpha"}, {"", "Old name"}} {
		s := buildFixtureWith(t, "basic", "2025-01-31", nil, "")
		if c.knownAt != "" {
			if err := s.SetVariables(t.Context(), []Variable{{Name: "known_at_views", Value: []string{"raw_demo__accounts"}}, {Name: "known_at_dates", Value: []string{c.knownAt}}}); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := s.Query(t.Context(), `select name from raw_demo__accounts where id = 'A1'
			qualify row_number() over (partition by id order by as_of_rank(updated_at, 'raw_demo__accounts') desc nulls last, _extracted_at desc) = 1`)
		if err != nil {
			t.Fatal(err)
		}
		if got := str(rows[0], "name"); got != c.want {
			t.Errorf("known at %q: A1 is %s, want %s", c.knownAt, got, c.want)
		}
	}
}

// A deal that closed after as_of shows none of its later state (pipeline fixture, as of
// 2025-06-30): p8, lost on 10 July, is open with no stage, stage entry, forecast category,
// close date or loss reason; p7's only activity (2 July) is not known yet.
func TestNoLaterDealStateLeaks(t *testing.T) {
	s := buildFixture(t, "pipeline", "2025-06-30", nil)
	opps := rowsBy(t, s, `select opportunity_id, * exclude (opportunity_id) from stg_opportunities`)
	p8 := opps["p8"]
	for _, col := range []string{"stage", "stage_entered_at", "forecast_category", "closed_at", "loss_reason"} {
		if v := p8.Get(col); v != nil {
			t.Errorf("p8 %s = %v, want NULL (known only after as_of)", col, v)
		}
	}
	if str(p8, "is_closed") != "false" || str(p8, "is_won") != "false" {
		t.Errorf("p8 closed/won = %s/%s, want false/false", str(p8, "is_closed"), str(p8, "is_won"))
	}
	if v := opps["p7"].Get("last_activity_at"); v != nil || str(opps["p7"], "activity_known") != "false" {
		t.Errorf("p7 last_activity_at = %v, activity_known %s; want NULL, false", v, str(opps["p7"], "activity_known"))
	}
	if str(opps["p8"], "activity_known") != "true" {
		t.Errorf("p8's activity is before as_of: activity_known %s", str(opps["p8"], "activity_known"))
	}
	if str(opps["p7"], "forecast_category") != "commit" || str(opps["p7"], "stage") != "proposal" {
		t.Errorf("p7 = %v, want its known stage and forecast", opps["p7"])
	}
	if _, ok := opps["x1"]; ok {
		t.Error("x1 is created after as_of")
	}
}

// renewal_after picks from two candidates what its definition picks from 240 (months) or 20
// (years): the smallest period_end - k intervals after d. Checked against the definition for
// every period end (at 13:00) of 2024 to 2027, month ends and 29 February included, and every
// seventh day d of 2023 to 2026, both intervals.
func TestRenewalAfterIsItsDefinition(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", nil)
	rows, err := s.Query(t.Context(), `with g as (
		select pe + interval 13 hour as pe, d::date as d, bi
		from range(timestamp '2024-01-01', timestamp '2028-01-01', interval 1 day) t(pe),
		     range(date '2023-01-01', date '2027-01-01', interval 7 day) u(d),
		     (values ('month'), ('year')) v(bi)
	), defined as (
		select *, renewal_after(pe, bi, d) as got,
		       case when pe::date <= d then null
		            when bi = 'month' then list_min(list_filter(list_transform(range(0, 240), k -> (pe::date - to_months(k::integer))::date), x -> x > d))
		            else list_min(list_filter(list_transform(range(0, 20), k -> (pe::date - to_years(k::integer))::date), x -> x > d)) end as want
		from g
	)
	select count(*) as n, count(want) as renewals,
	       count(*) filter (where got is distinct from want) as differ,
	       any_value(pe::varchar || ' ' || bi || ' ' || d::varchar || ': ' || got::varchar || ' want ' || want::varchar) filter (where got is distinct from want) as example
	from defined`)
	if err != nil {
		t.Fatal(err)
	}
	if n, r, d := rows[0].Get("n").(int64), rows[0].Get("renewals").(int64), rows[0].Get("differ").(int64); n < 500_000 || r < 50_000 || d != 0 {
		t.Fatalf("%d cases, %d with a renewal: %d differ, e.g. %v", n, r, d, rows[0].Get("example"))
	}
}

// renewal_after moves a subscription's current period end back to the first renewal after a
// date, by whole billing intervals.
func TestRenewalAfter(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", nil)
	rows, err := s.Query(t.Context(), `select
		renewal_after('2026-10-15'::timestamp, 'month', '2025-07-31'::date) as monthly,
		renewal_after('2026-10-15'::timestamp, 'month', '2025-08-15'::date) as on_the_day,
		renewal_after('2027-03-01'::timestamp, 'year', '2025-07-31'::date) as yearly,
		renewal_after('2025-08-31'::timestamp, 'year', '2025-07-31'::date) as next_one,
		renewal_after('2025-07-31'::timestamp, 'month', '2025-07-31'::date) as ended,
		renewal_after('2026-01-31'::timestamp, 'week', '2025-07-31'::date) as unknown_interval,
		renewal_after('2026-03-31'::timestamp, 'month', '2026-02-27'::date) as clamped,
		renewal_after('2028-02-29'::timestamp, 'year', '2026-03-01'::date) as leap`)
	if err != nil {
		t.Fatal(err)
	}
	// 2026-10-15 back 14 months is 2025-08-15, the first 15th after 31 July; on 15 August itself
	// the renewal is a month later; 2027-03-01 back 2 years is 2025-03-01 (not after as_of), back
	// 1 year 2026-03-01.
	for col, want := range map[string]string{
		"monthly": "2025-08-15", "on_the_day": "2025-09-15", "yearly": "2026-03-01",
		"next_one": "2025-08-31", "ended": "<nil>", "unknown_interval": "2026-01-31",
		// 31 March back one month is 28 February; back a year from 29 February, 28 February.
		"clamped": "2026-02-28", "leap": "2027-02-28",
	} {
		got := str(rows[0], col)
		if v := rows[0].Get(col); v != nil {
			got = v.(interface{ Format(string) string }).Format("2006-01-02")
		}
		if got != want {
			t.Errorf("%s = %s, want %s", col, got, want)
		}
	}
}

// A subscription's seats and MRR at as_of come from its invoice for the period holding as_of;
// without one, from the subscription record only when the snapshot read is of as_of: a later
// snapshot's seats are today's, never published for a past date (docs/tables.md, "Point in
// time"). Basic fixture, as of 2025-02-15: s3 is billed 250 seats January to March (i6-i8,
// $10,000 a month) and 300 from April; its record says 300. s2's annual invoice i5 carries no
// seat count; its record says 20 seats and EUR 1,000 a month.
func TestSubscriptionSeatsArePointInTime(t *testing.T) {
	seatsSQL := `update raw_demo__invoices set seats = 250, seat_limit = 260 where id in ('i6', 'i7', 'i8');
		update raw_demo__invoices set seats = 300, seat_limit = 400 where id in ('i9', 'i10', 'i11');`
	for _, c := range []struct {
		knownAt              string
		s3Seats, s3Limit, s2 any
		s2MRR                float64
	}{
		// A snapshot of as_of: s3 from its invoice, s2 from its record.
		{"", int64(250), int64(260), int64(20), 1080},
		{"2025-02-15", int64(250), int64(260), int64(20), 1080},
		// A later snapshot: s3 still from its invoice; s2's seats unknown, its MRR from i5
		// (EUR 12,000 / 12 x 1.08).
		{"2025-06-30", int64(250), int64(260), nil, 1080},
	} {
		s := buildFixtureWith(t, "basic", "2025-02-15", nil, seatsSQL)
		if c.knownAt != "" {
			if err := s.SetVariables(t.Context(), []Variable{{Name: "known_at_views", Value: []string{"raw_demo__subscriptions"}}, {Name: "known_at_dates", Value: []string{c.knownAt}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.RunModels(t.Context(), []Model{stagingModel(t, "demo", "stg_subscriptions")}); err != nil {
				t.Fatal(err)
			}
		}
		subs := rowsBy(t, s, `select subscription_id, seats, seat_limit, mrr from stg_subscriptions`)
		if got := subs["s3"]; got.Get("seats") != c.s3Seats || got.Get("seat_limit") != c.s3Limit || got.Float("mrr") != 10000 {
			t.Errorf("known at %q: s3 = %v, want %v seats of %v, MRR 10000", c.knownAt, got, c.s3Seats, c.s3Limit)
		}
		if got := subs["s2"]; got.Get("seats") != c.s2 || math.Abs(got.Float("mrr")-c.s2MRR) > 1e-9 {
			t.Errorf("known at %q: s2 = %v, want %v seats, MRR %v", c.knownAt, got, c.s2, c.s2MRR)
		}
	}
}
