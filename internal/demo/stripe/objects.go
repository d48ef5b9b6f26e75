package stripe

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"

	"github.com/segpipe/segpipe/internal/demo"
)

// The ids of the objects: a subscription keeps the demo's id (sub_000123, already a Stripe
// prefix), an invoice becomes in_000123, and the objects the demo has no record of are derived
// from the records that imply them (one customer per billed account, one price and one
// subscription item per subscription, one line per invoice).

// InvoiceID returns the Stripe id of the demo invoice id: inv_000123 is in_000123.
func InvoiceID(demoID string) string { return "in_" + strings.TrimPrefix(demoID, "inv_") }

// SubscriptionID returns the Stripe id of the demo subscription id: the same sub_000123.
func SubscriptionID(demoID string) string { return demoID }

func subscriptionItemID(subID string) string { return "si_" + strings.TrimPrefix(subID, "sub_") }
func priceID(subID string) string            { return "price_" + strings.TrimPrefix(subID, "sub_") }
func lineItemID(invID string) string         { return "il_" + strings.TrimPrefix(invID, "in_") }

// productID is the product of a plan; Stripe lets a product be created with a chosen id.
func productID(plan string) string { return "prod_" + plan }

// customerID derives a Stripe-looking customer id (cus_ and 14 letters and digits) from the
// account's position in the company: distinct for every account, the same on every run.
func customerID(index int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	x := mix64(uint64(index) + 1)
	var b [14]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = alphabet[x%62]
		x /= 62
	}
	// 62^14 > 2^64: the leading letters of a 64-bit value are all zero; take them from a second mix.
	y := mix64(uint64(index) + 0x9e3779b97f4a7c15)
	for i := 0; i < 3; i++ {
		b[i] = alphabet[y%62]
		y /= 62
	}
	return "cus_" + string(b[:])
}

// mix64 is the splitmix64 finaliser: a bijection on 64-bit values.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// customer is a Stripe Customer object.
type customer struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Address          any               `json:"address"`
	Balance          int64             `json:"balance"`
	Created          int64             `json:"created"`
	Currency         string            `json:"currency"`
	DefaultSource    any               `json:"default_source"`
	Delinquent       bool              `json:"delinquent"`
	Description      any               `json:"description"`
	Email            string            `json:"email"`
	InvoicePrefix    string            `json:"invoice_prefix"`
	InvoiceSettings  invoiceSettings   `json:"invoice_settings"`
	Livemode         bool              `json:"livemode"`
	Metadata         map[string]string `json:"metadata"`
	Name             string            `json:"name"`
	NextInvoiceSeq   int               `json:"next_invoice_sequence"`
	Phone            any               `json:"phone"`
	PreferredLocales []string          `json:"preferred_locales"`
	Shipping         any               `json:"shipping"`
	TaxExempt        string            `json:"tax_exempt"`
	TestClock        any               `json:"test_clock"`
}

type invoiceSettings struct {
	CustomFields         any `json:"custom_fields"`
	DefaultPaymentMethod any `json:"default_payment_method"`
	Footer               any `json:"footer"`
	RenderingOptions     any `json:"rendering_options"`
}

// recurring is a Price's billing cycle.
type recurring struct {
	Interval        string `json:"interval"`
	IntervalCount   int    `json:"interval_count"`
	Meter           any    `json:"meter"`
	TrialPeriodDays any    `json:"trial_period_days"`
	UsageType       string `json:"usage_type"`
}

// price is a Stripe Price: the per-seat amount of one subscription.
type price struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Active            bool              `json:"active"`
	BillingScheme     string            `json:"billing_scheme"`
	Created           int64             `json:"created"`
	Currency          string            `json:"currency"`
	CustomUnitAmount  any               `json:"custom_unit_amount"`
	Livemode          bool              `json:"livemode"`
	LookupKey         any               `json:"lookup_key"`
	Metadata          map[string]string `json:"metadata"`
	Nickname          string            `json:"nickname"`
	Product           string            `json:"product"`
	Recurring         recurring         `json:"recurring"`
	TaxBehavior       string            `json:"tax_behavior"`
	TiersMode         any               `json:"tiers_mode"`
	TransformQuantity any               `json:"transform_quantity"`
	Type              string            `json:"type"`
	UnitAmount        *int64            `json:"unit_amount"`
	UnitAmountDecimal string            `json:"unit_amount_decimal"`
}

