// Package hubspot serves a demo.Company through a fake of HubSpot's CRM v3 API: the companies
// and deals object lists and the owners list, with HubSpot's paging, property selection,
// associations, error bodies and rate-limit headers.
//
// The company should have HubSpot-style account ids (demo.IDStyleHubSpot): an account id is
// used as the HubSpot company id. Deal ids come from the opportunity ids (DealID), owner ids
// from the owner names (OwnerID). docs/vendors/hubspot.md describes the mapping.
package hubspot

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
)

// Paths served, relative to https://api.hubapi.com.
const (
	// PathCompanies lists companies.
	PathCompanies = "/crm/v3/objects/companies"
	// PathDeals lists deals.
	PathDeals = "/crm/v3/objects/deals"
	// PathOwners lists owners (the users records are assigned to).
	PathOwners = "/crm/v3/owners"
)

// Page sizes, as HubSpot documents them.
const (
	// DefaultLimit is the object page size when limit is absent.
	DefaultLimit = 10
	// MaxLimit is the largest object page; a larger limit is a 400 VALIDATION_ERROR.
	MaxLimit = 100
	// OwnersDefaultLimit is the owners page size when limit is absent.
	OwnersDefaultLimit = 100
	// OwnersMaxLimit is the largest owners page.
	OwnersMaxLimit = 500
)

// Rate limit advertised in the X-HubSpot-RateLimit-* headers (a Professional private app).
const (
	rateMax        = 190
	rateIntervalMs = 10_000
	rateDaily      = 625_000
)

// timeLayout is how HubSpot writes datetimes: UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Default properties returned when a request names none.
var (
	defaultCompanyProps = []string{"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"}
	defaultDealProps    = []string{"amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate", "hs_object_id", "pipeline"}
	// alwaysProps come back whatever properties were asked for.
	alwaysProps = []string{"createdate", "hs_lastmodifieddate", "hs_object_id"}
)

// object is one CRM record: its properties as HubSpot returns them (strings; nil is null).
type object struct {
	id                   string
	props                map[string]*string
	createdAt, updatedAt time.Time
	companyID            string // deals: the primary company
	otherCompanies       []otherCompany
}

// otherCompany is a further company a deal is associated with: a partner or the customer's
// parent, say. It is never the deal's account.
type otherCompany struct {
	id    string
	label string // a custom association label, listed as its own type; "" when unlabeled
}

// objectType is one object list: its records in id order and the properties it defines.
type objectType struct {
	name         string // companies, deals
	records      []object
	index        map[string]int // id -> position
	defined      map[string]bool
	defaultProps []string
}

// owner is one HubSpot owner.
type owner struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Type      string `json:"type"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	UserID    int64  `json:"userId"`
	UserIDAll int64  `json:"userIdIncludingInactive"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	Archived  bool   `json:"archived"`
}

// Fault makes one request fail the way HubSpot fails.
type Fault struct {
	// Request is the 1-based number of the request, counted over every path, that fails.
	Request int64
	// Status is 429 (a rate limit: RATE_LIMIT body, X-HubSpot-RateLimit-Remaining 0), or a
	// 5xx (an INTERNAL_ERROR body).
	Status int
	// Policy names the limit a 429 hit: TEN_SECONDLY_ROLLING (default: the 10-second window,
	// X-HubSpot-RateLimit-Remaining 0), SECONDLY (the per-second limit,
	// X-HubSpot-RateLimit-Secondly-Remaining 0) or DAILY (X-HubSpot-RateLimit-Daily-Remaining 0).
	Policy string
}

// API is the fake HubSpot CRM API over one demo company. It is an http.Handler.
type API struct {
	token     string
	companies *objectType
	deals     *objectType
	owners    []owner

	mu       sync.Mutex
	requests int64
	faults   map[int64]Fault
	archived map[string]time.Time // object id -> archivedAt
	w        writeState           // the write side (write.go)
}

// NewHandler returns the fake HubSpot API for c, accepting token as the private app token.
func NewHandler(c *demo.Company, token string) http.Handler { return New(c, token) }

