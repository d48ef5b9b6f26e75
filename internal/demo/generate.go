package demo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Size band indexes used inside the generator.
const (
	smb = iota
	midMarket
	enterprise
)

// Calibration. The reference hazard is the monthly churn hazard of an account with every
// multiplier at 1; it is set so that each band's average over its mix of industries, company
// sizes and engagement lands on the Target* rates.
var (
	refHazard     = [3]float64{0.0367, 0.0149, 0.0038}
	sizeWeights   = [3]float64{0.62, 0.284, 0.096} // every industry but BestIndustry
	bestIndWeight = [3]float64{0.40, 0.44, 0.16}   // BestIndustry leans to larger companies
	regionWeights = []float64{45, 30, 15, 10}
	industryShare = []float64{18, 12, 12, 14, 12, 10, 10, 12} // in Industries order

	strategicShare = [3]float64{0.008, 0.04, 0.15}
	annualShare    = [3]float64{0.2, 0.5, 0.85}
	addOnShare     = [3]float64{0.03, 0.10, 0.15}
	ticketRate     = [3]float64{0.55, 1.4, 3.0} // tickets per customer month
	expandProb     = [3]float64{0.030, 0.040, 0.045}
	contractProb   = [3]float64{0.025, 0.020, 0.015}

	// arrBand is the initial ARR range (USD) and Pareto shape of a new customer by size band.
	arrBand = [3]struct{ lo, hi, alpha float64 }{{2000, 25000, 1.0}, {25000, 150000, 1.2}, {150000, 1000000, 1.2}}

	plans     = []string{"starter", "growth", "business", "enterprise"}
	listPrice = map[string]float64{"starter": 20, "growth": 40, "business": 70, "enterprise": 110} // USD per seat-month
	planMix   = [3][]float64{{60, 40, 0, 0}, {0, 60, 40, 0}, {0, 0, 40, 60}}

	revenuePerEmployee = map[string]float64{
		"Software": 220e3, "FinTech": 350e3, "Healthcare": 180e3, "Retail": 250e3,
		"Manufacturing": 300e3, "Education": 90e3, "Media": 200e3, "Logistics": 280e3,
	}

	// engagement profiles: share of accounts, active-user share range, churn multiplier,
	// features used range.
	engagements = []struct {
		weight, lo, hi, hazard, featLo, featHi float64
	}{
		{25, 0.65, 0.95, 0.8, 10, 18}, // power
		{40, 0.30, 0.60, 1.0, 5, 11},  // regular
		{25, 0.10, 0.25, 1.1, 2, 6},   // occasional
		{10, 0.00, 0.05, 1.3, 0, 2},   // inactive
	}
)

// dealTier is a pipeline deal-size tier (domain.md section 8).
type dealTier struct {
	minAmount        float64
	minDays, maxDays int
	winRate          float64
}

var dealTiers = []dealTier{
	{0, 30, 60, 0.30},
	{25000, 60, 120, 0.22},
	{150000, 120, 180, 0.15},
}

func tierOf(amount float64) dealTier {
	t := dealTiers[0]
	for _, d := range dealTiers {
		if amount >= d.minAmount {
			t = d
		}
	}
	return t
}

// Loss reasons by motion, with weights.
var (
	lossReasons      = []string{"price", "competitor", "no_decision", "timing", "fit"}
	newLossWeights   = []float64{25, 25, 25, 15, 10}
	renewLossWeights = []float64{35, 30, 15, 0, 20}
	expLossWeights   = []float64{30, 0, 35, 35, 0}

	leadSources       = []string{"inbound", "outbound", "partner", "campaign"}
	newSourceWeights  = []float64{40, 30, 15, 15}
	custSourceWeights = []float64{40, 50, 10, 0}

	openStages     = []string{"prospecting", "discovery", "demo", "proposal", "negotiation"}
	stageStartFrac = []float64{0, 0.1, 0.3, 0.5, 0.75}
	stageForecast  = []string{"pipeline", "pipeline", "best_case", "best_case", "commit"}
	activityTypes  = []string{"meeting", "demo", "proposal", "email"}
	stageActivity  = [][]float64{{40, 0, 0, 60}, {60, 0, 0, 40}, {20, 60, 0, 20}, {20, 0, 60, 20}, {50, 0, 30, 20}}

	priorities        = []string{"low", "normal", "high", "urgent"}
	priorityWeights   = []float64{30, 45, 18, 7}
	priorityAtRisk    = []float64{15, 35, 32, 18}
	priorityMaxHours  = []int{240, 120, 48, 12}
	categories        = []string{"bug", "how_to", "billing", "feature_request", "outage"}
	categoryWeights   = []float64{30, 35, 10, 15, 10}
	categoryAtRisk    = []float64{40, 15, 15, 10, 20}
	csatWeights       = []float64{5, 8, 12, 30, 45} // 1..5
	csatAtRiskWeights = []float64{20, 20, 25, 20, 15}
)

