package hubspot

// The write side of the fake, for a sync job: batch updates of companies and deals and the
// properties API (properties and property groups). Each behaviour cites the HubSpot page it
// follows; docs/vendors/hubspot.md, "Write API (for sync)", lists them.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Write paths, relative to https://api.hubapi.com.
const (
	// PathCompaniesBatchUpdate updates up to MaxBatchInputs companies by id
	// (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/companies/batch/update-companies).
	PathCompaniesBatchUpdate = "/crm/v3/objects/companies/batch/update"
	// PathDealsBatchUpdate updates up to MaxBatchInputs deals by id.
	PathDealsBatchUpdate = "/crm/v3/objects/deals/batch/update"
	// PathCompaniesBatchRead reads up to MaxBatchInputs companies by id with the properties
	// asked for (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/objects/batch/get-objects).
	PathCompaniesBatchRead = "/crm/v3/objects/companies/batch/read"
	// PathDealsBatchRead reads deals the same way.
	PathDealsBatchRead = "/crm/v3/objects/deals/batch/read"
	// PathProperties is the prefix of the properties API: /crm/v3/properties/{objectType}
	// (https://developers.hubspot.com/docs/api/crm/properties).
	PathProperties = "/crm/v3/properties"
)

// MaxBatchInputs is the most inputs one batch update takes; more is a 400 VALIDATION_ERROR.
// HubSpot's CRM object batch endpoints take 100 records per request (HubSpot community,
// https://community.hubspot.com/t5/APIs-Integrations/Limit-for-contact-batch-API/m-p/1196389,
// pointing at https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/guide).
const MaxBatchInputs = 100

// Property is one property definition as the properties API returns it. Type and FieldType
// pair as HubSpot documents ("Property type and fieldType values",
// https://developers.hubspot.com/docs/api/crm/properties): string/text|textarea,
// number/number, enumeration/select|radio|checkbox|booleancheckbox, date/date,
// datetime/date, bool/booleancheckbox.
type Property struct {
	Name           string           `json:"name"`
	Label          string           `json:"label"`
	Type           string           `json:"type"`
	FieldType      string           `json:"fieldType"`
	GroupName      string           `json:"groupName"`
	Description    string           `json:"description"`
	Options        []PropertyOption `json:"options"`
	HubSpotDefined bool             `json:"hubspotDefined"`
	Archived       bool             `json:"archived"`
	CreatedAt      string           `json:"createdAt,omitempty"`
	UpdatedAt      string           `json:"updatedAt,omitempty"`
}

