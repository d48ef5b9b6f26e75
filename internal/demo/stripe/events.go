package stripe

import (
	"cmp"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// PathEvents lists events (https://docs.stripe.com/api/events/list).
const PathEvents = "/v1/events"

// EventRetention is how far back the events list reaches: "List events, going back up to
// 30 days" (https://docs.stripe.com/api/events/list).
const EventRetention = 30 * 24 * 3600

// MaxEventTypes is the most types[] a request may name ("An array of up to 20 strings").
const MaxEventTypes = 20

// The fake's events are those of its invoices (customers and subscriptions have none here),
// as Stripe creates them when an invoice changes (https://docs.stripe.com/api/events/types):
//
//   - invoice.created, its draft, then invoice.finalized, open, in the same second (the fake's
//     invoices are finalised when created);
//   - invoice.paid and invoice.payment_succeeded when it is paid;
//   - invoice.voided when it is voided.
//
// Each event's data.object is the invoice as it was just after the change, in the API version
// the fake answers in, whatever Stripe-Version the request sends: "Each event data is rendered
// according to Stripe API version at its creation time" (the list's reference). Events come
// newest first; those of one second in the order opposite to their creation, so the last
// change of a second comes first. Only the events of the 30 days up to the company's end are
// listed. An event's previous_attributes holds the status it changed from.

// invoiceState is what an invoice event shows of it.
type invoiceState uint8

const (
	stateDraft invoiceState = iota
	stateOpen
	statePaid
	stateVoid
)

// event is a Stripe Event object.
type event struct {
	ID              string       `json:"id"`
	Object          string       `json:"object"`
	APIVersion      string       `json:"api_version"`
	Created         int64        `json:"created"`
	Data            eventData    `json:"data"`
	Livemode        bool         `json:"livemode"`
	PendingWebhooks int          `json:"pending_webhooks"`
	Request         eventRequest `json:"request"`
	Type            string       `json:"type"`
}

type eventData struct {
	Object             any            `json:"object"`
	PreviousAttributes map[string]any `json:"previous_attributes,omitempty"`
}

type eventRequest struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

// eventRef is one event of the list: which invoice, in which state, of which type.
type eventRef struct {
	invoice int // index into store.invoices
	state   invoiceState
	typ     string
	created int64
	seq     int // creation order among all events
}

// invoiceEvents returns the events of st's invoices created from end less the retention to
// end (Unix seconds), newest first.
func invoiceEvents(st *store, end int64) []eventRef {
	var out []eventRef
	add := func(i int, s invoiceState, typ string, at int64) {
		if at >= end-EventRetention && at < end {
			out = append(out, eventRef{invoice: i, state: s, typ: typ, created: at})
		}
	}
	for i := len(st.invoices) - 1; i >= 0; i-- { // oldest invoice first
		inv := &st.invoices[i]
		add(i, stateDraft, "invoice.created", inv.Created)
		add(i, stateOpen, "invoice.finalized", inv.Created)
		tr := inv.StatusTransitions
		if inv.Status == "paid" || (tr.PaidAt != nil && inv.Status == "void") {
			add(i, statePaid, "invoice.paid", *tr.PaidAt)
			add(i, statePaid, "invoice.payment_succeeded", *tr.PaidAt)
		}
		if inv.Status == "void" {
			add(i, stateVoid, "invoice.voided", *tr.VoidedAt)
		}
	}
	// Creation order: by time, then as added (an invoice's own changes in their order).
	slices.SortStableFunc(out, func(a, b eventRef) int { return cmp.Compare(a.created, b.created) })
	for k := range out {
		out[k].seq = k
	}
	slices.Reverse(out) // newest first
	return out
}

// invoiceAt is inv as an event in state s shows it (in the fake's API version).
func invoiceAt(inv invoice, s invoiceState) invoice {
	inv = inv.asVersion(false)
	tr := inv.StatusTransitions
	switch s {
	case stateDraft:
		inv.Status, inv.StatusTransitions = "draft", statusTransitions{}
		inv.AmountPaid, inv.AmountRemaining = 0, inv.AmountDue
	case stateOpen:
		inv.Status, inv.StatusTransitions = "open", statusTransitions{FinalizedAt: tr.FinalizedAt}
		inv.AmountPaid, inv.AmountRemaining = 0, inv.AmountDue
	case statePaid:
		inv.Status, inv.StatusTransitions = "paid", statusTransitions{FinalizedAt: tr.FinalizedAt, PaidAt: tr.PaidAt}
		inv.AmountPaid, inv.AmountRemaining = inv.AmountDue, 0
	}
	return inv
}

var previousStatus = map[invoiceState]string{stateOpen: "draft", statePaid: "open", stateVoid: "open"}

func eventsCollection(st *store, end int64) *collection {
	refs := invoiceEvents(st, end)
	c := newCollection(PathEvents, "event", len(refs),
		func(i int) string { return fmt.Sprintf("evt_%012d%012d", refs[i].created, refs[i].seq) },
		func(i int) int64 { return refs[i].created })
	c.render = func(i int, _ view) any {
		r := refs[i]
		ev := event{
			ID: c.ids[i], Object: "event", APIVersion: APIVersion, Created: r.created,
			Data: eventData{Object: invoiceAt(st.invoices[r.invoice], r.state)}, Type: r.typ,
		}
		if prev, ok := previousStatus[r.state]; ok && r.typ != "invoice.payment_succeeded" {
			if r.state == stateVoid && st.invoices[r.invoice].StatusTransitions.PaidAt != nil {
				prev = "paid" // voided late, after its payment
			}
			ev.Data.PreviousAttributes = map[string]any{"status": prev}
		}
		return ev
	}
	c.params = map[string]bool{"type": true, "delivery_success": true}
	c.paramPattern = typesParam
	c.filter = func(q url.Values) (func(int) bool, *apiError) {
		var types []string
		for k, vs := range q {
			if typesParam.MatchString(k) {
				types = append(types, vs...)
			}
		}
		_, typed := q["type"]
		switch {
		case typed && len(types) > 0:
			return nil, invalidRequest("types", "You may pass either type or types, but not both.")
		case len(types) > MaxEventTypes:
			return nil, invalidRequest("types", "Invalid array: types may contain at most %d elements", MaxEventTypes)
		}
		var match *regexp.Regexp
		if typed {
			// "A string containing a specific event name, or group of events using * as a wildcard."
			match = regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(q.Get("type")), `\*`, ".*") + "$")
		}
		delivered := true // the fake has no webhook endpoints: every event counts as delivered
		if d, ok := q["delivery_success"]; ok {
			switch d[0] {
			case "true":
			case "false":
				delivered = false
			default:
				return nil, invalidRequest("delivery_success", "Invalid boolean: %s", d[0])
			}
		}
		return func(i int) bool {
			t := refs[i].typ
			switch {
			case !delivered:
				return false
			case match != nil:
				return match.MatchString(t)
			case len(types) > 0:
				return slices.Contains(types, t)
			}
			return true
		}, nil
	}
	return c
}

var typesParam = regexp.MustCompile(`^types\[\d*\]$`)