// profile is what the generator knows about one account.
type profile struct {
	id, name, owner, industry, region string
	size, employees, maxSeats         int
	empQuantile                       float64
	eur                               bool
	hazard, pExp, pCon                float64
	engagement, eventsPerUser         float64
	featLo, featHi                    float64
	ticketRate                        float64
	lastTouch                         time.Time
}

// deal is what a customer buys: seats at a per-seat price (USD cents a month) on a plan.
type deal struct {
	seats   int
	unitUSD int64
	plan    string
	annual  bool
}

func (d deal) arrUSD() float64 { return float64(int64(d.seats)*d.unitUSD*12) / 100 }

// draftSub is a subscription before ids are assigned; gen is its generation order.
type draftSub struct {
	Subscription
	gen int
}

// draftInv is an invoice before ids are assigned; sub is the generation order of its subscription.
type draftInv struct {
	Invoice
	sub int
}

// VolumeBench is the Options.Volume of the benchmark company: every account buys, bills
// monthly more often, churns less and files fewer tickets, over a longer history.
const VolumeBench = "bench"

// BenchYears is the default history length under VolumeBench.
const BenchYears = 7

// validate reports an Options value Stream and Prerender cannot generate.
func (o Options) validate() error {
	if o.Volume != "" && o.Volume != VolumeBench {
		return fmt.Errorf("demo: unknown volume %q (want %q or %q)", o.Volume, "", VolumeBench)
	}
	if o.Accounts < 0 {
		return fmt.Errorf("demo: accounts must not be negative, got %d", o.Accounts)
	}
	return nil
}

// volumeKnobs are the generation knobs Options.Volume turns. The demo company's are all
// neutral (scales of exactly 1), so it is generated exactly as before volumes existed.
type volumeKnobs struct {
	// firstDealWon makes every account's first new-business deal a win.
	firstDealWon bool
	// annualScale scales the share of subscriptions billed annually.
	annualScale float64
	// hazardScale scales every account's churn hazard.
	hazardScale float64
	// ticketScale scales every account's ticket rate.
	ticketScale float64
	// expansionScale scales the monthly chances of seat expansions and contractions and of
	// expansion attempts that come to nothing.
	expansionScale float64
}

// knobsFor returns the generation knobs of a volume ("" or VolumeBench).
func knobsFor(volume string) volumeKnobs {
	if volume == VolumeBench {
		return volumeKnobs{firstDealWon: true, annualScale: benchAnnualScale, hazardScale: benchHazardScale,
			ticketScale: benchTicketScale, expansionScale: benchExpansionScale}
	}
	return volumeKnobs{annualScale: 1, hazardScale: 1, ticketScale: 1, expansionScale: 1}
}

// Calibration of VolumeBench: with BenchYears of history, at 10,000 accounts they give 24.2
// invoices, 3.1 opportunities, 5.1 tickets and 30.7 usage rows per account
// (TestBenchVolumeAverages).
const (
	benchAnnualScale    = 0.75
	benchHazardScale    = 0.3
	benchTicketScale    = 0.15
	benchExpansionScale = 0.4
)

// generator accumulates the records of every account.
type generator struct {
	opts         Options
	knobs        volumeKnobs
	start, end   time.Time
	horizon      time.Time // churn is decided this far past end, so at-risk signals show at end
	accountWidth int
	accounts     []Account
	opps         []Opportunity
	subs         []draftSub
	invs         []draftInv
	tickets      []Ticket
	usage        []Usage
}

// Generate builds the company described by opts. The same options always give the same data.
func Generate(opts Options) *Company {
	opts = opts.withDefaults()
	n := opts.Accounts
	g := newGenerator(opts)
	g.accounts = make([]Account, 0, n)
	g.opps = make([]Opportunity, 0, 2*n)
	g.subs = make([]draftSub, 0, n/2)
	g.invs = make([]draftInv, 0, 6*n)
	g.tickets = make([]Ticket, 0, 5*n)
	g.usage = make([]Usage, 0, 7*n)
	for i := range n {
		g.account(i)
	}
	return g.finish()
}

