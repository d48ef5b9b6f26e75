package demo

import (
	"slices"
	"testing"
	"time"
)

// truthAccounts is the company size at which the planted truths are asserted.
const truthAccounts = 2000

// historyMonths is the measurement window: every month end of the 4-year history.
const historyMonths = 48

func TestPlantedChurnBySize(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		m := measure(Generate(Options{Accounts: truthAccounts, Seed: seed}))
		rate := map[string]float64{}
		for _, b := range []string{SizeSMB, SizeMidMarket, SizeEnterprise} {
			r, churned, atRisk := m.churnRate(m.by(func(a *Account) bool { return SizeBand(a.EmployeeCount) == b }), historyMonths)
			rate[b] = annual(r)
			t.Logf("seed %d %-10s annual logo churn %5.1f%% (monthly %.2f%%, %d of %d customer-months)", seed, b, 100*rate[b], 100*r, churned, atRisk)
		}
		if !(rate[SizeSMB] > rate[SizeMidMarket] && rate[SizeMidMarket] > rate[SizeEnterprise]) {
			t.Errorf("seed %d: churn not ordered SMB > Mid-market > Enterprise: %v", seed, rate)
		}
		if rate[SizeSMB] < 0.30 || rate[SizeSMB] > 0.50 {
			t.Errorf("seed %d: SMB annual churn %.1f%%, want 30-50%%", seed, 100*rate[SizeSMB])
		}
		if rate[SizeMidMarket] < 0.07 || rate[SizeMidMarket] > 0.25 {
			t.Errorf("seed %d: Mid-market annual churn %.1f%%, want 7-25%%", seed, 100*rate[SizeMidMarket])
		}
	}
}

func TestPlantedChurnByIndustry(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		m := measure(Generate(Options{Accounts: truthAccounts, Seed: seed}))
		rate := map[string]float64{}
		for _, ind := range Industries {
			r, _, _ := m.churnRate(m.by(func(a *Account) bool { return a.Industry == ind }), historyMonths)
			rate[ind] = annual(r)
		}
		t.Logf("seed %d annual logo churn by industry: %v", seed, rate)
		for _, ind := range Industries {
			if ind != PoorRetentionIndustry && rate[ind] >= rate[PoorRetentionIndustry] {
				t.Errorf("seed %d: %s churn %.1f%% not below %s %.1f%%", seed, ind, 100*rate[ind], PoorRetentionIndustry, 100*rate[PoorRetentionIndustry])
			}
			if ind != BestIndustry && rate[ind] <= rate[BestIndustry] {
				t.Errorf("seed %d: %s churn %.1f%% not above %s %.1f%%", seed, ind, 100*rate[ind], BestIndustry, 100*rate[BestIndustry])
			}
		}
		// Retail is over-represented among churned customers.
		var retail, retailChurned, churned, all float64
		for _, a := range m.customers {
			isRetail := m.c.Accounts[a].Industry == PoorRetentionIndustry
			all++
			if isRetail {
				retail++
			}
			if m.mrrAtEnd[a] == 0 {
				churned++
				if isRetail {
					retailChurned++
				}
			}
		}
		if lift := (retailChurned / churned) / (retail / all); lift < 1.2 {
			t.Errorf("seed %d: Retail lift among churned customers %.2f, want >= 1.2", seed, lift)
		}
	}
}

func TestPlantedTinyCompanies(t *testing.T) {
	m := measure(Generate(Options{Accounts: truthAccounts}))
	tiny, _, _ := m.churnRate(m.by(func(a *Account) bool { return a.EmployeeCount < TinyCompanyEmployees }), historyMonths)
	rest, _, _ := m.churnRate(m.by(func(a *Account) bool {
		return a.EmployeeCount >= TinyCompanyEmployees && SizeBand(a.EmployeeCount) == SizeSMB
	}), historyMonths)
	t.Logf("monthly churn: < %d employees %.2f%%, other SMB %.2f%%, ratio %.2f", TinyCompanyEmployees, 100*tiny, 100*rest, tiny/rest)
	if tiny/rest < 1.2 {
		t.Errorf("tiny companies churn %.2fx the other SMB, want about %.1fx", tiny/rest, TinyCompanyChurnMultiplier)
	}
}

