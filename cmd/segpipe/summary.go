package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

func printIngest(w io.Writer, datasets []*lake.Manifest) {
	if len(datasets) == 0 {
		return
	}
	fmt.Fprintf(w, "Landed (raw/<source>/<entity>/dt=%s/)\n", datasets[0].Dt)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  source/entity\trows\tquarantined\tpages\tMB\t")
	for _, m := range datasets {
		fmt.Fprintf(tw, "  %s/%s\t%s\t%s\t%d\t%.1f\t\n", m.Source, m.Entity, thousands(m.Rows), thousands(m.Quarantined), m.Pages, float64(m.Bytes)/1e6)
	}
	tw.Flush()
	for _, m := range datasets {
		if m.Quarantined > 0 {
			fmt.Fprintf(w, "  %s/%s: %d bad records kept with their reasons in %s\n", m.Source, m.Entity, m.Quarantined, m.QuarantineKey)
		}
		if m.Superseded > 0 || m.RepeatsDropped > 0 {
			fmt.Fprintf(w, "  %s/%s: records that came twice in the export: %s older versions landed beside the newer (staging keeps the one known at as_of), %s exact repeats not landed\n",
				m.Source, m.Entity, thousands(m.Superseded), thousands(m.RepeatsDropped))
		}
		if m.OlderEvents > 0 {
			fmt.Fprintf(w, "  %s/%s: read from the vendor's events: %s older states of changed objects left out for their newest\n",
				m.Source, m.Entity, thousands(m.OlderEvents))
		}
	}
	fmt.Fprintln(w)
}