// newGenerator returns a generator of the company opts (defaults already filled in) with no
// records yet.
func newGenerator(opts Options) *generator {
	return &generator{
		opts:         opts,
		knobs:        knobsFor(opts.Volume),
		end:          opts.End,
		start:        opts.End.AddDate(-opts.Years, 0, 0),
		horizon:      addMonths(opts.End, 4),
		accountWidth: idWidth(opts.Accounts),
	}
}

// idWidth is the zero-padded width of ids for n records: at least 6 digits, so that ids sort
// lexically in numeric order.
func idWidth(n int) int { return max(6, len(strconv.Itoa(n))) }

// makeID formats prefix_000123.
func makeID(prefix string, n, width int) string {
	s := strconv.Itoa(n)
	buf := make([]byte, 0, len(prefix)+1+width)
	buf = append(buf, prefix...)
	buf = append(buf, '_')
	for i := len(s); i < width; i++ {
		buf = append(buf, '0')
	}
	return string(append(buf, s...))
}

// creationTime spreads account creation over the history, stratified by index so accounts come
// out in creation order, with the creation rate rising 1.5x from start to end (a growing company).
func (g *generator) creationTime(r *rand.Rand, i int) time.Time {
	const growth = 1.5
	q := (float64(i) + r.Float64()) / float64(g.opts.Accounts)
	x := (-1 + math.Sqrt(1+(growth-1)*(1+growth)*q)) / (growth - 1)
	span := g.end.Sub(g.start)
	t := g.start.Add(time.Duration(x * float64(span))).Truncate(time.Second)
	return minTime(t, g.end.Add(-time.Hour))
}

// newProfile draws the firmographics and behaviour of account i.
func (g *generator) newProfile(r *rand.Rand, i int) *profile {
	p := &profile{id: makeID("acc", i+1, g.accountWidth)}
	p.industry = Industries[pick(r, industryShare)]
	p.region = Regions[pick(r, regionWeights)]
	if p.industry == BestIndustry {
		p.size = pick(r, bestIndWeight[:])
	} else {
		p.size = pick(r, sizeWeights[:])
	}
	switch p.size {
	case smb:
		p.empQuantile = r.Float64()
		p.employees = int(4 * math.Exp(p.empQuantile*math.Log(50)))
	case midMarket:
		p.empQuantile = r.Float64()
		p.employees = int(200 * math.Exp(p.empQuantile*math.Log(10)))
	default:
		p.empQuantile = r.Float64()
		p.employees = min(int(2000/math.Pow(1-p.empQuantile, 1/1.1)), 250000)
	}
	p.maxSeats = max(1, int(float64(p.employees)*0.9))
	if p.employees > 1 {
		p.maxSeats = min(p.maxSeats, p.employees-1)
	}
	p.eur = p.region == "EMEA" && chance(r, 0.15)

	mult := 1.0
	switch p.industry {
	case BestIndustry:
		mult = BestIndustryChurnMultiplier
	case PoorRetentionIndustry:
		mult = RetailChurnMultiplier
	}
	if p.employees < TinyCompanyEmployees {
		mult *= TinyCompanyChurnMultiplier
	}
	e := engagements[pick(r, []float64{engagements[0].weight, engagements[1].weight, engagements[2].weight, engagements[3].weight})]
	p.engagement = uniform(r, e.lo, e.hi)
	p.featLo, p.featHi = e.featLo, e.featHi
	p.hazard = refHazard[p.size] * mult * e.hazard * g.knobs.hazardScale
	p.eventsPerUser = 120 * math.Exp(0.5*r.NormFloat64())
	p.ticketRate = ticketRate[p.size] * math.Exp(0.6*r.NormFloat64()-0.18) * g.knobs.ticketScale

	p.pExp, p.pCon = expandProb[p.size], contractProb[p.size]
	if p.industry == BestIndustry {
		switch p.size {
		case smb:
			p.pExp = 0.08
		case midMarket:
			p.pExp = 0.15
			if p.region == BestRegion {
				p.pExp = 0.19
			}
		default:
			p.pExp = 0.10
		}
		p.pCon = 0.01
	}
	p.pExp *= g.knobs.expansionScale
	p.pCon *= g.knobs.expansionScale
	return p
}