// subscriptionItem is one item of a Subscription. From 2025-03-31.basil it carries the billing
// period; before, the subscription did.
type subscriptionItem struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Created            int64             `json:"created"`
	CurrentPeriodEnd   *int64            `json:"current_period_end,omitempty"`
	CurrentPeriodStart *int64            `json:"current_period_start,omitempty"`
	Discounts          []string          `json:"discounts"`
	Metadata           map[string]string `json:"metadata"`
	Price              price             `json:"price"`
	Quantity           int64             `json:"quantity"`
	Subscription       string            `json:"subscription"`
	TaxRates           []string          `json:"tax_rates"`
}

// list is Stripe's list envelope, also used for lists embedded in objects.
type list[T any] struct {
	Object     string `json:"object"`
	Data       []T    `json:"data"`
	HasMore    bool   `json:"has_more"`
	TotalCount *int   `json:"total_count,omitempty"`
	URL        string `json:"url"`
}

type cancellationDetails struct {
	Comment  any `json:"comment"`
	Feedback any `json:"feedback"`
	Reason   any `json:"reason"`
}

// subscription is a Stripe Subscription object.
type subscription struct {
	ID                   string                 `json:"id"`
	Object               string                 `json:"object"`
	Application          any                    `json:"application"`
	BillingCycleAnchor   int64                  `json:"billing_cycle_anchor"`
	CancelAt             *int64                 `json:"cancel_at"`
	CancelAtPeriodEnd    bool                   `json:"cancel_at_period_end"`
	CanceledAt           *int64                 `json:"canceled_at"`
	CancellationDetails  cancellationDetails    `json:"cancellation_details"`
	CollectionMethod     string                 `json:"collection_method"`
	Created              int64                  `json:"created"`
	Currency             string                 `json:"currency"`
	CurrentPeriodEnd     *int64                 `json:"current_period_end,omitempty"`
	CurrentPeriodStart   *int64                 `json:"current_period_start,omitempty"`
	Customer             string                 `json:"customer"`
	DaysUntilDue         *int                   `json:"days_until_due"`
	DefaultPaymentMethod any                    `json:"default_payment_method"`
	Description          any                    `json:"description"`
	Discounts            []any                  `json:"discounts"`
	EndedAt              *int64                 `json:"ended_at"`
	Items                list[subscriptionItem] `json:"items"`
	LatestInvoice        *string                `json:"latest_invoice"`
	Livemode             bool                   `json:"livemode"`
	Metadata             map[string]string      `json:"metadata"`
	Quantity             *int64                 `json:"quantity,omitempty"`
	StartDate            int64                  `json:"start_date"`
	Status               string                 `json:"status"`
	TestClock            any                    `json:"test_clock"`
	TrialEnd             any                    `json:"trial_end"`
	TrialStart           any                    `json:"trial_start"`
}

// period is a line item's service period.
type period struct {
	End   int64 `json:"end"`
	Start int64 `json:"start"`
}

// lineItem is an invoice line. From 2025-03-31.basil its subscription is under parent and its
// price under pricing; before, they were top-level fields.
type lineItem struct {
	ID              string            `json:"id"`
	Object          string            `json:"object"`
	Amount          int64             `json:"amount"`
	Currency        string            `json:"currency"`
	Description     string            `json:"description"`
	DiscountAmounts []any             `json:"discount_amounts"`
	Discountable    bool              `json:"discountable"`
	Discounts       []string          `json:"discounts"`
	Invoice         string            `json:"invoice"`
	Livemode        bool              `json:"livemode"`
	Metadata        map[string]string `json:"metadata"`
	Parent          any               `json:"parent,omitempty"`
	Period          period            `json:"period"`
	Pricing         any               `json:"pricing,omitempty"`
	Quantity        int64             `json:"quantity"`
	// Before 2025-03-31.basil:
	Price            *price  `json:"price,omitempty"`
	Proration        *bool   `json:"proration,omitempty"`
	Subscription     *string `json:"subscription,omitempty"`
	SubscriptionItem *string `json:"subscription_item,omitempty"`
	Type             string  `json:"type,omitempty"`
}

type statusTransitions struct {
	FinalizedAt           *int64 `json:"finalized_at"`
	MarkedUncollectibleAt *int64 `json:"marked_uncollectible_at"`
	PaidAt                *int64 `json:"paid_at"`
	VoidedAt              *int64 `json:"voided_at"`
}

