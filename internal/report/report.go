// Package report writes report.html: one self-contained page of charts and figures from a
// run's published tables, for the people who use the segments (RevOps, customer success,
// sales). It reads the marts through DuckDB by their documented columns (docs/tables.md),
// draws inline SVG (svg.go) and needs nothing from the network to open or print.
//
// A section whose table is not in the run says so and why (not built: the input it needs);
// a section that cannot be drawn (a replaced model without a documented column, say) shows
// the error in its place and is counted in Summary.NotDrawn. It never shows a default in
// place of a missing number.
package report

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/warehouse"
)

// Querier runs SQL against the marts (a warehouse session holding them as tables or views).
type Querier interface {
	Query(ctx context.Context, q string, args ...any) ([]warehouse.Row, error)
}

// Table is a published table and its row count.
type Table struct {
	Name string
	Rows int64
}

// Assertion is one audit assertion's outcome for the header.
type Assertion struct {
	Name     string
	Outcome  string
	Failures int64
}

// Meta is what the report says about the run beside the tables' contents.
type Meta struct {
	AsOf  string
	RunID string
	// Source says where the tables were read from ("run 2026…", "history partitions").
	Source      string
	Currency    string
	GeneratedAt time.Time
	Tables      []Table
	// NotBuilt maps a mart left out of the run to the canonical tables it needs that no
	// configured source provides.
	NotBuilt   map[string][]string
	Assertions []Assertion
}

// Summary counts what the report drew.
type Summary struct {
	Sections int
	Charts   int
	// NotBuilt are the sections whose tables are not in the run.
	NotBuilt []string
	// NotDrawn are the sections that failed to draw, with why.
	NotDrawn []string
}

type section struct {
	ID, Title string
	Intro     string
	Missing   string
	Error     string
	Blocks    []block
}

type block struct {
	Caption string
	Chart   template.HTML
	Legend  []series
	Table   *table
	Note    string
}

type table struct {
	Head []string
	Rows [][]cell
}

type cell struct {
	Text  string
	Num   bool
	Class string
}

func txt(s string) cell          { return cell{Text: s} }
func numc(s string) cell         { return cell{Text: s, Num: true} }
func badge(s, class string) cell { return cell{Text: s, Class: class} }

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("report").Parse(pageTemplate))

