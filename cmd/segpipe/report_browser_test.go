//go:build browser

// The report in a real browser: `make test-browser` (which .ci/run calls after installing
// Debian's chromium) runs this file; plain `go test` does not build it.

package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/warehouse"
)

// chromium finds the browser: $SEGPIPE_CHROMIUM, else Debian's /usr/bin/chromium.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SEGPIPE_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("the browser test needs Chromium: apt-get install chromium (Debian), or set SEGPIPE_CHROMIUM to its path: %v", err)
	}
	return "/usr/bin/chromium"
}

// mark is one drawn value as the page holds it, or as the published tables say it should be.
type mark struct {
	Chart, Series, Key string
	Value              float64
}

func (m mark) String() string { return fmt.Sprintf("%s/%s/%s=%v", m.Chart, m.Series, m.Key, m.Value) }

// expectedMarks is, chart by chart, what the published tables say each chart draws: one mark
// per non-NULL value, keyed as the chart labels it.
var expectedMarks = map[string]string{
	"mrr-movements": `SELECT * FROM (
		SELECT 'new' AS s, strftime(month, '%Y-%m') AS k, new_mrr AS v FROM mrr_monthly UNION ALL
		SELECT 'expansion', strftime(month, '%Y-%m'), expansion_mrr FROM mrr_monthly UNION ALL
		SELECT 'reactivation', strftime(month, '%Y-%m'), reactivation_mrr FROM mrr_monthly UNION ALL
		SELECT 'contraction', strftime(month, '%Y-%m'), contraction_mrr FROM mrr_monthly UNION ALL
		SELECT 'churn', strftime(month, '%Y-%m'), churned_mrr FROM mrr_monthly) WHERE v IS NOT NULL`,
	"mrr-over-time": `SELECT 'mrr' AS s, strftime(month, '%Y-%m') AS k, mrr AS v FROM mrr_monthly WHERE mrr IS NOT NULL`,
	// The bridge of the trailing 12 months (the demo has more than 13).
	"mrr-bridge": `WITH m AS (SELECT *, row_number() OVER (ORDER BY month DESC) AS rn FROM mrr_monthly)
		SELECT 'bridge' AS s, 'MRR ' || strftime(month, '%Y-%m') AS k, mrr AS v FROM m WHERE rn IN (1, 13) UNION ALL
		SELECT 'bridge', 'new', sum(new_mrr) FROM m WHERE rn <= 12 UNION ALL
		SELECT 'bridge', 'expansion', sum(expansion_mrr) FROM m WHERE rn <= 12 UNION ALL
		SELECT 'bridge', 'reactivation', sum(reactivation_mrr) FROM m WHERE rn <= 12 UNION ALL
		SELECT 'bridge', 'contraction', sum(contraction_mrr) FROM m WHERE rn <= 12 UNION ALL
		SELECT 'bridge', 'churn', sum(churned_mrr) FROM m WHERE rn <= 12`,
	"ltv-shares": `SELECT * FROM (
		SELECT 'share of customers' AS s, 'Q' || ltv_quintile AS k, share_of_customers AS v FROM ltv_quintiles UNION ALL
		SELECT 'share of revenue', 'Q' || ltv_quintile, share_of_revenue FROM ltv_quintiles) WHERE v IS NOT NULL`,
	"ltv-churn": `SELECT * FROM (
		SELECT 'churned (of the quintile)' AS s, 'Q' || ltv_quintile AS k, churned_share AS v FROM ltv_quintiles UNION ALL
		SELECT 'logo churn 12m', 'Q' || ltv_quintile, logo_churn FROM ltv_quintiles) WHERE v IS NOT NULL`,
	"cohort-logo": `SELECT 'logo_retention' AS s, strftime(cohort, '%Y') || '-Q' || quarter(cohort) || ' · ' || months_since_start AS k, logo_retention AS v
		FROM cohort_retention WHERE dimension = 'all' AND cohort_grain = 'quarter' AND logo_retention IS NOT NULL`,
	"cohort-nrr": `SELECT 'net_revenue_retention' AS s, strftime(cohort, '%Y') || '-Q' || quarter(cohort) || ' · ' || months_since_start AS k, net_revenue_retention AS v
		FROM cohort_retention WHERE dimension = 'all' AND cohort_grain = 'quarter' AND net_revenue_retention IS NOT NULL`,
	"icp-lift":      `SELECT 'lift' AS s, attribute || ' = ' || value AS k, lift AS v FROM icp_profile WHERE lift IS NOT NULL`,
	"anti-icp-lift": `SELECT 'lift' AS s, attribute || ' = ' || value AS k, lift AS v FROM anti_icp_profile WHERE lift IS NOT NULL`,
	"tier-pyramid":  `SELECT 'share_of_customers' AS s, tier::VARCHAR AS k, share_of_customers AS v FROM tier_summary WHERE share_of_customers IS NOT NULL`,
	"pipeline-value": `SELECT * FROM (
		SELECT 'open pipeline' AS s, deal_size_tier AS k, pipeline_value AS v FROM pipeline_segments WHERE grouping = 'deal_size_tier' UNION ALL
		SELECT 'expected value', deal_size_tier, expected_value FROM pipeline_segments WHERE grouping = 'deal_size_tier' UNION ALL
		SELECT 'revenue won', deal_size_tier, revenue_won FROM pipeline_segments WHERE grouping = 'deal_size_tier') WHERE v IS NOT NULL`,
	"clusters": `SELECT * FROM (
		SELECT 'share of customers' AS s, 'cluster ' || cluster_id AS k, share_of_customers AS v FROM cluster_profiles UNION ALL
		SELECT 'share of ARR', 'cluster ' || cluster_id, arr_share FROM cluster_profiles) WHERE v IS NOT NULL`,
	"pipeline-motion": `SELECT 'win rate' AS s, motion AS k, win_rate AS v FROM pipeline_segments WHERE grouping = 'motion' AND win_rate IS NOT NULL`,
	"pipeline-aging": `SELECT coalesce(aging_status, 'unknown') AS s, coalesce(deal_size_tier, 'amount unknown') AS k, count(*)::DOUBLE AS v
		FROM pipeline_aging GROUP BY ALL`,
	"validation": `SELECT 'effect_size' AS s, dimension || ' · ' || metric AS k, effect_size AS v FROM segment_validation WHERE effect_size IS NOT NULL`,
}