// invoice is a Stripe Invoice object.
type invoice struct {
	ID                  string            `json:"id"`
	Object              string            `json:"object"`
	AccountCountry      string            `json:"account_country"`
	AccountName         string            `json:"account_name"`
	AmountDue           int64             `json:"amount_due"`
	AmountOverpaid      int64             `json:"amount_overpaid"`
	AmountPaid          int64             `json:"amount_paid"`
	AmountRemaining     int64             `json:"amount_remaining"`
	AmountShipping      int64             `json:"amount_shipping"`
	AttemptCount        int               `json:"attempt_count"`
	Attempted           bool              `json:"attempted"`
	AutoAdvance         bool              `json:"auto_advance"`
	BillingReason       string            `json:"billing_reason"`
	CollectionMethod    string            `json:"collection_method"`
	Created             int64             `json:"created"`
	Currency            string            `json:"currency"`
	Customer            string            `json:"customer"`
	CustomerEmail       string            `json:"customer_email"`
	CustomerName        string            `json:"customer_name"`
	Description         any               `json:"description"`
	Discounts           []string          `json:"discounts"`
	DueDate             *int64            `json:"due_date"`
	EffectiveAt         *int64            `json:"effective_at"`
	EndingBalance       *int64            `json:"ending_balance"`
	HostedInvoiceURL    any               `json:"hosted_invoice_url"`
	Lines               list[lineItem]    `json:"lines"`
	Livemode            bool              `json:"livemode"`
	Metadata            map[string]string `json:"metadata"`
	Number              string            `json:"number"`
	Paid                *bool             `json:"paid,omitempty"` // before 2025-03-31.basil
	Parent              any               `json:"parent,omitempty"`
	PeriodEnd           int64             `json:"period_end"`
	PeriodStart         int64             `json:"period_start"`
	Status              string            `json:"status"`
	StatusTransitions   statusTransitions `json:"status_transitions"`
	Subscription        *string           `json:"subscription,omitempty"` // before 2025-03-31.basil
	Subtotal            int64             `json:"subtotal"`
	Total               int64             `json:"total"`
	TotalExcludingTax   int64             `json:"total_excluding_tax"`
	WebhooksDeliveredAt *int64            `json:"webhooks_delivered_at"`
}

// store holds the company as Stripe objects, each collection newest first (Stripe's list order).
type store struct {
	customers     []customer
	subscriptions []subscription
	invoices      []invoice
	// discounts are the Discount objects by id (Options.Discounts).
	discounts map[string]discount
}

// coupon is a Stripe Coupon (https://docs.stripe.com/api/coupons/object).
type coupon struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	AmountOff        *int64            `json:"amount_off"`
	Created          int64             `json:"created"`
	Currency         *string           `json:"currency"`
	Duration         string            `json:"duration"`
	DurationInMonths *int              `json:"duration_in_months"`
	Livemode         bool              `json:"livemode"`
	MaxRedemptions   *int              `json:"max_redemptions"`
	Metadata         map[string]string `json:"metadata"`
	Name             string            `json:"name"`
	PercentOff       *float64          `json:"percent_off"`
	RedeemBy         *int64            `json:"redeem_by"`
	TimesRedeemed    int               `json:"times_redeemed"`
	Valid            bool              `json:"valid"`
}

// discount is a Stripe Discount, as API versions before 2025-09-30.clover show it (the coupon
// embedded; https://docs.stripe.com/api/discounts/object).
type discount struct {
	ID               string  `json:"id"`
	Object           string  `json:"object"`
	CheckoutSession  any     `json:"checkout_session"`
	Coupon           coupon  `json:"coupon"`
	Customer         string  `json:"customer"`
	End              *int64  `json:"end"`
	Invoice          any     `json:"invoice"`
	InvoiceItem      any     `json:"invoice_item"`
	PromotionCode    any     `json:"promotion_code"`
	Start            int64   `json:"start"`
	Subscription     *string `json:"subscription"`
	SubscriptionItem any     `json:"subscription_item"`
}

// discountPercent is the coupon Options.Discounts applies.
const discountPercent = 20

