// Package stripe is an in-process fake of the Stripe API's list endpoints for customers,
// subscriptions and invoices, and of the events of its invoices (https://docs.stripe.com/api;
// events.go), serving a demo.Company. It speaks
// Stripe's wire contract: bearer or basic auth with a secret key, cursor pagination with
// limit, starting_after and ending_before over lists sorted newest first, created filters,
// Stripe's error bodies, and the Stripe-Version header (APIVersion unless a request asks for
// an older version, which gets the pre-2025-03-31 shapes).
//
// Every demo subscription and invoice is one Stripe object; every billed account is one
// customer whose metadata.crm_account_id is the account's id. Amounts are in minor units,
// currencies lower-case, times Unix seconds.
package stripe

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/segpipe/segpipe/internal/demo"
)

// APIVersion is the Stripe API version the fake answers in, sent back in the Stripe-Version
// header: subscription items carry current_period_start/end, and invoices carry their
// subscription under parent.subscription_details.
const APIVersion = "2025-03-31.basil"

// Paths served by the handler (mounted at the API root, e.g. https://api.stripe.com).
const (
	// PathCustomers lists customers.
	PathCustomers = "/v1/customers"
	// PathSubscriptions lists subscriptions (without status=all, canceled ones are left out).
	PathSubscriptions = "/v1/subscriptions"
	// PathInvoices lists invoices.
	PathInvoices = "/v1/invoices"
)

// DemoToken is the secret key config/examples/stripe.yaml sends when SEGPIPE_STRIPE_TOKEN is
// unset: the token `segpipe demo` should give NewHandler.
const DemoToken = "demo-stripe-token"

// Page size limits of Stripe list endpoints.
const (
	// DefaultLimit is the page size when limit is absent.
	DefaultLimit = 10
	// MaxLimit is the largest limit Stripe accepts; a larger one is a 400.
	MaxLimit = 100
)

// Options tune the fake for tests.
type Options struct {
	// Fault, when set, is asked before each request is served, with the request's 1-based
	// number. A non-zero HTTP status fails the request as Stripe does: 429 with a rate_limit
	// error, 5xx with an api_error.
	Fault func(n int, r *http.Request) int
	// Trials adds free trials, as Stripe keeps them (https://docs.stripe.com/billing/subscriptions/trials):
	// that many CRM accounts the company never billed (the earliest created) get a customer, a
	// subscription with trial_start and trial_end, and the $0 invoice Stripe finalises when a
	// trial starts (billing_reason subscription_create). Even ones are trialing at the
	// company's as_of (10 days in, 4 to go); odd ones had a 14-day trial that ended 60 days
	// before as_of without a payment, the subscription canceled then.
	Trials int
	// Discounts gives that many monthly subscriptions (the first by id) a 20% coupon, forever
	// from their start, as Stripe applies one (https://docs.stripe.com/billing/subscriptions/coupons):
	// every invoice line of theirs carries its discount_amounts and the totals are after it;
	// the subscription lists the discount's id, or the Discount object (coupon embedded, as
	// before API version 2025-09-30.clover) when the request expands data.discounts.
	Discounts int
	// DeletedCustomers deletes that many billed customers (the first by id): Stripe then no
	// longer lists the customer but keeps listing its subscriptions and invoices, with the
	// customer's id (https://docs.stripe.com/api/customers/delete).
	DeletedCustomers int
}

// API is the fake Stripe API for one company.
type API struct {
	token    string
	opts     Options
	lists    map[string]*collection
	requests atomic.Int64
}

// NewHandler returns the fake Stripe API serving c, accepting the secret key token.
func NewHandler(c *demo.Company, token string) http.Handler { return New(c, token, Options{}) }

// New returns the fake Stripe API serving c, accepting the secret key token.
func New(c *demo.Company, token string, opts Options) *API {
	st := build(c)
	addDiscounts(st, opts.Discounts)
	deleteCustomers(st, opts.DeletedCustomers)
	addTrials(st, c, opts.Trials)
	a := &API{token: token, opts: opts}
	a.lists = map[string]*collection{
		PathCustomers:     customersCollection(st),
		PathSubscriptions: subscriptionsCollection(st),
		PathInvoices:      invoicesCollection(st),
		PathEvents:        eventsCollection(st, c.End.Unix()),
	}
	return a
}

// Requests returns how many requests reached the API.
func (a *API) Requests() int { return int(a.requests.Load()) }

