package stripe_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/stripe"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
)

const token = "sk_test_segpipe0000000000001234"

// smallCompany is a company small enough to walk page by page at limit=1.
var smallCompany = sync.OnceValue(func() *demo.Company { return demo.Generate(demo.Options{Accounts: 60}) })

// get sends one GET to the API and decodes the JSON answer.
func get(t *testing.T, h http.Handler, target string, header map[string]string) (int, http.Header, map[string]any) {
	t.Helper()
	// The token, unless header replaces or removes it ("").
	fields := map[string]string{"Authorization": "Bearer " + token}
	maps.Copy(fields, header)
	w := vendortest.Record(h, target, fields)
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: %d, body is not JSON: %v: %q", target, w.Code, err, w.Body.String())
	}
	return w.Code, w.Header(), body
}

// walk pages through a list with starting_after (forward) and returns the objects in order.
func walk(t *testing.T, h http.Handler, path string, limit int, extra url.Values) []map[string]any {
	t.Helper()
	var out []map[string]any
	after := ""
	for page := 0; ; page++ {
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		for k, v := range extra {
			q[k] = v
		}
		if after != "" {
			q.Set("starting_after", after)
		}
		code, _, body := get(t, h, path+"?"+q.Encode(), nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s page %d: %d %v", path, page, code, body)
		}
		if body["object"] != "list" || body["url"] != path {
			t.Fatalf("GET %s: envelope object=%v url=%v", path, body["object"], body["url"])
		}
		data := body["data"].([]any)
		if len(data) > limit {
			t.Fatalf("GET %s: %d objects on a page of limit %d", path, len(data), limit)
		}
		for _, d := range data {
			out = append(out, d.(map[string]any))
		}
		if body["has_more"] != true {
			return out
		}
		if len(data) == 0 {
			t.Fatalf("GET %s: has_more on an empty page", path)
		}
		after = data[len(data)-1].(map[string]any)["id"].(string)
	}
}

func ids(objs []map[string]any) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o["id"].(string)
	}
	return out
}

func TestListsWalkEveryObjectOnce(t *testing.T) {
	c := smallCompany()
	api := stripe.New(c, token, stripe.Options{})
	nCust, nSub, nInv := api.Counts()
	billed := map[string]bool{}
	for _, s := range c.Subscriptions {
		billed[s.CustomerID] = true
	}
	if nCust != len(billed) || nSub != len(c.Subscriptions) || nInv != len(c.Invoices) {
		t.Fatalf("counts %d/%d/%d, want %d customers, %d subscriptions, %d invoices", nCust, nSub, nInv, len(billed), len(c.Subscriptions), len(c.Invoices))
	}
	for _, tc := range []struct {
		path  string
		extra url.Values
		want  int
	}{
		{stripe.PathCustomers, nil, nCust},
		{stripe.PathSubscriptions, url.Values{"status": {"all"}}, nSub},
		{stripe.PathInvoices, nil, nInv},
	} {
		for _, limit := range []int{1, 7, 100} {
			t.Run(fmt.Sprintf("%s limit %d", tc.path, limit), func(t *testing.T) {
				objs := walk(t, api, tc.path, limit, tc.extra)
				got := ids(objs)
				if len(got) != tc.want {
					t.Fatalf("walked %d objects, want %d", len(got), tc.want)
				}
				seen := map[string]bool{}
				for i, id := range got {
					if seen[id] {
						t.Fatalf("%s returned twice", id)
					}
					seen[id] = true
					if i > 0 && objs[i]["created"].(float64) > objs[i-1]["created"].(float64) {
						t.Fatalf("not newest first at %d: %s after %s", i, id, got[i-1])
					}
				}
			})
		}
	}
}