// addDiscounts gives the first n monthly subscriptions by id a 20% coupon forever, and their
// invoices the discount (Options.Discounts).
func addDiscounts(st *store, n int) {
	if n <= 0 {
		return
	}
	var ids []string
	for _, s := range st.subscriptions {
		if s.Items.Data[0].Price.Recurring.Interval == "month" {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	pct := float64(discountPercent)
	co := coupon{ID: "co_demo20", Object: "coupon", Duration: "forever", Metadata: map[string]string{},
		Name: "20% off", PercentOff: &pct, Valid: true, TimesRedeemed: min(n, len(ids))}
	st.discounts = map[string]discount{}
	bySub := map[string]string{}
	for i := range st.subscriptions {
		s := &st.subscriptions[i]
		if k, ok := slices.BinarySearch(ids, s.ID); !ok || k >= n {
			continue
		}
		co.Created = min(co.Created, s.StartDate)
		if co.Created == 0 {
			co.Created = s.StartDate
		}
		d := discount{ID: "di_" + strings.TrimPrefix(s.ID, "sub_"), Object: "discount", Customer: s.Customer,
			Start: s.StartDate, Subscription: str(s.ID)}
		st.discounts[d.ID] = d
		s.Discounts = []any{d.ID}
		bySub[s.ID] = d.ID
	}
	for id, d := range st.discounts {
		d.Coupon = co
		st.discounts[id] = d
	}
	for i := range st.invoices {
		inv := &st.invoices[i]
		if inv.Subscription == nil || bySub[*inv.Subscription] == "" {
			continue
		}
		did := bySub[*inv.Subscription]
		var off int64
		for j := range inv.Lines.Data {
			l := &inv.Lines.Data[j]
			// Stripe rounds each line's discount to the minor unit.
			amt := int64(math.Round(float64(l.Amount) * discountPercent / 100))
			l.DiscountAmounts = []any{map[string]any{"amount": amt, "discount": did}}
			l.Discounts = []string{did}
			off += amt
		}
		inv.Discounts = []string{did}
		inv.Total -= off
		inv.TotalExcludingTax -= off
		inv.AmountDue -= off
		switch {
		case inv.AmountPaid > 0:
			inv.AmountPaid -= off
		case inv.AmountRemaining > 0:
			inv.AmountRemaining -= off
		}
	}
}

// expanded returns the subscription as a request expanding v.expand sees it: its discount ids
// replaced by the Discount objects when data.discounts is expanded.
func (s subscription) expanded(st *store, v view) subscription {
	if !v.expand["data.discounts"] || len(s.Discounts) == 0 {
		return s
	}
	ds := make([]any, len(s.Discounts))
	for i, id := range s.Discounts {
		ds[i] = st.discounts[id.(string)]
	}
	s.Discounts = ds
	return s
}

// AccountName is the name of the fake Stripe account (the demo company's billing entity).
const AccountName = "Segpipe Demo Inc."

func i64(v int64) *int64   { return &v }
func str(s string) *string { return &s }

// build turns the company's billing records into Stripe objects.
func build(c *demo.Company) *store {
	accIndex := make(map[string]int, len(c.Accounts))
	for i := range c.Accounts {
		accIndex[c.Accounts[i].ID] = i
	}
	// One customer per billed account, created with its first subscription.
	firstStart := map[string]int64{}
	currency := map[string]string{}
	for i := range c.Subscriptions {
		s := &c.Subscriptions[i]
		t := s.StartedAt.Unix()
		if v, ok := firstStart[s.CustomerID]; !ok || t < v {
			firstStart[s.CustomerID] = t
			currency[s.CustomerID] = strings.ToLower(s.Currency)
		}
	}
	for i := range c.Invoices {
		inv := &c.Invoices[i]
		if _, ok := firstStart[inv.CustomerID]; !ok {
			firstStart[inv.CustomerID] = inv.IssuedAt.Unix()
			currency[inv.CustomerID] = strings.ToLower(inv.Currency)
		}
	}
	st := &store{}
	custID := map[string]string{}
	custOf := map[string]customer{} // by account id
	accountIDs := make([]string, 0, len(firstStart))
	for id := range firstStart {
		accountIDs = append(accountIDs, id)
	}
	slices.Sort(accountIDs)
	for _, acc := range accountIDs {
		idx, known := accIndex[acc]
		name, email := acc, ""
		if known {
			name = c.Accounts[idx].Name
			email = "billing@" + slug(name) + ".example"
		} else {
			idx = len(c.Accounts) + len(custID) // a billed id the CRM lacks: still a distinct customer
		}
		id := customerID(idx)
		custID[acc] = id
		cu := customer{
			ID: id, Object: "customer", Created: firstStart[acc], Currency: currency[acc], Email: email,
			InvoicePrefix: strings.ToUpper(id[4:12]), Metadata: map[string]string{"crm_account_id": acc},
			Name: name, NextInvoiceSeq: 1, PreferredLocales: []string{}, TaxExempt: "none",
		}
		custOf[acc] = cu
		st.customers = append(st.customers, cu)
	}

	// The last billed period of each subscription, from its invoices.
	lastPeriod := map[string]*demo.Invoice{}
	latest := map[string]string{}
	for i := range c.Invoices {
		inv := &c.Invoices[i]
		if inv.Status == "void" {
			continue
		}
		if p, ok := lastPeriod[inv.SubscriptionID]; !ok || inv.PeriodStart.After(p.PeriodStart) {
			lastPeriod[inv.SubscriptionID] = inv
			latest[inv.SubscriptionID] = InvoiceID(inv.ID)
		}
	}
	subs := map[string]*demo.Subscription{}
	prices := map[string]*price{}
	for i := range c.Subscriptions {
		s := &c.Subscriptions[i]
		subs[s.ID] = s
		months := int64(1)
		if s.BillingInterval == "year" {
			months = 12
		}
		cur := strings.ToLower(s.Currency)
		start := s.StartedAt.Unix()
		pr := price{
			ID: priceID(s.ID), Object: "price", Active: true, BillingScheme: "per_unit", Created: start,
			Currency: cur, Metadata: map[string]string{}, Nickname: s.Plan, Product: productID(s.Plan),
			Recurring:   recurring{Interval: s.BillingInterval, IntervalCount: 1, UsageType: "licensed"},
			TaxBehavior: "exclusive", Type: "recurring",
		}
		pr.UnitAmount, pr.UnitAmountDecimal = unitAmount(s.MRRCents*months, int64(s.Seats))
		prices[s.ID] = &pr
		pe := s.CurrentPeriodEnd.Unix()
		ps := start
		if p := lastPeriod[s.ID]; p != nil {
			ps = p.PeriodStart.Unix()
		}
		item := subscriptionItem{
			ID: subscriptionItemID(s.ID), Object: "subscription_item", Created: start,
			CurrentPeriodEnd: i64(pe), CurrentPeriodStart: i64(ps), Discounts: []string{},
			Metadata: map[string]string{}, Price: pr, Quantity: int64(s.Seats), Subscription: s.ID, TaxRates: []string{},
		}
		sub := subscription{
			ID: s.ID, Object: "subscription", BillingCycleAnchor: start,
			CollectionMethod: "charge_automatically", Created: start, Currency: cur,
			Customer: custID[s.CustomerID], Discounts: []any{},
			Items: list[subscriptionItem]{
				Object: "list", Data: []subscriptionItem{item}, TotalCount: ptrInt(1),
				URL: "/v1/subscription_items?subscription=" + s.ID,
			},
			Metadata: map[string]string{}, StartDate: start, Status: "active",
			CurrentPeriodEnd: i64(pe), CurrentPeriodStart: i64(ps), Quantity: i64(int64(s.Seats)),
		}
		if s.BillingInterval == "year" {
			sub.CollectionMethod = "send_invoice"
			sub.DaysUntilDue = ptrInt(30)
		}
		if id, ok := latest[s.ID]; ok {
			sub.LatestInvoice = str(id)
		}
		if s.CanceledAt != nil {
			// Canceled at the end of a period: requested up to two weeks before it ended.
			end := s.CanceledAt.Unix()
			req := max(start, end-14*86400)
			sub.Status, sub.EndedAt, sub.CanceledAt, sub.CancelAt = "canceled", i64(end), i64(req), i64(end)
			sub.CancelAtPeriodEnd = true
			sub.CancellationDetails.Reason = "cancellation_requested"
		}
		st.subscriptions = append(st.subscriptions, sub)
	}

	for i := range c.Invoices {
		d := &c.Invoices[i]
		id := InvoiceID(d.ID)
		cur := strings.ToLower(d.Currency)
		created := d.IssuedAt.Unix()
		s := subs[d.SubscriptionID]
		line := lineItem{
			ID: lineItemID(id), Object: "line_item", Amount: d.AmountCents, Currency: cur,
			DiscountAmounts: []any{}, Discountable: true, Discounts: []string{}, Invoice: id,
			Metadata: map[string]string{}, Period: period{Start: d.PeriodStart.Unix(), End: d.PeriodEnd.Unix()},
			Quantity: 1,
		}
		reason := "manual"
		var subID *string
		if s != nil {
			subID = str(s.ID)
			line.Quantity = periodSeats(d, s)
			_, dec := unitAmount(d.AmountCents, line.Quantity)
			line.Description = fmt.Sprintf("%d × %s", line.Quantity, s.Plan)
			line.Parent = map[string]any{
				"type":                 "subscription_item_details",
				"invoice_item_details": nil,
				"subscription_item_details": map[string]any{
					"invoice_item": nil, "proration": false, "proration_details": map[string]any{"credited_items": nil},
					"subscription": s.ID, "subscription_item": subscriptionItemID(s.ID),
				},
			}
			line.Pricing = map[string]any{
				"type":                "price_details",
				"price_details":       map[string]any{"price": priceID(s.ID), "product": productID(s.Plan)},
				"unit_amount_decimal": dec,
			}
			line.Price = prices[s.ID]
			line.Proration = new(bool)
			line.Subscription, line.SubscriptionItem = str(s.ID), str(subscriptionItemID(s.ID))
			line.Type = "subscription"
			reason = "subscription_cycle"
			if !d.PeriodStart.After(s.StartedAt) {
				reason = "subscription_create"
			}
		}
		inv := invoice{
			ID: id, Object: "invoice", AccountCountry: "US", AccountName: AccountName,
			AmountDue: d.AmountCents, AttemptCount: 1, Attempted: true, BillingReason: reason,
			CollectionMethod: "charge_automatically", Created: created, Currency: cur,
			Customer: custID[d.CustomerID], Discounts: []string{}, EffectiveAt: i64(created), EndingBalance: i64(0),
			Lines:    list[lineItem]{Object: "list", Data: []lineItem{line}, TotalCount: ptrInt(1), URL: "/v1/invoices/" + id + "/lines"},
			Metadata: map[string]string{}, Number: "SEGD-" + strings.TrimPrefix(id, "in_"),
			PeriodEnd: created, PeriodStart: created, Status: d.Status,
			StatusTransitions: statusTransitions{FinalizedAt: i64(created)},
			Subtotal:          d.AmountCents, Total: d.AmountCents, TotalExcludingTax: d.AmountCents,
			WebhooksDeliveredAt: i64(created),
		}
		cu := custOf[d.CustomerID]
		inv.CustomerEmail, inv.CustomerName = cu.Email, cu.Name
		if s != nil && s.BillingInterval == "year" {
			inv.CollectionMethod = "send_invoice"
			inv.DueDate = i64(created + 30*86400)
		}
		if subID != nil {
			inv.Parent = map[string]any{
				"type": "subscription_details", "quote_details": nil,
				"subscription_details": map[string]any{"metadata": map[string]string{}, "subscription": *subID},
			}
			inv.Subscription = subID
		}
		inv.Paid = new(bool)
		*inv.Paid = d.Status == "paid"
		switch d.Status {
		case "paid":
			inv.AmountPaid = d.AmountCents
			inv.StatusTransitions.PaidAt = i64(d.PaidAt.Unix())
		case "open":
			inv.AmountRemaining = d.AmountCents
		case "void":
			// Issued twice by mistake: the copy was voided as soon as it was finalised; or
			// voided later (demo.Invoice.VoidedAt), paid or open until then.
			inv.StatusTransitions.VoidedAt = i64(created)
			if d.VoidedAt != nil {
				inv.StatusTransitions.VoidedAt = i64(d.VoidedAt.Unix())
			}
			if d.PaidAt != nil {
				inv.StatusTransitions.PaidAt = i64(d.PaidAt.Unix())
			}
		}
		st.invoices = append(st.invoices, inv)
	}

	sortNewestFirst(st)
	return st
}

func ptrInt(v int) *int { return &v }

// trialPrice is the per-seat monthly price of a trial subscription, in cents, and its seats.
const (
	trialPrice = 26100
	trialSeats = 3
)

// addTrials gives n accounts the company never billed a Stripe free trial (Options.Trials).
func addTrials(st *store, c *demo.Company, n int) {
	if n <= 0 {
		return
	}
	billed := map[string]bool{}
	for _, inv := range st.invoices {
		billed[inv.Customer] = true
	}
	for _, s := range st.subscriptions {
		billed[s.Customer] = true
	}
	asOf := c.AsOf()
	var prospects []int
	for i := range c.Accounts {
		a := &c.Accounts[i]
		if !billed[customerID(i)] && a.CreatedAt.Before(asOf.AddDate(0, 0, -90)) {
			prospects = append(prospects, i)
		}
	}
	slices.SortFunc(prospects, func(a, b int) int {
		return cmp.Or(c.Accounts[a].CreatedAt.Compare(c.Accounts[b].CreatedAt), cmp.Compare(c.Accounts[a].ID, c.Accounts[b].ID))
	})
	for k, idx := range prospects[:min(n, len(prospects))] {
		a := &c.Accounts[idx]
		trialStart, trialEnd := asOf.AddDate(0, 0, -10), asOf.AddDate(0, 0, 4)
		if k%2 == 1 {
			trialStart, trialEnd = asOf.AddDate(0, 0, -74), asOf.AddDate(0, 0, -60)
		}
		start, end := trialStart.Unix(), trialEnd.Unix()
		custID := customerID(idx)
		cu := customer{
			ID: custID, Object: "customer", Created: start, Currency: "usd", Email: "billing@" + slug(a.Name) + ".example",
			InvoicePrefix: strings.ToUpper(custID[4:12]), Metadata: map[string]string{"crm_account_id": a.ID},
			Name: a.Name, NextInvoiceSeq: 2, PreferredLocales: []string{}, TaxExempt: "none",
		}
		subID := fmt.Sprintf("sub_trial%04d", k)
		pr := price{
			ID: priceID(subID), Object: "price", Active: true, BillingScheme: "per_unit", Created: start,
			Currency: "usd", Metadata: map[string]string{}, Nickname: "growth", Product: productID("growth"),
			Recurring:   recurring{Interval: "month", IntervalCount: 1, UsageType: "licensed"},
			TaxBehavior: "exclusive", Type: "recurring", UnitAmount: i64(trialPrice), UnitAmountDecimal: fmt.Sprint(trialPrice),
		}
		invID := fmt.Sprintf("in_trial%04d", k)
		sub := subscription{
			ID: subID, Object: "subscription", BillingCycleAnchor: end, CollectionMethod: "charge_automatically",
			Created: start, Currency: "usd", Customer: custID, Discounts: []any{},
			Items: list[subscriptionItem]{Object: "list", TotalCount: ptrInt(1), URL: "/v1/subscription_items?subscription=" + subID,
				Data: []subscriptionItem{{
					ID: subscriptionItemID(subID), Object: "subscription_item", Created: start,
					CurrentPeriodStart: i64(start), CurrentPeriodEnd: i64(end), Discounts: []string{},
					Metadata: map[string]string{}, Price: pr, Quantity: trialSeats, Subscription: subID, TaxRates: []string{},
				}}},
			LatestInvoice: str(invID), Metadata: map[string]string{}, StartDate: start, Status: "trialing",
			CurrentPeriodStart: i64(start), CurrentPeriodEnd: i64(end), Quantity: i64(trialSeats),
			TrialStart: start, TrialEnd: end,
		}
		if k%2 == 1 {
			sub.Status, sub.EndedAt, sub.CanceledAt = "canceled", i64(end), i64(end)
			sub.CancellationDetails.Reason = "cancellation_requested"
		}
		line := lineItem{
			ID: lineItemID(invID), Object: "line_item", Currency: "usd", Description: fmt.Sprintf("Trial period for %d × growth", trialSeats),
			DiscountAmounts: []any{}, Discountable: true, Discounts: []string{}, Invoice: invID, Metadata: map[string]string{},
			Period: period{Start: start, End: end}, Quantity: trialSeats, Price: &pr, Proration: new(bool),
			Subscription: str(subID), SubscriptionItem: str(subscriptionItemID(subID)), Type: "subscription",
			Parent: map[string]any{
				"type": "subscription_item_details", "invoice_item_details": nil,
				"subscription_item_details": map[string]any{
					"invoice_item": nil, "proration": false, "proration_details": map[string]any{"credited_items": nil},
					"subscription": subID, "subscription_item": subscriptionItemID(subID),
				},
			},
			Pricing: map[string]any{"type": "price_details", "price_details": map[string]any{"price": priceID(subID), "product": productID("growth")}, "unit_amount_decimal": "0"},
		}
		inv := invoice{
			ID: invID, Object: "invoice", AccountCountry: "US", AccountName: AccountName, BillingReason: "subscription_create",
			CollectionMethod: "charge_automatically", Created: start, Currency: "usd", Customer: custID,
			CustomerEmail: cu.Email, CustomerName: cu.Name, Discounts: []string{}, EffectiveAt: i64(start), EndingBalance: i64(0),
			Lines:    list[lineItem]{Object: "list", Data: []lineItem{line}, TotalCount: ptrInt(1), URL: "/v1/invoices/" + invID + "/lines"},
			Metadata: map[string]string{}, Number: "SEGD-T" + invID[len(invID)-4:], PeriodEnd: start, PeriodStart: start,
			Status: "paid", StatusTransitions: statusTransitions{FinalizedAt: i64(start), PaidAt: i64(start)},
			WebhooksDeliveredAt: i64(start), Subscription: str(subID), Paid: new(bool),
			Parent: map[string]any{
				"type": "subscription_details", "quote_details": nil,
				"subscription_details": map[string]any{"metadata": map[string]string{}, "subscription": subID},
			},
		}
		*inv.Paid = true
		st.customers = append(st.customers, cu)
		st.subscriptions = append(st.subscriptions, sub)
		st.invoices = append(st.invoices, inv)
	}
	sortNewestFirst(st)
}

// deleteCustomers removes the first n customers by id from the list, keeping their
// subscriptions and invoices (Options.DeletedCustomers).
func deleteCustomers(st *store, n int) {
	if n <= 0 {
		return
	}
	ids := make([]string, len(st.customers))
	for i, cu := range st.customers {
		ids[i] = cu.ID
	}
	slices.Sort(ids)
	gone := map[string]bool{}
	for _, id := range ids[:min(n, len(ids))] {
		gone[id] = true
	}
	st.customers = slices.DeleteFunc(st.customers, func(cu customer) bool { return gone[cu.ID] })
}

// sortNewestFirst puts every collection in Stripe's list order: newest first, then by id.
func sortNewestFirst(st *store) {
	newestFirst := func(a, b int64, ida, idb string) int { return cmp.Or(cmp.Compare(b, a), cmp.Compare(idb, ida)) }
	slices.SortFunc(st.customers, func(a, b customer) int { return newestFirst(a.Created, b.Created, a.ID, b.ID) })
	slices.SortFunc(st.subscriptions, func(a, b subscription) int { return newestFirst(a.Created, b.Created, a.ID, b.ID) })
	slices.SortFunc(st.invoices, func(a, b invoice) int { return newestFirst(a.Created, b.Created, a.ID, b.ID) })
}

// periodSeats is the number of seats an invoice bills: the demo invoice's own count, or (for
// an invoice made without one) its amount over the subscription's per-seat amount.
func periodSeats(d *demo.Invoice, s *demo.Subscription) int64 {
	if d.Seats > 0 {
		return int64(d.Seats)
	}
	if s.Seats <= 0 || s.MRRCents <= 0 {
		return 1
	}
	months := int64(1)
	if s.BillingInterval == "year" {
		months = 12
	}
	perSeat := float64(s.MRRCents*months) / float64(s.Seats)
	return max(1, int64(math.Round(float64(d.AmountCents)/perSeat)))
}

// unitAmount splits amount (minor units) over quantity as Stripe writes a per-unit price:
// unit_amount when whole, else null, and unit_amount_decimal with at most 12 decimals.
func unitAmount(amount, quantity int64) (*int64, string) {
	if quantity <= 0 {
		return i64(amount), fmt.Sprint(amount)
	}
	if amount%quantity == 0 {
		return i64(amount / quantity), fmt.Sprint(amount / quantity)
	}
	s := new(big.Rat).SetFrac64(amount, quantity).FloatString(12)
	s = strings.TrimRight(s, "0")
	return nil, strings.TrimSuffix(s, ".")
}

// slug makes a lower-case host label of a company name.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// legacyVersion reports whether a Stripe-Version is older than 2025-03-31.basil, the version
// that moved the billing period to subscription items and the subscription of invoices and
// their lines under parent.
func legacyVersion(v string) bool { return v < "2025-03-31" }

// asVersion returns the subscription as the API version shows it.
func (s subscription) asVersion(legacy bool) subscription {
	items := slices.Clone(s.Items.Data)
	if legacy {
		for i := range items {
			items[i].CurrentPeriodStart, items[i].CurrentPeriodEnd = nil, nil
		}
	} else {
		s.CurrentPeriodStart, s.CurrentPeriodEnd, s.Quantity = nil, nil, nil
	}
	s.Items.Data = items
	return s
}

// asVersion returns the invoice as the API version shows it.
func (inv invoice) asVersion(legacy bool) invoice {
	lines := slices.Clone(inv.Lines.Data)
	if legacy {
		inv.Parent = nil
		for i := range lines {
			lines[i].Parent, lines[i].Pricing = nil, nil
		}
	} else {
		inv.Subscription, inv.Paid = nil, nil
		for i := range lines {
			l := &lines[i]
			l.Price, l.Proration, l.Subscription, l.SubscriptionItem, l.Type = nil, nil, nil, nil, ""
		}
	}
	inv.Lines.Data = lines
	return inv
}