// Write renders the report into file (replacing it).
func Write(ctx context.Context, q Querier, meta Meta, file string) (Summary, error) {
	var buf bytes.Buffer
	sum, err := Render(ctx, q, meta, &buf)
	if err != nil {
		return sum, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".report-*")
	if err != nil {
		return sum, fmt.Errorf("report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return sum, fmt.Errorf("report %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return sum, fmt.Errorf("report %s: %w", file, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return sum, fmt.Errorf("report %s: %w", file, err)
	}
	return sum, nil
}

// Render writes the report page to w.
func Render(ctx context.Context, q Querier, meta Meta, w io.Writer) (Summary, error) {
	b := &builder{ctx: ctx, q: q, f: formatter{meta.Currency}, has: map[string]bool{}, meta: meta}
	for _, t := range meta.Tables {
		b.has[t.Name] = true
	}
	if meta.GeneratedAt.IsZero() {
		meta.GeneratedAt = time.Now()
	}
	sections := []section{
		b.overview(),
		b.mrr(),
		b.segments(),
		b.ltv(),
		b.cohorts(),
		b.icp(),
		b.clusters(),
		b.tiers(),
		b.pipeline(),
		b.validation(),
	}
	var sum Summary
	for _, s := range sections {
		sum.Sections++
		switch {
		case s.Missing != "":
			sum.NotBuilt = append(sum.NotBuilt, s.Title)
		case s.Error != "":
			sum.NotDrawn = append(sum.NotDrawn, s.Title+": "+s.Error)
		}
		for _, bl := range s.Blocks {
			if bl.Chart != "" {
				sum.Charts++
			}
		}
	}
	data := struct {
		Meta     Meta
		Sections []section
		Summary  Summary
		Passed   int
		Warned   int
	}{Meta: meta, Sections: sections, Summary: sum}
	for _, a := range meta.Assertions {
		switch a.Outcome {
		case warehouse.Passed:
			data.Passed++
		case warehouse.Warned:
			data.Warned++
		}
	}
	if err := page.Execute(w, data); err != nil {
		return sum, fmt.Errorf("report: %w", err)
	}
	return sum, nil
}

type builder struct {
	ctx  context.Context
	q    Querier
	f    formatter
	has  map[string]bool
	meta Meta
}

// need reports whether every table is in the run; when not, the section says which and why.
func (b *builder) need(s *section, tables ...string) bool {
	var msgs []string
	for _, t := range tables {
		if b.has[t] {
			continue
		}
		if needs, ok := b.meta.NotBuilt[t]; ok && len(needs) > 0 {
			msgs = append(msgs, fmt.Sprintf("%s was not built: it needs %s, which no configured source provides", t, strings.Join(needs, ", ")))
		} else {
			msgs = append(msgs, fmt.Sprintf("%s is not among this release's tables", t))
		}
	}
	if len(msgs) > 0 {
		s.Missing = "Not in this run: " + strings.Join(msgs, "; ") + "."
		return false
	}
	return true
}

func (b *builder) query(q string, args ...any) ([]warehouse.Row, error) {
	return b.q.Query(b.ctx, q, args...)
}

// columns returns cols as select items of table: a column the table lacks (a release written
// before it was added) is NULL under its name, so the page still draws and says "-" for it.
func (b *builder) columns(table string, cols ...string) (string, error) {
	rows, err := b.query(`SELECT column_name FROM information_schema.columns WHERE table_name = ?`, table)
	if err != nil {
		return "", err
	}
	have := map[string]bool{}
	for _, r := range rows {
		have[str(r, "column_name")] = true
	}
	items := make([]string, len(cols))
	for i, c := range cols {
		items[i] = c
		if !have[c] {
			items[i] = "NULL AS " + c
		}
	}
	return strings.Join(items, ", "), nil
}

// str is a text column ("" for NULL).
func str(r warehouse.Row, col string) string {
	v := r.Get(col)
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func fail(s section, err error) section {
	s.Error = err.Error()
	s.Blocks = nil
	return s
}

func (b *builder) overview() section {
	s := section{ID: "overview", Title: "Customers and ARR"}
	if !b.need(&s, "account_segments") {
		return s
	}
	rows, err := b.query(`SELECT
		count(*) AS accounts,
		count(*) FILTER (WHERE customer_status = 'active') AS active,
		count(*) FILTER (WHERE customer_status = 'churned') AS churned,
		count(*) FILTER (WHERE customer_status = 'trialing') AS trialing,
		count(*) FILTER (WHERE customer_status = 'prospect') AS prospects,
		count(*) FILTER (WHERE customer_status = 'unknown') AS unknown,
		sum(arr) AS arr, sum(mrr) AS mrr, sum(realized_revenue) AS revenue
		FROM account_segments`)
	if err != nil {
		return fail(s, err)
	}
	r := rows[0]
	t := &table{Head: []string{"accounts", "active customers", "churned", "trialing", "prospects", "status unknown", "ARR", "MRR", "realized revenue"}}
	t.Rows = append(t.Rows, []cell{numc(count(r.Float("accounts"))), numc(count(r.Float("active"))), numc(count(r.Float("churned"))),
		numc(count(r.Float("trialing"))), numc(count(r.Float("prospects"))), numc(count(r.Float("unknown"))),
		numc(b.f.money(r.Float("arr"))), numc(b.f.money(r.Float("mrr"))), numc(b.f.money(r.Float("revenue")))})
	note := ""
	if r.Float("unknown") > 0 {
		note = fmt.Sprintf("%s accounts have no known customer status (no billing source): customers, ARR and MRR are unknown for them, not zero.", count(r.Float("unknown")))
	}
	s.Blocks = append(s.Blocks, block{Table: t, Note: note})
	return s
}

// mrr draws mrr_monthly: the movements by month, the bridge and MRR over time.
func (b *builder) mrr() section {
	s := section{ID: "mrr", Title: "MRR movements",
		Intro: "New, expansion and reactivation MRR add to MRR; contraction and churn take from it (docs/domain.md §11). Each month is measured at its last day."}
	if !b.need(&s, "mrr_monthly") {
		return s
	}
	rows, err := b.query(`SELECT strftime(month, '%Y-%m') AS m, mrr, customers_active, new_mrr, expansion_mrr, reactivation_mrr,
		contraction_mrr, churned_mrr, net_new_mrr, quick_ratio, new_customers, churned_customers, arpa
		FROM mrr_monthly ORDER BY month`)
	if err != nil {
		return fail(s, err)
	}
	if len(rows) == 0 {
		s.Missing = "No month in mrr_monthly: no customer has paid for a complete month yet."
		return s
	}
	movements := []struct {
		col  string
		ser  series
		down bool
	}{
		{"new_mrr", series{"new", colNew}, false},
		{"expansion_mrr", series{"expansion", colExpansion}, false},
		{"reactivation_mrr", series{"reactivation", colReactivation}, false},
		{"contraction_mrr", series{"contraction", colContraction}, true},
		{"churned_mrr", series{"churn", colChurn}, true},
	}
	months := make([]string, len(rows))
	for i, r := range rows {
		months[i] = str(r, "m")
	}
	c := columnChart{ID: "mrr-movements", Title: "MRR movements by month", Categories: months, Stacked: true,
		Below: map[string]bool{}, Format: b.f.moneyShort}
	for _, m := range movements {
		vals := make([]float64, len(rows))
		for i, r := range rows {
			vals[i] = r.Float(m.col)
		}
		c.Series = append(c.Series, m.ser)
		c.Values = append(c.Values, vals)
		if m.down {
			c.Below[m.ser.Name] = true
		}
	}

	// The bridge over the trailing 12 months (or every month when there are fewer): the MRR
	// at the end of the month before, each movement summed, the MRR at the end.
	from := max(0, len(rows)-12)
	start := 0.0
	startLabel := "start"
	if from > 0 {
		start = rows[from-1].Float("mrr")
		startLabel = "MRR " + months[from-1]
	}
	steps := []step{{Label: startLabel, Value: start, Total: true, Color: colMuted}}
	level := start
	for _, m := range movements {
		sum := 0.0
		for _, r := range rows[from:] {
			if v := r.Float(m.col); !math.IsNaN(v) {
				sum += v
			}
		}
		steps = append(steps, step{Label: m.ser.Name, Value: sum, Down: m.down, Color: m.ser.Color})
		if m.down {
			level -= sum
		} else {
			level += sum
		}
	}
	end := rows[len(rows)-1].Float("mrr")
	steps = append(steps, step{Label: "MRR " + months[len(months)-1], Value: end, Total: true, Color: colA})
	bridgeNote := fmt.Sprintf("From %s to %s: %s at the start plus the movements gives %s; the published MRR is %s.",
		months[max(from-1, 0)], months[len(months)-1], b.f.money(start), b.f.money(level), b.f.money(end))
	if math.Abs(level-end) > 0.01*math.Max(1, float64(len(rows[from:]))) {
		bridgeNote += fmt.Sprintf(" They differ by %s: the movements do not reconcile.", b.f.money(level-end))
	}

	mrrVals := make([]float64, len(rows))
	for i, r := range rows {
		mrrVals[i] = r.Float("mrr")
	}
	t := &table{Head: []string{"month", "MRR", "customers", "new", "expansion", "reactivation", "contraction", "churn", "net new", "quick ratio", "ARPA"}}
	for _, r := range slices.Backward(rows[max(0, len(rows)-12):]) {
		t.Rows = append(t.Rows, []cell{txt(str(r, "m")), numc(b.f.money(r.Float("mrr"))), numc(count(r.Float("customers_active"))),
			numc(b.f.money(r.Float("new_mrr"))), numc(b.f.money(r.Float("expansion_mrr"))), numc(b.f.money(r.Float("reactivation_mrr"))),
			numc(b.f.money(r.Float("contraction_mrr"))), numc(b.f.money(r.Float("churned_mrr"))), numc(b.f.money(r.Float("net_new_mrr"))),
			numc(decimal(r.Float("quick_ratio"))), numc(b.f.money(r.Float("arpa")))})
	}
	s.Blocks = []block{
		{Caption: "MRR movements by month", Chart: c.svg(), Legend: c.Series},
		{Caption: fmt.Sprintf("MRR bridge, %d months to %s", len(rows[from:]), months[len(months)-1]), Chart: waterfall("mrr-bridge", "MRR bridge", steps, b.f.moneyShort), Note: bridgeNote},
		{Caption: "MRR over time", Chart: lineChart{ID: "mrr-over-time", Title: "MRR at each month end", Categories: months, Series: series{"mrr", colA}, Values: mrrVals, Format: b.f.moneyShort}.svg()},
		{Caption: "The last 12 months", Table: t},
	}
	return s
}

func (b *builder) segments() section {
	s := section{ID: "segments", Title: "ARR and customers by segment",
		Intro: "Each segment's share of the active customers and of ARR, per dimension (segment_metrics), and its win rate over the trailing 12 months by motion: new business is the headline, as renewals win far more often and would drown it (docs/domain.md §11)."}
	if !b.need(&s, "segment_metrics") {
		return s
	}
	dims := []struct{ dim, title string }{{"size_band", "size band"}, {"industry", "industry"}, {"region", "region"}}
	// The win rate by motion, new business first: the headline (docs/domain.md §11).
	motions, err := b.columns("segment_metrics", "win_rate_new_business", "new_business_won", "new_business_lost", "win_rate_expansion", "win_rate_renewal")
	if err != nil {
		return fail(s, err)
	}
	for _, d := range dims {
		rows, err := b.query(`SELECT segment, accounts, customers, customers / nullif(sum(customers) OVER (), 0) AS customer_share,
			arr, arr_share, arpa, logo_churn_12m, nrr_12m, `+motions+`
			FROM segment_metrics WHERE dimension = ? ORDER BY arr DESC NULLS LAST, customers DESC NULLS LAST, segment`, d.dim)
		if err != nil {
			return fail(s, err)
		}
		if len(rows) == 0 {
			s.Blocks = append(s.Blocks, block{Caption: "By " + d.title, Note: "No segment of " + d.dim + " in segment_metrics."})
			continue
		}
		labels := make([]string, len(rows))
		cust, arr := make([]float64, len(rows)), make([]float64, len(rows))
		t := &table{Head: []string{d.title, "accounts", "active customers", "share of customers", "ARR", "share of ARR", "ARPA (MRR)", "logo churn 12m", "NRR 12m",
			"win rate, new business (deals)", "expansion", "renewal"}}
		for i, r := range rows {
			labels[i] = str(r, "segment")
			cust[i], arr[i] = r.Float("customer_share"), r.Float("arr_share")
			nb := pct(r.Float("win_rate_new_business"))
			if n := r.Float("new_business_won") + r.Float("new_business_lost"); !math.IsNaN(r.Float("win_rate_new_business")) && !math.IsNaN(n) {
				nb += " (" + count(n) + ")"
			}
			t.Rows = append(t.Rows, []cell{txt(labels[i]), numc(count(r.Float("accounts"))), numc(count(r.Float("customers"))), numc(pct(cust[i])),
				numc(b.f.money(r.Float("arr"))), numc(pct(arr[i])), numc(b.f.money(r.Float("arpa"))), numc(pct(r.Float("logo_churn_12m"))), numc(pct(r.Float("nrr_12m"))),
				numc(nb), numc(pct(r.Float("win_rate_expansion"))), numc(pct(r.Float("win_rate_renewal")))})
		}
		ser := []series{{"share of customers", colA}, {"share of ARR", colB}}
		c := barChart{ID: "segments-" + d.dim, Title: "Customers and ARR by " + d.title, Labels: labels, Series: ser, Values: [][]float64{cust, arr}, Format: pctShort}
		s.Blocks = append(s.Blocks, block{Caption: "By " + d.title, Chart: c.svg(), Legend: ser, Table: t})
	}
	return s
}

func (b *builder) ltv() section {
	s := section{ID: "ltv", Title: "LTV quintiles",
		Intro: "Customers ranked by lifetime value into five equal groups (1 = the top 20%; docs/domain.md §3): how much of the customer base and of the revenue each holds, and how many churn."}
	if !b.need(&s, "ltv_quintiles") {
		return s
	}
	rows, err := b.query(`SELECT ltv_quintile, customers, share_of_customers, realized_revenue, share_of_revenue, arr, share_of_arr,
		ltv_min, ltv_max, ltv_avg, churned_share, logo_churn, grr, nrr, array_to_string(over_represented, ', ') AS over
		FROM ltv_quintiles ORDER BY ltv_quintile`)
	if err != nil {
		return fail(s, err)
	}
	if len(rows) == 0 {
		s.Missing = "No customer has a lifetime value yet: ltv_quintiles is empty."
		return s
	}
	cats := make([]string, len(rows))
	vals := [][]float64{make([]float64, len(rows)), make([]float64, len(rows))}
	churn := [][]float64{make([]float64, len(rows)), make([]float64, len(rows))}
	t := &table{Head: []string{"quintile", "customers", "share of customers", "realized revenue", "share of revenue", "ARR", "LTV range", "LTV mean", "churned", "logo churn 12m", "GRR", "NRR", "over-represented"}}
	for i, r := range rows {
		cats[i] = "Q" + str(r, "ltv_quintile")
		vals[0][i], vals[1][i] = r.Float("share_of_customers"), r.Float("share_of_revenue")
		churn[0][i], churn[1][i] = r.Float("churned_share"), r.Float("logo_churn")
		t.Rows = append(t.Rows, []cell{txt(cats[i]), numc(count(r.Float("customers"))), numc(pct(vals[0][i])), numc(b.f.money(r.Float("realized_revenue"))),
			numc(pct(vals[1][i])), numc(b.f.money(r.Float("arr"))), numc(b.f.money(r.Float("ltv_min")) + " – " + b.f.money(r.Float("ltv_max"))),
			numc(b.f.money(r.Float("ltv_avg"))), numc(pct(churn[0][i])), numc(pct(churn[1][i])), numc(pct(r.Float("grr"))), numc(pct(r.Float("nrr"))), txt(str(r, "over"))})
	}
	shares := []series{{"share of customers", colA}, {"share of revenue", colB}}
	churnSer := []series{{"churned (of the quintile)", colChurn}, {"logo churn 12m", colContraction}}
	s.Blocks = []block{
		{Caption: "Share of customers and of realized revenue", Chart: columnChart{ID: "ltv-shares", Title: "LTV quintiles: customers vs revenue", Categories: cats, Series: shares, Values: vals, Format: pctShort, Height: 240}.svg(), Legend: shares},
		{Caption: "Churn per quintile", Chart: columnChart{ID: "ltv-churn", Title: "LTV quintiles: churn", Categories: cats, Series: churnSer, Values: churn, Format: pctShort, Height: 220}.svg(), Legend: churnSer},
		{Table: t},
	}
	return s
}

func (b *builder) cohorts() section {
	s := section{ID: "cohorts", Title: "Cohort retention",
		Intro: "Customers grouped by the period they started paying; each cell is the share still active (logo) or the MRR kept, expansion included (net revenue), that many months later (cohort_retention, all customers; docs/domain.md §5)."}
	if !b.need(&s, "cohort_retention") {
		return s
	}
	grain := "quarter"
	rows, err := b.query(`SELECT count(*) FILTER (WHERE cohort_grain = 'quarter') AS q FROM cohort_retention WHERE dimension = 'all'`)
	if err != nil {
		return fail(s, err)
	}
	if rows[0].Float("q") == 0 {
		grain = "month"
	}
	rows, err = b.query(`SELECT CASE WHEN cohort_grain = 'quarter' THEN strftime(cohort, '%Y') || '-Q' || quarter(cohort)
			ELSE strftime(cohort, '%Y-%m') END AS c, months_since_start AS k, customers, logo_retention, net_revenue_retention
		FROM cohort_retention WHERE dimension = 'all' AND cohort_grain = ? ORDER BY cohort, months_since_start`, grain)
	if err != nil {
		return fail(s, err)
	}
	if len(rows) == 0 {
		s.Missing = "No cohort yet: cohort_retention has no row for all customers."
		return s
	}
	var cohorts []string
	idx := map[string]int{}
	maxK := 0
	size := map[string]float64{}
	for _, r := range rows {
		c := str(r, "c")
		if _, ok := idx[c]; !ok {
			idx[c] = len(cohorts)
			cohorts = append(cohorts, c)
		}
		if k := int(r.Float("k")); k > maxK {
			maxK = k
		}
		if r.Float("k") == 0 {
			size[c] = r.Float("customers")
		}
	}
	cols := make([]string, maxK+1)
	for k := range cols {
		cols[k] = fmt.Sprint(k)
	}
	grid := func() [][]float64 {
		g := make([][]float64, len(cohorts))
		for i := range g {
			g[i] = make([]float64, maxK+1)
			for k := range g[i] {
				g[i][k] = math.NaN()
			}
		}
		return g
	}
	logo, nrr := grid(), grid()
	maxNRR := 1.0
	for _, r := range rows {
		i, k := idx[str(r, "c")], int(r.Float("k"))
		logo[i][k], nrr[i][k] = r.Float("logo_retention"), r.Float("net_revenue_retention")
		if v := nrr[i][k]; !math.IsNaN(v) && v > maxNRR {
			maxNRR = v
		}
	}
	marks := []int{1, 3, 6, 12, 24}
	t := &table{Head: []string{grain + " cohort", "customers"}}
	for _, k := range marks {
		t.Head = append(t.Head, fmt.Sprintf("logo m%d", k))
	}
	for _, k := range marks {
		t.Head = append(t.Head, fmt.Sprintf("NRR m%d", k))
	}
	for i, c := range cohorts {
		row := []cell{txt(c), numc(count(size[c]))}
		for _, g := range [][][]float64{logo, nrr} {
			for _, k := range marks {
				v := math.NaN()
				if k <= maxK {
					v = g[i][k]
				}
				row = append(row, numc(pct(v)))
			}
		}
		t.Rows = append(t.Rows, row)
	}
	s.Blocks = []block{
		{Caption: fmt.Sprintf("Logo retention by %s cohort and months since start", grain), Chart: heatmap{ID: "cohort-logo", Title: "Logo retention", Rows: cohorts, Cols: cols, Values: logo, Max: 1, Format: pct, Series: "logo_retention"}.svg(),
			Note: "Darker is more retained; the darkest blue is 100%."},
		{Caption: fmt.Sprintf("Net revenue retention by %s cohort and months since start", grain), Chart: heatmap{ID: "cohort-nrr", Title: "Net revenue retention", Rows: cohorts, Cols: cols, Values: nrr, Max: maxNRR, Pivot: 1, Format: pct, Series: "net_revenue_retention"}.svg(),
			Note: fmt.Sprintf("Blue from 100%% (expansion outgrew churn and contraction) to the darkest at %s, the highest cell; orange below 100%%, darker towards 0%%.", pct(maxNRR))},
		{Caption: "At 1, 3, 6, 12 and 24 months", Table: t},
	}
	return s
}

func (b *builder) icp() section {
	s := section{ID: "icp", Title: "ICP and anti-ICP traits",
		Intro: "How much more common each value is among the ideal customers (the top 20% of the eligible base by LTV) and among the anti-ICP (the bottom 20% or churned) than in the base: lift = share in the group / share in the base (docs/domain.md §6). Traits (strong colour) pass the lift-against-the-rest, significance and size thresholds; the rest are shown faint."}
	if !b.need(&s, "icp_profile", "anti_icp_profile") {
		return s
	}
	for _, p := range []struct{ table, id, title string }{{"icp_profile", "icp-lift", "ICP"}, {"anti_icp_profile", "anti-icp-lift", "Anti-ICP"}} {
		rows, err := b.query(`SELECT attribute || ' = ' || value AS label, group_customers, group_size, share_in_group, share_in_base, lift,
			p_value, is_trait, test_name FROM ` + p.table + ` ORDER BY lift DESC NULLS LAST, attribute, value`)
		if err != nil {
			return fail(s, err)
		}
		if len(rows) == 0 {
			s.Blocks = append(s.Blocks, block{Caption: p.title, Note: p.table + " is empty: no group to profile (too few customers or no LTV)."})
			continue
		}
		labels := make([]string, len(rows))
		lift := make([]float64, len(rows))
		faint := make([]bool, len(rows))
		t := &table{Head: []string{"value", "in the group", "share in group", "share in base", "lift", "p-value", "trait"}}
		test := ""
		for i, r := range rows {
			labels[i], lift[i] = str(r, "label"), r.Float("lift")
			trait := r.Get("is_trait") == true
			faint[i] = !trait
			test = str(r, "test_name")
			tr := badge("no", "no")
			if trait {
				tr = badge("trait", "yes")
			}
			t.Rows = append(t.Rows, []cell{txt(labels[i]), numc(count(r.Float("group_customers")) + " of " + count(r.Float("group_size"))),
				numc(pct(r.Float("share_in_group"))), numc(pct(r.Float("share_in_base"))), numc(decimal(lift[i])), numc(pvalue(r.Float("p_value"))), tr})
		}
		ser := []series{{"lift", colA}}
		if p.id == "anti-icp-lift" {
			ser = []series{{"lift", colChurn}}
		}
		c := barChart{ID: p.id, Title: p.title + " lift by value", Labels: labels, Series: ser, Values: [][]float64{lift}, Format: decimal, Ref: 1, RefLabel: "lift 1 = as in the base", Faint: faint}
		s.Blocks = append(s.Blocks, block{Caption: p.title + ": lift by value", Chart: c.svg(), Table: t, Note: "Significance: " + test + "."})
	}
	return s
}

func (b *builder) tiers() section {
	s := section{ID: "tiers", Title: "Customer-success tiers",
		Intro: "Active customers per tier against the population targets (dashed: the target range of the share of customers), with the CSM headcount the coverage ratios call for (docs/domain.md §7)."}
	if !b.need(&s, "tier_summary") {
		return s
	}
	rows, err := b.query(`SELECT tier, tier_name, customers, share_of_customers, arr, share_of_arr, customers_min, customers_max,
		customers_in_target, arr_min, arr_max, arr_in_target, target_note, accounts_per_csm_min, accounts_per_csm_max, csm_min, csm_max,
		retention_target, retention_actual, expansion_target, expansion_actual FROM tier_summary ORDER BY tier`)
	if err != nil {
		return fail(s, err)
	}
	colors := []string{"#1864ab", "#1c7ed6", "#4dabf7", "#a5d8ff"}
	var pr []tierRow
	t := &table{Head: []string{"tier", "customers", "share (target)", "ARR", "share of ARR (target)", "CSMs", "retention 12m (target)", "expansion (target)", "note"}}
	rng := func(lo, hi float64) string {
		switch {
		case math.IsNaN(lo) && math.IsNaN(hi):
			return "none"
		case math.IsNaN(hi):
			return pct(lo) + "+"
		}
		return pct(lo) + "–" + pct(hi)
	}
	inTarget := func(r warehouse.Row, col string) string {
		switch r.Get(col) {
		case true:
			return "yes"
		case false:
			return "warn"
		}
		return ""
	}
	totalCSM := [2]float64{}
	openCSM := false
	for i, r := range rows {
		label := str(r, "tier_name")
		if label == "" {
			label = "Tier " + str(r, "tier")
		}
		csm := "n/a"
		lo, hi := r.Float("csm_min"), r.Float("csm_max")
		switch {
		case math.IsNaN(lo) && !math.IsNaN(hi):
			csm = "up to " + count(hi)
			openCSM = true
			totalCSM[1] += hi
		case !math.IsNaN(lo) && !math.IsNaN(hi):
			csm = count(lo) + "–" + count(hi)
			if lo == hi {
				csm = count(lo)
			}
			totalCSM[0] += lo
			totalCSM[1] += hi
		}
		text := fmt.Sprintf("%s customers, %s (target %s); CSMs %s", count(r.Float("customers")), pct(r.Float("share_of_customers")), rng(r.Float("customers_min"), r.Float("customers_max")), csm)
		pr = append(pr, tierRow{Label: label, Key: str(r, "tier"), Share: r.Float("share_of_customers"), TargetMin: r.Float("customers_min"), TargetMax: r.Float("customers_max"), Text: text, Color: colors[i%len(colors)]})
		t.Rows = append(t.Rows, []cell{txt(label), numc(count(r.Float("customers"))),
			badge(pct(r.Float("share_of_customers"))+" ("+rng(r.Float("customers_min"), r.Float("customers_max"))+")", inTarget(r, "customers_in_target")),
			numc(b.f.money(r.Float("arr"))), badge(pct(r.Float("share_of_arr"))+" ("+rng(r.Float("arr_min"), r.Float("arr_max"))+")", inTarget(r, "arr_in_target")),
			numc(csm), numc(pct(r.Float("retention_actual")) + " (" + pct(r.Float("retention_target")) + ")"),
			numc(pct(r.Float("expansion_actual")) + " (" + pct(r.Float("expansion_target")) + ")"), txt(str(r, "target_note"))})
	}
	headcount := fmt.Sprintf("CSM headcount for all tiers: %s–%s", count(totalCSM[0]), count(totalCSM[1]))
	if openCSM {
		headcount += " (a tier whose coverage has no upper bound counts its minimum as 0)"
	}
	s.Blocks = []block{{Caption: "Tier pyramid", Chart: pyramid("tier-pyramid", "Tier pyramid", pr), Table: t, Note: headcount + "."}}
	return s
}

func (b *builder) pipeline() section {
	s := section{ID: "pipeline", Title: "Pipeline by deal-size tier",
		Intro: "Open pipeline, its expected value (open amount × the tier's win rate) and the revenue won, by deal-size tier; and how long open deals have sat in their stage (docs/domain.md §8)."}
	if !b.need(&s, "pipeline_segments", "pipeline_aging") {
		return s
	}
	rows, err := b.query(`SELECT deal_size_tier, grouping, opportunities, open_opportunities, pipeline_value, avg_deal_size, won, lost, win_rate,
		win_rate_amount, avg_sales_cycle_days, revenue_won, expected_value, segment_forecast
		FROM pipeline_segments WHERE grouping IN ('deal_size_tier', 'total')
		ORDER BY grouping = 'total', CASE deal_size_tier WHEN 'Enterprise' THEN 1 WHEN 'Mid-market' THEN 2 WHEN 'SMB' THEN 3 ELSE 4 END, deal_size_tier`)
	if err != nil {
		return fail(s, err)
	}
	var tiers []string
	vals := [][]float64{{}, {}, {}}
	t := &table{Head: []string{"deal-size tier", "opportunities", "open", "open pipeline", "avg deal", "won", "lost", "win rate", "win rate (amount)", "cycle (won)", "revenue won", "expected value", "forecast"}}
	for _, r := range rows {
		label := str(r, "deal_size_tier")
		if str(r, "grouping") == "total" {
			label = "all deals"
		} else {
			tiers = append(tiers, label)
			vals[0] = append(vals[0], r.Float("pipeline_value"))
			vals[1] = append(vals[1], r.Float("expected_value"))
			vals[2] = append(vals[2], r.Float("revenue_won"))
		}
		t.Rows = append(t.Rows, []cell{txt(label), numc(count(r.Float("opportunities"))), numc(count(r.Float("open_opportunities"))), numc(b.f.money(r.Float("pipeline_value"))),
			numc(b.f.money(r.Float("avg_deal_size"))), numc(count(r.Float("won"))), numc(count(r.Float("lost"))), numc(pct(r.Float("win_rate"))),
			numc(pct(r.Float("win_rate_amount"))), numc(days(r.Float("avg_sales_cycle_days"))), numc(b.f.money(r.Float("revenue_won"))),
			numc(b.f.money(r.Float("expected_value"))), numc(b.f.money(r.Float("segment_forecast")))})
	}
	if len(tiers) == 0 {
		s.Missing = "No opportunity in pipeline_segments: the CRM source has no deals as of this date."
		return s
	}
	valSer := []series{{"open pipeline", colA}, {"expected value", colC}, {"revenue won", colB}}
	aging, err := b.query(`SELECT * FROM (SELECT coalesce(deal_size_tier, 'amount unknown') AS tier, coalesce(aging_status, 'unknown') AS status,
		count(*) AS deals FROM pipeline_aging GROUP BY ALL)
		ORDER BY CASE tier WHEN 'Enterprise' THEN 1 WHEN 'Mid-market' THEN 2 WHEN 'SMB' THEN 3 ELSE 4 END, tier,
			CASE status WHEN 'on_track' THEN 1 WHEN 'aging' THEN 2 WHEN 'stalled' THEN 3 ELSE 4 END`)
	if err != nil {
		return fail(s, err)
	}
	statuses := []series{{"on_track", colNew}, {"aging", colContraction}, {"stalled", colChurn}, {"unknown", colMuted}}
	var agingTiers []string
	tierIdx := map[string]int{}
	for _, r := range aging {
		if _, ok := tierIdx[str(r, "tier")]; !ok {
			tierIdx[str(r, "tier")] = len(agingTiers)
			agingTiers = append(agingTiers, str(r, "tier"))
		}
		// A status this page does not know (a replaced model's) still gets its bar.
		if !slices.ContainsFunc(statuses, func(x series) bool { return x.Name == str(r, "status") }) {
			statuses = append(statuses, series{str(r, "status"), colB})
		}
	}
	agingVals := make([][]float64, len(statuses))
	for si := range statuses {
		agingVals[si] = make([]float64, len(agingTiers))
		for i := range agingVals[si] {
			agingVals[si][i] = math.NaN()
		}
	}
	at := &table{Head: []string{"deal-size tier", "open deals"}}
	for _, st := range statuses {
		at.Head = append(at.Head, strings.ReplaceAll(st.Name, "_", " "))
	}
	perTier := make([]map[string]float64, len(agingTiers))
	for _, r := range aging {
		i := tierIdx[str(r, "tier")]
		if perTier[i] == nil {
			perTier[i] = map[string]float64{}
		}
		perTier[i][str(r, "status")] = r.Float("deals")
		for si, st := range statuses {
			if st.Name == str(r, "status") {
				agingVals[si][i] = r.Float("deals")
			}
		}
	}
	for i, tier := range agingTiers {
		total := 0.0
		for _, v := range perTier[i] {
			total += v
		}
		row := []cell{txt(tier), numc(count(total))}
		for _, st := range statuses {
			row = append(row, numc(count(perTier[i][st.Name])))
		}
		at.Rows = append(at.Rows, row)
	}
	agingBlock := block{Caption: "Open deals by time in stage", Note: "Days in stage against the open deals of the same stage and tier (docs/tables.md, pipeline_aging): on_track up to their 75th percentile, aging up to the 90th, stalled beyond it; unknown when the stage or the day it was entered is not known as of this date."}
	if len(agingTiers) > 0 {
		agingBlock.Chart = columnChart{ID: "pipeline-aging", Title: "Open deals by aging status", Categories: agingTiers, Series: statuses, Values: agingVals, Stacked: true, Format: count, Height: 220}.svg()
		agingBlock.Legend = statuses
		agingBlock.Table = at
	} else {
		agingBlock.Note = "No open deal as of this date."
	}
	motion, err := b.motions()
	if err != nil {
		return fail(s, err)
	}
	s.Blocks = []block{
		{Caption: "Pipeline, expected value and revenue won", Chart: columnChart{ID: "pipeline-value", Title: "Pipeline by deal-size tier", Categories: tiers, Series: valSer, Values: vals, Format: b.f.moneyShort, Height: 240}.svg(), Legend: valSer, Table: t,
			Note: "The win rates here count every motion; renewals win far more often than new business, so read a tier's new-business rate in the table by motion below."},
		motion,
		agingBlock,
	}
	return s
}

// motions is the win rate and sales cycle by motion (pipeline_segments' motion rows), new
// business first: the headline win rate (docs/domain.md §11).
func (b *builder) motions() (block, error) {
	cycle, err := b.columns("pipeline_segments", "median_sales_cycle_days", "p90_sales_cycle_days")
	if err != nil {
		return block{}, err
	}
	rows, err := b.query(`SELECT motion, opportunities, open_opportunities, won, lost, win_rate, win_rate_amount, avg_sales_cycle_days, ` + cycle + `
		FROM pipeline_segments WHERE grouping = 'motion'
		ORDER BY CASE motion WHEN 'new_business' THEN 1 WHEN 'expansion' THEN 2 WHEN 'renewal' THEN 3 ELSE 4 END, motion`)
	if err != nil {
		return block{}, err
	}
	t := &table{Head: []string{"motion", "opportunities", "open", "won", "lost", "win rate", "win rate (amount)", "cycle (won, mean)", "median", "p90"}}
	var cats []string
	rates := [][]float64{{}}
	for _, r := range rows {
		cats = append(cats, str(r, "motion"))
		rates[0] = append(rates[0], r.Float("win_rate"))
		t.Rows = append(t.Rows, []cell{txt(str(r, "motion")), numc(count(r.Float("opportunities"))), numc(count(r.Float("open_opportunities"))),
			numc(count(r.Float("won"))), numc(count(r.Float("lost"))), numc(pct(r.Float("win_rate"))), numc(pct(r.Float("win_rate_amount"))),
			numc(days(r.Float("avg_sales_cycle_days"))), numc(days(r.Float("median_sales_cycle_days"))), numc(days(r.Float("p90_sales_cycle_days")))})
	}
	bl := block{Caption: "Win rate by motion", Table: t,
		Note: "Every deal to this date, by its motion (pipeline_segments); new business is the headline win rate. segment_metrics has each segment's trailing-12-month rate per motion."}
	if len(rows) > 0 {
		ser := []series{{"win rate", colA}}
		bl.Chart = barChart{ID: "pipeline-motion", Title: "Win rate by motion", Labels: cats, Series: ser, Values: rates, Format: pctShort}.svg()
		bl.Legend = ser
	}
	return bl, nil
}

// clusters draws cluster_profiles: the natural groups k-means found among the active customers
// (docs/domain.md §12), beside the rule-based segments.
func (b *builder) clusters() section {
	s := section{ID: "clusters", Title: "Natural clusters",
		Intro: "Active customers grouped by k-means on their standardized behaviour and value (ARR, tenure, usage, seats, support load, growth, employees), k chosen by silhouette; a cluster keeps its id from run to run (docs/domain.md §12)."}
	if !b.need(&s, "cluster_profiles") {
		return s
	}
	rows, err := b.query(`SELECT cluster_id, customers, share_of_customers, k, silhouette, array_to_string(features, ', ') AS features,
		array_to_string(dropped_features, '; ') AS dropped, centroid_arr, centroid_tenure_months, centroid_seats, centroid_employees,
		centroid_active_share, centroid_tickets_per_month, arr, arr_share, ltv_avg, high_churn_risk_share,
		array_to_string(list_transform(over_represented, x -> x.attribute || '=' || x.value || ' (lift ' || round(x.lift, 2) || ')'), ', ') AS over
		FROM cluster_profiles ORDER BY cluster_id`)
	if err != nil {
		return fail(s, err)
	}
	if len(rows) == 0 {
		s.Missing = "cluster_profiles is empty: too few active customers to cluster, or clustering is off (the run record's note on int_customer_clusters says which)."
		return s
	}
	labels := make([]string, len(rows))
	cust, arr := make([]float64, len(rows)), make([]float64, len(rows))
	t := &table{Head: []string{"cluster", "customers", "share of customers", "ARR", "share of ARR", "centroid ARR", "tenure (months)", "seats", "employees",
		"active share", "tickets / month", "LTV mean", "high churn risk", "over-represented"}}
	for i, r := range rows {
		labels[i] = "cluster " + str(r, "cluster_id")
		cust[i], arr[i] = r.Float("share_of_customers"), r.Float("arr_share")
		t.Rows = append(t.Rows, []cell{txt(labels[i]), numc(count(r.Float("customers"))), numc(pct(cust[i])), numc(b.f.money(r.Float("arr"))), numc(pct(arr[i])),
			numc(b.f.money(r.Float("centroid_arr"))), numc(decimal(r.Float("centroid_tenure_months"))), numc(decimal(r.Float("centroid_seats"))),
			numc(decimal(r.Float("centroid_employees"))), numc(pct(r.Float("centroid_active_share"))), numc(decimal(r.Float("centroid_tickets_per_month"))),
			numc(b.f.money(r.Float("ltv_avg"))), numc(pct(r.Float("high_churn_risk_share"))), txt(str(r, "over"))})
	}
	note := fmt.Sprintf("k = %s, mean silhouette %s (above about 0.5: well separated; near 0: overlapping), on %s.",
		str(rows[0], "k"), decimal(rows[0].Float("silhouette")), str(rows[0], "features"))
	if d := str(rows[0], "dropped"); d != "" {
		note += " Left out: " + d + "."
	}
	ser := []series{{"share of customers", colA}, {"share of ARR", colB}}
	c := barChart{ID: "clusters", Title: "Customers and ARR by cluster", Labels: labels, Series: ser, Values: [][]float64{cust, arr}, Format: pctShort}
	s.Blocks = []block{{Caption: "Clusters: size, value and centroid (in the features' units)", Chart: c.svg(), Legend: ser, Table: t, Note: note}}
	return s
}

func (b *builder) validation() section {
	s := section{ID: "validation", Title: "Segment validation",
		Intro: "Whether each segmentation separates customers (and, for the deal dimensions, deals) that differ: a test per dimension and metric, with its effect size. The verdict reads the Benjamini-Hochberg q-value, corrected for running every test of the table at once (docs/domain.md §9)."}
	if !b.need(&s, "segment_validation") {
		return s
	}
	q, err := b.columns("segment_validation", "q_value")
	if err != nil {
		return fail(s, err)
	}
	rows, err := b.query(`SELECT dimension, metric, test_name, segments_tested, n, statistic, df, p_value, ` + q + `, effect_size, effect_size_name,
		significant, min_expected_count, array_to_string(small_segments, ', ') AS small, verdict FROM segment_validation ORDER BY dimension, metric`)
	if err != nil {
		return fail(s, err)
	}
	if len(rows) == 0 {
		s.Missing = "segment_validation is empty: no dimension had enough customers to test."
		return s
	}
	var dims, metrics []string
	di, mi := map[string]int{}, map[string]int{}
	for _, r := range rows {
		if _, ok := di[str(r, "dimension")]; !ok {
			di[str(r, "dimension")] = len(dims)
			dims = append(dims, str(r, "dimension"))
		}
		if _, ok := mi[str(r, "metric")]; !ok {
			mi[str(r, "metric")] = len(metrics)
			metrics = append(metrics, str(r, "metric"))
		}
	}
	slices.Sort(metrics)
	for i, m := range metrics {
		mi[m] = i
	}
	vals := make([][]float64, len(dims))
	colors := make([][]string, len(dims))
	labels := make([][]string, len(dims))
	for i := range dims {
		vals[i] = make([]float64, len(metrics))
		colors[i] = make([]string, len(metrics))
		labels[i] = make([]string, len(metrics))
		for j := range vals[i] {
			vals[i][j] = math.NaN()
		}
	}
	t := &table{Head: []string{"dimension", "metric", "test", "segments", "n", "p-value", "q-value (BH)", "effect size", "verdict", "small segments"}}
	for _, r := range rows {
		i, j := di[str(r, "dimension")], mi[str(r, "metric")]
		vals[i][j] = r.Float("effect_size")
		verdict := str(r, "verdict")
		class := "no"
		switch {
		case r.Get("significant") == true:
			class, colors[i][j] = "yes", "#b2f2bb"
		case strings.Contains(verdict, "no material"):
			colors[i][j] = "#e9ecef"
		default:
			class, colors[i][j] = "warn", "#ffec99"
		}
		labels[i][j] = verdict
		t.Rows = append(t.Rows, []cell{txt(str(r, "dimension")), txt(str(r, "metric")), txt(str(r, "test_name")), numc(count(r.Float("segments_tested"))),
			numc(count(r.Float("n"))), numc(pvalue(r.Float("p_value"))), numc(pvalue(r.Float("q_value"))), numc(decimal(r.Float("effect_size")) + " " + str(r, "effect_size_name")),
			badge(verdict, class), txt(str(r, "small"))})
	}
	h := heatmap{ID: "validation", Title: "Segment validation verdicts", Rows: dims, Cols: metrics, Values: vals, Colors: colors, Labels: labels, Format: decimal, CellH: 24, Series: "effect_size"}
	s.Blocks = []block{{Caption: "Verdict per dimension and metric (the cell's value is the effect size)", Chart: h.svg(), Table: t}}
	return s
}