// account generates account i and everything that happens to it.
func (g *generator) account(i int) {
	r := rand.New(rand.NewPCG(g.opts.Seed, uint64(i)))
	p := g.newProfile(r, i)
	created := g.creationTime(r, i)
	p.lastTouch = created

	cc := regionCountries[p.region]
	country := cc.codes[pick(r, cc.weights)]
	owners := regionOwners[p.region]
	p.owner = owners[r.IntN(len(owners))]
	p.name = companyName(r, p.industry, country)
	strategic := chance(r, strategicShare[p.size])
	reasons := ""
	if strategic {
		reasons = strategicReasons(r)
	}
	revenue := math.Round(float64(p.employees)*revenuePerEmployee[p.industry]*math.Exp(0.35*r.NormFloat64())/1000) * 1000

	g.sales(r, p, created)

	g.accounts = append(g.accounts, Account{
		ID:               p.id,
		Name:             p.name,
		Industry:         p.industry,
		EmployeeCount:    p.employees,
		AnnualRevenue:    revenue,
		Country:          country,
		Region:           p.region,
		Owner:            p.owner,
		IsStrategic:      strategic,
		StrategicReasons: reasons,
		CreatedAt:        created,
		UpdatedAt:        minTime(p.lastTouch, g.end.Add(-time.Second)),
	})
}

// sales runs the account's new-business attempts and, once won, its customer life (with
// reactivations after churn).
func (g *generator) sales(r *rand.Rand, p *profile, created time.Time) {
	oppAt := between(r, created, minTime(created.Add(14*day), g.end))
	retries := 0
	for {
		d := g.drawDeal(r, p)
		tier := tierOf(d.arrUSD())
		cycle := time.Duration(tier.minDays)*day + time.Duration(r.Int64N(int64(tier.maxDays-tier.minDays)*int64(day)))
		won := chance(r, tier.winRate) || (g.knobs.firstDealWon && retries == 0)
		closeAt := oppAt.Add(cycle).Truncate(time.Second)
		if !won {
			closeAt = oppAt.Add(time.Duration(float64(cycle) * uniform(r, 0.4, 1.2))).Truncate(time.Second)
		}
		closeAt = g.avoidEndClock(closeAt)
		g.addOpp(r, p, oppSpec{motion: "new_business", product: newProduct(r), source: leadSources[pick(r, newSourceWeights)],
			amount: d.arrUSD(), label: "New Business"}, oppAt, closeAt, won, newLossWeights)
		if !closeAt.Before(g.end) {
			return // still open at end
		}
		if won {
			g.customer(r, p, closeAt, d)
			return
		}
		if retries >= 3 || !chance(r, 0.5) {
			return
		}
		retries++
		oppAt = jitter(r, closeAt, 90*day, 365*day)
		if !oppAt.Before(g.end) {
			return
		}
	}
}

// customer runs a customer's spells: the first subscription and any reactivations after churn.
func (g *generator) customer(r *rand.Rand, p *profile, start time.Time, d deal) {
	for {
		churnAt, churns := g.spell(r, p, start, d)
		if !churns || !churnAt.Before(g.end) || p.size != smb || !chance(r, 0.2) {
			return
		}
		// Reactivation: a churned SMB customer comes back 3-9 months later.
		restart := g.avoidEndClock(jitter(r, churnAt, 90*day, 270*day))
		oppAt := maxTime(churnAt, jitter(r, restart, -30*day, -7*day))
		if !oppAt.Before(g.end) {
			return
		}
		d = g.drawDeal(r, p)
		d.seats = max(1, min(p.maxSeats, d.seats*2/3))
		g.addOpp(r, p, oppSpec{motion: "new_business", product: "Core", source: "inbound", amount: d.arrUSD(), label: "Reactivation"},
			oppAt, restart, true, newLossWeights)
		if !restart.Before(g.end) {
			return
		}
		start = restart
	}
}

// avoidEndClock nudges t by a second when its time of day equals end's, so that no billing
// period boundary anchored on t can fall exactly on end.
func (g *generator) avoidEndClock(t time.Time) time.Time {
	h, m, s := t.Clock()
	eh, em, es := g.end.Clock()
	if h == eh && m == em && s == es {
		return t.Add(time.Second)
	}
	return t
}

// drawDeal draws the seats, price, plan and billing interval a new customer of p buys.
func (g *generator) drawDeal(r *rand.Rand, p *profile) deal {
	band := arrBand[p.size]
	u := 0.5*p.empQuantile + 0.5*r.Float64()
	if p.industry == BestIndustry {
		u = 1 - math.Pow(1-u, 1.5) // BestIndustry buys bigger deals within its band
	}
	arr := boundedPareto(u, band.lo, band.hi, band.alpha)
	plan := plans[pick(r, planMix[p.size])]
	mrrUSD := arr / 12
	seats := int(math.Round(mrrUSD / listPrice[plan]))
	seats = max(1, min(seats, p.maxSeats))
	return deal{
		seats:   seats,
		unitUSD: max(int64(100), int64(math.Round(mrrUSD*100/float64(seats)))),
		plan:    plan,
		annual:  chance(r, annualShare[p.size]*g.knobs.annualScale),
	}
}