// New builds the fake HubSpot API for c, accepting token as the private app token.
func New(c *demo.Company, token string) *API {
	a := &API{token: token, faults: map[int64]Fault{}, archived: map[string]time.Time{}}
	ownerIDs := a.buildOwners(c)
	a.companies = buildCompanies(c, ownerIDs)
	a.deals = buildDeals(c, ownerIDs)
	a.initWrite()
	return a
}

// InjectFault makes request f.Request fail with f.Status.
func (a *API) InjectFault(f Fault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults[f.Request] = f
}

// Archive archives companies or deals by id at time at: they leave the default lists and are
// listed with archived=true.
func (a *API) Archive(at time.Time, ids ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range ids {
		a.archived[id] = at.UTC()
	}
}

// Requests returns how many requests reached the API (authorized or not).
func (a *API) Requests() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

func (a *API) buildOwners(c *demo.Company) map[string]string {
	seen := map[string]bool{}
	for _, acc := range c.Accounts {
		seen[acc.Owner] = true
	}
	for _, o := range c.Opportunities {
		seen[o.Owner] = true
	}
	delete(seen, "")
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	ids := make(map[string]string, len(names))
	created := c.Start.Format(timeLayout)
	for i, n := range names {
		first, last, _ := strings.Cut(n, " ")
		id := OwnerID(i)
		ids[n] = id
		a.owners = append(a.owners, owner{
			ID:        id,
			Email:     strings.ToLower(first+"."+strings.ReplaceAll(last, " ", "")) + "@demo-company.example",
			Type:      "PERSON",
			FirstName: first,
			LastName:  last,
			UserID:    int64(7_000_001 + i),
			UserIDAll: int64(7_000_001 + i),
			CreatedAt: created,
			UpdatedAt: created,
		})
	}
	return ids
}

func str(s string) *string { return &s }

func ts(t time.Time) *string { return str(t.UTC().Format(timeLayout)) }

func num(f float64) *string { return str(strconv.FormatFloat(f, 'f', -1, 64)) }

func boolStr(b bool) *string { return str(strconv.FormatBool(b)) }

func newType(name string, defaults []string, props ...string) *objectType {
	t := &objectType{name: name, index: map[string]int{}, defined: map[string]bool{}, defaultProps: defaults}
	for _, p := range props {
		t.defined[p] = true
	}
	return t
}

func (t *objectType) add(o object) {
	t.index[o.id] = len(t.records)
	t.records = append(t.records, o)
}

func buildCompanies(c *demo.Company, owners map[string]string) *objectType {
	t := newType("companies", defaultCompanyProps, "name", "domain", "industry", "numberofemployees", "annualrevenue",
		"country", "hubspot_owner_id", "createdate", "hs_lastmodifieddate", "hs_object_id", "lifecyclestage",
		PropStrategic, PropStrategicReasons)
	for _, acc := range c.Accounts {
		p := map[string]*string{
			"name":                str(acc.Name),
			"domain":              str(demo.WebDomain(acc.Name)),
			"numberofemployees":   str(strconv.Itoa(acc.EmployeeCount)),
			"annualrevenue":       num(acc.AnnualRevenue),
			"hubspot_owner_id":    nil,
			"createdate":          ts(acc.CreatedAt),
			"hs_lastmodifieddate": ts(acc.UpdatedAt),
			"hs_object_id":        str(acc.ID),
			PropStrategic:         boolStr(acc.IsStrategic),
			PropStrategicReasons:  nil,
		}
		if v, ok := Industries[acc.Industry]; ok {
			p["industry"] = str(v)
		}
		if name, ok := demo.CountryNames[acc.Country]; ok {
			p["country"] = str(name)
		} else if acc.Country != "" {
			p["country"] = str(acc.Country)
		}
		if id, ok := owners[acc.Owner]; ok {
			p["hubspot_owner_id"] = str(id)
		}
		if acc.StrategicReasons != "" {
			p[PropStrategicReasons] = str(acc.StrategicReasons)
		}
		t.add(object{id: acc.ID, props: p, createdAt: acc.CreatedAt, updatedAt: acc.UpdatedAt})
	}
	return t
}

