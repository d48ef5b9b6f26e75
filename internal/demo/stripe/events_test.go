package stripe_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/stripe"
)

// The events list follows https://docs.stripe.com/api/events/list: newest first, 30 days
// back, filtered by created, type (with * wildcards) or types[] (at most 20, not with type),
// each event carrying the invoice as it was after the change. The newest event of each
// invoice shows what the invoices list shows of it now, so folding the events onto a list
// read a while ago gives today's list.
func TestEventsList(t *testing.T) {
	c := demo.Generate(demo.Options{Accounts: 200, Seed: 5})
	end := c.End.Unix()
	// An old paid invoice voided late, three days before the end.
	voidAt := c.End.Add(-72 * time.Hour)
	var voided string
	for i := range c.Invoices {
		inv := &c.Invoices[i]
		if inv.Status == "paid" && inv.IssuedAt.Before(c.End.AddDate(0, -6, 0)) {
			inv.Status, inv.VoidedAt, voided = "void", &voidAt, stripe.InvoiceID(inv.ID)
			break
		}
	}
	api := stripe.New(c, token, stripe.Options{})
	events := walk(t, api, stripe.PathEvents, 100, nil)
	if len(events) < 100 {
		t.Fatalf("%d events in the last 30 days", len(events))
	}
	newest := map[string]map[string]any{} // the newest event's invoice, by id
	types := map[string]int{}
	for i, e := range events {
		created := int64(e["created"].(float64))
		if i > 0 && created > int64(events[i-1]["created"].(float64)) {
			t.Fatalf("event %d is newer than the one before", i)
		}
		if created < end-stripe.EventRetention || created >= end {
			t.Fatalf("event %s at %d, outside the 30 days up to %d", e["id"], created, end)
		}
		if e["object"] != "event" || e["api_version"] != stripe.APIVersion || !strings.HasPrefix(e["id"].(string), "evt_") {
			t.Fatalf("event envelope: %v", e)
		}
		types[e["type"].(string)]++
		obj := e["data"].(map[string]any)["object"].(map[string]any)
		if obj["object"] != "invoice" {
			t.Fatalf("event %s carries a %v", e["id"], obj["object"])
		}
		if _, seen := newest[obj["id"].(string)]; !seen {
			newest[obj["id"].(string)] = obj
		}
	}
	for _, typ := range []string{"invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded", "invoice.voided"} {
		if types[typ] == 0 {
			t.Errorf("no %s event: %v", typ, types)
		}
	}
	// The newest event of every invoice is the invoice as listed now.
	listed := map[string]map[string]any{}
	for _, inv := range walk(t, api, stripe.PathInvoices, 100, nil) {
		listed[inv["id"].(string)] = inv
	}
	for id, obj := range newest {
		if !reflect.DeepEqual(obj, listed[id]) {
			a, _ := json.Marshal(obj)
			b, _ := json.Marshal(listed[id])
			t.Fatalf("invoice %s: newest event shows\n%s\nthe list shows\n%s", id, a, b)
		}
	}
	if v := newest[voided]; v == nil || v["status"] != "void" {
		t.Errorf("the invoice voided late (%s): newest event %v", voided, v)
	}
	// Each change says what the status was before it: the late void, paid.
	for _, e := range events {
		data := e["data"].(map[string]any)
		prev, _ := data["previous_attributes"].(map[string]any)
		want := map[string]any{"invoice.finalized": "draft", "invoice.paid": "open", "invoice.created": nil, "invoice.payment_succeeded": nil}
		if e["type"] == "invoice.voided" && data["object"].(map[string]any)["id"] == voided {
			want["invoice.voided"] = "paid"
		}
		if w, ok := want[e["type"].(string)]; ok && (prev == nil && w != nil || prev != nil && prev["status"] != w) {
			t.Fatalf("%s of %v: previous_attributes %v, want status %v", e["type"], data["object"].(map[string]any)["id"], prev, w)
		}
	}
	// Invoices paid in the window appear first as drafts (invoice.created), then open.
	states := map[string][]string{}
	for i := len(events) - 1; i >= 0; i-- {
		obj := events[i]["data"].(map[string]any)["object"].(map[string]any)
		states[obj["id"].(string)] = append(states[obj["id"].(string)], obj["status"].(string))
	}
	drafts := 0
	for _, s := range states {
		if s[0] == "draft" {
			drafts++
			if len(s) < 2 || s[1] != "open" {
				t.Errorf("states after the draft: %v", s)
			}
		}
	}
	if drafts == 0 {
		t.Error("no invoice created in the window")
	}

	// Filters.
	count := func(q url.Values) int { return len(walk(t, api, stripe.PathEvents, 100, q)) }
	if n := count(url.Values{"type": {"invoice.paid"}}); n != types["invoice.paid"] {
		t.Errorf("type=invoice.paid: %d, want %d", n, types["invoice.paid"])
	}
	if n := count(url.Values{"type": {"invoice.pa*"}}); n != types["invoice.paid"]+types["invoice.payment_succeeded"] {
		t.Errorf("type=invoice.pa*: %d", n)
	}
	if n := count(url.Values{"types[0]": {"invoice.voided"}, "types[1]": {"invoice.created"}}); n != types["invoice.voided"]+types["invoice.created"] {
		t.Errorf("types[]: %d", n)
	}
	if n := count(url.Values{"type": {"customer.*"}}); n != 0 {
		t.Errorf("customer events: %d, the fake has none", n)
	}
	mid := int64(events[len(events)/2]["created"].(float64))
	want := 0
	for _, e := range events {
		if int64(e["created"].(float64)) >= mid {
			want++
		}
	}
	if n := count(url.Values{"created[gte]": {fmt.Sprint(mid)}}); n != want {
		t.Errorf("created[gte]: %d, want %d", n, want)
	}
	if n := count(url.Values{"delivery_success": {"false"}}); n != 0 {
		t.Errorf("delivery_success=false: %d; every event was delivered", n)
	}
	many := url.Values{}
	for i := range 21 {
		many.Set(fmt.Sprintf("types[%d]", i), "invoice.paid")
	}
	for q, want := range map[string]string{
		"type=invoice.paid&types[0]=invoice.paid": "either type or types",
		many.Encode():            "at most 20",
		"delivery_success=maybe": "Invalid boolean",
		"kind=invoice.paid":      "unknown parameter: kind",
	} {
		code, _, body := get(t, api, stripe.PathEvents+"?"+q, nil)
		msg, _ := body["error"].(map[string]any)["message"].(string)
		if code != http.StatusBadRequest || !strings.Contains(msg, want) {
			t.Errorf("%s: %d %q, want 400 with %q", q, code, msg, want)
		}
	}
}