// newProduct draws the product a new-business deal leads with.
func newProduct(r *rand.Rand) string {
	return []string{"Core", "Analytics", "Automation"}[pick(r, []float64{75, 15, 10})]
}

// oppSpec is what differs between kinds of opportunities.
type oppSpec struct {
	motion, product, source, label string
	amount                         float64
}

// addOpp records an opportunity created at created that closes (won or lost) at closeAt; one
// closing at or after end is open at end, in the stage its progress implies.
func (g *generator) addOpp(r *rand.Rand, p *profile, s oppSpec, created, closeAt time.Time, won bool, lossWeights []float64) {
	o := Opportunity{
		AccountID:  p.id,
		Name:       fmt.Sprintf("%s - %s - %s", p.name, s.product, s.label),
		Amount:     math.Round(s.amount*100) / 100,
		Currency:   "USD",
		Motion:     s.motion,
		LeadSource: s.source,
		Product:    s.product,
		Owner:      p.owner,
		CreatedAt:  created,
	}
	if closeAt.Before(g.end) {
		o.IsClosed, o.IsWon = true, won
		o.Stage = "closed_lost"
		if won {
			o.Stage = "closed_won"
		} else {
			o.LossReason = &lossReasons[pick(r, lossWeights)]
		}
		c := closeAt
		o.ClosedAt = &c
		o.StageEnteredAt = closeAt
		o.ForecastCategory = "closed"
		o.LastActivityAt = maxTime(created, jitter(r, closeAt, -3*day, 0))
		o.LastActivityType = activityTypes[pick(r, []float64{50, 0, 30, 20})]
		o.UpdatedAt = closeAt
	} else {
		g.openState(r, &o, closeAt, won)
	}
	p.lastTouch = maxTime(p.lastTouch, o.UpdatedAt)
	g.opps = append(g.opps, o)
}

// openState sets the stage, activity and forecast of an opportunity open at end. Deals bound
// to be lost often stall: they sit in an earlier stage and have had no activity for weeks.
func (g *generator) openState(r *rand.Rand, o *Opportunity, closeAt time.Time, won bool) {
	cycle := closeAt.Sub(o.CreatedAt)
	frac := float64(g.end.Sub(o.CreatedAt)) / float64(max(cycle, time.Second))
	stall := !won && chance(r, 0.5)
	if stall {
		frac *= uniform(r, 0.3, 0.7)
	}
	st := 0
	for i, f := range stageStartFrac {
		if frac >= f {
			st = i
		}
	}
	o.Stage = openStages[st]
	o.StageEnteredAt = o.CreatedAt.Add(time.Duration(stageStartFrac[st] * float64(cycle))).Truncate(time.Second)
	o.ForecastCategory = stageForecast[st]
	last := g.end
	if stall {
		last = jitter(r, g.end, -60*day, -15*day)
		o.LastActivityType = []string{"email", "meeting"}[pick(r, []float64{70, 30})]
	} else {
		if won {
			last = jitter(r, g.end, -12*day, -time.Hour)
		} else {
			last = jitter(r, g.end, -25*day, -time.Hour)
		}
		o.LastActivityType = activityTypes[pick(r, stageActivity[st])]
	}
	o.LastActivityAt = minTime(maxTime(last, o.CreatedAt), g.end.Add(-time.Second))
	o.UpdatedAt = maxTime(o.StageEnteredAt, o.LastActivityAt)
}