func buildDeals(c *demo.Company, owners map[string]string) *objectType {
	t := newType("deals", defaultDealProps, "dealname", "amount", "deal_currency_code", "dealstage", "pipeline",
		"closedate", "createdate", "hs_lastmodifieddate", "hs_object_id", "hubspot_owner_id", "hs_is_closed",
		"hs_is_closed_won", "hs_v2_date_entered_current_stage", "hs_manual_forecast_category", "dealtype",
		"closed_lost_reason", "notes_last_updated", PropMotion, PropLeadSource, PropProduct, PropLastActivityType)
	for i, o := range c.Opportunities {
		closeDate := o.CreatedAt.AddDate(0, 0, 90) // the expected close date of an open deal
		if o.ClosedAt != nil {
			closeDate = *o.ClosedAt
		}
		dealType := "existingbusiness"
		if o.Motion == "new_business" {
			dealType = "newbusiness"
		}
		p := map[string]*string{
			"dealname":                         str(o.Name),
			"amount":                           num(o.Amount),
			"deal_currency_code":               str(o.Currency),
			"dealstage":                        nil,
			"pipeline":                         str("default"),
			"closedate":                        ts(closeDate),
			"createdate":                       ts(o.CreatedAt),
			"hs_lastmodifieddate":              ts(o.UpdatedAt),
			"hs_object_id":                     str(DealID(o.ID)),
			"hubspot_owner_id":                 nil,
			"hs_is_closed":                     boolStr(o.IsClosed),
			"hs_is_closed_won":                 boolStr(o.IsClosed && o.IsWon),
			"hs_v2_date_entered_current_stage": ts(o.StageEnteredAt),
			"hs_manual_forecast_category":      nil,
			"dealtype":                         str(dealType),
			"closed_lost_reason":               nil,
			"notes_last_updated":               nil,
			PropMotion:                         str(o.Motion),
			PropLeadSource:                     str(o.LeadSource),
			PropProduct:                        str(o.Product),
			PropLastActivityType:               nil,
		}
		if v, ok := DealStages[o.Stage]; ok {
			p["dealstage"] = str(v)
		}
		if id, ok := owners[o.Owner]; ok {
			p["hubspot_owner_id"] = str(id)
		}
		if v, ok := ForecastCategories[o.ForecastCategory]; ok {
			p["hs_manual_forecast_category"] = str(v)
		}
		if o.LossReason != nil {
			text, ok := LossReasons[*o.LossReason]
			if !ok {
				text = *o.LossReason
			}
			p["closed_lost_reason"] = str(text)
		}
		if !o.LastActivityAt.IsZero() {
			p["notes_last_updated"] = ts(o.LastActivityAt)
			p[PropLastActivityType] = str(o.LastActivityType)
		}
		t.add(object{id: DealID(o.ID), props: p, createdAt: o.CreatedAt, updatedAt: o.UpdatedAt, companyID: o.AccountID,
			otherCompanies: otherCompanies(c, i, o.AccountID)})
	}
	// HubSpot lists objects in id order; deal ids follow the opportunity numbers, so they are
	// in order already, but sort to be sure for any id width.
	slices.SortStableFunc(t.records, func(x, y object) int { return compareIDs(x.id, y.id) })
	for i, r := range t.records {
		t.index[r.id] = i
	}
	return t
}

// otherCompanies gives every seventh deal (the i-th opportunity) a second associated company, a
// third of those with the custom label "partner": the account two places before its own in the
// company's list, so its id sorts first as often as not.
func otherCompanies(c *demo.Company, i int, accountID string) []otherCompany {
	if i%7 != 3 || accountID == "" || len(c.Accounts) < 3 {
		return nil
	}
	at := slices.IndexFunc(c.Accounts, func(a demo.Account) bool { return a.ID == accountID })
	if at < 0 {
		return nil
	}
	other := c.Accounts[(at+len(c.Accounts)-2)%len(c.Accounts)].ID
	label := ""
	if i%21 == 3 {
		label = "partner"
	}
	return []otherCompany{{id: other, label: label}}
}

