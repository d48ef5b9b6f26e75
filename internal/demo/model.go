// Package demo builds a deterministic synthetic B2B SaaS company (CRM, billing, support desk
// and product analytics) and serves it through fake vendor export servers on loopback, so
// `segpipe demo` and the tests can run the whole pipeline without any real system.
//
// The data has planted truths (best and worst segments, churn by size) documented in
// docs/demo.md and exported below as constants; the analysis should find them.
package demo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Planted truths: the segments the generated company is built to show. docs/demo.md says how
// each one shows up in the marts.
const (
	// BestIndustry expands fastest, churns at BestIndustryChurnMultiplier of the base rate and
	// is over-represented (lift >= 1.5) in the top LTV quintile.
	BestIndustry = "FinTech"
	// BestSizeBand is the size band in which BestIndustry expands most (+40-60% seats a year).
	BestSizeBand = SizeMidMarket
	// BestRegion is the region in which BestIndustry/BestSizeBand expands most of all.
	BestRegion = "NA"
	// PoorRetentionIndustry churns at RetailChurnMultiplier of the base rate: the highest logo
	// churn of any industry.
	PoorRetentionIndustry = "Retail"
	// TinyCompanyEmployees: companies with fewer employees churn TinyCompanyChurnMultiplier
	// times the rate of larger SMB companies.
	TinyCompanyEmployees = 20

	// BestIndustryChurnMultiplier scales the churn hazard of BestIndustry accounts.
	BestIndustryChurnMultiplier = 0.5
	// RetailChurnMultiplier scales the churn hazard of PoorRetentionIndustry accounts.
	RetailChurnMultiplier = 2.5
	// TinyCompanyChurnMultiplier scales the churn hazard of companies below TinyCompanyEmployees.
	TinyCompanyChurnMultiplier = 1.5

	// TargetMonthlyChurnSMB is the intended average monthly logo churn of SMB customers (~40%/year).
	TargetMonthlyChurnSMB = 0.042
	// TargetMonthlyChurnMidMarket is the intended average monthly logo churn of Mid-market customers.
	TargetMonthlyChurnMidMarket = 0.013
	// TargetMonthlyChurnEnterprise is the intended average monthly logo churn of Enterprise customers.
	TargetMonthlyChurnEnterprise = 0.004

	// FXRateEUR is USD per EUR: a EUR amount is the USD amount / FXRateEUR, rounded to cents.
	FXRateEUR = 1.08

	// BadCSATEvery plants one bad record: every ticket whose number is a multiple of it
	// (tkt_001000, tkt_002000, ...) has csat "n/a", a type error the extractor quarantines.
	BadCSATEvery = 1000
	// BadCSATValue is the csat text of the planted bad ticket rows.
	BadCSATValue = "n/a"
)

// Size bands by employees (half-open, lower bound included: 200 is Mid-market).
const (
	// SizeSMB is 1-199 employees.
	SizeSMB = "SMB"
	// SizeMidMarket is 200-1,999 employees.
	SizeMidMarket = "Mid-market"
	// SizeEnterprise is 2,000 employees and more.
	SizeEnterprise = "Enterprise"
)

// Industries are the industry verticals of the accounts, in a fixed order.
var Industries = []string{"Software", "FinTech", "Healthcare", "Retail", "Manufacturing", "Education", "Media", "Logistics"}

// Regions are the sales regions of the accounts, in a fixed order.
var Regions = []string{"NA", "EMEA", "APAC", "LATAM"}

// SizeBand returns the size band of a company with the given number of employees.
func SizeBand(employees int) string {
	switch {
	case employees >= 2000:
		return SizeEnterprise
	case employees >= 200:
		return SizeMidMarket
	default:
		return SizeSMB
	}
}

// Options says which company to generate. The zero value gives the default company.
type Options struct {
	// Accounts is the number of CRM accounts; default 5000 when 0.
	Accounts int
	// Seed selects the company; default 1 when 0. Same options give byte-identical data.
	Seed uint64
	// End is the company's "today" (exclusive): every fact happens before it. Default
	// DefaultEnd. The matching as_of date for the pipeline is the day before End.
	End time.Time
	// Years is the length of the history before End; default 4 (BenchYears under VolumeBench).
	Years int
	// Volume selects the records generated per account: "" for the demo company, VolumeBench
	// for the benchmark company (about 24 invoices, 3 opportunities, 5 tickets and 30 usage
	// rows per account). Generate treats an unknown volume as ""; Stream and Prerender reject it.
	// (omitempty keeps the JSON of a default company as it was before Volume existed.)
	Volume string `json:",omitempty"`
}