// spell is one subscription of a customer (plus an optional add-on) from start until it churns.
// It returns when the customer stops paying and whether that happens within the horizon.
func (g *generator) spell(r *rand.Rand, p *profile, start time.Time, d deal) (time.Time, bool) {
	lenM := 1
	if d.annual {
		lenM = 12
	}
	// When does it churn? A cancellation takes effect at a period end; the monthly hazard
	// compounds over an annual period.
	pPeriod := 1 - math.Pow(1-p.hazard, float64(lenM))
	var cancelAt time.Time
	churns := false
	for n := 1; ; n++ {
		pe := addMonths(start, n*lenM)
		if pe.After(g.horizon) {
			break
		}
		if chance(r, pPeriod) {
			cancelAt, churns = pe, true
			break
		}
	}
	live := func(t time.Time) bool { return t.Before(g.end) && (!churns || t.Before(cancelAt)) }

	// Seats evolve month by month: expansions (each one a won expansion deal) and contractions;
	// a change is billed from the next period (monthly: next month; annual: at renewal).
	seatsAfter := make([]int, 0, 48)
	seats := d.seats
	for m := 0; live(addMonths(start, m)); m++ {
		ms, me := addMonths(start, m), addMonths(start, m+1)
		pExp, pCon := p.pExp, p.pCon
		if churns && !addMonths(ms, 3).Before(cancelAt) {
			pExp, pCon = 0, 2*pCon // no growth, more downsizing in the last months
		}
		u := r.Float64()
		at := between(r, ms, me)
		switch {
		case u < pExp && at.Before(g.end):
			next := min(p.maxSeats, max(seats+1, int(math.Round(float64(seats)*uniform(r, 1.08, 1.45)))))
			if next > seats {
				delta := float64(int64(next-seats)*d.unitUSD*12) / 100
				g.addOpp(r, p, oppSpec{motion: "expansion", product: "Core", source: leadSources[pick(r, custSourceWeights)],
					amount: delta, label: fmt.Sprintf("Expansion +%d seats", next-seats)},
					maxTime(start, jitter(r, at, -60*day, -14*day)), at, true, expLossWeights)
				seats = next
			}
		case u < pExp+pCon:
			seats = max(1, min(seats-1, int(math.Round(float64(seats)*uniform(r, 0.7, 0.95)))))
		}
		if chance(r, pExp+0.02*g.knobs.expansionScale) { // an expansion attempt that comes to nothing
			lostAt := between(r, ms, minTime(me, g.end))
			delta := float64(int64(max(1, seats/5))*d.unitUSD*12) / 100
			g.addOpp(r, p, oppSpec{motion: "expansion", product: "Core", source: leadSources[pick(r, custSourceWeights)],
				amount: delta * uniform(r, 0.5, 1.5), label: "Expansion"},
				lostAt, jitter(r, lostAt, 20*day, 70*day), false, expLossWeights)
		}
		seatsAfter = append(seatsAfter, seats)
	}
	seatsOfPeriod := func(k int) int {
		if k == 0 || len(seatsAfter) == 0 {
			return d.seats
		}
		return seatsAfter[min(k*lenM-1, len(seatsAfter)-1)]
	}
	timeline := g.bill(r, p, start, d, lenM, seatsOfPeriod, cancelAt, churns)

	// Renewal deals for annual subscriptions: opened 90 days before each renewal date.
	if d.annual {
		for k := 1; ; k++ {
			renewal := addMonths(start, 12*k)
			opened := renewal.Add(-90 * day)
			if !opened.Before(g.end) || (churns && renewal.After(cancelAt)) {
				break
			}
			renewed := !churns || renewal.Before(cancelAt)
			closeAt := jitter(r, renewal, -14*day, -time.Hour)
			if !renewed {
				closeAt = jitter(r, renewal, -30*day, -time.Hour)
			}
			s := seatsOfPeriod(k - 1)
			if renewed && renewal.Before(g.end) {
				s = seatsOfPeriod(k)
			}
			g.addOpp(r, p, oppSpec{motion: "renewal", product: "Core", source: leadSources[pick(r, custSourceWeights)],
				amount: float64(int64(s)*d.unitUSD*12) / 100, label: fmt.Sprintf("Renewal %d", renewal.Year())},
				opened, closeAt, renewed, renewLossWeights)
		}
	}

	custEnd := cancelAt
	// Add-on: a second, monthly subscription for another product, cross-sold later in life.
	if chance(r, addOnShare[p.size]) {
		aStart := g.avoidEndClock(jitter(r, start, 90*day, 540*day))
		if live(aStart) {
			product := []string{"Analytics", "Automation"}[r.IntN(2)]
			a := deal{seats: max(1, int(math.Round(float64(d.seats)*uniform(r, 0.2, 0.6)))), unitUSD: 1500, plan: d.plan}
			g.addOpp(r, p, oppSpec{motion: "expansion", product: product, source: leadSources[pick(r, custSourceWeights)],
				amount: a.arrUSD(), label: "Add-on"}, maxTime(start, jitter(r, aStart, -60*day, -20*day)), aStart, true, expLossWeights)
			var aCancel time.Time
			if churns { // the add-on ends with the customer: at its first period end on or after the main one's
				for n := 1; ; n++ {
					if pe := addMonths(aStart, n); !pe.Before(cancelAt) {
						aCancel = pe
						break
					}
				}
				custEnd = maxTime(custEnd, aCancel)
			}
			g.bill(r, p, aStart, a, 1, func(int) int { return a.seats }, aCancel, churns)
		}
	}

	g.activity(r, p, start, custEnd, churns, timeline)
	return custEnd, churns
}

// periodSeats is the seats billed from a period start on.
type periodSeats struct {
	start time.Time
	seats int
}