// companyAssociations lists a deal's company associations as GET /crm/v3/objects/deals with
// associations=companies does: every associated company once as deal_to_company_unlabeled, the
// primary company once more as deal_to_company (the HubSpot-defined "Deal with Primary
// Company", typeId 5), and a company with a custom label once more under the label's name
// (https://developers.hubspot.com/docs/api/crm/associations, "HubSpot defined association
// types": the unlabeled type "will always [be] returned", a primary or custom label "listed
// alongside" it; the response shape is HubSpot's community answer "Object data fetch - sorting
// out associations", https://community.hubspot.com/t5/APIs-Integrations/Object-data-fetch-sorting-out-associations/td-p/658333).
// HubSpot documents no order: the fake lists them by company id, so the primary company is not
// first whenever another company's id sorts before it.
func companyAssociations(o *object) []association {
	out := []association{{ID: o.companyID, Type: "deal_to_company"}, {ID: o.companyID, Type: "deal_to_company_unlabeled"}}
	for _, c := range o.otherCompanies {
		out = append(out, association{ID: c.id, Type: "deal_to_company_unlabeled"})
		if c.label != "" {
			out = append(out, association{ID: c.id, Type: c.label})
		}
	}
	slices.SortStableFunc(out, func(x, y association) int { return compareIDs(x.ID, y.ID) })
	return out
}

// compareIDs orders numeric ids numerically, others as text.
func compareIDs(a, b string) int {
	if len(a) != len(b) {
		if _, err := strconv.ParseUint(a, 10, 64); err == nil {
			if _, err := strconv.ParseUint(b, 10, 64); err == nil {
				return len(a) - len(b)
			}
		}
	}
	return strings.Compare(a, b)
}

// apiError is HubSpot's error body.
type apiError struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
	Category      string `json:"category"`
	ErrorType     string `json:"errorType,omitempty"`
	PolicyName    string `json:"policyName,omitempty"`
}

// ServeHTTP answers one request: auth (401), fault injection, then the list endpoints.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests++
	n := a.requests
	fault, faulty := a.faults[n]
	a.mu.Unlock()
	a.countCall(r)

	cid := correlationID(n)
	a.rateHeaders(w, n, false)
	if !a.authorized(r.Header.Get("Authorization")) {
		msg := "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
		if r.Header.Get("Authorization") != "" {
			msg = "The OAuth token used to make this call is invalid or has been revoked."
		}
		writeJSON(w, http.StatusUnauthorized, apiError{Status: "error", Message: msg, CorrelationID: cid, Category: "INVALID_AUTHENTICATION"})
		return
	}
	if faulty {
		a.fail(w, fault, n, cid)
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	var list func(http.ResponseWriter, *http.Request, string)
	switch path {
	case PathCompanies:
		list = func(w http.ResponseWriter, r *http.Request, cid string) { a.listObjects(w, r, a.companies, cid) }
	case PathDeals:
		list = func(w http.ResponseWriter, r *http.Request, cid string) { a.listObjects(w, r, a.deals, cid) }
	case PathOwners:
		list = a.listOwners
	default:
		if a.serveWrite(w, r, path, cid) {
			return
		}
		msg := "Not found: " + r.URL.Path
		if rest, ok := strings.CutPrefix(path, "/crm/v3/objects/"); ok && !strings.Contains(rest, "/") {
			msg = "Unable to infer object type from: " + rest
		}
		writeJSON(w, http.StatusNotFound, apiError{Status: "error", Message: msg, CorrelationID: cid, Category: "OBJECT_NOT_FOUND"})
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeJSON(w, http.StatusMethodNotAllowed, apiError{Status: "error", Message: "This fake HubSpot API is read-only: " + r.Method + " is not supported", CorrelationID: cid, Category: "VALIDATION_ERROR"})
		return
	}
	list(w, r, cid)
}

