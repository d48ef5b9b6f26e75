package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// companyHash hashes every record of c as exported (JSON for the JSON sources, CSV fields for
// the CSV ones).
func companyHash(t *testing.T, c *Company) string {
	t.Helper()
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, v := range []any{c.Accounts, c.Opportunities, c.Subscriptions, c.Invoices} {
		if err := enc.Encode(v); err != nil {
			t.Fatalf("encode: %v", err)
		}
	}
	for i := range c.Tickets {
		h.Write([]byte(strings.Join(c.Tickets[i].CSVRecord(), ",") + "\n"))
	}
	for i := range c.Usage {
		h.Write([]byte(strings.Join(c.Usage[i].CSVRecord(), ",") + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestGenerateIsDeterministic(t *testing.T) {
	a := companyHash(t, Generate(Options{Accounts: 1500, Seed: 7}))
	b := companyHash(t, Generate(Options{Accounts: 1500, Seed: 7}))
	if a != b {
		t.Fatalf("same options, different data: %s vs %s", a, b)
	}
	if c := companyHash(t, Generate(Options{Accounts: 1500, Seed: 8})); c == a {
		t.Fatalf("seed 8 gave the same data as seed 7")
	}
	if d := companyHash(t, Generate(Options{Accounts: 1500, Seed: 7, End: DefaultEnd.AddDate(0, -1, 0)})); d == a {
		t.Fatalf("a different End gave the same data")
	}
}

func TestGenerateDefaults(t *testing.T) {
	c := Generate(Options{})
	if got := len(c.Accounts); got != DefaultAccounts {
		t.Errorf("accounts = %d, want %d", got, DefaultAccounts)
	}
	if !c.End.Equal(DefaultEnd) || !c.Start.Equal(DefaultEnd.AddDate(-4, 0, 0)) {
		t.Errorf("history = %v..%v, want 4 years to %v", c.Start, c.End, DefaultEnd)
	}
	if c.Options.Seed != 1 || c.Options.Years != 4 {
		t.Errorf("defaults not filled in: %+v", c.Options)
	}
}

func TestGenerateScales(t *testing.T) {
	for _, n := range []int{1, 10, 250, 3000} {
		c := Generate(Options{Accounts: n, Seed: 3})
		if len(c.Accounts) != n {
			t.Errorf("accounts = %d, want %d", len(c.Accounts), n)
		}
		checkIDs(t, c)
		if n < 3000 {
			continue
		}
		// Per-account averages over all accounts (about a third become customers).
		rc := c.RowCounts()
		for _, tc := range []struct {
			name   string
			rows   int
			lo, hi float64
		}{
			{"opportunities", rc.Opportunities, 1.6, 3.0},
			{"subscriptions", rc.Subscriptions, 0.25, 0.5},
			{"invoices", rc.Invoices, 2.5, 5},
			{"tickets", rc.Tickets, 3.5, 7},
			{"usage", rc.Usage, 3.5, 7},
		} {
			if per := float64(tc.rows) / float64(n); per < tc.lo || per > tc.hi {
				t.Errorf("%s per account = %.2f, want %.1f-%.1f", tc.name, per, tc.lo, tc.hi)
			}
		}
	}
}

// checkIDs checks that every entity's ids are unique, prefixed and in ascending order.
func checkIDs(t *testing.T, c *Company) {
	t.Helper()
	check := func(entity, prefix string, ids []string) {
		for i, id := range ids {
			if !strings.HasPrefix(id, prefix+"_") {
				t.Errorf("%s id %q lacks prefix %s_", entity, id, prefix)
				return
			}
			if i > 0 && ids[i-1] >= id {
				t.Errorf("%s ids not strictly ascending: %q then %q", entity, ids[i-1], id)
				return
			}
		}
	}
	check("accounts", "acc", collect(c.Accounts, func(a Account) string { return a.ID }))
	check("opportunities", "opp", collect(c.Opportunities, func(o Opportunity) string { return o.ID }))
	check("subscriptions", "sub", collect(c.Subscriptions, func(s Subscription) string { return s.ID }))
	check("invoices", "inv", collect(c.Invoices, func(i Invoice) string { return i.ID }))
	check("tickets", "tkt", collect(c.Tickets, func(k Ticket) string { return k.TicketID }))
	check("usage", "use", collect(c.Usage, func(u Usage) string { return u.UsageID }))
}

func collect[T any](s []T, f func(T) string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

func TestInvariants(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		c := Generate(Options{Accounts: 2000, Seed: seed})
		checkInvariants(t, c)
	}
}

func checkInvariants(t *testing.T, c *Company) {
	t.Helper()
	end := c.End
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("seed %d: "+format, append([]any{c.Options.Seed}, args...)...)
	}
	notAfter := func(what string, ts time.Time) {
		t.Helper()
		if !ts.Before(end) || ts.Before(c.Start) {
			errorf("%s = %v, outside [%v, %v)", what, ts, c.Start, end)
		}
	}
	accounts := map[string]*Account{}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		accounts[a.ID] = a
		notAfter(a.ID+" created_at", a.CreatedAt)
		notAfter(a.ID+" updated_at", a.UpdatedAt)
		if a.UpdatedAt.Before(a.CreatedAt) {
			errorf("%s updated before created", a.ID)
		}
		if a.EmployeeCount < 1 || !slices.Contains(Industries, a.Industry) || !slices.Contains(Regions, a.Region) || len(a.Country) != 2 {
			errorf("bad firmographics %+v", *a)
		}
		if a.IsStrategic != (a.StrategicReasons != "") {
			errorf("%s is_strategic %v with reasons %q", a.ID, a.IsStrategic, a.StrategicReasons)
		}
		for r := range strings.SplitSeq(a.StrategicReasons, ";") {
			if a.IsStrategic && !slices.Contains(strategicReasonNames, r) {
				errorf("%s unknown strategic reason %q", a.ID, r)
			}
		}
	}

	for i := range c.Opportunities {
		o := &c.Opportunities[i]
		acct, ok := accounts[o.AccountID]
		if !ok {
			errorf("%s account %s does not resolve", o.ID, o.AccountID)
			continue
		}
		notAfter(o.ID+" created_at", o.CreatedAt)
		notAfter(o.ID+" stage_entered_at", o.StageEnteredAt)
		notAfter(o.ID+" last_activity_at", o.LastActivityAt)
		notAfter(o.ID+" updated_at", o.UpdatedAt)
		if o.CreatedAt.Before(acct.CreatedAt) {
			errorf("%s created before its account", o.ID)
		}
		if o.StageEnteredAt.Before(o.CreatedAt) || o.LastActivityAt.Before(o.CreatedAt) {
			errorf("%s stage or activity before creation", o.ID)
		}
		if o.Amount <= 0 || o.Currency != "USD" {
			errorf("%s amount %v %s", o.ID, o.Amount, o.Currency)
		}
		if o.IsClosed {
			if o.ClosedAt == nil || o.ForecastCategory != "closed" || !o.StageEnteredAt.Equal(*o.ClosedAt) {
				errorf("%s closed without closed_at/forecast closed: %+v", o.ID, *o)
				continue
			}
			notAfter(o.ID+" closed_at", *o.ClosedAt)
			if want := map[bool]string{true: "closed_won", false: "closed_lost"}[o.IsWon]; o.Stage != want {
				errorf("%s stage %s, is_won %v", o.ID, o.Stage, o.IsWon)
			}
			if (o.LossReason != nil) == o.IsWon {
				errorf("%s loss_reason %v with is_won %v", o.ID, o.LossReason, o.IsWon)
			}
		} else {
			if o.ClosedAt != nil || o.IsWon || o.LossReason != nil || !slices.Contains(openStages, o.Stage) {
				errorf("open %s has close fields or stage %s", o.ID, o.Stage)
			}
			if !slices.Contains([]string{"pipeline", "best_case", "commit"}, o.ForecastCategory) {
				errorf("open %s forecast %s", o.ID, o.ForecastCategory)
			}
		}
		if !slices.Contains([]string{"new_business", "expansion", "renewal"}, o.Motion) ||
			!slices.Contains(leadSources, o.LeadSource) || !slices.Contains(activityTypes, o.LastActivityType) {
			errorf("%s bad enum: %s/%s/%s", o.ID, o.Motion, o.LeadSource, o.LastActivityType)
		}
	}

	subs := map[string]*Subscription{}
	for i := range c.Subscriptions {
		s := &c.Subscriptions[i]
		subs[s.ID] = s
		acct, ok := accounts[s.CustomerID]
		if !ok {
			errorf("%s customer %s does not resolve", s.ID, s.CustomerID)
			continue
		}
		notAfter(s.ID+" started_at", s.StartedAt)
		if s.Seats < 1 || s.SeatLimit < s.Seats || (acct.EmployeeCount > 1 && s.Seats >= acct.EmployeeCount) {
			errorf("%s seats %d limit %d employees %d", s.ID, s.Seats, s.SeatLimit, acct.EmployeeCount)
		}
		switch s.Status {
		case "canceled":
			if s.CanceledAt == nil || !s.CurrentPeriodEnd.Equal(*s.CanceledAt) {
				errorf("%s canceled without canceled_at = current_period_end", s.ID)
				continue
			}
			notAfter(s.ID+" canceled_at", *s.CanceledAt)
		case "active":
			if s.CanceledAt != nil || !s.CurrentPeriodEnd.After(end) {
				errorf("active %s canceled_at %v current_period_end %v", s.ID, s.CanceledAt, s.CurrentPeriodEnd)
			}
		default:
			errorf("%s status %q", s.ID, s.Status)
		}
		if s.Currency != "USD" && !(s.Currency == "EUR" && acct.Region == "EMEA") {
			errorf("%s currency %s in region %s", s.ID, s.Currency, acct.Region)
		}
	}

	// Invoices: references, timestamps, contiguous non-overlapping periods per subscription,
	// the last one matching the subscription's state.
	bySub := map[string][]*Invoice{}
	for i := range c.Invoices {
		inv := &c.Invoices[i]
		s, ok := subs[inv.SubscriptionID]
		if !ok || s.CustomerID != inv.CustomerID || s.Currency != inv.Currency {
			errorf("%s subscription %s / customer %s / currency %s do not match", inv.ID, inv.SubscriptionID, inv.CustomerID, inv.Currency)
			continue
		}
		notAfter(inv.ID+" issued_at", inv.IssuedAt)
		if !inv.IssuedAt.Equal(inv.PeriodStart) || !inv.PeriodEnd.After(inv.PeriodStart) {
			errorf("%s period %v..%v issued %v", inv.ID, inv.PeriodStart, inv.PeriodEnd, inv.IssuedAt)
		}
		switch inv.Status {
		case "paid":
			if inv.PaidAt == nil || inv.PaidAt.Before(inv.IssuedAt) {
				errorf("%s paid without a valid paid_at", inv.ID)
			} else {
				notAfter(inv.ID+" paid_at", *inv.PaidAt)
			}
		case "open":
			if inv.PaidAt != nil || end.Sub(inv.IssuedAt) > 11*day {
				errorf("%s open but paid or issued %v before end", inv.ID, end.Sub(inv.IssuedAt))
			}
		case "void":
			if inv.PaidAt != nil {
				errorf("%s void with paid_at", inv.ID)
			}
			continue
		default:
			errorf("%s status %q", inv.ID, inv.Status)
		}
		bySub[inv.SubscriptionID] = append(bySub[inv.SubscriptionID], inv)
	}
	for i := range c.Subscriptions {
		s := &c.Subscriptions[i]
		invs := bySub[s.ID]
		if len(invs) == 0 {
			errorf("%s has no invoices", s.ID)
			continue
		}
		months := map[string]int{"month": 1, "year": 12}[s.BillingInterval]
		if !invs[0].PeriodStart.Equal(s.StartedAt) {
			errorf("%s first invoice starts %v, subscription %v", s.ID, invs[0].PeriodStart, s.StartedAt)
		}
		for k, inv := range invs {
			if periodMonths(inv.PeriodStart, inv.PeriodEnd) != months {
				errorf("%s covers %d months on a %s plan", inv.ID, periodMonths(inv.PeriodStart, inv.PeriodEnd), s.BillingInterval)
			}
			if inv.AmountCents%int64(months) != 0 || inv.AmountCents <= 0 {
				errorf("%s amount %d not %d x MRR", inv.ID, inv.AmountCents, months)
			}
			if k > 0 && !inv.PeriodStart.Equal(invs[k-1].PeriodEnd) {
				errorf("%s: invoices %s and %s overlap or leave a gap", s.ID, invs[k-1].ID, inv.ID)
			}
		}
		last := invs[len(invs)-1]
		if !last.PeriodEnd.Equal(s.CurrentPeriodEnd) || last.AmountCents/int64(months) != s.MRRCents {
			errorf("%s current_period_end %v mrr %d, last invoice %v %d", s.ID, s.CurrentPeriodEnd, s.MRRCents, last.PeriodEnd, last.AmountCents)
		}
	}

	// MRR at End: the subscriptions' mrr_cents equal what the invoices covering End imply.
	subMRR, invMRR := map[string]int64{}, map[string]int64{}
	for i := range c.Subscriptions {
		if s := &c.Subscriptions[i]; s.Status == "active" {
			subMRR[s.CustomerID+"/"+s.Currency] += s.MRRCents
		}
	}
	for i := range c.Invoices {
		inv := &c.Invoices[i]
		if inv.Status != "void" && !inv.PeriodStart.After(end) && end.Before(inv.PeriodEnd) {
			invMRR[inv.CustomerID+"/"+inv.Currency] += inv.AmountCents / int64(periodMonths(inv.PeriodStart, inv.PeriodEnd))
		}
	}
	if len(subMRR) == 0 {
		errorf("no active subscriptions at end")
	}
	for k, v := range subMRR {
		if invMRR[k] != v {
			errorf("customer %s: subscriptions say MRR %d at end, invoices %d", k, v, invMRR[k])
		}
	}
	for k, v := range invMRR {
		if subMRR[k] != v {
			errorf("customer %s: invoices say MRR %d at end, subscriptions %d", k, v, subMRR[k])
		}
	}

	// Tickets and usage belong to paying customers while they pay.
	paying := func(acct string, from, to time.Time) bool { // any subscription active in [from, to)
		for i := range c.Subscriptions {
			s := &c.Subscriptions[i]
			if s.CustomerID == acct && s.StartedAt.Before(to) && (s.CanceledAt == nil || s.CanceledAt.After(from)) {
				return true
			}
		}
		return false
	}
	subsOf := map[string]bool{}
	for i := range c.Subscriptions {
		subsOf[c.Subscriptions[i].CustomerID] = true
	}
	for i := range c.Tickets {
		k := &c.Tickets[i]
		if _, ok := accounts[k.OrganizationID]; !ok || !subsOf[k.OrganizationID] {
			errorf("%s organization %s is not a customer", k.TicketID, k.OrganizationID)
			continue
		}
		notAfter(k.TicketID+" created_at", k.CreatedAt)
		if !k.SolvedAt.IsZero() {
			notAfter(k.TicketID+" solved_at", k.SolvedAt)
			if k.SolvedAt.Before(k.CreatedAt) {
				errorf("%s solved before created", k.TicketID)
			}
		}
		if !slices.Contains(priorities, k.Priority) || !slices.Contains(categories, k.Category) || k.CSAT > 5 || (k.CSAT > 0 && k.SolvedAt.IsZero()) {
			errorf("%s bad fields %+v", k.TicketID, *k)
		}
		if i%97 == 0 && !paying(k.OrganizationID, k.CreatedAt, k.CreatedAt.Add(time.Second)) {
			errorf("%s opened at %v while %s was not paying", k.TicketID, k.CreatedAt, k.OrganizationID)
		}
	}
	seen := map[string]bool{}
	seatsAt := func(acct string, t time.Time) int { // total seats billed at t
		n := 0
		for i := range c.Subscriptions {
			s := &c.Subscriptions[i]
			if s.CustomerID == acct && !s.StartedAt.After(t) {
				n += s.SeatLimit
			}
		}
		return n
	}
	for i := range c.Usage {
		u := &c.Usage[i]
		key := u.AccountID + u.Month.Format(time.DateOnly)
		if seen[key] {
			errorf("usage: two rows for %s", key)
		}
		seen[key] = true
		if u.Month.Day() != 1 || addMonths(u.Month, 1).After(end) {
			errorf("%s month %v not a complete month before end", u.UsageID, u.Month)
		}
		if u.ActiveUsers < 0 || u.FeaturesUsed < 0 || u.FeaturesUsed > 20 || u.Events < 0 {
			errorf("%s bad values %+v", u.UsageID, *u)
		}
		if i%53 == 0 {
			if !paying(u.AccountID, u.Month, addMonths(u.Month, 1)) {
				errorf("%s: %s not paying in %v", u.UsageID, u.AccountID, u.Month)
			}
			if u.ActiveUsers > seatsAt(u.AccountID, addMonths(u.Month, 1)) {
				errorf("%s: %d active users above the seats billed", u.UsageID, u.ActiveUsers)
			}
		}
	}
}

func TestBandShares(t *testing.T) {
	c := Generate(Options{Accounts: 5000})
	n := float64(len(c.Accounts))
	size, region := map[string]float64{}, map[string]float64{}
	strategic, strategicLarge, eurSubs, emeaSubs := 0.0, 0.0, 0.0, 0.0
	for _, a := range c.Accounts {
		size[SizeBand(a.EmployeeCount)]++
		region[a.Region]++
		if a.IsStrategic {
			strategic++
			if a.EmployeeCount >= 200 {
				strategicLarge++
			}
		}
	}
	region2 := map[string]string{}
	for _, a := range c.Accounts {
		region2[a.ID] = a.Region
	}
	for _, s := range c.Subscriptions {
		if region2[s.CustomerID] == "EMEA" {
			emeaSubs++
			if s.Currency == "EUR" {
				eurSubs++
			}
		}
	}
	within := func(what string, got, want, tol float64) {
		t.Helper()
		if got < want-tol || got > want+tol {
			t.Errorf("%s = %.3f, want %.3f ± %.3f", what, got, want, tol)
		}
	}
	within("SMB share", size[SizeSMB]/n, 0.60, 0.03)
	within("Mid-market share", size[SizeMidMarket]/n, 0.30, 0.03)
	within("Enterprise share", size[SizeEnterprise]/n, 0.10, 0.02)
	within("NA share", region["NA"]/n, 0.45, 0.03)
	within("EMEA share", region["EMEA"]/n, 0.30, 0.03)
	within("APAC share", region["APAC"]/n, 0.15, 0.02)
	within("LATAM share", region["LATAM"]/n, 0.10, 0.02)
	within("strategic share", strategic/n, 0.03, 0.01)
	within("EUR share of EMEA subscriptions", eurSubs/emeaSubs, 0.15, 0.05)
	if strategicLarge/strategic < 0.7 {
		t.Errorf("strategic accounts with 200+ employees = %.2f, want mostly large", strategicLarge/strategic)
	}
	if got := SizeBand(199) + "," + SizeBand(200) + "," + SizeBand(1999) + "," + SizeBand(2000); got != "SMB,Mid-market,Mid-market,Enterprise" {
		t.Errorf("band edges: %s", got)
	}
}

func TestAddMonths(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		from string
		k    int
		want string
	}{
		{"2024-01-31T10:00:00Z", 1, "2024-02-29T10:00:00Z"},
		{"2024-01-31T10:00:00Z", 2, "2024-03-31T10:00:00Z"},
		{"2023-01-31T10:00:00Z", 1, "2023-02-28T10:00:00Z"},
		{"2024-11-15T00:00:01Z", 2, "2025-01-15T00:00:01Z"},
		{"2024-03-15T00:00:00Z", -3, "2023-12-15T00:00:00Z"},
		{"2024-02-29T08:00:00Z", 12, "2025-02-28T08:00:00Z"},
	} {
		if got := addMonths(at(tc.from), tc.k); !got.Equal(at(tc.want)) {
			t.Errorf("addMonths(%s, %d) = %v, want %s", tc.from, tc.k, got, tc.want)
		}
	}
}

func TestEURConversion(t *testing.T) {
	for usd, eur := range map[int64]int64{10800: 10000, 100: 93, 54: 50, 1: 1, 0: 0} {
		if got := usdToEURCents(usd); got != eur {
			t.Errorf("usdToEURCents(%d) = %d, want %d", usd, got, eur)
		}
	}
}

func BenchmarkGenerate5000(b *testing.B) {
	rows := 0
	for b.Loop() {
		rc := Generate(Options{Accounts: 5000}).RowCounts()
		rows = rc.Accounts + rc.Opportunities + rc.Subscriptions + rc.Invoices + rc.Tickets + rc.Usage
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func TestAsOf(t *testing.T) {
	c := Generate(Options{Accounts: 1})
	if got := c.AsOf().Format(time.DateOnly); got != "2026-10-31" {
		t.Errorf("AsOf = %s, want 2026-10-31", got)
	}
	c = Generate(Options{Accounts: 1, End: time.Date(2025, 3, 15, 12, 0, 0, 0, time.UTC)})
	if got := c.AsOf().Format(time.DateOnly); got != "2025-03-14" {
		t.Errorf("AsOf = %s, want 2025-03-14", got)
	}
}