func printSegment(w io.Writer, p jobs.Params, res *jobs.SegmentResult) {
	passed := 0
	var warned []warehouse.AssertionResult
	for _, a := range res.Assertions {
		switch a.Outcome {
		case warehouse.Passed:
			passed++
		case warehouse.Warned:
			warned = append(warned, a)
		}
	}
	audit := fmt.Sprintf("%d of %d assertions passed", passed, len(res.Assertions))
	if len(warned) > 0 {
		audit += fmt.Sprintf(", %d warned", len(warned))
	}
	printInputs(w, p.AsOf.Format("2006-01-02"), res.Inputs)
	fmt.Fprintf(w, "Built %d models; audit: %s.\n", len(res.Models), audit)
	printNotBuilt(w, res.NotBuilt)
	printDrops(w, res.Models)
	for _, a := range warned {
		fmt.Fprintf(w, "  warning: %s returned %s rows", a.Name, thousands(a.Failures))
		if a.Population > 0 {
			fmt.Fprintf(w, " of %s (%s)", thousands(a.Population), pct(float64(a.Failures)/float64(a.Population)))
		}
		if a.ErrorIf != "" {
			fmt.Fprintf(w, "; an error above %s", a.ErrorIf)
		}
		if len(a.Sample) > 0 {
			fmt.Fprintf(w, ", e.g. %s", a.Sample[0])
		}
		fmt.Fprintln(w)
	}
	if res.Publication == nil {
		fmt.Fprintln(w, "Nothing was published: the tables BI tools read are unchanged.")
		return
	}
	if t := res.Totals; t.Columns != nil && t.Float("status_unknown") > 0 {
		fmt.Fprintf(w, "\nAccounts: %s; customers and ARR unknown (no billing source)\n", thousands(asInt(t.Float("accounts"))))
	} else if t.Columns != nil {
		fmt.Fprintf(w, "\nCustomers: %s active, %s churned; %s trialing, %s prospects; ARR %s\n",
			thousands(asInt(t.Float("active_customers"))), thousands(asInt(t.Float("churned_customers"))),
			thousands(asInt(t.Float("trialing"))), thousands(asInt(t.Float("prospects"))), money(t.Float("arr")))
	}
	for _, dim := range []string{"size_band", "industry", "region"} {
		printSegmentMetrics(w, dim, res.Summary["segment_metrics"])
	}
	printQuintiles(w, res.Summary["ltv_quintiles"])

	pub := res.Publication
	fmt.Fprintf(w, "\nPublished as of %s (run %s) to %s\n", pub.AsOf, pub.RunID, p.Lake.URL())
	if !res.LatestMoved {
		fmt.Fprintf(w, "  history only: a newer date is already published, latest/ is unchanged\n")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range pub.History {
		latest := ""
		if res.LatestMoved {
			latest = "latest/" + t.Name + ".parquet"
		}
		fmt.Fprintf(tw, "  %s\t%s rows\t%s\tmarts/%s/as_of=%s/data.parquet\n", t.Name, thousands(t.Rows), latest, t.Name, pub.AsOf)
	}
	tw.Flush()
	if res.LatestMoved {
		fmt.Fprintf(w, "  every table: latest/%s\n", lake.DatabaseName)
		fmt.Fprintf(w, "  the report: latest/%s\n", lake.ReportName)
		if fsys, ok := p.Lake.(interface{ Root() string }); ok {
			fmt.Fprintf(w, "\nWith the DuckDB CLI: duckdb %s -c 'from segment_metrics'\n", filepath.Join(fsys.Root(), "latest", lake.DatabaseName))
			if abs, err := filepath.Abs(filepath.Join(fsys.Root(), "latest", lake.ReportName)); err == nil {
				fmt.Fprintf(w, "The report, to open in a browser: file://%s\n", abs)
			}
		}
	}
}

// printInputs names the landings read for entities whose newest landing read is not on as_of:
// a backfill reads a later one, --allow-stale an older one.
func printInputs(w io.Writer, asOf string, reads []*lake.SnapshotRead) {
	for _, r := range reads {
		if r.KnownAt == asOf {
			continue
		}
		var ls []string
		for _, l := range r.Landings {
			ls = append(ls, fmt.Sprintf("dt=%s (%s)", l.Dt, l.Mode))
		}
		note := "facts after as_of are cut by their timestamps"
		if r.StaleDays > 0 {
			note = fmt.Sprintf("STALE: %d day(s) short of as_of, read with --allow-stale", r.StaleDays)
		}
		fmt.Fprintf(w, "Read %s/%s from %s: %s\n", r.Source, r.Entity, strings.Join(ls, " + "), note)
	}
}

// printDrops lists the rows staging left out, per canonical table and reason.
func printDrops(w io.Writer, models []warehouse.ModelRun) {
	for _, m := range models {
		for _, d := range m.Drops {
			fmt.Fprintf(w, "  left out of %s: %s of %s rows (%s): %s", m.Name, thousands(d.Rows), thousands(d.Candidates),
				pct(float64(d.Rows)/float64(max(d.Candidates, 1))), d.Reason)
			if len(d.Sample) > 0 {
				fmt.Fprintf(w, " (e.g. %s)", strings.Join(d.Sample, ", "))
			}
			fmt.Fprintln(w)
		}
	}
}

func printSegmentMetrics(w io.Writer, dim string, rows []warehouse.Row) {
	fmt.Fprintf(w, "\nBy %s\n", strings.ReplaceAll(dim, "_", " "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// The headline win rate is new business (docs/domain.md §11): renewals win far more often and
	// would drown it.
	fmt.Fprintln(tw, "  segment\tcustomers\tARR\tARR share\tARPA/mo\tchurn/mo\tchurn 12m\tavg LTV\twin rate (new)\t")
	for _, r := range rows {
		if r.Get("dimension") != dim {
			continue
		}
		fmt.Fprintf(tw, "  %v\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Get("segment"), thousands(asInt(r.Float("customers"))),
			money(r.Float("arr")), pct(r.Float("arr_share")), money(r.Float("arpa")),
			pct(r.Float("logo_churn_monthly")), pct(r.Float("logo_churn_12m")), money(r.Float("ltv_avg")),
			winRate(r.Float("win_rate_new_business"), r.Float("new_business_won"), r.Float("new_business_lost")))
	}
	tw.Flush()
}

// winRate prints a win rate with the deals it is over, "-" without one.
func winRate(rate, won, lost float64) string {
	if math.IsNaN(rate) {
		return "-"
	}
	return fmt.Sprintf("%s of %s", pct(rate), thousands(asInt(won+lost)))
}

func printQuintiles(w io.Writer, rows []warehouse.Row) {
	fmt.Fprintf(w, "\nLTV quintiles (1 = top 20%% of customers by LTV)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  quintile\tcustomers\tchurned\trevenue share\tARR share\tLTV min\tLTV max\tavg LTV\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "  %v\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Get("ltv_quintile"), thousands(asInt(r.Float("customers"))),
			pct(r.Float("churned_share")), pct(r.Float("share_of_revenue")), pct(r.Float("share_of_arr")),
			money(r.Float("ltv_min")), money(r.Float("ltv_max")), money(r.Float("ltv_avg")))
	}
	tw.Flush()
}

func asInt(f float64) int64 {
	if math.IsNaN(f) {
		return 0
	}
	return int64(math.Round(f))
}

func pct(f float64) string {
	if math.IsNaN(f) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

// money renders an amount compactly: $950, $12.3K, $4.56M.
func money(f float64) string {
	switch a := math.Abs(f); {
	case math.IsNaN(f):
		return "-"
	case a >= 1e6:
		return fmt.Sprintf("$%.2fM", f/1e6)
	case a >= 1e4:
		return fmt.Sprintf("$%.1fK", f/1e3)
	default:
		return "$" + thousands(int64(math.Round(f)))
	}
}

// thousands renders 1234567 as 1,234,567.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// printNotBuilt says, one line per set of missing inputs, which marts and assertions were left
// out because no configured source provides what they need.
func printNotBuilt(w io.Writer, notBuilt []warehouse.NotBuilt) {
	var order []string
	groups := map[string][]string{}
	for _, nb := range notBuilt {
		if nb.Layer != warehouse.Marts && nb.Layer != "tests" {
			continue
		}
		k := strings.Join(nb.Needs, ", ")
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], nb.Name)
	}
	for _, k := range order {
		fmt.Fprintf(w, "  not built, as no configured source provides %s: %s\n", k, strings.Join(groups[k], ", "))
	}
}