// PropertyOption is one allowed value of an enumeration property.
type PropertyOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	Description  string `json:"description,omitempty"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

// PropertyGroup is one property group (https://developers.hubspot.com/docs/api/crm/properties,
// "Property groups").
type PropertyGroup struct {
	Name         string `json:"name"`
	Label        string `json:"label"`
	DisplayOrder int    `json:"displayOrder"`
	Archived     bool   `json:"archived"`
}

// fieldTypes are the fieldType values each type admits.
var fieldTypes = map[string][]string{
	"string":      {"text", "textarea", "html", "phonenumber", "file"},
	"number":      {"number", "calculation_equation"},
	"enumeration": {"select", "radio", "checkbox", "booleancheckbox"},
	"date":        {"date"},
	"datetime":    {"date"},
	"bool":        {"booleancheckbox", "calculation_equation"},
}

// readOnly are the HubSpot-defined properties no update may set ("Read-only and non-existent
// properties cause an error", a third-party summary of the batch update endpoint,
// https://www.withone.ai/knowledge/hubspot/conn_mod_def%3A%3AGJ3k7tL4DwI%3A%3AHTw4vfaLRzyq9tudCFfm8A).
var readOnly = map[string]bool{"hs_object_id": true, "createdate": true, "hs_lastmodifieddate": true}

// Crash makes batch updates fail after a number of successful ones, as a server that dies in
// the middle of a sync.
type Crash struct {
	// AfterWrites is how many batch updates succeed first; 0 turns the crash off.
	AfterWrites int64
	// Drop closes the connection without an answer instead of a 500 INTERNAL_ERROR.
	Drop bool
	// Applied applies the failing batch before failing it: the client sees an error although
	// the records changed (the worst case for a retry).
	Applied bool
}

// writeState is the write side's state, guarded by API.mu.
type writeState struct {
	props   map[string]map[string]*Property      // objectType -> name -> definition
	groups  map[string]map[string]*PropertyGroup // objectType -> name -> group
	scopes  map[string]bool                      // nil: every scope granted
	calls   map[string]int64                     // "METHOD /path" -> requests
	writes  int64                                // successful batch updates
	crash   Crash
	changed map[string]map[string]map[string]string // objectType -> id -> property -> value written
}

func (a *API) initWrite() {
	a.w = writeState{
		props:   map[string]map[string]*Property{},
		groups:  map[string]map[string]*PropertyGroup{},
		calls:   map[string]int64{},
		changed: map[string]map[string]map[string]string{},
	}
	for _, t := range []*objectType{a.companies, a.deals} {
		a.w.props[t.name] = map[string]*Property{}
		a.w.changed[t.name] = map[string]map[string]string{}
		// HubSpot's default groups: companyinformation ("Company information"), dealinformation.
		singular := map[string]string{"companies": "company", "deals": "deal"}[t.name]
		info := singular + "information"
		a.w.groups[t.name] = map[string]*PropertyGroup{info: {Name: info, Label: strings.ToUpper(singular[:1]) + singular[1:] + " information"}}
		for name := range t.defined {
			a.w.props[t.name][name] = builtinProperty(name, info)
		}
	}
}

// builtinProperty describes a property the read side already defines.
func builtinProperty(name, group string) *Property {
	p := &Property{Name: name, Label: name, Type: "string", FieldType: "text", GroupName: group, HubSpotDefined: true, Options: []PropertyOption{}}
	switch name {
	case "numberofemployees", "annualrevenue", "amount":
		p.Type, p.FieldType = "number", "number"
	case "createdate", "hs_lastmodifieddate", "closedate", "notes_last_updated", "hs_v2_date_entered_current_stage":
		p.Type, p.FieldType = "datetime", "date"
	case "hs_is_closed", "hs_is_closed_won", PropStrategic:
		p.Type, p.FieldType = "bool", "booleancheckbox"
		p.Options = []PropertyOption{{Label: "Yes", Value: "true"}, {Label: "No", Value: "false", DisplayOrder: 1}}
	}
	return p
}

// SetScopes grants the private app token only these scopes (for example
// "crm.objects.companies.write", "crm.schemas.companies.write"); a call needing another is a
// 403 MISSING_SCOPES. Without SetScopes every scope is granted.
func (a *API) SetScopes(scopes ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.w.scopes = map[string]bool{}
	for _, s := range scopes {
		a.w.scopes[s] = true
	}
}

// CrashAfter arms c: batch updates after c.AfterWrites successful ones fail.
func (a *API) CrashAfter(c Crash) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.w.crash = c
}

// Calls returns how many requests reached method path (the path without the mount prefix,
// for example "POST /crm/v3/objects/companies/batch/update"), authorized or not.
func (a *API) Calls(method, path string) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w.calls[method+" "+strings.TrimSuffix(path, "/")]
}

// Writes returns how many batch updates succeeded (200 or 207).
func (a *API) Writes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.w.writes
}

// Properties returns the values batch updates wrote to the record id of objectType
// ("companies", "deals"): property -> value, nil when none were written.
func (a *API) Properties(objectType, id string) map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	got := a.w.changed[objectType][id]
	if got == nil {
		return nil
	}
	out := make(map[string]string, len(got))
	for k, v := range got {
		out[k] = v
	}
	return out
}

// DefineProperty creates a property as POST /crm/v3/properties/{objectType} would (its group
// must exist); for a test's set-up. It returns an error when the definition is refused.
func (a *API) DefineProperty(objectType string, p Property) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, msg := a.createProperty(objectType, p)
	if msg != "" {
		return fmt.Errorf("hubspot: define %s property %s: %s", objectType, p.Name, msg)
	}
	return nil
}

func (a *API) countCall(r *http.Request) {
	a.mu.Lock()
	a.w.calls[r.Method+" "+strings.TrimSuffix(r.URL.Path, "/")]++
	a.mu.Unlock()
}

func (a *API) objectTypeNamed(name string) *objectType {
	switch name {
	case "companies", "company", "0-2":
		return a.companies
	case "deals", "deal", "0-3":
		return a.deals
	}
	return nil
}

// serveWrite answers the write routes; false when path is none of them.
func (a *API) serveWrite(w http.ResponseWriter, r *http.Request, path, cid string) bool {
	switch {
	case path == PathCompaniesBatchUpdate || path == PathDealsBatchUpdate:
		if !a.method(w, r, cid, http.MethodPost) {
			return true
		}
		t := a.companies
		if path == PathDealsBatchUpdate {
			t = a.deals
		}
		if a.missingScope(w, cid, "crm.objects."+t.name+".write") {
			return true
		}
		a.batchUpdate(w, r, t, cid)
		return true
	case path == PathCompaniesBatchRead || path == PathDealsBatchRead:
		if !a.method(w, r, cid, http.MethodPost) {
			return true
		}
		t := a.companies
		if path == PathDealsBatchRead {
			t = a.deals
		}
		if a.missingScope(w, cid, "crm.objects."+t.name+".read") {
			return true
		}
		a.batchRead(w, r, t, cid)
		return true
	case strings.HasPrefix(path, PathProperties+"/"):
		parts := strings.Split(strings.TrimPrefix(path, PathProperties+"/"), "/")
		t := a.objectTypeNamed(parts[0])
		if t == nil {
			writeJSON(w, http.StatusNotFound, apiError{Status: "error", Message: "Unable to infer object type from: " + parts[0], CorrelationID: cid, Category: "OBJECT_NOT_FOUND"})
			return true
		}
		scope := "crm.schemas." + t.name + ".read"
		if r.Method != http.MethodGet {
			scope = "crm.schemas." + t.name + ".write"
		}
		switch {
		case len(parts) == 1:
			if a.method(w, r, cid, http.MethodGet, http.MethodPost) && !a.missingScope(w, cid, scope) {
				a.properties(w, r, t, cid)
			}
		case len(parts) == 2 && parts[1] == "groups":
			if a.method(w, r, cid, http.MethodGet, http.MethodPost) && !a.missingScope(w, cid, scope) {
				a.propertyGroups(w, r, t, cid)
			}
		case len(parts) == 2:
			if a.method(w, r, cid, http.MethodGet, http.MethodPatch) && !a.missingScope(w, cid, scope) {
				if r.Method == http.MethodPatch {
					a.updateProperty(w, r, t, parts[1], cid)
				} else {
					a.getProperty(w, t, parts[1], cid)
				}
			}
		default:
			writeJSON(w, http.StatusNotFound, apiError{Status: "error", Message: "Not found: " + r.URL.Path, CorrelationID: cid, Category: "OBJECT_NOT_FOUND"})
		}
		return true
	}
	return false
}

func (a *API) method(w http.ResponseWriter, r *http.Request, cid string, allowed ...string) bool {
	if slices.Contains(allowed, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, apiError{Status: "error", Message: r.Method + " is not supported here", CorrelationID: cid, Category: "VALIDATION_ERROR"})
	return false
}

// scopeError is the 403 body for a token without a scope the call needs: "Returned when the
// authentication provided does not have the proper permissions to access the specific URL"
// (https://developers.hubspot.com/docs/api-reference/error-handling); the body's errors and
// context follow the MISSING_SCOPES answers quoted at
// https://eshopman-com.pages.dev/insights/hubspot-development/hubspot-api-missing-scopes-error-demystifying-403-forbidden-for-e-commerce-integrations/.
type scopeError struct {
	apiError
	Errors []errorDetail     `json:"errors"`
	Links  map[string]string `json:"links"`
}

// errorDetail is one entry of an error's errors list.
type errorDetail struct {
	Message string         `json:"message"`
	Code    string         `json:"code,omitempty"`
	In      string         `json:"in,omitempty"`
	Context map[string]any `json:"context,omitempty"`
}

func (a *API) missingScope(w http.ResponseWriter, cid, scope string) bool {
	a.mu.Lock()
	granted := a.w.scopes == nil || a.w.scopes[scope]
	a.mu.Unlock()
	if granted {
		return false
	}
	writeJSON(w, http.StatusForbidden, scopeError{
		apiError: apiError{Status: "error", Message: "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.", CorrelationID: cid, Category: "MISSING_SCOPES"},
		Errors:   []errorDetail{{Message: "One or more of the following scopes are required.", Context: map[string]any{"requiredGranularScopes": []string{scope}}}},
		Links:    map[string]string{"scopes": "https://developers.hubspot.com/scopes"},
	})
	return true
}

// validationError is HubSpot's 400 with per-field details.
type validationError struct {
	apiError
	Errors []errorDetail `json:"errors,omitempty"`
}

type batchInput struct {
	ID         string             `json:"id"`
	IDProperty string             `json:"idProperty,omitempty"`
	Properties map[string]*string `json:"properties"`
}

// batchError is one failed record of a 207 (the errors[] items of the batch update reference).
type batchError struct {
	Status      string              `json:"status"`
	Category    string              `json:"category"`
	Message     string              `json:"message"`
	Context     map[string][]string `json:"context"`
	Errors      []errorDetail       `json:"errors"`
	SubCategory string              `json:"subCategory,omitempty"`
}

// batchResponse is the body of a batch update: 200 when every input succeeded, 207 with
// numErrors and errors when some failed ("Responses will either be a 200 when batch updates are
// fully successful or a 207 Multi-Status response when one or more of the batch operations
// fails", https://developers.hubspot.com/changelog/simplifying-batch-update-response-codes-for-crm-v3-apis).
type batchResponse struct {
	Status      string       `json:"status"`
	Results     []record     `json:"results"`
	NumErrors   int          `json:"numErrors,omitempty"`
	Errors      []batchError `json:"errors,omitempty"`
	RequestedAt string       `json:"requestedAt,omitempty"`
	StartedAt   string       `json:"startedAt"`
	CompletedAt string       `json:"completedAt"`
}

// batchUpdate applies POST .../batch/update. A malformed body, more than MaxBatchInputs inputs,
// a property that does not exist or is read-only, or a value its type refuses fails the whole
// batch with a 400 VALIDATION_ERROR ("Property values were not valid", the body HubSpot shows
// at https://developers.hubspot.com/changelog/upcoming-property-validations-rules-will-be-enforced-for-apis-and-integrations;
// "Read-only and non-existent properties cause an error", the summary cited at readOnly). An id that names no record (or an
// archived one) fails only that input: the others are applied and the answer is a 207.
func (a *API) batchUpdate(w http.ResponseWriter, r *http.Request, t *objectType, cid string) {
	var body struct {
		Inputs []batchInput `json:"inputs"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20))
	if err := dec.Decode(&body); err != nil {
		badRequest(w, cid, "Invalid input JSON on line 1: "+err.Error())
		return
	}
	if len(body.Inputs) == 0 {
		badRequest(w, cid, "Invalid input JSON: inputs must not be empty")
		return
	}
	if len(body.Inputs) > MaxBatchInputs {
		badRequest(w, cid, fmt.Sprintf("Batch input size %d exceeds the limit of %d inputs per request", len(body.Inputs), MaxBatchInputs))
		return
	}
	started := time.Now().UTC()

	a.mu.Lock()
	crash := a.w.crash
	crashing := crash.AfterWrites > 0 && a.w.writes >= crash.AfterWrites
	var invalid []errorDetail
	for _, in := range body.Inputs {
		if in.IDProperty != "" && in.IDProperty != "hs_object_id" {
			invalid = append(invalid, errorDetail{Message: "idProperty " + in.IDProperty + " is not a unique property", Code: "INVALID_ID_PROPERTY", In: "idProperty"})
		}
		names := make([]string, 0, len(in.Properties))
		for k := range in.Properties {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, name := range names {
			def := a.w.props[t.name][name]
			switch {
			case def == nil || def.Archived:
				invalid = append(invalid, errorDetail{Message: fmt.Sprintf("Property \"%s\" does not exist", name), Code: "PROPERTY_DOESNT_EXIST", In: name,
					Context: map[string]any{"propertyName": []string{name}}})
			case readOnly[name]:
				invalid = append(invalid, errorDetail{Message: fmt.Sprintf("%s is a read only property; its value cannot be set.", name), Code: "READ_ONLY_VALUE", In: name,
					Context: map[string]any{"propertyName": []string{name}}})
			default:
				if code, msg := checkValue(def, in.Properties[name]); code != "" {
					invalid = append(invalid, errorDetail{Message: msg, Code: code, In: name, Context: map[string]any{"propertyName": []string{name}}})
				}
			}
		}
	}
	if len(invalid) > 0 {
		a.mu.Unlock()
		parts := make([]string, len(invalid))
		for i, e := range invalid {
			b, _ := json.Marshal(map[string]any{"isValid": false, "message": e.Message, "error": e.Code, "name": e.In})
			parts[i] = string(b)
		}
		writeJSON(w, http.StatusBadRequest, validationError{
			apiError: apiError{Status: "error", Message: "Property values were not valid: [" + strings.Join(parts, ",") + "]", CorrelationID: cid, Category: "VALIDATION_ERROR"},
			Errors:   invalid,
		})
		return
	}
	if crashing && !crash.Applied {
		a.mu.Unlock()
		a.crashNow(w, crash, cid)
		return
	}
	now := time.Now().UTC()
	out := batchResponse{Status: "COMPLETE", Results: []record{}, StartedAt: started.Format(timeLayout)}
	var missing []string
	for _, in := range body.Inputs {
		pos, ok := t.index[in.ID]
		if _, archived := a.archived[in.ID]; !ok || archived {
			missing = append(missing, in.ID)
			continue
		}
		o := &t.records[pos]
		changed := a.w.changed[t.name][o.id]
		if changed == nil {
			changed = map[string]string{}
			a.w.changed[t.name][o.id] = changed
		}
		for name, v := range in.Properties {
			val := ""
			if v != nil {
				val = *v
			}
			changed[name] = val
			if val == "" {
				o.props[name] = nil // an empty string clears a value
			} else {
				o.props[name] = str(val)
			}
		}
		o.updatedAt = now
		o.props["hs_lastmodifieddate"] = ts(now)
		rec := record{ID: o.id, Properties: map[string]*string{}, CreatedAt: o.createdAt.UTC().Format(timeLayout), UpdatedAt: now.Format(timeLayout)}
		for name := range in.Properties {
			rec.Properties[name] = o.props[name]
		}
		for _, p := range alwaysProps {
			rec.Properties[p] = o.props[p]
		}
		out.Results = append(out.Results, rec)
	}
	a.w.writes++
	a.mu.Unlock()
	if crashing {
		a.crashNow(w, crash, cid)
		return
	}
	out.CompletedAt = time.Now().UTC().Format(timeLayout)
	writeJSON(w, out.notFound(t, missing), out)
}

