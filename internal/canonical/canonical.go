// Package canonical is the contract of the canonical tables (docs/staging.md): the tables every
// source's staging produces and every intermediate model and mart reads. It names each table's
// grain, key and columns (type, whether a row needs it, the values it may hold), and is read by
// the config check of generic sources, the generated staging of those sources and the contract
// check that runs after staging.
package canonical

import "slices"

// Column types of the canonical tables, as DuckDB names them.
const (
	Varchar   = "VARCHAR"
	BigInt    = "BIGINT"
	Double    = "DOUBLE"
	Boolean   = "BOOLEAN"
	Timestamp = "TIMESTAMP"
	Date      = "DATE"
	ListText  = "VARCHAR[]"
)

// Column is one column of a canonical table.
type Column struct {
	Name string
	// Type is the DuckDB type the column has.
	Type string
	// Required: a row without it cannot be placed and is left out, counted (docs/staging.md,
	// Rows left out). A key column is always required.
	Required bool
	// Values, when set, are the only values the column may hold besides NULL (for a list
	// column, its elements).
	Values []string
	// Min and Max, when Range is set, bound a number column.
	Range    bool
	Min, Max float64
	// Doc is the column's meaning, as docs/staging.md gives it.
	Doc string
	// Derived, when set, says what staging derives the column from: a generic source does not
	// map it (e.g. amount, converted from amount_original in currency_original).
	Derived string
}

// Table is one canonical table.
type Table struct {
	Name string
	// Grain says what one row is.
	Grain string
	// Key are the columns that identify a row.
	Key []string
	// Columns in the order the table has them.
	Columns []Column
	// Optional tables are filled by an empty table when no source provides them
	// (sql/staging/defaults/).
	Optional bool
}