// bill records one subscription and its invoices: one per period from start until it is
// canceled (at cancelAt, a period end) or until end. It returns the seats billed per period.
func (g *generator) bill(r *rand.Rand, p *profile, start time.Time, d deal, lenM int, seatsFor func(k int) int, cancelAt time.Time, churns bool) []periodSeats {
	cur := "USD"
	if p.eur {
		cur = "EUR"
	}
	sub := draftSub{gen: len(g.subs), Subscription: Subscription{
		CustomerID:      p.id,
		Plan:            d.plan,
		BillingInterval: "month",
		Currency:        cur,
		StartedAt:       start,
	}}
	if lenM == 12 {
		sub.BillingInterval = "year"
	}
	byInvoice := d.annual || p.size != smb // card payments settle at once, invoices within days
	limit := 0
	var seats int
	var mrr int64
	var periodEnd time.Time
	var timeline []periodSeats
	for k := 0; ; k++ {
		ps, pe := addMonths(start, k*lenM), addMonths(start, (k+1)*lenM)
		if !ps.Before(g.end) || (churns && !ps.Before(cancelAt)) {
			break
		}
		seats = seatsFor(k)
		timeline = append(timeline, periodSeats{ps, seats})
		if seats > limit {
			limit = roundUp(int(math.Ceil(float64(seats)*uniform(r, 1.0, 1.5))), 5)
		}
		mrr = int64(seats) * d.unitUSD
		if p.eur {
			mrr = usdToEURCents(mrr)
		}
		periodEnd = pe
		inv := draftInv{sub: sub.gen, Invoice: Invoice{
			CustomerID:  p.id,
			AmountCents: mrr * int64(lenM),
			Seats:       seats,
			SeatLimit:   limit,
			Currency:    cur,
			PeriodStart: ps,
			PeriodEnd:   pe,
			IssuedAt:    ps,
			Status:      "paid",
		}}
		paid := jitter(r, ps, time.Minute, 2*time.Hour)
		if byInvoice {
			paid = jitter(r, ps, day, 10*day)
		}
		if paid.Before(g.end) {
			inv.PaidAt = &paid
		} else {
			inv.Status = "open"
		}
		g.invs = append(g.invs, inv)
		if chance(r, 0.005) { // an invoice issued twice by mistake, the copy voided
			v := inv
			v.Status, v.PaidAt = "void", nil
			g.invs = append(g.invs, v)
		}
	}
	sub.Seats, sub.SeatLimit, sub.MRRCents = seats, limit, mrr
	sub.CurrentPeriodEnd = periodEnd
	sub.Status = "active"
	if churns && cancelAt.Before(g.end) {
		c := cancelAt
		sub.Status, sub.CanceledAt = "canceled", &c
	}
	g.subs = append(g.subs, sub)
	return timeline
}

// roundUp rounds n up to a multiple of m.
func roundUp(n, m int) int { return (n + m - 1) / m * m }

// activity records the monthly usage rollups and support tickets of a customer spell from
// start until custEnd (when churns). In the last three months before churn, tickets triple
// (more bugs and outages, worse csat) and usage falls.
func (g *generator) activity(r *rand.Rand, p *profile, start, custEnd time.Time, churns bool, timeline []periodSeats) {
	lastIdx := math.MaxInt
	if churns {
		lastIdx = monthIndex(custEnd.Add(-time.Second))
	}
	if len(timeline) == 0 {
		return
	}
	period := 0 // index into timeline, walked forward with the months
	active := func(t time.Time) bool { return !churns || t.Before(custEnd) }
	for m := monthStart(start); m.Before(g.end) && active(m); m = addMonths(m, 1) {
		next := addMonths(m, 1)
		toEnd := lastIdx - monthIndex(m)
		atRisk := toEnd >= 0 && toEnd <= 2

		// Tickets over the part of the month the customer was active.
		from := maxTime(m, start)
		to := minTime(next, g.end)
		if churns {
			to = minTime(to, custEnd)
		}
		if to.After(from) {
			rate := p.ticketRate * float64(to.Sub(from)) / float64(next.Sub(m))
			if atRisk {
				rate *= 3
			}
			for range poisson(r, rate) {
				g.ticket(r, p, between(r, from, to), atRisk)
			}
		}

		// Usage for complete months only.
		if next.After(g.end) {
			continue
		}
		sample := next.Add(-time.Second)
		if churns && !sample.Before(custEnd) {
			sample = custEnd.Add(-time.Second)
		}
		for period+1 < len(timeline) && !timeline[period+1].start.After(sample) {
			period++
		}
		seats := timeline[period].seats
		decline := 1.0
		if atRisk {
			decline = []float64{0.3, 0.5, 0.75}[toEnd]
		}
		ramp := 1.0
		switch monthIndex(m) - monthIndex(start) {
		case 0:
			ramp = 0.6
		case 1:
			ramp = 0.85
		}
		users := int(math.Round(float64(seats) * p.engagement * decline * ramp * uniform(r, 0.9, 1.08)))
		users = max(0, min(users, seats))
		var events int64
		features := 0
		if users > 0 {
			events = int64(math.Round(float64(users) * p.eventsPerUser * (0.5 + 0.5*decline) * uniform(r, 0.8, 1.2)))
			features = int(math.Round(uniform(r, p.featLo, p.featHi) * (0.4 + 0.6*decline)))
			features = max(1, min(features, 20))
		}
		g.usage = append(g.usage, Usage{AccountID: p.id, Month: m, ActiveUsers: users, Events: events, FeaturesUsed: features})
	}
}

