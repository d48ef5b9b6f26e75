package demo

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// metrics measures a Company the way the pipeline does (domain.md section 11), in plain Go,
// from the exported records only: MRR per customer per month end from the invoices covering it.
type metrics struct {
	c          *Company
	monthEnds  []time.Time       // first instant of each month from the first after Start to End
	acctIndex  map[string]int    // account id -> index in c.Accounts
	mrr        [][]float64       // per account, per month end: USD MRR (nil when never paid)
	realized   []float64         // per account: USD paid to date
	mrrAtEnd   []float64         // per account: USD MRR at End
	customers  []int             // account indexes with at least one non-void invoice
	firstPaid  []time.Time       // per account: first invoiced period start
	lastPeriod []time.Time       // per account: last invoiced period end
	churnWin   map[string][2]int // size band -> trailing-window churned / active-at-start (pooled)
}

// toUSD converts an amount in cents of cur to USD.
func toUSD(cents int64, cur string) float64 {
	v := float64(cents) / 100
	if cur == "EUR" {
		v *= FXRateEUR
	}
	return v
}

// periodMonths counts calendar months between two period bounds (1 or 12 here).
func periodMonths(a, b time.Time) int {
	return max(1, monthIndex(b)-monthIndex(a))
}

func measure(c *Company) *metrics {
	m := &metrics{c: c, acctIndex: make(map[string]int, len(c.Accounts))}
	for i := range c.Accounts {
		m.acctIndex[c.Accounts[i].ID] = i
	}
	for t := addMonths(monthStart(c.Start), 1); !t.After(c.End); t = addMonths(t, 1) {
		m.monthEnds = append(m.monthEnds, t)
	}
	n := len(c.Accounts)
	m.mrr = make([][]float64, n)
	m.realized = make([]float64, n)
	m.mrrAtEnd = make([]float64, n)
	m.firstPaid = make([]time.Time, n)
	m.lastPeriod = make([]time.Time, n)
	first := m.monthEnds[0]
	for i := range c.Invoices {
		inv := &c.Invoices[i]
		if inv.Status == "void" {
			continue
		}
		a := m.acctIndex[inv.CustomerID]
		if m.mrr[a] == nil {
			m.mrr[a] = make([]float64, len(m.monthEnds))
			m.customers = append(m.customers, a)
		}
		usd := toUSD(inv.AmountCents, inv.Currency)
		if inv.Status == "paid" {
			m.realized[a] += usd
		}
		per := usd / float64(periodMonths(inv.PeriodStart, inv.PeriodEnd))
		if m.firstPaid[a].IsZero() || inv.PeriodStart.Before(m.firstPaid[a]) {
			m.firstPaid[a] = inv.PeriodStart
		}
		m.lastPeriod[a] = maxTime(m.lastPeriod[a], inv.PeriodEnd)
		// month ends t with PeriodStart <= t < PeriodEnd
		k := max(0, monthIndex(inv.PeriodStart)-monthIndex(first)+1)
		for ; k < len(m.monthEnds); k++ {
			t := m.monthEnds[k]
			if !t.Before(inv.PeriodEnd) {
				break
			}
			if !inv.PeriodStart.After(t) {
				m.mrr[a][k] += per
			}
		}
	}
	slices.Sort(m.customers)
	last := len(m.monthEnds) - 1
	for _, a := range m.customers {
		m.mrrAtEnd[a] = m.mrr[a][last]
	}
	return m
}

// churnRate is the pooled monthly logo churn over the month ends in (from, to] of the customers
// for which keep is true: customers churned / customers active at the month's start.
func (m *metrics) churnRate(keep func(a int) bool, months int) (monthly float64, churned, atRisk int) {
	last := len(m.monthEnds) - 1
	for _, a := range m.customers {
		if !keep(a) {
			continue
		}
		s := m.mrr[a]
		for k := max(1, last-months+1); k <= last; k++ {
			if s[k-1] > 0 {
				atRisk++
				if s[k] == 0 {
					churned++
				}
			}
		}
	}
	if atRisk == 0 {
		return 0, 0, 0
	}
	return float64(churned) / float64(atRisk), churned, atRisk
}

// annual converts a monthly rate to an annual one.
func annual(monthly float64) float64 { return 1 - math.Pow(1-monthly, 12) }

// by returns a filter on an account attribute.
func (m *metrics) by(f func(a *Account) bool) func(int) bool {
	return func(i int) bool { return f(&m.c.Accounts[i]) }
}

// ltv is the domain's predictive LTV per customer: realized + 0.8 * MRR * min(60, 1/churn of
// the customer's size band over the trailing window).
func (m *metrics) ltv(window int) map[int]float64 {
	bandChurn := map[string]float64{}
	for _, b := range []string{SizeSMB, SizeMidMarket, SizeEnterprise} {
		r, _, _ := m.churnRate(m.by(func(a *Account) bool { return SizeBand(a.EmployeeCount) == b }), window)
		bandChurn[b] = r
	}
	out := make(map[int]float64, len(m.customers))
	for _, a := range m.customers {
		rem := 60.0
		if ch := bandChurn[SizeBand(m.c.Accounts[a].EmployeeCount)]; ch > 0 {
			rem = min(rem, 1/ch)
		}
		out[a] = m.realized[a] + 0.8*m.mrrAtEnd[a]*rem
	}
	return out
}

// topQuintileLift returns share(attr in top 20% by LTV) / share(attr in base) over base.
func (m *metrics) topQuintileLift(base []int, ltv map[int]float64, attr func(a *Account) bool) (lift, topShare, baseShare float64) {
	sorted := slices.Clone(base)
	slices.SortStableFunc(sorted, func(x, y int) int { return cmp.Compare(ltv[y], ltv[x]) })
	top := sorted[:max(1, len(sorted)/5)]
	count := func(s []int) float64 {
		n := 0
		for _, a := range s {
			if attr(&m.c.Accounts[a]) {
				n++
			}
		}
		return float64(n) / float64(len(s))
	}
	topShare, baseShare = count(top), count(base)
	if baseShare == 0 {
		return 0, topShare, baseShare
	}
	return topShare / baseShare, topShare, baseShare
}

// icpBase is the customers old enough to show their value: tenure >= 12 months or churned.
func (m *metrics) icpBase() []int {
	var out []int
	for _, a := range m.customers {
		if m.mrrAtEnd[a] == 0 || !addMonths(m.firstPaid[a], 12).After(m.c.End) {
			out = append(out, a)
		}
	}
	return out
}