func TestEndingBeforeWalksBackwards(t *testing.T) {
	api := stripe.New(smallCompany(), token, stripe.Options{})
	forward := ids(walk(t, api, stripe.PathInvoices, 100, nil))
	// From the oldest object back to the newest, 13 at a time.
	var back []string
	before := forward[len(forward)-1]
	back = append(back, before)
	for {
		code, _, body := get(t, api, stripe.PathInvoices+"?limit=13&ending_before="+before, nil)
		if code != http.StatusOK {
			t.Fatalf("ending_before: %d %v", code, body)
		}
		data := body["data"].([]any)
		page := ids(anyMaps(data))
		back = append(slices.Clone(page), back...)
		if body["has_more"] != true {
			break
		}
		before = page[0]
	}
	if !slices.Equal(back, forward) {
		t.Fatalf("ending_before walk differs from the starting_after walk (%d vs %d objects)", len(back), len(forward))
	}
}

func anyMaps(data []any) []map[string]any {
	out := make([]map[string]any, len(data))
	for i, d := range data {
		out[i] = d.(map[string]any)
	}
	return out
}

func TestSubscriptionsLeaveOutCanceledByDefault(t *testing.T) {
	c := smallCompany()
	api := stripe.New(c, token, stripe.Options{})
	var active, canceled int
	for _, s := range c.Subscriptions {
		if s.Status == "canceled" {
			canceled++
		} else {
			active++
		}
	}
	if canceled == 0 || active == 0 {
		t.Fatalf("the company needs both active (%d) and canceled (%d) subscriptions", active, canceled)
	}
	for _, tc := range []struct {
		status string
		want   int
	}{{"", active}, {"all", active + canceled}, {"canceled", canceled}, {"ended", canceled}, {"active", active}, {"trialing", 0}} {
		extra := url.Values{}
		if tc.status != "" {
			extra.Set("status", tc.status)
		}
		objs := walk(t, api, stripe.PathSubscriptions, 100, extra)
		if len(objs) != tc.want {
			t.Errorf("status=%q: %d subscriptions, want %d", tc.status, len(objs), tc.want)
		}
	}
}

func TestCreatedFilters(t *testing.T) {
	c := smallCompany()
	api := stripe.New(c, token, stripe.Options{})
	mid := c.Invoices[len(c.Invoices)/2].IssuedAt.Unix()
	late := c.Invoices[len(c.Invoices)*3/4].IssuedAt.Unix()
	count := func(pred func(int64) bool) int {
		n := 0
		for _, inv := range c.Invoices {
			if pred(inv.IssuedAt.Unix()) {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		q    url.Values
		want int
	}{
		{url.Values{"created[gte]": {fmt.Sprint(mid)}}, count(func(x int64) bool { return x >= mid })},
		{url.Values{"created[gt]": {fmt.Sprint(mid)}}, count(func(x int64) bool { return x > mid })},
		{url.Values{"created[lt]": {fmt.Sprint(mid)}}, count(func(x int64) bool { return x < mid })},
		{url.Values{"created[gte]": {fmt.Sprint(mid)}, "created[lte]": {fmt.Sprint(late)}}, count(func(x int64) bool { return x >= mid && x <= late })},
		{url.Values{"created": {fmt.Sprint(mid)}}, count(func(x int64) bool { return x == mid })},
	} {
		objs := walk(t, api, stripe.PathInvoices, 9, tc.q)
		if len(objs) != tc.want || tc.want == 0 {
			t.Errorf("%s: %d invoices, want %d (> 0)", tc.q.Encode(), len(objs), tc.want)
		}
	}
}

func TestAuthFailures(t *testing.T) {
	api := stripe.New(smallCompany(), token, stripe.Options{})
	basic := base64.StdEncoding.EncodeToString([]byte(token + ":"))
	for _, tc := range []struct {
		name, header string
		status       int
		message      string
	}{
		{"no key", "", http.StatusUnauthorized, "You did not provide an API key"},
		{"wrong key", "Bearer sk_test_wrongwrongwrong9876", http.StatusUnauthorized, "Invalid API Key provided: sk_test_" + strings.Repeat("*", 15) + "9876"},
		{"basic with the key as user", "Basic " + basic, http.StatusOK, ""},
		{"bearer", "Bearer " + token, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := get(t, api, stripe.PathCustomers, map[string]string{"Authorization": tc.header})
			if code != tc.status {
				t.Fatalf("status %d, want %d: %v", code, tc.status, body)
			}
			if tc.status == http.StatusOK {
				return
			}
			e := body["error"].(map[string]any)
			if e["type"] != "invalid_request_error" || !strings.HasPrefix(e["message"].(string), tc.message) {
				t.Errorf("error %v, want type invalid_request_error and message %q", e, tc.message)
			}
			if strings.Contains(e["message"].(string), "wrongwrongwrong") {
				t.Errorf("the error echoes the key: %v", e["message"])
			}
			if h.Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate header")
			}
		})
	}
}

