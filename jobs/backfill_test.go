package jobs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestBackfillPlanDates(t *testing.T) {
	cases := []struct {
		from, to, every string
		want            string
	}{
		{"2026-01-30", "2026-02-02", "day", "2026-01-30 2026-01-31 2026-02-01 2026-02-02"},
		{"2026-01-01", "2026-01-22", "week", "2026-01-01 2026-01-08 2026-01-15 2026-01-22"},
		{"2026-01-01", "2026-01-21", "week", "2026-01-01 2026-01-08 2026-01-15"},
		{"2026-01-31", "2026-05-31", "month", "2026-01-31 2026-02-28 2026-03-31 2026-04-30 2026-05-31"},
		{"2026-02-28", "2026-04-30", "month", "2026-02-28 2026-03-31 2026-04-30"},
		{"2026-01-30", "2026-04-29", "month", "2026-01-30 2026-02-28 2026-03-30"},
		{"2026-01-15", "2026-03-15", "month", "2026-01-15 2026-02-15 2026-03-15"},
		{"2026-03-15", "2026-03-15", "day", "2026-03-15"},
	}
	for _, c := range cases {
		t.Run(c.from+"_"+c.to+"_"+c.every, func(t *testing.T) {
			pl := jobs.BackfillPlan{From: date(c.from), To: date(c.to), Every: c.every, Jobs: []string{"segment"}}
			if err := pl.Validate(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range pl.Dates() {
				got = append(got, d.Format(time.DateOnly))
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("dates %v, want %s", got, c.want)
			}
		})
	}
	bad := []jobs.BackfillPlan{
		{From: date("2026-02-01"), To: date("2026-01-01"), Every: "day", Jobs: []string{"segment"}},
		{From: date("2026-01-01"), To: date("2026-02-01"), Every: "fortnight", Jobs: []string{"segment"}},
		{From: date("2026-01-01"), To: date("2026-02-01"), Every: "day", Jobs: []string{"nightly"}},
		{From: date("2026-01-01"), To: date("2026-02-01"), Every: "day"},
	}
	for _, pl := range bad {
		if err := pl.Validate(); !errors.Is(err, jobs.ErrBadPlan) {
			t.Errorf("%+v: want ErrBadPlan, got %v", pl, err)
		}
	}
	a := jobs.BackfillPlan{From: date("2026-01-31"), To: date("2026-12-31"), Every: "month", Jobs: []string{"segment"}}
	if a.ID() != "2026-01-31_2026-12-31_month_segment" {
		t.Errorf("id %s", a.ID())
	}
}

// monthEnds returns n month ends, the last one the month end before asOf's month.
func monthEnds(asOf time.Time, n int) (from, to time.Time) {
	to = time.Date(asOf.Year(), asOf.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	from = time.Date(to.Year(), to.Month()-time.Month(n-1)+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	return from, to
}

// sortedTable reads a published Parquet file, rows ordered by their printed form.
func sortedTable(t *testing.T, file string) []warehouse.Row {
	rows := readTable(t, file)
	sort.Slice(rows, func(i, j int) bool { return rows[i].String() < rows[j].String() })
	return rows
}

func historyFile(p jobs.Params, table, asOf string) string {
	return filepath.Join(p.Lake.(*lake.FileStore).Root(), "marts", table, "as_of="+asOf, "data.parquet")
}

// A monthly backfill over a year gives, date by date, what single segment runs give.
func TestBackfillEqualsSingleRuns(t *testing.T) {
	t.Parallel()
	p, company := demoEnv(t, 250, nil)
	ctx := context.Background()
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	// A second lake with the same landings, for the single runs.
	single := p
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(p.Lake.(*lake.FileStore).Root())); err != nil {
		t.Fatal(err)
	}
	store, err := lake.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	single.Lake = store

	from, to := monthEnds(company.AsOf(), 12)
	pl := jobs.BackfillPlan{From: from, To: to, Every: jobs.EveryMonth, Jobs: []string{jobs.JobSegment}}
	var progress []string
	res, err := jobs.Backfill(ctx, p, jobs.BackfillOptions{Plan: pl, Progress: func(done, total int, s jobs.DateStatus) {
		progress = append(progress, s.AsOf+" "+s.Status)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Dates) != 12 || len(progress) != 24 {
		t.Fatalf("%d dates, %d progress calls", len(res.Dates), len(progress))
	}
	for i, s := range res.Dates {
		if s.Status != jobs.DatePublished || s.Rows == 0 || s.RunID == "" {
			t.Errorf("date %d: %+v", i, s)
		}
		if i > 0 && s.AsOf <= res.Dates[i-1].AsOf {
			t.Errorf("dates out of order: %s after %s", s.AsOf, res.Dates[i-1].AsOf)
		}
		if progress[2*i] != s.AsOf+" running" || progress[2*i+1] != s.AsOf+" published" {
			t.Errorf("progress %v not in date order", progress[2*i:2*i+2])
		}
	}
	pub, err := lake.ReadPublished(ctx, p.Lake)
	if err != nil || pub.AsOf != to.Format(time.DateOnly) || pub.RunID != res.Dates[11].RunID {
		t.Fatalf("latest is %+v (%v), want the newest date %s", pub, err, to.Format(time.DateOnly))
	}

	for _, d := range pl.Dates() {
		single.AsOf = d
		single.RunID = jobs.NewRunID(time.Now())
		if _, err := jobs.Segment(ctx, single); err != nil {
			t.Fatal(err)
		}
	}
	grew := false
	for i, d := range pl.Dates() {
		asOf := d.Format(time.DateOnly)
		for _, table := range []string{"account_segments", "segment_metrics", "ltv_quintiles"} {
			got := sortedTable(t, historyFile(p, table, asOf))
			want := sortedTable(t, historyFile(single, table, asOf))
			if len(got) != len(want) {
				t.Fatalf("%s %s: backfill %d rows, single run %d", table, asOf, len(got), len(want))
			}
			for k := range got {
				if !got[k].Equal(want[k], 1e-9) {
					t.Fatalf("%s %s row %d:\nbackfill %v\nsingle   %v", table, asOf, k, got[k], want[k])
				}
			}
			if table == "account_segments" && int64(len(got)) != res.Dates[i].Rows {
				t.Errorf("%s: status says %d rows, the partition has %d", asOf, res.Dates[i].Rows, len(got))
			}
		}
		if i > 0 && res.Dates[i].Rows != res.Dates[0].Rows {
			grew = true
		}
	}
	if !grew {
		t.Error("every month has the same account count: the dates are not cut by as_of")
	}
}

// statuses reads a backfill's stored status by date.
func statuses(t *testing.T, p jobs.Params, id string) map[string]jobs.DateStatus {
	t.Helper()
	st, err := jobs.ReadBackfill(context.Background(), p.Lake, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func segmentRuns(t *testing.T, p jobs.Params) map[string]int {
	t.Helper()
	runs, err := jobs.ListRuns(context.Background(), p.Lake, jobs.JobSegment, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, r := range runs {
		n[r.AsOf]++
	}
	return n
}

// A cancelled backfill resumes where it stopped; --force redoes published dates and
// --only-failed reruns only the failed one.
func TestBackfillResumesForcesAndRetriesFailed(t *testing.T) {
	t.Parallel()
	p, company := demoEnv(t, 200, func(c *config.Config) { c.Lease.OnConflict = "exit" })
	ctx := context.Background()
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	from, to := monthEnds(company.AsOf(), 4)
	pl := jobs.BackfillPlan{From: from, To: to, Every: jobs.EveryMonth, Jobs: []string{jobs.JobSegment}}
	dates := pl.Dates()
	d := func(i int) string { return dates[i].Format(time.DateOnly) }

	// Cancel as the third date starts: it stops unpublished, the fourth never starts.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err := jobs.Backfill(cctx, p, jobs.BackfillOptions{Plan: pl, Progress: func(done, total int, s jobs.DateStatus) {
		if s.AsOf == d(2) && s.Status == jobs.DateRunning {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want a cancelled backfill, got %v", err)
	}
	first := statuses(t, p, pl.ID())
	for i, want := range []string{jobs.DatePublished, jobs.DatePublished, jobs.DateFailed, jobs.DatePending} {
		if got := first[d(i)]; got.Status != want {
			t.Errorf("%s after cancel: %+v, want %s", d(i), got, want)
		}
	}
	if !strings.Contains(first[d(2)].Error, "cancel") {
		t.Errorf("cancelled date's error: %q", first[d(2)].Error)
	}
	if _, err := os.Stat(filepath.Dir(historyFile(p, "account_segments", d(2)))); !os.IsNotExist(err) {
		t.Errorf("the cancelled date has a history partition: %v", err)
	}
	if pub, _ := lake.ReadPublished(ctx, p.Lake); pub == nil || pub.AsOf != d(1) {
		t.Errorf("latest %+v, want %s", pub, d(1))
	}

	// Resume: only the last two dates run.
	res, err := jobs.Backfill(ctx, p, jobs.BackfillOptions{Plan: pl})
	if err != nil {
		t.Fatal(err)
	}
	second := statuses(t, p, pl.ID())
	for i := range 4 {
		if second[d(i)].Status != jobs.DatePublished {
			t.Errorf("%s after resume: %+v", d(i), second[d(i)])
		}
	}
	for i := range 2 {
		if second[d(i)].RunID != first[d(i)].RunID || res.Dates[i].Skip == "" {
			t.Errorf("%s was redone on resume: %s -> %s", d(i), first[d(i)].RunID, second[d(i)].RunID)
		}
	}
	runs := segmentRuns(t, p)
	for i, want := range []int{1, 1, 2, 1} {
		if runs[d(i)] != want {
			t.Errorf("%s: %d segment runs, want %d", d(i), runs[d(i)], want)
		}
	}
	if pub, _ := lake.ReadPublished(ctx, p.Lake); pub == nil || pub.AsOf != d(3) {
		t.Errorf("latest %+v, want %s", pub, d(3))
	}

	// --force with the second date's lease held by someone else: it fails, the others rerun.
	lease, err := lake.Acquire(ctx, p.Lake, jobs.LeaseName(jobs.JobSegment, d(1)), lake.NewHolder("someone-else"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, err = jobs.Backfill(ctx, p, jobs.BackfillOptions{Plan: pl, Force: true, Parallel: 2})
	if !errors.Is(err, jobs.ErrBackfillIncomplete) || !strings.Contains(err.Error(), d(1)) {
		t.Fatalf("want the held date to fail the backfill, got %v", err)
	}
	lease.Release(ctx)
	third := statuses(t, p, pl.ID())
	for i := range 4 {
		want := jobs.DatePublished
		if i == 1 {
			want = jobs.DateFailed
		}
		if third[d(i)].Status != want || third[d(i)].RunID == second[d(i)].RunID {
			t.Errorf("%s after --force: %+v, want %s with a new run", d(i), third[d(i)], want)
		}
	}

	// --only-failed reruns the failed date and nothing else.
	res, err = jobs.Backfill(ctx, p, jobs.BackfillOptions{Plan: pl, OnlyFailed: true})
	if err != nil {
		t.Fatal(err)
	}
	fourth := statuses(t, p, pl.ID())
	for i := range 4 {
		redone := fourth[d(i)].RunID != third[d(i)].RunID
		if fourth[d(i)].Status != jobs.DatePublished || redone != (i == 1) {
			t.Errorf("%s after --only-failed: %+v (redone %v)", d(i), fourth[d(i)], redone)
		}
	}
	if res.Dates[0].Skip == "" || res.Dates[1].Skip != "" {
		t.Errorf("skips: %+v", res.Dates)
	}
	if pub, _ := lake.ReadPublished(ctx, p.Lake); pub == nil || pub.AsOf != d(3) {
		t.Errorf("latest %+v, want %s (an older date must not move it)", pub, d(3))
	}
}

func listing(t *testing.T, s lake.Store) string {
	t.Helper()
	objs, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return strings.Join(keys, "\n")
}

func TestBackfillDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	p, company := demoEnv(t, 200, nil)
	ctx := context.Background()
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	from, to := monthEnds(company.AsOf(), 3)
	pl := jobs.BackfillPlan{From: from, To: to, Every: jobs.EveryMonth, Jobs: []string{jobs.JobSegment}}
	// Publish the first date (then stop) so the dry run has something to skip.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err := jobs.Backfill(cctx, p, jobs.BackfillOptions{Plan: pl, Progress: func(done, total int, s jobs.DateStatus) {
		if s.Status == jobs.DatePublished {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want a cancelled backfill, got %v", err)
	}
	before := listing(t, p.Lake)
	res, err := jobs.Backfill(ctx, p, jobs.BackfillOptions{Plan: pl, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if after := listing(t, p.Lake); after != before {
		t.Errorf("a dry run changed the lake:\nbefore\n%s\nafter\n%s", before, after)
	}
	if len(res.Dates) != 3 {
		t.Fatalf("plan %+v", res.Dates)
	}
	if !strings.Contains(res.Dates[0].Skip, "published") {
		t.Errorf("the published date is not skipped: %+v", res.Dates[0])
	}
	for _, s := range res.Dates[1:] {
		if s.Skip != "" || s.Status != jobs.DatePending {
			t.Errorf("a pending date would not run: %+v", s)
		}
	}
}

// With --parallel, dates overlap but their segment runs go in date order: each carries the
// previous date's tier and segment history forward (run record extra.previous_as_of).
func TestParallelBackfillChainsHistory(t *testing.T) {
	t.Parallel()
	p, company := demoEnv(t, 150, nil)
	ctx := context.Background()
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	from, to := monthEnds(company.AsOf(), 5)
	pl := jobs.BackfillPlan{From: from, To: to, Every: jobs.EveryMonth, Jobs: []string{jobs.JobSegment}}
	res, err := jobs.Backfill(ctx, p, jobs.BackfillOptions{Plan: pl, Parallel: 3})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := jobs.ListRuns(ctx, p.Lake, jobs.JobSegment, 0)
	if err != nil {
		t.Fatal(err)
	}
	previous := map[string]string{}
	for _, r := range runs {
		prev, _ := r.Extra["previous_as_of"].(map[string]any)
		previous[r.AsOf], _ = prev["tier_history"].(string)
	}
	for i, d := range res.Dates {
		want := ""
		if i > 0 {
			want = res.Dates[i-1].AsOf
		}
		if d.Status != jobs.DatePublished || previous[d.AsOf] != want {
			t.Errorf("%s: %s, read the history of %q, want %q", d.AsOf, d.Status, previous[d.AsOf], want)
		}
	}
}