// ticket records one support ticket of p opened at created.
func (g *generator) ticket(r *rand.Rand, p *profile, created time.Time, atRisk bool) {
	pw, cw, sw := priorityWeights, categoryWeights, csatWeights
	if atRisk {
		pw, cw, sw = priorityAtRisk, categoryAtRisk, csatAtRiskWeights
	}
	pri := pick(r, pw)
	t := Ticket{OrganizationID: p.id, CreatedAt: created, Priority: priorities[pri], Category: categories[pick(r, cw)]}
	solved := jitter(r, created, 10*time.Minute, time.Duration(priorityMaxHours[pri])*time.Hour)
	if solved.Before(g.end) && !chance(r, 0.01) { // about 1% are never solved
		t.SolvedAt = solved
		if chance(r, 0.55) {
			t.CSAT = int8(1 + pick(r, sw))
		}
	}
	g.tickets = append(g.tickets, t)
}

// finish orders every entity (by creation, ties in generation order), assigns ids and plants
// the bad csat values.
func (g *generator) finish() *Company {
	c := &Company{Options: g.opts, Start: g.start, End: g.end, Accounts: g.accounts}

	c.Opportunities = inOrder(g.opps, func(o *Opportunity) time.Time { return o.CreatedAt })
	g.opps = nil
	w := idWidth(len(c.Opportunities))
	for i := range c.Opportunities {
		c.Opportunities[i].ID = makeID("opp", i+1, w)
	}

	subs := inOrder(g.subs, func(s *draftSub) time.Time { return s.StartedAt })
	g.subs = nil
	w = idWidth(len(subs))
	subIDs := make([]string, len(subs))
	c.Subscriptions = make([]Subscription, len(subs))
	for i := range subs {
		s := subs[i].Subscription
		s.ID = makeID("sub", i+1, w)
		subIDs[subs[i].gen] = s.ID
		c.Subscriptions[i] = s
	}

	invs := inOrder(g.invs, func(inv *draftInv) time.Time { return inv.IssuedAt })
	g.invs = nil
	w = idWidth(len(invs))
	c.Invoices = make([]Invoice, len(invs))
	for i := range invs {
		inv := invs[i].Invoice
		inv.ID = makeID("inv", i+1, w)
		inv.SubscriptionID = subIDs[invs[i].sub]
		c.Invoices[i] = inv
	}

	c.Tickets = inOrder(g.tickets, func(t *Ticket) time.Time { return t.CreatedAt })
	g.tickets = nil
	w = idWidth(len(c.Tickets))
	for i := range c.Tickets {
		c.Tickets[i].TicketID = makeID("tkt", i+1, w)
		if (i+1)%BadCSATEvery == 0 {
			c.Tickets[i].CSAT = -1
		}
	}

	// Usage rows are generated account by account, in account id order: ordering by month with
	// ties in generation order orders them by (month, account_id).
	c.Usage = inOrder(g.usage, func(u *Usage) time.Time { return u.Month })
	g.usage = nil
	w = idWidth(len(c.Usage))
	for i := range c.Usage {
		c.Usage[i].UsageID = makeID("use", i+1, w)
	}
	stampUpdates(c, c.End)
	return c
}

// inOrder returns a copy of s ordered by key, ties kept in their order in s. It sorts indexes
// rather than the (large) records.
func inOrder[T any](s []T, key func(*T) time.Time) []T {
	keys := make([]int64, len(s))
	idx := make([]int32, len(s))
	for i := range s {
		keys[i] = key(&s[i]).Unix()
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Or(cmp.Compare(keys[a], keys[b]), cmp.Compare(a, b)) })
	out := make([]T, len(s))
	for i, j := range idx {
		out[i] = s[j]
	}
	return out
}