func TestBadParamsAnswer400(t *testing.T) {
	api := stripe.New(smallCompany(), token, stripe.Options{})
	for _, tc := range []struct {
		target, param, code, message string
	}{
		{"/v1/customers?limit=0", "limit", "", "Invalid limit: must be between 1 and 100"},
		{"/v1/customers?limit=101", "limit", "", "Invalid limit: must be between 1 and 100"},
		{"/v1/customers?limit=ten", "limit", "", "Invalid integer: ten"},
		{"/v1/customers?starting_after=cus_nope", "starting_after", "resource_missing", "No such customer: 'cus_nope'"},
		{"/v1/invoices?ending_before=in_nope", "ending_before", "resource_missing", "No such invoice: 'in_nope'"},
		{"/v1/invoices?starting_after=a&ending_before=b", "ending_before", "", "You may only specify one of these parameters"},
		{"/v1/invoices?page=2", "page", "", "Received unknown parameter: page"},
		{"/v1/subscriptions?status=gone", "status", "", "Invalid status: must be one of active, all"},
		{"/v1/invoices?status=sent", "status", "", "Invalid status"},
		{"/v1/invoices?created%5Bgte%5D=yesterday", "created[gte]", "", "Invalid integer: yesterday"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			code, _, body := get(t, api, tc.target, nil)
			if code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %v", code, body)
			}
			e := body["error"].(map[string]any)
			if e["type"] != "invalid_request_error" || e["param"] != tc.param || !strings.HasPrefix(e["message"].(string), tc.message) {
				t.Errorf("error %v, want param %q, message %q", e, tc.param, tc.message)
			}
			if tc.code != "" && e["code"] != tc.code {
				t.Errorf("code %v, want %s", e["code"], tc.code)
			}
		})
	}
	code, _, body := get(t, api, "/v1/charges", nil)
	if code != http.StatusNotFound || !strings.HasPrefix(body["error"].(map[string]any)["message"].(string), "Unrecognized request URL (GET: /v1/charges)") {
		t.Errorf("unknown path: %d %v", code, body)
	}
	code, _, body = get(t, api, "/v1/customers", map[string]string{"Stripe-Version": "latest"})
	if code != http.StatusBadRequest {
		t.Errorf("bad Stripe-Version: %d %v", code, body)
	}
}