func TestPlantedBestCustomers(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		c := Generate(Options{Accounts: truthAccounts, Seed: seed})
		m := measure(c)
		isBest := func(a *Account) bool { return a.Industry == BestIndustry }

		// Top LTV quintile lift, over all customers and over the ICP base.
		ltv := m.ltv(12)
		lift, top, base := m.topQuintileLift(m.customers, ltv, isBest)
		liftICP, _, _ := m.topQuintileLift(m.icpBase(), ltv, isBest)
		t.Logf("seed %d: %s share top LTV quintile %.1f%% vs %.1f%% of customers: lift %.2f (ICP base %.2f)", seed, BestIndustry, 100*top, 100*base, lift, liftICP)
		if lift < 1.5 || liftICP < 1.5 {
			t.Errorf("seed %d: %s lift in top LTV quintile %.2f / %.2f, want >= 1.5", seed, BestIndustry, lift, liftICP)
		}

		// Realized revenue per customer is highest for BestIndustry (mean and median).
		rev := map[string][]float64{}
		for _, a := range m.customers {
			ind := c.Accounts[a].Industry
			rev[ind] = append(rev[ind], m.realized[a])
		}
		mean := func(v []float64) float64 {
			s := 0.0
			for _, x := range v {
				s += x
			}
			return s / float64(len(v))
		}
		median := func(v []float64) float64 { v = slices.Clone(v); slices.Sort(v); return v[len(v)/2] }
		for ind, v := range rev {
			if ind == BestIndustry {
				continue
			}
			if mean(v) >= mean(rev[BestIndustry]) || median(v) >= median(rev[BestIndustry]) {
				t.Errorf("seed %d: %s realized revenue per customer (mean %.0f, median %.0f) not below %s (%.0f, %.0f)",
					seed, ind, mean(v), median(v), BestIndustry, mean(rev[BestIndustry]), median(rev[BestIndustry]))
			}
		}
	}
}

// TestPlantedExpansion checks seat growth: BestIndustry Mid-market customers grow MRR 40-60%
// a year, the rest of the base a few percent.
func TestPlantedExpansion(t *testing.T) {
	c := Generate(Options{Accounts: 5000})
	m := measure(c)
	last := len(m.monthEnds) - 1
	growth := map[string][]float64{}
	for _, a := range m.customers {
		s := m.mrr[a]
		// Customers active through the whole last 24 months: annualized MRR growth.
		ok := true
		for k := last - 24; k <= last; k++ {
			ok = ok && s[k] > 0
		}
		if !ok {
			continue
		}
		acct := &c.Accounts[a]
		key := "rest"
		if acct.Industry == BestIndustry && SizeBand(acct.EmployeeCount) == BestSizeBand {
			key = "best"
		}
		growth[key] = append(growth[key], s[last]/s[last-24])
	}
	med := func(v []float64) float64 { v = slices.Clone(v); slices.Sort(v); return v[len(v)/2] }
	best, rest := med(growth["best"]), med(growth["rest"])
	t.Logf("median 2-year MRR multiple: %s %s %.2f (n=%d), others %.2f (n=%d)", BestIndustry, BestSizeBand, best, len(growth["best"]), rest, len(growth["rest"]))
	if best < 1.6 || rest > 1.25 {
		t.Errorf("2-year MRR multiple %.2f (best) / %.2f (rest), want >= 1.6 (about +40-60%%/year) / <= 1.25", best, rest)
	}
}