func (a *API) authorized(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || a.token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(a.token)) == 1
}

// rateHeaders sets the X-HubSpot-RateLimit-* headers HubSpot sends to private apps.
func (a *API) rateHeaders(w http.ResponseWriter, n int64, exhausted bool) {
	h := w.Header()
	remaining := rateMax - 1 - (n-1)%rateMax
	if exhausted {
		remaining = 0
	}
	h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(rateDaily))
	h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.FormatInt(max(0, rateDaily-n), 10))
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.Itoa(rateIntervalMs))
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(rateMax))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.FormatInt(remaining, 10))
}

func (a *API) fail(w http.ResponseWriter, f Fault, n int64, cid string) {
	if f.Status != http.StatusTooManyRequests {
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		writeJSON(w, status, apiError{Status: "error", Message: "internal error", CorrelationID: cid, Category: "INTERNAL_ERROR"})
		return
	}
	policy := f.Policy
	if policy == "" {
		policy = "TEN_SECONDLY_ROLLING"
	}
	switch policy {
	case "SECONDLY":
		w.Header().Set("X-HubSpot-RateLimit-Secondly", strconv.Itoa(rateMax/10))
		w.Header().Set("X-HubSpot-RateLimit-Secondly-Remaining", "0")
	case "DAILY":
		w.Header().Set("X-HubSpot-RateLimit-Daily-Remaining", "0")
	default:
		a.rateHeaders(w, n, true)
	}
	writeJSON(w, http.StatusTooManyRequests, apiError{
		Status: "error", Message: "You have reached your " + strings.ToLower(policy) + " limit.",
		CorrelationID: cid, Category: "RATE_LIMITS", ErrorType: "RATE_LIMIT", PolicyName: policy,
	})
}

// correlationID is a deterministic UUID-shaped id for request n.
func correlationID(n int64) string {
	return fmt.Sprintf("%08x-5b0c-4e1f-9d2a-%012x", uint32(n*2654435761), n)
}

type paging struct {
	Next *struct {
		After string `json:"after"`
		Link  string `json:"link"`
	} `json:"next,omitempty"`
}

type association struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type associationList struct {
	Results []association `json:"results"`
}

type record struct {
	ID           string                     `json:"id"`
	Properties   map[string]*string         `json:"properties"`
	CreatedAt    string                     `json:"createdAt"`
	UpdatedAt    string                     `json:"updatedAt"`
	Archived     bool                       `json:"archived"`
	ArchivedAt   string                     `json:"archivedAt,omitempty"`
	Associations map[string]associationList `json:"associations,omitempty"`
}

type listPage[T any] struct {
	Results []T     `json:"results"`
	Paging  *paging `json:"paging,omitempty"`
}

func badRequest(w http.ResponseWriter, cid, msg string) {
	writeJSON(w, http.StatusBadRequest, apiError{Status: "error", Message: msg, CorrelationID: cid, Category: "VALIDATION_ERROR"})
}