func TestAPIVersionShapes(t *testing.T) {
	api := stripe.New(smallCompany(), token, stripe.Options{})
	code, h, body := get(t, api, "/v1/subscriptions?limit=1&status=all", nil)
	if code != http.StatusOK || h.Get("Stripe-Version") != stripe.APIVersion {
		t.Fatalf("%d, Stripe-Version %q", code, h.Get("Stripe-Version"))
	}
	sub := body["data"].([]any)[0].(map[string]any)
	item := sub["items"].(map[string]any)["data"].([]any)[0].(map[string]any)
	if _, ok := sub["current_period_end"]; ok {
		t.Error("basil: current_period_end on the subscription")
	}
	if _, ok := item["current_period_end"]; !ok {
		t.Error("basil: no current_period_end on the item")
	}
	_, _, body = get(t, api, "/v1/invoices?limit=1", nil)
	inv := body["data"].([]any)[0].(map[string]any)
	if _, ok := inv["subscription"]; ok {
		t.Error("basil: invoice has a top-level subscription")
	}
	if inv["parent"].(map[string]any)["subscription_details"].(map[string]any)["subscription"] == nil {
		t.Error("basil: no parent.subscription_details.subscription")
	}

	old := map[string]string{"Stripe-Version": "2024-06-20"}
	_, h, body = get(t, api, "/v1/subscriptions?limit=1&status=all", old)
	if h.Get("Stripe-Version") != "2024-06-20" {
		t.Errorf("Stripe-Version %q, want the requested one", h.Get("Stripe-Version"))
	}
	sub = body["data"].([]any)[0].(map[string]any)
	item = sub["items"].(map[string]any)["data"].([]any)[0].(map[string]any)
	if _, ok := sub["current_period_end"]; !ok {
		t.Error("2024-06-20: no current_period_end on the subscription")
	}
	if _, ok := item["current_period_end"]; ok {
		t.Error("2024-06-20: current_period_end on the item")
	}
	_, _, body = get(t, api, "/v1/invoices?limit=1", old)
	inv = body["data"].([]any)[0].(map[string]any)
	if _, ok := inv["parent"]; ok || inv["subscription"] == nil {
		t.Errorf("2024-06-20: invoice parent=%v subscription=%v", inv["parent"], inv["subscription"])
	}
	line := inv["lines"].(map[string]any)["data"].([]any)[0].(map[string]any)
	if line["subscription"] == nil || line["type"] != "subscription" {
		t.Errorf("2024-06-20: line %v", line)
	}
}

func TestFaultHook(t *testing.T) {
	api := stripe.New(smallCompany(), token, stripe.Options{Fault: func(n int, _ *http.Request) int {
		switch n {
		case 2:
			return http.StatusTooManyRequests
		case 3:
			return http.StatusInternalServerError
		}
		return 0
	}})
	for n, want := range []int{200, 429, 500, 200} {
		code, h, body := get(t, api, stripe.PathCustomers, nil)
		if code != want {
			t.Fatalf("request %d: %d, want %d", n+1, code, want)
		}
		switch code {
		case 429:
			e := body["error"].(map[string]any)
			if e["code"] != "rate_limit" || e["type"] != "invalid_request_error" || h.Get("Stripe-Should-Retry") != "true" {
				t.Errorf("429: %v %v", e, h)
			}
		case 500:
			if e := body["error"].(map[string]any); e["type"] != "api_error" {
				t.Errorf("500: %v", e)
			}
		}
	}
	if api.Requests() != 4 {
		t.Errorf("Requests() = %d, want 4", api.Requests())
	}
}