// Counts returns the number of customers, subscriptions and invoices the API holds.
func (a *API) Counts() (customers, subscriptions, invoices int) {
	return len(a.lists[PathCustomers].ids), len(a.lists[PathSubscriptions].ids), len(a.lists[PathInvoices].ids)
}

// apiError is a Stripe error: its HTTP status and the body's error object.
type apiError struct {
	status  int
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	DocURL  string `json:"doc_url,omitempty"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

func invalidRequest(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Message: fmt.Sprintf(format, args...), Param: param}
}

var versionPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$`)

// ServeHTTP answers one request: fault hook, route (404), method, version header, auth
// (401), then the list page.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(a.requests.Add(1))
	w.Header().Set("Request-Id", fmt.Sprintf("req_%014d", n))
	version := APIVersion
	if v := r.Header.Get("Stripe-Version"); v != "" {
		if !versionPattern.MatchString(v) {
			writeError(w, &apiError{status: http.StatusBadRequest, Type: "invalid_request_error",
				Message: fmt.Sprintf("Invalid Stripe API version: %s", v)})
			return
		}
		version = v
	}
	w.Header().Set("Stripe-Version", version)
	if a.opts.Fault != nil {
		if status := a.opts.Fault(n, r); status != 0 {
			writeError(w, faultError(status))
			return
		}
	}
	if e := a.authorize(r); e != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Stripe"`)
		writeError(w, e)
		return
	}
	coll, ok := a.lists[r.URL.Path]
	if !ok || r.Method != http.MethodGet {
		writeError(w, &apiError{status: http.StatusNotFound, Type: "invalid_request_error",
			Message: fmt.Sprintf("Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", r.Method, r.URL.Path)})
		return
	}
	page, e := coll.page(r.URL.Query(), legacyVersion(version))
	if e != nil {
		writeError(w, e)
		return
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(page); err != nil {
		writeError(w, &apiError{status: http.StatusInternalServerError, Type: "api_error", Message: "An unknown error occurred"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = buf.WriteTo(w)
}

// authorize checks the secret key, sent as a bearer token or as the basic auth user name.
func (a *API) authorize(r *http.Request) *apiError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return &apiError{status: http.StatusUnauthorized, Type: "invalid_request_error",
			Message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."}
	}
	scheme, rest, _ := strings.Cut(h, " ")
	var key string
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		key = strings.TrimSpace(rest)
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		if err == nil {
			key, _, _ = strings.Cut(string(raw), ":")
		}
	}
	if key == "" {
		return &apiError{status: http.StatusUnauthorized, Type: "invalid_request_error",
			Message: "Invalid Authorization header: use Bearer auth with your secret key (Authorization: Bearer sk_...) or basic auth with the key as the user name."}
	}
	if a.token == "" || subtle.ConstantTimeCompare([]byte(key), []byte(a.token)) != 1 {
		return &apiError{status: http.StatusUnauthorized, Type: "invalid_request_error",
			Message: "Invalid API Key provided: " + maskKey(key)}
	}
	return nil
}

// maskKey shows a key as Stripe does in errors: its sk_test_-style prefix and last four characters.
func maskKey(key string) string {
	prefix := ""
	if parts := strings.SplitN(key, "_", 3); len(parts) == 3 && len(parts[0]) <= 3 {
		prefix = parts[0] + "_" + parts[1] + "_"
	}
	rest := key[len(prefix):]
	if len(rest) <= 4 {
		return prefix + strings.Repeat("*", len(rest))
	}
	return prefix + strings.Repeat("*", len(rest)-4) + rest[len(rest)-4:]
}

// faultError is Stripe's answer for a status injected by Options.Fault.
func faultError(status int) *apiError {
	switch {
	case status == http.StatusTooManyRequests:
		return &apiError{status: status, Type: "invalid_request_error", Code: "rate_limit",
			DocURL:  "https://stripe.com/docs/error-codes/rate-limit",
			Message: "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."}
	case status >= 500:
		return &apiError{status: status, Type: "api_error", Message: "An unknown error occurred"}
	default:
		return &apiError{status: status, Type: "invalid_request_error", Message: http.StatusText(status)}
	}
}

func writeError(w http.ResponseWriter, e *apiError) {
	b, _ := json.Marshal(map[string]*apiError{"error": e})
	w.Header().Set("Content-Type", "application/json")
	if e.status == http.StatusTooManyRequests || e.status >= 500 {
		w.Header().Set("Stripe-Should-Retry", "true")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(e.status)
	_, _ = w.Write(append(b, '\n'))
}

// view is how a request asks to see objects: in an API version before 2025-03-31.basil
// (legacy), and with which fields expanded (expand[]=data.discounts: the list's objects'
// discounts; https://docs.stripe.com/expand). Unexpanded, an expandable field is an id.
type view struct {
	legacy bool
	expand map[string]bool
}

// collection is one list endpoint: its objects newest first and how to filter and render them.
type collection struct {
	url     string
	noun    string
	ids     []string
	created []int64
	pos     map[string]int
	render  func(i int, v view) any
	// params are the endpoint's own filters; filter turns them into a predicate.
	params map[string]bool
	// paramPattern, when set, matches more of the endpoint's own parameters (types[0], ...).
	paramPattern *regexp.Regexp
	filter       func(q url.Values) (func(i int) bool, *apiError)
}

func newCollection(url, noun string, n int, id func(i int) string, created func(i int) int64) *collection {
	c := &collection{url: url, noun: noun, ids: make([]string, n), created: make([]int64, n), pos: make(map[string]int, n)}
	for i := range n {
		c.ids[i], c.created[i] = id(i), created(i)
		c.pos[c.ids[i]] = i
	}
	return c
}

func customersCollection(st *store) *collection {
	c := newCollection(PathCustomers, "customer", len(st.customers),
		func(i int) string { return st.customers[i].ID }, func(i int) int64 { return st.customers[i].Created })
	c.render = func(i int, _ view) any { return st.customers[i] }
	c.params = map[string]bool{"email": true}
	c.filter = func(q url.Values) (func(int) bool, *apiError) {
		email, ok := q["email"]
		if !ok {
			return nil, nil
		}
		return func(i int) bool { return strings.EqualFold(st.customers[i].Email, email[0]) }, nil
	}
	return c
}

// subscriptionStatuses are the values of the status filter of GET /v1/subscriptions.
var subscriptionStatuses = []string{"active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid"}

func subscriptionsCollection(st *store) *collection {
	c := newCollection(PathSubscriptions, "subscription", len(st.subscriptions),
		func(i int) string { return st.subscriptions[i].ID }, func(i int) int64 { return st.subscriptions[i].Created })
	c.render = func(i int, v view) any { return st.subscriptions[i].asVersion(v.legacy).expanded(st, v) }
	c.params = map[string]bool{"status": true, "customer": true, "price": true, "collection_method": true}
	c.filter = func(q url.Values) (func(int) bool, *apiError) {
		status := q.Get("status")
		if _, set := q["status"]; set && !contains(subscriptionStatuses, status) {
			return nil, invalidRequest("status", "Invalid status: must be one of %s, or %s",
				strings.Join(subscriptionStatuses[:len(subscriptionStatuses)-1], ", "), subscriptionStatuses[len(subscriptionStatuses)-1])
		}
		customer, price, method := q.Get("customer"), q.Get("price"), q.Get("collection_method")
		return func(i int) bool {
			s := &st.subscriptions[i]
			switch status {
			case "":
				// By default, subscriptions that have not been canceled.
				if s.Status == "canceled" || s.Status == "incomplete_expired" {
					return false
				}
			case "all":
			case "ended":
				if s.Status != "canceled" && s.Status != "incomplete_expired" {
					return false
				}
			default:
				if s.Status != status {
					return false
				}
			}
			if customer != "" && s.Customer != customer {
				return false
			}
			if price != "" && s.Items.Data[0].Price.ID != price {
				return false
			}
			return method == "" || s.CollectionMethod == method
		}, nil
	}
	return c
}

// invoiceStatuses are the values of the status filter of GET /v1/invoices.
var invoiceStatuses = []string{"draft", "open", "paid", "uncollectible", "void"}

func invoicesCollection(st *store) *collection {
	c := newCollection(PathInvoices, "invoice", len(st.invoices),
		func(i int) string { return st.invoices[i].ID }, func(i int) int64 { return st.invoices[i].Created })
	c.render = func(i int, v view) any { return st.invoices[i].asVersion(v.legacy) }
	c.params = map[string]bool{"status": true, "customer": true, "subscription": true, "collection_method": true}
	c.filter = func(q url.Values) (func(int) bool, *apiError) {
		status := q.Get("status")
		if _, set := q["status"]; set && !contains(invoiceStatuses, status) {
			return nil, invalidRequest("status", "Invalid status: must be one of draft, open, paid, uncollectible, or void")
		}
		customer, sub, method := q.Get("customer"), q.Get("subscription"), q.Get("collection_method")
		return func(i int) bool {
			inv := &st.invoices[i]
			if status != "" && inv.Status != status {
				return false
			}
			if customer != "" && inv.Customer != customer {
				return false
			}
			if sub != "" && (inv.Subscription == nil || *inv.Subscription != sub) {
				return false
			}
			return method == "" || inv.CollectionMethod == method
		}, nil
	}
	return c
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

var (
	createdParam = regexp.MustCompile(`^created(\[(gt|gte|lt|lte)\])?$`)
	expandParam  = regexp.MustCompile(`^expand\[\d*\]$`)
)

// page answers one list request.
func (c *collection) page(q url.Values, legacy bool) (any, *apiError) {
	for k := range q {
		switch {
		case k == "limit" || k == "starting_after" || k == "ending_before":
		case createdParam.MatchString(k), expandParam.MatchString(k), c.params[k]:
		case c.paramPattern != nil && c.paramPattern.MatchString(k):
		default:
			return nil, invalidRequest(k, "Received unknown parameter: %s", k)
		}
	}
	limit := DefaultLimit
	if s, ok := q["limit"]; ok {
		n, err := strconv.Atoi(s[0])
		if err != nil {
			return nil, invalidRequest("limit", "Invalid integer: %s", s[0])
		}
		if n < 1 || n > MaxLimit {
			return nil, invalidRequest("limit", "Invalid limit: must be between 1 and %d", MaxLimit)
		}
		limit = n
	}
	keep, e := c.createdFilter(q)
	if e != nil {
		return nil, e
	}
	own, e := c.filter(q)
	if e != nil {
		return nil, e
	}
	match := func(i int) bool { return (keep == nil || keep(i)) && (own == nil || own(i)) }
	after, before := q.Get("starting_after"), q.Get("ending_before")
	if after != "" && before != "" {
		return nil, invalidRequest("ending_before", "You may only specify one of these parameters: ending_before, starting_after.")
	}
	var idx []int
	hasMore := false
	switch {
	case before != "":
		p, ok := c.pos[before]
		if !ok {
			return nil, c.missing("ending_before", before)
		}
		for i := p - 1; i >= 0; i-- {
			if !match(i) {
				continue
			}
			if len(idx) == limit {
				hasMore = true
				break
			}
			idx = append(idx, i)
		}
		for l, r := 0, len(idx)-1; l < r; l, r = l+1, r-1 { // back into list order
			idx[l], idx[r] = idx[r], idx[l]
		}
	default:
		start := 0
		if after != "" {
			p, ok := c.pos[after]
			if !ok {
				return nil, c.missing("starting_after", after)
			}
			start = p + 1
		}
		for i := start; i < len(c.ids); i++ {
			if !match(i) {
				continue
			}
			if len(idx) == limit {
				hasMore = true
				break
			}
			idx = append(idx, i)
		}
	}
	v := view{legacy: legacy, expand: map[string]bool{}}
	for k, vs := range q {
		if expandParam.MatchString(k) {
			for _, x := range vs {
				v.expand[x] = true
			}
		}
	}
	data := make([]any, len(idx))
	for k, i := range idx {
		data[k] = c.render(i, v)
	}
	return list[any]{Object: "list", Data: data, HasMore: hasMore, URL: c.url}, nil
}

func (c *collection) missing(param, id string) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Code: "resource_missing",
		DocURL: "https://stripe.com/docs/error-codes/resource-missing", Param: param,
		Message: fmt.Sprintf("No such %s: '%s'", c.noun, id)}
}

// createdFilter reads created=<unix> and created[gt|gte|lt|lte]=<unix>.
func (c *collection) createdFilter(q url.Values) (func(int) bool, *apiError) {
	type bound struct {
		op string
		v  int64
	}
	var bounds []bound
	for k, vs := range q {
		m := createdParam.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		v, err := strconv.ParseInt(vs[0], 10, 64)
		if err != nil {
			return nil, invalidRequest(k, "Invalid integer: %s", vs[0])
		}
		op := m[2]
		if op == "" {
			op = "eq"
		}
		bounds = append(bounds, bound{op, v})
	}
	if len(bounds) == 0 {
		return nil, nil
	}
	return func(i int) bool {
		t := c.created[i]
		for _, b := range bounds {
			ok := true
			switch b.op {
			case "eq":
				ok = t == b.v
			case "gt":
				ok = t > b.v
			case "gte":
				ok = t >= b.v
			case "lt":
				ok = t < b.v
			case "lte":
				ok = t <= b.v
			}
			if !ok {
				return false
			}
		}
		return true
	}, nil
}