// Column returns the named column.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// Required lists the columns a row needs: the key and the required columns, in table order.
func (t Table) Required() []string {
	var out []string
	for _, c := range t.Columns {
		if c.Required || slices.Contains(t.Key, c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}

// Lookup returns the named canonical table.
func Lookup(name string) (Table, bool) {
	for _, t := range Tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// Names lists the canonical tables in contract order.
func Names() []string {
	out := make([]string, len(Tables))
	for i, t := range Tables {
		out[i] = t.Name
	}
	return out
}

// Vocabularies shared by several tables.
var (
	Regions           = []string{"NA", "EMEA", "APAC", "LATAM"}
	StrategicReasons  = []string{"brand", "reference", "influence", "partnership"}
	Motions           = []string{"new_business", "expansion", "renewal"}
	LeadSources       = []string{"inbound", "outbound", "partner", "campaign"}
	ForecastCategory  = []string{"pipeline", "best_case", "commit", "closed"}
	ActivityTypes     = []string{"meeting", "demo", "proposal", "email"}
	BillingIntervals  = []string{"month", "year"}
	SubscriptionState = []string{"active", "trialing", "canceled"}
	InvoiceStatus     = []string{"paid", "open", "void"}
	Priorities        = []string{"low", "normal", "high", "urgent"}
	TicketCategories  = []string{"bug", "how_to", "billing", "feature_request", "outage"}
)

// Tables is the contract, in the order docs/staging.md lists the tables.
var Tables = []Table{
	{
		Name: "stg_accounts", Grain: "one row per CRM account", Key: []string{"account_id"},
		Columns: []Column{
			{Name: "account_id", Type: Varchar, Doc: "CRM id"},
			{Name: "account_name", Type: Varchar},
			{Name: "industry", Type: Varchar, Doc: "free text as the CRM has it"},
			{Name: "employees", Type: BigInt, Doc: "NULL when unknown"},
			{Name: "annual_revenue", Type: Double, Doc: "company revenue, as the CRM has it"},
			{Name: "country", Type: Varchar, Doc: "ISO-2 when known"},
			{Name: "region", Type: Varchar, Values: Regions, Doc: "derived from country when the CRM has none, else NULL"},
			{Name: "owner", Type: Varchar, Doc: "account owner"},
			{Name: "is_strategic", Type: Boolean, Doc: "false when the CRM has no such flag"},
			{Name: "strategic_reasons", Type: ListText, Values: StrategicReasons, Doc: "empty list when none"},
			{Name: "created_at", Type: Timestamp, Required: true},
		},
	},
	{
		Name: "stg_opportunities", Grain: "one row per deal", Key: []string{"opportunity_id"},
		Columns: []Column{
			{Name: "opportunity_id", Type: Varchar},
			{Name: "account_id", Type: Varchar, Doc: "CRM account id (NULL when the deal has none)"},
			{Name: "opportunity_name", Type: Varchar},
			{Name: "amount", Type: Double, Doc: "reporting currency", Derived: "converted from amount_original in currency_original"},
			{Name: "currency_original", Type: Varchar, Doc: "upper-case ISO code"},
			{Name: "amount_original", Type: Double},
			{Name: "stage", Type: Varchar, Doc: "open stage name, closed_won or closed_lost; NULL when the stage at as_of is unknown"},
			{Name: "stage_entered_at", Type: Timestamp, Doc: "before cutoff(); NULL when stage is"},
			{Name: "is_closed", Type: Boolean, Doc: "closed before cutoff()"},
			{Name: "is_won", Type: Boolean, Doc: "won and closed before cutoff()"},
			{Name: "motion", Type: Varchar, Values: Motions},
			{Name: "source", Type: Varchar, Values: LeadSources},
			{Name: "product", Type: Varchar},
			{Name: "forecast_category", Type: Varchar, Values: ForecastCategory, Doc: "NULL when stage is unknown at as_of"},
			{Name: "owner", Type: Varchar},
			{Name: "loss_reason", Type: Varchar, Doc: "lost deals only"},
			{Name: "last_activity_at", Type: Timestamp, Doc: "before cutoff()"},
			{Name: "last_activity_type", Type: Varchar, Values: ActivityTypes},
			{Name: "activity_known", Type: Boolean, Doc: "false when the CRM's last activity is at or after cutoff()", Derived: "derived from last_activity_at"},
			{Name: "created_at", Type: Timestamp, Required: true},
			{Name: "closed_at", Type: Timestamp, Doc: "NULL while open at as_of"},
		},
	},
	{
		Name: "stg_subscriptions", Grain: "one row per subscription started before cutoff()", Key: []string{"subscription_id"},
		Columns: []Column{
			{Name: "subscription_id", Type: Varchar},
			{Name: "account_id", Type: Varchar, Required: true, Doc: "CRM account id"},
			{Name: "plan", Type: Varchar},
			{Name: "billing_interval", Type: Varchar, Values: BillingIntervals},
			{Name: "mrr", Type: Double, Doc: "MRR at as_of, reporting currency"},
			{Name: "currency_original", Type: Varchar},
			{Name: "seats", Type: BigInt, Doc: "at as_of, else NULL"},
			{Name: "seat_limit", Type: BigInt, Doc: "NULL when the system has none or it is unknown at as_of"},
			{Name: "status", Type: Varchar, Values: SubscriptionState, Doc: "as of as_of"},
			{Name: "started_at", Type: Timestamp, Required: true},
			{Name: "canceled_at", Type: Timestamp, Doc: "NULL unless canceled before cutoff()"},
			{Name: "current_period_end", Type: Timestamp, Doc: "renewal date"},
		},
	},
	{
		Name: "stg_invoices", Grain: "one row per issued invoice (drafts excluded)", Key: []string{"invoice_id"},
		Columns: []Column{
			{Name: "invoice_id", Type: Varchar},
			{Name: "account_id", Type: Varchar, Required: true, Doc: "CRM account id"},
			{Name: "subscription_id", Type: Varchar},
			{Name: "amount", Type: Double, Doc: "reporting currency; the invoice total for the service period", Derived: "converted from amount_original in currency_original"},
			{Name: "currency_original", Type: Varchar},
			{Name: "amount_original", Type: Double, Required: true},
			{Name: "period_start", Type: Timestamp, Required: true, Doc: "service period the invoice bills"},
			{Name: "period_end", Type: Timestamp, Required: true},
			{Name: "issued_at", Type: Timestamp, Required: true},
			{Name: "paid_at", Type: Timestamp, Doc: "NULL unless paid before cutoff()"},
			{Name: "status", Type: Varchar, Values: InvoiceStatus},
		},
	},
	{
		Name: "stg_tickets", Grain: "one row per support ticket", Key: []string{"ticket_id"},
		Columns: []Column{
			{Name: "ticket_id", Type: Varchar},
			{Name: "account_id", Type: Varchar, Doc: "CRM account id (NULL when the requester has no organization)"},
			{Name: "created_at", Type: Timestamp, Required: true},
			{Name: "solved_at", Type: Timestamp, Doc: "NULL unless solved before cutoff()"},
			{Name: "priority", Type: Varchar, Values: Priorities},
			{Name: "category", Type: Varchar, Values: TicketCategories},
			{Name: "csat", Type: BigInt, Range: true, Min: 1, Max: 5, Doc: "1-5; NULL when not rated"},
		},
	},
	{
		Name: "stg_usage", Grain: "one row per account and complete month", Key: []string{"account_id", "month"}, Optional: true,
		Columns: []Column{
			{Name: "account_id", Type: Varchar, Doc: "CRM account id"},
			{Name: "month", Type: Date, Doc: "first day of the month; only months ended by cutoff()"},
			{Name: "active_users", Type: BigInt},
			{Name: "events", Type: BigInt},
			{Name: "features_used", Type: BigInt},
		},
	},
	{
		Name: "stg_products", Grain: "one row per product with its list price", Key: []string{"product"}, Optional: true,
		Columns: []Column{
			{Name: "product", Type: Varchar, Doc: "the product name, as deals name it"},
			{Name: "list_price", Type: Double, Doc: "reporting currency", Derived: "converted from list_price_original in currency_original"},
			{Name: "currency_original", Type: Varchar, Doc: "upper-case ISO code"},
			{Name: "list_price_original", Type: Double, Required: true},
		},
	},
	{
		Name: "stg_spend", Grain: "one row per month and marketing channel", Key: []string{"month", "channel"}, Optional: true,
		Columns: []Column{
			{Name: "month", Type: Date, Doc: "first day of the month; only months ended by cutoff()"},
			{Name: "channel", Type: Varchar, Doc: "lower-case; the opportunity source vocabulary reaches customers"},
			{Name: "amount", Type: Double, Doc: "reporting currency", Derived: "converted from amount_original in currency_original"},
			{Name: "currency_original", Type: Varchar, Doc: "upper-case ISO code"},
			{Name: "amount_original", Type: Double},
		},
	},
}