// limitParam reads limit: def when absent; 1..maxV else an error message.
func limitParam(q url.Values, def, maxV int) (int, string) {
	s := q.Get("limit")
	if s == "" {
		return def, ""
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxV {
		return 0, fmt.Sprintf("limit must be an integer from 1 to %d, got %q", maxV, s)
	}
	return n, ""
}

// archivedParam reads archived: false when absent.
func archivedParam(q url.Values) (bool, string) {
	switch s := q.Get("archived"); s {
	case "", "false":
		return false, ""
	case "true":
		return true, ""
	default:
		return false, fmt.Sprintf("archived must be true or false, got %q", s)
	}
}

// listParam reads a list parameter given comma-separated, repeated, or both.
func listParam(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// encodeAfter makes the paging cursor pointing at the record with this id.
func encodeAfter(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeAfter(s string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return string(b), err == nil && len(b) > 0
}

func (a *API) listObjects(w http.ResponseWriter, r *http.Request, t *objectType, cid string) {
	q := r.URL.Query()
	limit, msg := limitParam(q, DefaultLimit, MaxLimit)
	if msg != "" {
		badRequest(w, cid, msg)
		return
	}
	archived, msg := archivedParam(q)
	if msg != "" {
		badRequest(w, cid, msg)
		return
	}
	start := 0
	if after := q.Get("after"); after != "" {
		id, ok := decodeAfter(after)
		pos, known := t.index[id]
		if !ok || !known {
			badRequest(w, cid, fmt.Sprintf("after %q is not a paging cursor of this list", after))
			return
		}
		start = pos
	}
	props := listParam(q, "properties")
	if len(props) == 0 {
		props = t.defaultProps
	}
	withCompanies := t.name == "deals" && slices.ContainsFunc(listParam(q, "associations"), func(s string) bool {
		s = strings.ToLower(s)
		return s == "companies" || s == "company" || s == "0-2"
	})

	want := slices.Concat(props, alwaysProps)
	a.mu.Lock()
	var page []record
	next := ""
	for i := start; i < len(t.records); i++ {
		o := &t.records[i]
		at, isArchived := a.archived[o.id]
		if isArchived != archived {
			continue
		}
		if len(page) == limit {
			next = o.id
			break
		}
		rec := record{ID: o.id, Properties: map[string]*string{}, CreatedAt: o.createdAt.UTC().Format(timeLayout),
			UpdatedAt: o.updatedAt.UTC().Format(timeLayout), Archived: isArchived}
		if isArchived {
			rec.ArchivedAt = at.Format(timeLayout)
			if at.After(o.updatedAt) {
				rec.UpdatedAt = rec.ArchivedAt
			}
		}
		for _, p := range want {
			if t.defined[p] {
				rec.Properties[p] = o.props[p]
			}
		}
		if withCompanies && o.companyID != "" {
			rec.Associations = map[string]associationList{"companies": {Results: companyAssociations(o)}}
		}
		page = append(page, rec)
	}
	a.mu.Unlock()

	out := listPage[record]{Results: page}
	if page == nil {
		out.Results = []record{}
	}
	if next != "" {
		out.Paging = nextPaging(r, encodeAfter(next))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) listOwners(w http.ResponseWriter, r *http.Request, cid string) {
	q := r.URL.Query()
	limit, msg := limitParam(q, OwnersDefaultLimit, OwnersMaxLimit)
	if msg != "" {
		badRequest(w, cid, msg)
		return
	}
	archived, msg := archivedParam(q)
	if msg != "" {
		badRequest(w, cid, msg)
		return
	}
	owners := a.owners
	if archived {
		owners = nil // no owner of the demo company is deactivated
	}
	start := 0
	if after := q.Get("after"); after != "" {
		id, ok := decodeAfter(after)
		start = slices.IndexFunc(owners, func(o owner) bool { return o.ID == id })
		if !ok || start < 0 {
			badRequest(w, cid, fmt.Sprintf("after %q is not a paging cursor of this list", after))
			return
		}
	}
	end := min(start+limit, len(owners))
	out := listPage[owner]{Results: append([]owner{}, owners[start:end]...)}
	if end < len(owners) {
		out.Paging = nextPaging(r, encodeAfter(owners[end].ID))
	}
	writeJSON(w, http.StatusOK, out)
}

// nextPaging builds paging.next: the cursor and the full URL of the next page. The URL is
// built from the request as the client sent it (RequestURI), so it is right behind a prefix.
func nextPaging(r *http.Request, after string) *paging {
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	if orig, err := url.ParseRequestURI(r.RequestURI); err == nil && orig.Path != "" {
		u.Path = orig.Path
	}
	q := r.URL.Query()
	q.Set("after", after)
	u.RawQuery = q.Encode()
	p := &paging{Next: &struct {
		After string `json:"after"`
		Link  string `json:"link"`
	}{After: after, Link: u.String()}}
	return p
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, `{"status":"error","message":"encoding failed","category":"INTERNAL_ERROR"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