// TestPlantedChurnSignals checks that tickets rise and usage falls before churn.
func TestPlantedChurnSignals(t *testing.T) {
	c := Generate(Options{Accounts: 5000})
	m := measure(c)
	// The month (index into m.monthEnds) at which each churned customer's MRR first hits 0
	// after being positive, last churn only.
	churnMonth := map[string]time.Time{}
	for _, a := range m.customers {
		s := m.mrr[a]
		for k := len(s) - 1; k > 0; k-- {
			if s[k] == 0 && s[k-1] > 0 {
				churnMonth[c.Accounts[a].ID] = m.monthEnds[k] // first instant of the month after the last paid month end
				break
			}
		}
	}
	// Tickets per customer in the 3 months before the churn month end vs months 4-9 before.
	var recent, earlier float64
	for _, k := range c.Tickets {
		cm, ok := churnMonth[k.OrganizationID]
		if !ok {
			continue
		}
		switch {
		case !k.CreatedAt.Before(addMonths(cm, -3)) && k.CreatedAt.Before(cm):
			recent++
		case !k.CreatedAt.Before(addMonths(cm, -9)) && k.CreatedAt.Before(addMonths(cm, -3)):
			earlier++
		}
	}
	ratio := (recent / 3) / (earlier / 6)
	t.Logf("churned customers: tickets/month in the last 3 months %.0f vs months 4-9 before %.0f: %.1fx", recent/3, earlier/6, ratio)
	if ratio < 2 {
		t.Errorf("tickets before churn rise %.1fx, want about 3x", ratio)
	}
	// Active users in the last usage month before churn vs 4 months earlier.
	users := map[string]map[time.Time]int{}
	for _, u := range c.Usage {
		if _, ok := churnMonth[u.AccountID]; ok {
			if users[u.AccountID] == nil {
				users[u.AccountID] = map[time.Time]int{}
			}
			users[u.AccountID][u.Month] = u.ActiveUsers
		}
	}
	var lastSum, beforeSum float64
	for id, cm := range churnMonth {
		lastM, beforeM := addMonths(monthStart(cm), -1), addMonths(monthStart(cm), -5)
		l, ok1 := users[id][lastM]
		b, ok2 := users[id][beforeM]
		if ok1 && ok2 {
			lastSum += float64(l)
			beforeSum += float64(b)
		}
	}
	t.Logf("active users in the last month before churn / 4 months earlier: %.2f", lastSum/beforeSum)
	if lastSum/beforeSum > 0.7 {
		t.Errorf("usage before churn fell to %.2f of its earlier level, want a clear decline", lastSum/beforeSum)
	}
}

func TestPlantedBadRecords(t *testing.T) {
	c := Generate(Options{Accounts: truthAccounts})
	bad := 0
	for i, k := range c.Tickets {
		isBad := k.CSATText() == BadCSATValue
		if isBad != ((i+1)%BadCSATEvery == 0) {
			t.Errorf("%s csat %q: bad values belong exactly to every %dth ticket", k.TicketID, k.CSATText(), BadCSATEvery)
		}
		if isBad {
			bad++
		}
	}
	if want := len(c.Tickets) / BadCSATEvery; bad != want || bad == 0 {
		t.Errorf("%d tickets with csat %q, want %d (> 0)", bad, BadCSATValue, want)
	}
}

// TestPipelineShapes checks the new-business win rates and cycles per deal-size tier and that
// the open pipeline has stale deals.
func TestPipelineShapes(t *testing.T) {
	c := Generate(Options{Accounts: 5000})
	type agg struct{ won, lost, cycleDays, n float64 }
	tiers := map[float64]*agg{}
	open, stale := 0, 0
	for _, o := range c.Opportunities {
		if !o.IsClosed {
			open++
			if c.End.Sub(o.LastActivityAt) > 14*day {
				stale++
			}
			continue
		}
		if o.Motion != "new_business" {
			continue
		}
		tr := tierOf(o.Amount)
		a := tiers[tr.minAmount]
		if a == nil {
			a = &agg{}
			tiers[tr.minAmount] = a
		}
		if o.IsWon {
			a.won++
			a.cycleDays += o.ClosedAt.Sub(o.CreatedAt).Hours() / 24
		} else {
			a.lost++
		}
	}
	for _, tr := range dealTiers {
		a := tiers[tr.minAmount]
		win := a.won / (a.won + a.lost)
		cycle := a.cycleDays / a.won
		t.Logf("tier from $%.0f: new-business win rate %.1f%% (%v deals), cycle %.0f days", tr.minAmount, 100*win, a.won+a.lost, cycle)
		if win < tr.winRate-0.05 || win > tr.winRate+0.05 {
			t.Errorf("tier from $%.0f: win rate %.2f, want %.2f ± 0.05", tr.minAmount, win, tr.winRate)
		}
		if cycle < float64(tr.minDays)-5 || cycle > float64(tr.maxDays)+5 {
			t.Errorf("tier from $%.0f: cycle %.0f days, want %d-%d", tr.minAmount, cycle, tr.minDays, tr.maxDays)
		}
	}
	t.Logf("open opportunities %d, %d without activity for 14+ days", open, stale)
	if open < 200 || stale < open/10 || stale > open*2/3 {
		t.Errorf("open pipeline %d with %d stale, want hundreds with some stale", open, stale)
	}
}