// TestObjectsMapTheCompany checks every invoice and subscription against the demo record.
func TestObjectsMapTheCompany(t *testing.T) {
	c := smallCompany()
	api := stripe.New(c, token, stripe.Options{})
	customers := map[string]string{} // Stripe id -> crm account id
	for _, cu := range walk(t, api, stripe.PathCustomers, 100, nil) {
		customers[cu["id"].(string)] = cu["metadata"].(map[string]any)["crm_account_id"].(string)
	}
	invoices := map[string]map[string]any{}
	for _, inv := range walk(t, api, stripe.PathInvoices, 100, nil) {
		invoices[inv["id"].(string)] = inv
	}
	for _, d := range c.Invoices {
		inv := invoices[stripe.InvoiceID(d.ID)]
		if inv == nil {
			t.Fatalf("invoice %s is missing", d.ID)
		}
		line := inv["lines"].(map[string]any)["data"].([]any)[0].(map[string]any)
		period := line["period"].(map[string]any)
		sub := inv["parent"].(map[string]any)["subscription_details"].(map[string]any)["subscription"]
		paidAt := inv["status_transitions"].(map[string]any)["paid_at"]
		wantPaid := any(nil)
		if d.PaidAt != nil {
			wantPaid = float64(d.PaidAt.Unix())
		}
		if inv["total"] != float64(d.AmountCents) || inv["currency"] != strings.ToLower(d.Currency) ||
			inv["status"] != d.Status || customers[inv["customer"].(string)] != d.CustomerID ||
			sub != stripe.SubscriptionID(d.SubscriptionID) || inv["created"] != float64(d.IssuedAt.Unix()) ||
			period["start"] != float64(d.PeriodStart.Unix()) || period["end"] != float64(d.PeriodEnd.Unix()) || paidAt != wantPaid {
			t.Fatalf("invoice %s does not match %+v: %v", d.ID, d, inv)
		}
	}
	subs := map[string]map[string]any{}
	for _, s := range walk(t, api, stripe.PathSubscriptions, 100, url.Values{"status": {"all"}}) {
		subs[s["id"].(string)] = s
	}
	for _, d := range c.Subscriptions {
		s := subs[stripe.SubscriptionID(d.ID)]
		item := s["items"].(map[string]any)["data"].([]any)[0].(map[string]any)
		price := item["price"].(map[string]any)
		months := int64(1)
		if d.BillingInterval == "year" {
			months = 12
		}
		// quantity x unit_amount_decimal rounds to the period's amount, whole or not.
		dec, ok := new(big.Rat).SetString(price["unit_amount_decimal"].(string))
		if !ok {
			t.Fatalf("%s: unit_amount_decimal %v", d.ID, price["unit_amount_decimal"])
		}
		amount := new(big.Rat).Mul(dec, big.NewRat(int64(d.Seats), 1))
		f, _ := amount.Float64()
		if got := int64(f + 0.5); got != d.MRRCents*months {
			t.Fatalf("%s: %d x %s = %d, want %d", d.ID, d.Seats, price["unit_amount_decimal"], got, d.MRRCents*months)
		}
		if (price["unit_amount"] == nil) == ((d.MRRCents*months)%int64(d.Seats) == 0) {
			t.Fatalf("%s: unit_amount %v for %d over %d seats", d.ID, price["unit_amount"], d.MRRCents*months, d.Seats)
		}
		if customers[s["customer"].(string)] != d.CustomerID || s["status"] != d.Status || item["quantity"] != float64(d.Seats) ||
			price["nickname"] != d.Plan || price["recurring"].(map[string]any)["interval"] != d.BillingInterval ||
			s["start_date"] != float64(d.StartedAt.Unix()) || item["current_period_end"] != float64(d.CurrentPeriodEnd.Unix()) {
			t.Fatalf("subscription %s does not match %+v: %v", d.ID, d, s)
		}
		if d.CanceledAt != nil && s["ended_at"] != float64(d.CanceledAt.Unix()) {
			t.Fatalf("subscription %s: ended_at %v, want %d", d.ID, s["ended_at"], d.CanceledAt.Unix())
		}
	}
}

// TestCRMIDStyle checks that a company rewritten for another CRM's ids shows them in
// metadata.crm_account_id.
func TestCRMIDStyle(t *testing.T) {
	c := smallCompany().WithAccountIDs(demo.IDStyleSalesforce)
	api := stripe.New(c, token, stripe.Options{})
	want := map[string]bool{}
	for _, s := range c.Subscriptions {
		want[s.CustomerID] = true
	}
	custs := walk(t, api, stripe.PathCustomers, 100, nil)
	if len(custs) != len(want) {
		t.Fatalf("%d customers, want %d", len(custs), len(want))
	}
	for _, cu := range custs {
		id := cu["metadata"].(map[string]any)["crm_account_id"].(string)
		if !want[id] || len(id) != 18 || !strings.HasPrefix(id, "001") {
			t.Fatalf("crm_account_id %q is not one of the company's Salesforce ids", id)
		}
	}
}