// batchRead answers a batch read: {"inputs":[{"id"}], "properties":[...]} -> the records with
// the properties asked for (and the ones that always come back); ids of no record (or
// archived) are a 207 with OBJECT_NOT_FOUND errors, as the batch update.
func (a *API) batchRead(w http.ResponseWriter, r *http.Request, t *objectType, cid string) {
	var body struct {
		Inputs []struct {
			ID string `json:"id"`
		} `json:"inputs"`
		Properties []string `json:"properties"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20)).Decode(&body); err != nil {
		badRequest(w, cid, "Invalid input JSON on line 1: "+err.Error())
		return
	}
	if len(body.Inputs) == 0 || len(body.Inputs) > MaxBatchInputs {
		badRequest(w, cid, fmt.Sprintf("Batch input size %d: give 1 to %d inputs per request", len(body.Inputs), MaxBatchInputs))
		return
	}
	started := time.Now().UTC()
	a.mu.Lock()
	out := batchResponse{Status: "COMPLETE", Results: []record{}, StartedAt: started.Format(timeLayout)}
	var missing []string
	for _, in := range body.Inputs {
		pos, ok := t.index[in.ID]
		if _, archived := a.archived[in.ID]; !ok || archived {
			missing = append(missing, in.ID)
			continue
		}
		o := &t.records[pos]
		rec := record{ID: o.id, Properties: map[string]*string{}, CreatedAt: o.createdAt.UTC().Format(timeLayout), UpdatedAt: o.updatedAt.UTC().Format(timeLayout)}
		for _, name := range slices.Concat(body.Properties, alwaysProps) {
			rec.Properties[name] = o.props[name]
		}
		out.Results = append(out.Results, rec)
	}
	a.mu.Unlock()
	out.CompletedAt = time.Now().UTC().Format(timeLayout)
	writeJSON(w, out.notFound(t, missing), out)
}

// notFound adds an OBJECT_NOT_FOUND error per id HubSpot has no record of and returns the
// status of the answer: 207 multi-status with any, else 200.
func (out *batchResponse) notFound(t *objectType, missing []string) int {
	if len(missing) == 0 {
		return http.StatusOK
	}
	out.NumErrors = len(missing)
	for _, id := range missing {
		out.Errors = append(out.Errors, batchError{
			Status: "error", Category: "OBJECT_NOT_FOUND", Message: "Could not get some " + t.name + " objects, they may be deleted or not exist. Check that ids are valid.",
			Context: map[string][]string{"ids": {id}}, Errors: []errorDetail{},
		})
	}
	return http.StatusMultiStatus
}

// crashNow fails a write as a dying server: the connection closed, or a 500.
func (a *API) crashNow(w http.ResponseWriter, c Crash, cid string) {
	if c.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.(net.Conn).Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // the server closes the connection without an answer
	}
	writeJSON(w, http.StatusInternalServerError, apiError{Status: "error", Message: "internal error", CorrelationID: cid, Category: "INTERNAL_ERROR"})
}

// checkValue checks a value against its property's type: numbers must parse, an enumeration
// takes one of its options (checkbox: several joined by ';'), a bool true or false, a date
// midnight UTC in epoch milliseconds or YYYY-MM-DD, a datetime epoch milliseconds or ISO 8601
// (https://developers.hubspot.com/docs/api/crm/properties, "Property type and fieldType
// values"). Empty clears any property.
func checkValue(p *Property, v *string) (code, msg string) {
	if v == nil || *v == "" {
		return "", ""
	}
	s := *v
	switch p.Type {
	case "number":
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "INVALID_DECIMAL", fmt.Sprintf("%s was not a valid number.", s)
		}
	case "bool":
		if s != "true" && s != "false" {
			return "INVALID_OPTION", fmt.Sprintf("%s was not one of the allowed options: [true, false]", s)
		}
	case "enumeration":
		allowed := make([]string, len(p.Options))
		for i, o := range p.Options {
			allowed[i] = o.Value
		}
		values := []string{s}
		if p.FieldType == "checkbox" {
			values = strings.Split(s, ";")
		}
		for _, one := range values {
			if !slices.Contains(allowed, one) {
				return "INVALID_OPTION", fmt.Sprintf("%s was not one of the allowed options: [%s]", one, strings.Join(allowed, ", "))
			}
		}
	case "date":
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			if ms%86_400_000 != 0 {
				return "INVALID_DATE", fmt.Sprintf("%s is at %s UTC, which is not midnight!", s, time.UnixMilli(ms).UTC().Format("15:04:05"))
			}
		} else if _, err := time.Parse(time.DateOnly, s); err != nil {
			return "INVALID_DATE", fmt.Sprintf("%s was not a valid date.", s)
		}
	case "datetime":
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				return "INVALID_DATETIME", fmt.Sprintf("%s was not a valid datetime.", s)
			}
		}
	}
	return "", ""
}

// createProperty adds p to objectType t; msg explains a refusal, status its HTTP status.
// Called with a.mu held.
func (a *API) createProperty(objectType string, p Property) (int, string) {
	t := a.objectTypeNamed(objectType)
	if t == nil {
		return http.StatusNotFound, "Unable to infer object type from: " + objectType
	}
	switch {
	case p.Name == "" || p.Label == "" || p.Type == "" || p.FieldType == "" || p.GroupName == "":
		return http.StatusBadRequest, "name, label, type, fieldType and groupName are required"
	case strings.ToLower(p.Name) != p.Name || strings.ContainsAny(p.Name, " -.") || strings.HasPrefix(p.Name, "hs_"):
		return http.StatusBadRequest, fmt.Sprintf("%q is not a valid property name: use lower-case letters, digits and underscores, not starting with hs_", p.Name)
	case fieldTypes[p.Type] == nil:
		return http.StatusBadRequest, fmt.Sprintf("%q is not a valid property type", p.Type)
	case !slices.Contains(fieldTypes[p.Type], p.FieldType):
		return http.StatusBadRequest, fmt.Sprintf("fieldType %q is not valid for type %q: use one of %s", p.FieldType, p.Type, strings.Join(fieldTypes[p.Type], ", "))
	case p.Type == "enumeration" && len(p.Options) == 0:
		return http.StatusBadRequest, "an enumeration property needs options"
	case a.w.groups[t.name][p.GroupName] == nil:
		return http.StatusBadRequest, fmt.Sprintf("property group %s does not exist", p.GroupName)
	case a.w.props[t.name][p.Name] != nil:
		return http.StatusConflict, fmt.Sprintf("A property named '%s' already exists.", p.Name)
	}
	now := time.Now().UTC().Format(timeLayout)
	p.HubSpotDefined, p.Archived, p.CreatedAt, p.UpdatedAt = false, false, now, now
	if p.Options == nil {
		p.Options = []PropertyOption{}
	}
	a.w.props[t.name][p.Name] = &p
	t.defined[p.Name] = true
	return http.StatusCreated, ""
}

// properties answers GET (every property of the object type, {"results": [...]}) and POST
// (create; 201 with the property, 409 CONFLICT when the name is taken: "Returns a 409 Conflict
// error if there is already a property with the 'name' you used",
// https://developers.HubSpot.com/docs/methods/contacts/v2/create_contacts_property; the v3
// request body is https://developers.hubspot.com/docs/api-reference/latest/crm/properties/create-property).
func (a *API) properties(w http.ResponseWriter, r *http.Request, t *objectType, cid string) {
	if r.Method == http.MethodGet {
		a.mu.Lock()
		out := listPage[Property]{Results: []Property{}}
		for _, p := range a.w.props[t.name] {
			out.Results = append(out.Results, *p)
		}
		a.mu.Unlock()
		slices.SortFunc(out.Results, func(x, y Property) int { return strings.Compare(x.Name, y.Name) })
		writeJSON(w, http.StatusOK, out)
		return
	}
	var p Property
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&p); err != nil {
		badRequest(w, cid, "Invalid input JSON on line 1: "+err.Error())
		return
	}
	a.mu.Lock()
	status, msg := a.createProperty(t.name, p)
	var created Property
	if msg == "" {
		created = *a.w.props[t.name][p.Name]
	}
	a.mu.Unlock()
	switch status {
	case http.StatusCreated:
		writeJSON(w, status, created)
	case http.StatusConflict:
		writeJSON(w, status, apiError{Status: "error", Message: msg, CorrelationID: cid, Category: "CONFLICT"})
	default:
		badRequest(w, cid, msg)
	}
}

// getProperty answers GET /crm/v3/properties/{objectType}/{propertyName}: the definition, or 404.
func (a *API) getProperty(w http.ResponseWriter, t *objectType, name, cid string) {
	a.mu.Lock()
	p := a.w.props[t.name][name]
	var out Property
	if p != nil {
		out = *p
	}
	a.mu.Unlock()
	if p == nil {
		writeJSON(w, http.StatusNotFound, apiError{Status: "error", Message: fmt.Sprintf("Property %s does not exist", name), CorrelationID: cid, Category: "OBJECT_NOT_FOUND"})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// updateProperty answers PATCH /crm/v3/properties/{objectType}/{propertyName}: a partial
// update, "provided fields will be overwritten" (options replaced whole), 200 with the
// definition; 404 for no such property; a HubSpot-defined property's definition is read only
// (https://developers.hubspot.com/docs/api-reference/crm-properties-v3/core/patch-crm-v3-properties-objectType-propertyName).
func (a *API) updateProperty(w http.ResponseWriter, r *http.Request, t *objectType, name, cid string) {
	var patch struct {
		Label       *string           `json:"label"`
		Description *string           `json:"description"`
		GroupName   *string           `json:"groupName"`
		Type        *string           `json:"type"`
		FieldType   *string           `json:"fieldType"`
		Options     *[]PropertyOption `json:"options"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&patch); err != nil {
		badRequest(w, cid, "Invalid input JSON on line 1: "+err.Error())
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.w.props[t.name][name]
	switch {
	case p == nil:
		writeJSON(w, http.StatusNotFound, apiError{Status: "error", Message: fmt.Sprintf("Property %s does not exist", name), CorrelationID: cid, Category: "OBJECT_NOT_FOUND"})
		return
	case p.HubSpotDefined:
		badRequest(w, cid, fmt.Sprintf("%s is a HubSpot-defined property: its definition is read only", name))
		return
	}
	next := *p
	if patch.Label != nil {
		next.Label = *patch.Label
	}
	if patch.Description != nil {
		next.Description = *patch.Description
	}
	if patch.GroupName != nil {
		if a.w.groups[t.name][*patch.GroupName] == nil {
			badRequest(w, cid, fmt.Sprintf("property group %s does not exist", *patch.GroupName))
			return
		}
		next.GroupName = *patch.GroupName
	}
	if patch.Type != nil {
		next.Type = *patch.Type
	}
	if patch.FieldType != nil {
		next.FieldType = *patch.FieldType
	}
	if !slices.Contains(fieldTypes[next.Type], next.FieldType) {
		badRequest(w, cid, fmt.Sprintf("fieldType %q is not valid for type %q", next.FieldType, next.Type))
		return
	}
	if patch.Options != nil {
		next.Options = slices.Clone(*patch.Options)
	}
	next.UpdatedAt = time.Now().UTC().Format(timeLayout)
	*p = next
	writeJSON(w, http.StatusOK, next)
}

// propertyGroups answers GET (the groups, {"results": [...]}) and POST (create: name and
// label required; 201, or 409 CONFLICT when the name is taken) on
// /crm/v3/properties/{objectType}/groups (https://developers.hubspot.com/docs/api/crm/properties,
// "Property groups").
func (a *API) propertyGroups(w http.ResponseWriter, r *http.Request, t *objectType, cid string) {
	if r.Method == http.MethodGet {
		a.mu.Lock()
		out := listPage[PropertyGroup]{Results: []PropertyGroup{}}
		for _, g := range a.w.groups[t.name] {
			out.Results = append(out.Results, *g)
		}
		a.mu.Unlock()
		slices.SortFunc(out.Results, func(x, y PropertyGroup) int { return strings.Compare(x.Name, y.Name) })
		writeJSON(w, http.StatusOK, out)
		return
	}
	var g PropertyGroup
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&g); err != nil {
		badRequest(w, cid, "Invalid input JSON on line 1: "+err.Error())
		return
	}
	if g.Name == "" || g.Label == "" {
		badRequest(w, cid, "name and label are required")
		return
	}
	a.mu.Lock()
	exists := a.w.groups[t.name][g.Name] != nil
	if !exists {
		a.w.groups[t.name][g.Name] = &g
	}
	a.mu.Unlock()
	if exists {
		writeJSON(w, http.StatusConflict, apiError{Status: "error", Message: fmt.Sprintf("A property group named '%s' already exists.", g.Name), CorrelationID: cid, Category: "CONFLICT"})
		return
	}
	writeJSON(w, http.StatusCreated, g)
}