// DefaultEnd is the default "today" of the demo company: 2026-11-01 00:00 UTC.
var DefaultEnd = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

// DefaultAccounts is the number of accounts generated when Options.Accounts is 0.
const DefaultAccounts = 5000

// withDefaults returns o with every zero field set to its default and End in UTC seconds.
func (o Options) withDefaults() Options {
	if o.Accounts <= 0 {
		o.Accounts = DefaultAccounts
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.End.IsZero() {
		o.End = DefaultEnd
	}
	o.End = o.End.UTC().Truncate(time.Second)
	if o.Years <= 0 {
		o.Years = 4
		if o.Volume == VolumeBench {
			o.Years = BenchYears
		}
	}
	return o
}

// Company is one generated company: every record of every source, each slice ordered by id.
type Company struct {
	// Options are the options it was generated with, defaults filled in.
	Options Options
	// Start is the beginning of the history (End minus Years).
	Start time.Time
	// End is the company's "today" (exclusive).
	End time.Time

	// Accounts are the CRM accounts.
	Accounts []Account
	// Opportunities are the CRM deals.
	Opportunities []Opportunity
	// Subscriptions are the billing subscriptions.
	Subscriptions []Subscription
	// Invoices are the billing invoices.
	Invoices []Invoice
	// Tickets are the support desk tickets.
	Tickets []Ticket
	// Usage are the monthly product usage rollups.
	Usage []Usage
}

// RowCounts is the number of records per entity of a Company.
type RowCounts struct {
	// Accounts .. Usage count the records of each entity.
	Accounts, Opportunities, Subscriptions, Invoices, Tickets, Usage int
}

// AsOf returns the as_of date to run the pipeline with for this company: the last complete
// day before End (2026-10-31 for the default End). Every fact happened before End.
func (c *Company) AsOf() time.Time {
	return time.Date(c.End.Year(), c.End.Month(), c.End.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
}

// AccountIDStyle is the id format of the CRM a demo run pretends to use; every reference to
// an account (billing customers, support organizations, usage) follows it, so a config that
// takes its CRM from HubSpot or Salesforce joins the other systems on the ids that CRM shows.
type AccountIDStyle string

// The account id styles.
const (
	// IDStyleDemo keeps the generator's ids: acc_000123.
	IDStyleDemo AccountIDStyle = "demo"
	// IDStyleHubSpot uses HubSpot company ids: numeric strings such as 9000000123.
	IDStyleHubSpot AccountIDStyle = "hubspot"
	// IDStyleSalesforce uses 18-character Salesforce Account ids: 001 + 12 digits + AAA.
	IDStyleSalesforce AccountIDStyle = "salesforce"
)

// ID returns the account id acc (acc_000123) in this style.
func (s AccountIDStyle) ID(acc string) string {
	n := strings.TrimLeft(strings.TrimPrefix(acc, "acc_"), "0")
	if n == "" {
		n = "0"
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return acc
	}
	switch s {
	case IDStyleHubSpot:
		return strconv.FormatInt(9_000_000_000+v, 10)
	case IDStyleSalesforce:
		return fmt.Sprintf("001%012dAAA", v)
	}
	return acc
}

// WithAccountIDs returns a copy of the company whose account ids, and every reference to
// them, are in the given style. The records are copied; c is unchanged.
func (c *Company) WithAccountIDs(style AccountIDStyle) *Company {
	if style == IDStyleDemo || style == "" {
		return c
	}
	out := *c
	out.Accounts = slices.Clone(c.Accounts)
	for i := range out.Accounts {
		out.Accounts[i].ID = style.ID(out.Accounts[i].ID)
	}
	out.Opportunities = slices.Clone(c.Opportunities)
	for i := range out.Opportunities {
		out.Opportunities[i].AccountID = style.ID(out.Opportunities[i].AccountID)
	}
	out.Subscriptions = slices.Clone(c.Subscriptions)
	for i := range out.Subscriptions {
		out.Subscriptions[i].CustomerID = style.ID(out.Subscriptions[i].CustomerID)
	}
	out.Invoices = slices.Clone(c.Invoices)
	for i := range out.Invoices {
		out.Invoices[i].CustomerID = style.ID(out.Invoices[i].CustomerID)
	}
	out.Tickets = slices.Clone(c.Tickets)
	for i := range out.Tickets {
		out.Tickets[i].OrganizationID = style.ID(out.Tickets[i].OrganizationID)
	}
	out.Usage = slices.Clone(c.Usage)
	for i := range out.Usage {
		out.Usage[i].AccountID = style.ID(out.Usage[i].AccountID)
	}
	return &out
}

// RowCounts returns the number of records of each entity.
func (c *Company) RowCounts() RowCounts {
	return RowCounts{
		Accounts:      len(c.Accounts),
		Opportunities: len(c.Opportunities),
		Subscriptions: len(c.Subscriptions),
		Invoices:      len(c.Invoices),
		Tickets:       len(c.Tickets),
		Usage:         len(c.Usage),
	}
}

// Account is one CRM account (source crm, entity accounts).
type Account struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Industry         string    `json:"industry"`
	EmployeeCount    int       `json:"employee_count"`
	AnnualRevenue    float64   `json:"annual_revenue"`
	Country          string    `json:"country"`
	Region           string    `json:"region"`
	Owner            string    `json:"owner"`
	IsStrategic      bool      `json:"is_strategic"`
	StrategicReasons string    `json:"strategic_reasons"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Opportunity is one CRM deal (source crm, entity opportunities). Amount is in USD.
type Opportunity struct {
	ID               string     `json:"id"`
	AccountID        string     `json:"account_id"`
	Name             string     `json:"name"`
	Amount           float64    `json:"amount"`
	Currency         string     `json:"currency"`
	Stage            string     `json:"stage"`
	StageEnteredAt   time.Time  `json:"stage_entered_at"`
	IsClosed         bool       `json:"is_closed"`
	IsWon            bool       `json:"is_won"`
	Motion           string     `json:"motion"`
	LeadSource       string     `json:"lead_source"`
	Product          string     `json:"product"`
	ForecastCategory string     `json:"forecast_category"`
	Owner            string     `json:"owner"`
	LossReason       *string    `json:"loss_reason"`
	LastActivityAt   time.Time  `json:"last_activity_at"`
	LastActivityType string     `json:"last_activity_type"`
	CreatedAt        time.Time  `json:"created_at"`
	ClosedAt         *time.Time `json:"closed_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	// IsDeleted marks a deal deleted before the company's instant (DeletedAt): a whole export
	// leaves it out, an updated_since export lists it as a tombstone, its updated_at the
	// deletion. The generator deletes none; tests do.
	IsDeleted bool `json:"is_deleted,omitempty"`
	// DeletedAt is when the deal is deleted (nil: never); stampUpdates sets IsDeleted from it.
	DeletedAt *time.Time `json:"-"`
}

// Subscription is one billing subscription (source billing, entity subscriptions).
// MRRCents is its current MRR (the last one when canceled) in its own currency.
type Subscription struct {
	ID               string     `json:"id"`
	CustomerID       string     `json:"customer_id"`
	Plan             string     `json:"plan"`
	BillingInterval  string     `json:"billing_interval"`
	MRRCents         int64      `json:"mrr_cents"`
	Currency         string     `json:"currency"`
	Seats            int        `json:"seats"`
	SeatLimit        int        `json:"seat_limit"`
	Status           string     `json:"status"`
	StartedAt        time.Time  `json:"started_at"`
	CanceledAt       *time.Time `json:"canceled_at"`
	CurrentPeriodEnd time.Time  `json:"current_period_end"`
	// UpdatedAt is the last instant before the company's End at which the record as exported
	// changed: its start, a period boundary of one of its invoices, or its cancellation
	// (stampUpdates). The billing export's updated_since filter reads it.
	UpdatedAt time.Time `json:"updated_at"`
	// EditedAt is when the record was last edited by hand (nil: never), e.g. a backdated
	// correction of its start in a test; its updated_at is at least that. The record holds no
	// history: it shows the edited values at every instant.
	EditedAt *time.Time `json:"-"`
}

// Invoice is one billing invoice (source billing, entity invoices), amount in its currency.
// Seats and SeatLimit are the seats it bills and the subscription's seat cap in its period: the
// history of the values a subscription record holds only for today.
type Invoice struct {
	ID             string     `json:"id"`
	CustomerID     string     `json:"customer_id"`
	SubscriptionID string     `json:"subscription_id"`
	AmountCents    int64      `json:"amount_cents"`
	Seats          int        `json:"seats"`
	SeatLimit      int        `json:"seat_limit"`
	Currency       string     `json:"currency"`
	PeriodStart    time.Time  `json:"period_start"`
	PeriodEnd      time.Time  `json:"period_end"`
	IssuedAt       time.Time  `json:"issued_at"`
	PaidAt         *time.Time `json:"paid_at"`
	Status         string     `json:"status"`
	// UpdatedAt is its payment time when paid, else its issue time, or its voiding
	// (stampUpdates).
	UpdatedAt time.Time `json:"updated_at"`
	// VoidedAt is when a once-valid invoice is voided (nil: the generator's invoices are
	// void from issue or never; tests void old invoices late). Before it the invoice shows
	// paid or open.
	VoidedAt *time.Time `json:"-"`
}

// TicketColumns is the column order of the support tickets CSV export.
var TicketColumns = []string{"ticket_id", "organization_id", "created_at", "solved_at", "priority", "category", "csat", "updated_at"}

// Ticket is one support desk ticket (source support, entity tickets, CSV).
type Ticket struct {
	TicketID       string
	OrganizationID string
	CreatedAt      time.Time
	// SolvedAt is zero while the ticket is unsolved (an empty CSV field).
	SolvedAt time.Time
	Priority string
	Category string
	// CSAT is 1-5, 0 for none (an empty field), or -1 for the planted bad value BadCSATValue.
	CSAT int8
	// UpdatedAt is its solve time when solved, else its creation time (stampUpdates).
	UpdatedAt time.Time
}

// CSVRecord returns the ticket as CSV fields in TicketColumns order.
func (t *Ticket) CSVRecord() []string {
	return []string{t.TicketID, t.OrganizationID, formatTime(t.CreatedAt), formatOptTime(t.SolvedAt), t.Priority, t.Category, t.CSATText(),
		formatTime(t.UpdatedAt)}
}

// CSATText returns the csat field as exported: "1".."5", "" for none or BadCSATValue.
func (t *Ticket) CSATText() string {
	switch {
	case t.CSAT == 0:
		return ""
	case t.CSAT < 0:
		return BadCSATValue
	default:
		return strconv.Itoa(int(t.CSAT))
	}
}

// UsageColumns is the column order of the product usage CSV export.
var UsageColumns = []string{"usage_id", "account_id", "month", "active_users", "events", "features_used", "updated_at"}

// Usage is one monthly product usage rollup of one paying customer (source product, CSV).
type Usage struct {
	UsageID   string
	AccountID string
	// Month is the first day of the month, 00:00 UTC; exported as YYYY-MM-DD.
	Month        time.Time
	ActiveUsers  int
	Events       int64
	FeaturesUsed int
	// UpdatedAt is when the rollup was written: the end of its month (stampUpdates).
	UpdatedAt time.Time
}

// CSVRecord returns the rollup as CSV fields in UsageColumns order.
func (u *Usage) CSVRecord() []string {
	return []string{u.UsageID, u.AccountID, u.Month.Format(time.DateOnly), strconv.Itoa(u.ActiveUsers),
		strconv.FormatInt(u.Events, 10), strconv.Itoa(u.FeaturesUsed), formatTime(u.UpdatedAt)}
}

// formatTime formats t as RFC 3339 UTC with seconds, e.g. 2024-03-05T14:07:00Z.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// formatOptTime formats t like formatTime, or "" when t is zero.
func formatOptTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

// CountryNames maps the ISO-2 codes of the demo's countries to the names a CRM user types into
// a free-text country field; the HubSpot and Salesforce fakes serve them.
var CountryNames = map[string]string{
	"US": "United States", "CA": "Canada",
	"GB": "United Kingdom", "DE": "Germany", "FR": "France", "NL": "Netherlands", "SE": "Sweden",
	"ES": "Spain", "IT": "Italy", "IE": "Ireland", "PL": "Poland", "IL": "Israel",
	"AE": "United Arab Emirates", "ZA": "South Africa",
	"AU": "Australia", "JP": "Japan", "SG": "Singapore", "IN": "India", "NZ": "New Zealand", "KR": "South Korea",
	"BR": "Brazil", "MX": "Mexico", "AR": "Argentina", "CO": "Colombia", "CL": "Chile",
}

// WebDomain makes a company's web domain from its name: "Bluepeak Payments GmbH" ->
// bluepeakpayments.com (the first two words, letters and digits only).
func WebDomain(name string) string {
	words := strings.Fields(name)
	if len(words) > 2 {
		words = words[:2]
	}
	var b strings.Builder
	for _, w := range words {
		for _, r := range strings.ToLower(w) {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
	}
	return b.String() + ".com"
}
