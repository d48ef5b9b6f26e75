package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

// servedEnv serves company (as it is, not regenerated) and returns params for a nightly run
// as of asOf into a fresh lake.
func servedEnv(t *testing.T, company *demo.Company, asOf time.Time) jobs.Params {
	t.Helper()
	return servedEnvIn(t, company, asOf, t.TempDir())
}

// servedEnvIn is servedEnv into the lake at lakeDir (which may hold earlier landings).
func servedEnvIn(t *testing.T, company *demo.Company, asOf time.Time, lakeDir string) jobs.Params {
	t.Helper()
	p, stop, err := serveDemo(company, defaultconfig.DemoName, defaultconfig.DemoYAML, lakeDir, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	p.AsOf = asOf
	return p
}

// notPointInTime are the columns a vendor snapshot taken later cannot give for a past date
// (docs/tables.md, "Point in time"): a deal that moved stage or had an activity since shows
// neither its stage nor its engagement at as_of. A run on a later landing publishes them as
// unknown (NULL, or 'unknown' for engagement), never the later value; compareMarts checks that
// and compares every other column exactly as published. pipeline_aging's percentile columns
// are computed from the stages, so they go with them.
var notPointInTime = map[string][]string{
	"pipeline_aging": {"stage", "stage_entered_at", "days_in_stage", "p75_days", "p90_days", "aging_status",
		"deals_in_stage", "last_activity_type", "days_since_last_activity", "engagement", "forecast_category"},
	"prospect_fit": {"stage"},
}

// unknownWhenLater are the columns of notPointInTime whose value in the run on the later landing
// must be NULL (or the text) wherever it differs from the run on that day's data, per table: key
// column, then column -> the unknown value ("" for NULL).
var unknownWhenLater = map[string]struct {
	key  string
	cols map[string]string
}{
	"pipeline_aging": {"opportunity_id", map[string]string{"stage": "", "stage_entered_at": "", "forecast_category": "", "engagement": "unknown", "last_activity_type": ""}},
	"prospect_fit":   {"opportunity_id", map[string]string{"stage": ""}},
}

// compareMarts compares, table by table, what later (a run on a later landing) and then (a run
// on the data of that day) published as of d: every row and column equal, but for the columns of
// notPointInTime, which later must publish as unknown where they differ. It returns the number
// of tables compared.
func compareMarts(t *testing.T, later, then jobs.Params, d string) int {
	t.Helper()
	ctx := context.Background()
	entries, err := os.ReadDir(filepath.Join(then.Lake.(*lake.FileStore).Root(), "marts"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := warehouse.Open(ctx, warehouse.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	compared := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		table := e.Name()
		a, b := historyFile(later, table, d), historyFile(then, table, d)
		have, err := s.Query(ctx, "select column_name from (describe select * from read_parquet(?))", a)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		present := map[string]bool{}
		for _, r := range have {
			present[r.Values[0].(string)] = true
		}
		var ex []string
		for _, c := range notPointInTime[table] {
			if present[c] {
				ex = append(ex, c)
			}
		}
		cols := "*"
		if len(ex) > 0 {
			cols = "* exclude (" + strings.Join(ex, ", ") + ")"
		}
		q := "select " + cols + " from read_parquet(?) order by all"
		ra, err := s.Query(ctx, q, a)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		rb, err := s.Query(ctx, q, b)
		if err != nil {
			t.Fatalf("%s (that day's data): %v", table, err)
		}
		if len(ra) != len(rb) {
			t.Errorf("%s: %d rows on the later landing, %d on the data of %s", table, len(ra), len(rb), d)
			continue
		}
		for i := range ra {
			if !ra[i].Equal(rb[i], 1e-9) {
				t.Errorf("%s row %d differs:\nlater landing %s\nthat day's    %s", table, i, ra[i], rb[i])
				break
			}
		}
		if u, ok := unknownWhenLater[table]; ok {
			for col, unknown := range u.cols {
				if !present[col] {
					continue
				}
				want := "l." + col + " is null"
				if unknown != "" {
					want = "l." + col + " = '" + unknown + "'"
				}
				bad, err := s.Query(ctx, fmt.Sprintf(`select l.%[1]s, l.%[2]s as later, t.%[2]s as that_day
					from read_parquet(?) l join read_parquet(?) t using (%[1]s)
					where l.%[2]s is distinct from t.%[2]s and not (%[3]s) limit 3`, u.key, col, want), a, b)
				if err != nil {
					t.Fatalf("%s.%s: %v", table, col, err)
				}
				for _, r := range bad {
					t.Errorf("%s.%s: the later landing publishes a value where it cannot know one: %s", table, col, r)
				}
			}
		}
		compared++
	}
	return compared
}

// A run as of a past date on everything landed today publishes what a run on that date, on
// the data the systems exported then, would have published: no mart reads a fact from after
// its as_of (the issue-5 rule that makes backfills trustworthy).
func TestPastAsOfEqualsRunOnTruncatedData(t *testing.T) {
	t.Parallel()
	company := demo.Generate(demo.Options{Accounts: 500, Seed: 11})
	asOf := time.Date(2025, time.December, 17, 0, 0, 0, 0, time.UTC) // mid-month, mid-quarter
	then := company.KnownAt(asOf.AddDate(0, 0, 1))
	if len(then.Invoices) >= len(company.Invoices) || len(then.Accounts) >= len(company.Accounts) {
		t.Fatalf("truncation removed nothing: %+v vs %+v", then.RowCounts(), company.RowCounts())
	}

	ctx := context.Background()
	today := servedEnv(t, company, asOf)
	past := servedEnv(t, then, asOf)
	for _, p := range []jobs.Params{today, past} {
		if _, err := jobs.Nightly(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if n := compareMarts(t, today, past, asOf.Format(time.DateOnly)); n < 10 {
		t.Errorf("compared %d tables; the segment job publishes more", n)
	}
}

// A lake with full landings at two dates, and a backfill as of a date between them: the run
// reads the later landing (the earlier one holds none of the facts in between) and publishes,
// table by table, what a run on the data known that day publishes. The run record and
// _published.json name the landing read.
func TestBackfillBetweenLandingsReadsTheOneThatHoldsItsFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	company := demo.Generate(demo.Options{Accounts: 500, Seed: 23})
	march := time.Date(2026, time.March, 31, 0, 0, 0, 0, time.UTC)
	june := time.Date(2026, time.June, 30, 0, 0, 0, 0, time.UTC)
	october := company.AsOf() // 2026-10-31

	// One lake: the company as exported on 1 April, landed at dt=2026-03-31, and as exported
	// today, landed at dt=2026-10-31.
	lakeDir := t.TempDir()
	for _, l := range []struct {
		c  *demo.Company
		dt time.Time
	}{{company.KnownAt(march.AddDate(0, 0, 1)), march}, {company, october}} {
		p := servedEnvIn(t, l.c, l.dt, lakeDir)
		if _, err := jobs.Ingest(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	backfill := servedEnvIn(t, company, june, lakeDir)
	res, err := jobs.Segment(ctx, backfill)
	if err != nil {
		t.Fatal(err)
	}
	// The reference: the data the systems held on 30 June, landed that day.
	thatDay := servedEnv(t, company.KnownAt(june.AddDate(0, 0, 1)), june)
	if _, err := jobs.Nightly(ctx, thatDay); err != nil {
		t.Fatal(err)
	}
	if n := compareMarts(t, backfill, thatDay, "2026-06-30"); n < 15 {
		t.Errorf("compared %d tables; the segment job publishes more", n)
	}

	// Every entity was read up to the October landing, and both records say so. The demo
	// exports load incrementally, so October's landings are increments on March's full ones: a
	// chain over a gap, in which a version of a record from March is not trusted to be the one
	// of 30 June (sql/prelude.sql, as_of_rank; the newest version, its later facts masked, for
	// entities without an update time) and the comparison above shows it.
	if len(res.Inputs) != 6 {
		t.Fatalf("read %d entities, want 6", len(res.Inputs))
	}
	for _, r := range res.Inputs {
		want := "2026-03-31 full, 2026-10-31 incremental"
		var got []string
		for _, l := range r.Landings {
			got = append(got, l.Dt+" "+l.Mode)
		}
		if r.KnownAt != "2026-10-31" || strings.Join(got, ", ") != want || r.StaleDays != 0 {
			t.Errorf("%s/%s: read %+v, want %s", r.Source, r.Entity, r.InputRead, want)
		}
	}
	var rec jobs.RunRecord
	b, err := lake.GetBytes(ctx, backfill.Lake, "runs/"+backfill.RunID+".json")
	if err == nil {
		err = json.Unmarshal(b, &rec)
	}
	if err != nil || len(rec.Inputs) != 6 || len(rec.Inputs[0].Landings) != 2 || rec.Inputs[0].Landings[1].Dt != "2026-10-31" || rec.Inputs[0].Landings[1].RunID == "" {
		t.Errorf("run record inputs %+v, %v", rec.Inputs, err)
	}
	pub, err := lake.ReadPublished(ctx, backfill.Lake)
	if err != nil || len(pub.Inputs) != 6 || pub.Inputs[0].KnownAt != "2026-10-31" {
		t.Errorf("_published.json inputs %+v, %v", pub, err)
	}

	// The March landing alone would have been a different company: the case the issue found
	// (churned customers doubled, accounts created after March missing). Check the figures
	// moved, so the comparison above is not vacuous.
	s, err := warehouse.Open(ctx, warehouse.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	accounts, err := s.Query(ctx, "select count(*) from read_parquet(?)", historyFile(backfill, "account_segments", "2026-06-30"))
	if err != nil {
		t.Fatal(err)
	}
	inMarch := len(company.KnownAt(march.AddDate(0, 0, 1)).Accounts)
	if got := accounts[0].Values[0].(int64); got <= int64(inMarch) || got != int64(len(company.KnownAt(june.AddDate(0, 0, 1)).Accounts)) {
		t.Errorf("account_segments as of 2026-06-30 has %d accounts; the company had %d on 1 July, %d on 1 April", got, len(company.KnownAt(june.AddDate(0, 0, 1)).Accounts), inMarch)
	}
}

// A segment run past the newest landing is refused, naming the entities, the newest landing and
// the days it lacks; --allow-stale runs it and records how stale the read was.
func TestSegmentPastTheNewestLandingIsRefusedUnlessStaleIsAllowed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	company := demo.Generate(demo.Options{Accounts: 200, Seed: 5})
	p := servedEnv(t, company, company.AsOf())
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.AsOf = company.AsOf().AddDate(0, 0, 4) // 2026-11-04
	p.RunID = jobs.NewRunID(time.Now())
	res, err := jobs.Segment(ctx, p)
	if !errors.Is(err, jobs.ErrStaleInputs) {
		t.Fatalf("want ErrStaleInputs, got %v", err)
	}
	for _, want := range []string{"segment as of 2026-11-04", "billing/invoices", "crm/accounts", "support/tickets",
		"newest landing dt=2026-10-31, 4 days short", "--allow-stale"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if res == nil || res.Publication != nil {
		t.Fatal("a refused run published")
	}
	if _, err := lake.ReadPublished(ctx, p.Lake); !errors.Is(err, lake.ErrNotExist) {
		t.Errorf("something was published: %v", err)
	}

	p.AllowStale = true
	p.RunID = jobs.NewRunID(time.Now())
	res, err = jobs.Segment(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := lake.ReadPublished(ctx, p.Lake)
	if err != nil || pub.AsOf != "2026-11-04" {
		t.Fatalf("published %+v, %v", pub, err)
	}
	for _, in := range pub.Inputs {
		if in.StaleDays != 4 || in.KnownAt != "2026-10-31" {
			t.Errorf("%s/%s: stale_days %d known_at %s, want 4 and 2026-10-31", in.Source, in.Entity, in.StaleDays, in.KnownAt)
		}
	}
	if len(pub.Inputs) != len(res.Inputs) || len(pub.Inputs) == 0 {
		t.Errorf("inputs: published %d, read %d", len(pub.Inputs), len(res.Inputs))
	}
}