func init() {
	for _, dim := range []string{"size_band", "industry", "region"} {
		expectedMarks["segments-"+dim] = fmt.Sprintf(`SELECT * FROM (
			SELECT 'share of customers' AS s, segment AS k, customers / sum(customers) OVER () AS v FROM segment_metrics WHERE dimension = '%[1]s' UNION ALL
			SELECT 'share of ARR', segment, arr_share FROM segment_metrics WHERE dimension = '%[1]s') WHERE v IS NOT NULL`, dim)
	}
}

func sortMarks(ms []mark) {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Series != ms[j].Series {
			return ms[i].Series < ms[j].Series
		}
		return ms[i].Key < ms[j].Key
	})
}

func near(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// TestReportInBrowser runs the demo, opens its latest/report.html in headless Chromium from
// the file (no server: it must need nothing but itself), and checks that it loads without a
// console error, an exception or a request to anywhere, that every chart drew, and that the
// marks are the published tables' numbers. It saves a full-page screenshot.
func TestReportInBrowser(t *testing.T) {
	exe := chromium(t)
	lakeDir := t.TempDir()
	code, out, errOut := runCLI(t, "demo", "--accounts", "1500", "--lake", lakeDir, "--log-level", "error")
	if code != 0 {
		t.Fatalf("demo exit %d: %s\n%s", code, out, errOut)
	}
	reportFile := filepath.Join(lakeDir, lake.LatestDir, lake.ReportName)
	if !strings.Contains(out, "file://"+reportFile) {
		t.Fatalf("the demo does not print where the report is (file://%s):\n%s", reportFile, out)
	}

	// What the page should show, from the published database.
	ctx := context.Background()
	sess, err := warehouse.Open(ctx, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	db := filepath.Join(lakeDir, lake.LatestDir, lake.DatabaseName)
	if err := sess.Exec(ctx, fmt.Sprintf("ATTACH '%s' AS pub (READ_ONLY); USE pub", db)); err != nil {
		t.Fatal(err)
	}
	want := map[string][]mark{}
	for chart, q := range expectedMarks {
		rows, err := sess.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", chart, err)
		}
		for _, r := range rows {
			want[chart] = append(want[chart], mark{chart, fmt.Sprint(r.Get("s")), fmt.Sprint(r.Get("k")), r.Float("v")})
		}
		if len(want[chart]) == 0 {
			t.Fatalf("%s: the demo's tables give this chart nothing to draw; the test would prove nothing", chart)
		}
	}
	totals, err := sess.Query(ctx, `SELECT count(*) FILTER (WHERE customer_status = 'active') AS active FROM account_segments`)
	if err != nil {
		t.Fatal(err)
	}

	// The browser.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 1600))
	actx, cancel := chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// Subscribe once the tab exists, then load the report: every console message (calls,
	// exceptions, the browser log) and every request the page makes is collected.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("chromium (%s): %v", exe, err)
	}
	subCtx, stopSub := context.WithCancel(bctx)
	var mu sync.Mutex
	var problems []string
	problem := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, a...))
	}
	messages := chromedp.Console(subCtx)
	requests := chromedp.Events(subCtx, network.RequestWillBeSent)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				problem("console %s", m)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range requests {
			if err != nil {
				return
			}
			if u := ev.Request.URL; !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") && u != "about:blank" {
				problem("the page asked the network for %s", u)
			}
		}
	}()
	type drawn struct {
		Charts []struct {
			ID    string  `json:"id"`
			W     float64 `json:"w"`
			H     float64 `json:"h"`
			Marks int     `json:"marks"`
		} `json:"charts"`
		Marks []struct {
			Chart  string  `json:"chart"`
			Series string  `json:"series"`
			Key    string  `json:"key"`
			Value  string  `json:"value"`
			W      float64 `json:"w"`
			H      float64 `json:"h"`
			X      float64 `json:"x"`
			Y      float64 `json:"y"`
		} `json:"marks"`
		Text     string `json:"text"`
		Sections int    `json:"sections"`
	}
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+reportFile), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		t.Fatalf("chromium: load %s: %v", reportFile, err)
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[drawn](`(() => {
			const out = {charts: [], marks: [], text: document.body.innerText, sections: document.querySelectorAll('main > section').length};
			for (const svg of document.querySelectorAll('svg[data-chart]')) {
				const r = svg.getBoundingClientRect();
				const marks = svg.querySelectorAll('.mark');
				out.charts.push({id: svg.dataset.chart, w: r.width, h: r.height, marks: marks.length});
				for (const m of marks) {
					const b = m.getBBox();
					out.marks.push({chart: svg.dataset.chart, series: m.dataset.series, key: m.dataset.key, value: m.dataset.value, w: b.width, h: b.height, x: b.x, y: b.y});
				}
			}
			return out;
		})()`))
	if err != nil {
		t.Fatalf("chromium: read the charts: %v", err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(85))
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	if out := os.Getenv("SEGPIPE_REPORT_SCREENSHOT"); out != "" {
		// The top of the page, as docs/ shows it (make report-screenshot).
		top, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("chromium: screenshot: %v", err)
		}
		if err := os.WriteFile(out, top, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Printable: the print layout gives a PDF of several pages (the print CSS hides the
	// navigation and keeps each chart on one page).
	pdf, err := chromedp.Run(bctx, chromedp.PrintToPDF())
	if err != nil {
		t.Fatalf("chromium: print: %v", err)
	}
	pages := len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1))
	if !bytes.HasPrefix(pdf, []byte("%PDF")) || pages < 5 {
		t.Errorf("printing the report gave %d bytes and %d pages, not a PDF of the whole page", len(pdf), pages)
	}
	t.Logf("printed: %d pages", pages)
	shotDir := filepath.Join(os.TempDir(), "segpipe-report-browser")
	if err := os.MkdirAll(shotDir, 0o755); err != nil { // before the first file: a fresh machine has none
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shotDir, "report.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	stopSub()
	wg.Wait()
	shotFile := filepath.Join(shotDir, "report-full.jpg")
	if err := os.WriteFile(shotFile, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes); report: %s", shotFile, len(shot), reportFile)
	if len(shot) < 50_000 {
		t.Errorf("the screenshot is %d bytes: the page looks blank", len(shot))
	}

	mu.Lock()
	if len(problems) > 0 {
		t.Errorf("the page is not clean in the browser:\n%s", strings.Join(problems, "\n"))
	}
	mu.Unlock()

	if got.Sections < 11 {
		t.Errorf("%d sections, want the ten report sections and the tables", got.Sections)
	}
	seen := map[string]bool{}
	for _, c := range got.Charts {
		seen[c.ID] = true
		if c.W < 300 || c.H < 50 || c.Marks == 0 {
			t.Errorf("chart %s did not draw: %.0f×%.0f px, %d marks", c.ID, c.W, c.H, c.Marks)
		}
	}
	for chart := range want {
		if !seen[chart] {
			t.Errorf("chart %s is not on the page", chart)
		}
	}
	page := map[string][]mark{}
	for _, m := range got.Marks {
		v, err := strconv.ParseFloat(m.Value, 64)
		if err != nil {
			t.Errorf("%s mark %s/%s: data-value %q: %v", m.Chart, m.Series, m.Key, m.Value, err)
			continue
		}
		for _, c := range []float64{m.W, m.H, m.X, m.Y} {
			if math.IsNaN(c) || math.IsInf(c, 0) {
				t.Errorf("%s mark %s/%s has a box of %v,%v %v×%v", m.Chart, m.Series, m.Key, m.X, m.Y, m.W, m.H)
			}
		}
		// A mark of a value other than 0 has an area on the page.
		if v != 0 && (m.W <= 0 || m.H <= 0) {
			t.Errorf("%s mark %s/%s = %v is drawn %v×%v", m.Chart, m.Series, m.Key, v, m.W, m.H)
		}
		page[m.Chart] = append(page[m.Chart], mark{m.Chart, m.Series, m.Key, v})
	}
	for chart, w := range want {
		p := page[chart]
		sortMarks(w)
		sortMarks(p)
		if len(p) != len(w) {
			t.Errorf("%s: %d marks on the page, the tables give %d", chart, len(p), len(w))
			continue
		}
		bad := 0
		for i := range w {
			if p[i].Series != w[i].Series || p[i].Key != w[i].Key || !near(p[i].Value, w[i].Value) {
				if bad++; bad <= 3 {
					t.Errorf("%s: page %v, table %v", chart, p[i], w[i])
				}
			}
		}
	}
	if n := totals[0].Float("active"); !strings.Contains(got.Text, thousands(asInt(n))) {
		t.Errorf("the page does not show the %v active customers", n)
	}
	if m := regexp.MustCompile(`Audit: (\d+) of (\d+) assertions passed`).FindStringSubmatch(got.Text); m == nil || m[1] != m[2] {
		t.Errorf("the page does not say that every assertion passed: %v", m)
	}
}
