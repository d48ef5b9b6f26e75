package hubspot

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
)

const testToken = "pat-na1-test"

// testCompany is a small generated company with HubSpot ids, shared by the tests.
var testCompany = sync.OnceValue(func() *demo.Company {
	return demo.Generate(demo.Options{Accounts: 400, Seed: 11}).WithAccountIDs(demo.IDStyleHubSpot)
})

// serve mounts the fake under /hubspot, as the demo server does.
func serve(t *testing.T, api *API) string {
	t.Helper()
	return vendortest.ServeUnder(t, "/hubspot", api)
}

// get sends a GET with token (none if "").
func get(t *testing.T, rawURL, token string) vendortest.Response {
	t.Helper()
	return vendortest.Call(t, http.MethodGet, rawURL, token, nil, nil)
}

type testRecord struct {
	ID           string             `json:"id"`
	Properties   map[string]*string `json:"properties"`
	CreatedAt    string             `json:"createdAt"`
	UpdatedAt    string             `json:"updatedAt"`
	Archived     bool               `json:"archived"`
	ArchivedAt   string             `json:"archivedAt"`
	Associations map[string]struct {
		Results []struct{ ID, Type string } `json:"results"`
	} `json:"associations"`
}

type testPage struct {
	Results []json.RawMessage `json:"results"`
	Paging  *struct {
		Next *struct{ After, Link string } `json:"next"`
	} `json:"paging"`
}

// walk follows paging.next.after from base+path?query and returns every record in order, and
// checks that paging.next.link names the same next page.
func walk(t *testing.T, base, path string, q url.Values) ([]json.RawMessage, int) {
	t.Helper()
	var all []json.RawMessage
	pages := 0
	for {
		res := get(t, base+path+"?"+q.Encode(), testToken)
		if res.Status != http.StatusOK {
			t.Fatalf("GET %s?%s: %d %s", path, q.Encode(), res.Status, res.Body)
		}
		pages++
		var p testPage
		if err := json.Unmarshal(res.Body, &p); err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Results...)
		if p.Paging == nil || p.Paging.Next == nil {
			return all, pages
		}
		link, err := url.Parse(p.Paging.Next.Link)
		if err != nil || !strings.HasSuffix(base, strings.TrimSuffix(link.Path, path)) || link.Query().Get("after") != p.Paging.Next.After {
			t.Fatalf("paging.next.link %q does not point at the next page (after %q) under %s", p.Paging.Next.Link, p.Paging.Next.After, base)
		}
		q.Set("after", p.Paging.Next.After)
	}
}

func decodeRecords(t *testing.T, raws []json.RawMessage) []testRecord {
	t.Helper()
	out := make([]testRecord, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestPaginationWalksEveryRecordOnce(t *testing.T) {
	c := testCompany()
	base := serve(t, New(c, testToken))
	for _, tc := range []struct {
		path  string
		limit int
		want  int
	}{
		{PathCompanies, 100, len(c.Accounts)},
		{PathCompanies, 37, len(c.Accounts)},
		{PathDeals, 100, len(c.Opportunities)},
		{PathOwners, 5, -1},
	} {
		t.Run(tc.path+"/"+strconv.Itoa(tc.limit), func(t *testing.T) {
			raws, pages := walk(t, base, tc.path, url.Values{"limit": {strconv.Itoa(tc.limit)}})
			recs := decodeRecords(t, raws)
			seen := map[string]bool{}
			for _, r := range recs {
				if seen[r.ID] {
					t.Fatalf("record %s listed twice", r.ID)
				}
				seen[r.ID] = true
			}
			want := tc.want
			if want < 0 {
				want = len(owners(c))
			}
			if len(recs) != want {
				t.Fatalf("walked %d records, want %d", len(recs), want)
			}
			if wantPages := (want + tc.limit - 1) / tc.limit; pages != wantPages {
				t.Errorf("%d pages, want %d", pages, wantPages)
			}
			if !slices.IsSortedFunc(recs, func(a, b testRecord) int { return compareIDs(a.ID, b.ID) }) {
				t.Error("records are not in id order")
			}
		})
	}
}

func owners(c *demo.Company) []string {
	var out []string
	for _, a := range c.Accounts {
		if !slices.Contains(out, a.Owner) {
			out = append(out, a.Owner)
		}
	}
	for _, o := range c.Opportunities {
		if !slices.Contains(out, o.Owner) {
			out = append(out, o.Owner)
		}
	}
	return out
}

func TestDefaultLimitIsTen(t *testing.T) {
	base := serve(t, New(testCompany(), testToken))
	res := get(t, base+PathCompanies, testToken)
	var p testPage
	if err := json.Unmarshal(res.Body, &p); err != nil || len(p.Results) != DefaultLimit || p.Paging == nil {
		t.Fatalf("default page: %d records, paging %v, err %v", len(p.Results), p.Paging, err)
	}
}

func TestOnlyRequestedPropertiesComeBack(t *testing.T) {
	c := testCompany()
	base := serve(t, New(c, testToken))
	keys := func(path string, q url.Values) []string {
		res := get(t, base+path+"?"+q.Encode(), testToken)
		if res.Status != http.StatusOK {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		var p struct{ Results []testRecord }
		if err := json.Unmarshal(res.Body, &p); err != nil {
			t.Fatal(err)
		}
		var union []string
		for _, r := range p.Results {
			for k := range r.Properties {
				if !slices.Contains(union, k) {
					union = append(union, k)
				}
			}
		}
		slices.Sort(union)
		return union
	}
	for _, tc := range []struct {
		name, path string
		q          url.Values
		want       []string
	}{
		{"comma list", PathCompanies, url.Values{"properties": {"name,industry,no_such_property"}},
			[]string{"createdate", "hs_lastmodifieddate", "hs_object_id", "industry", "name"}},
		{"repeated", PathCompanies, url.Values{"properties": {"country", "numberofemployees"}},
			[]string{"country", "createdate", "hs_lastmodifieddate", "hs_object_id", "numberofemployees"}},
		{"defaults", PathCompanies, url.Values{}, defaultCompanyProps},
		{"deal defaults", PathDeals, url.Values{}, defaultDealProps},
		{"deal custom", PathDeals, url.Values{"properties": {PropMotion + "," + PropLeadSource}},
			[]string{"createdate", PropMotion, "hs_lastmodifieddate", "hs_object_id", PropLeadSource}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keys(tc.path, tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("properties %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPropertyValuesAreStringsOrNull(t *testing.T) {
	c := testCompany()
	base := serve(t, New(c, testToken))
	res := get(t, base+PathDeals+"?limit=100&properties=amount,closed_lost_reason,hs_is_closed,notes_last_updated", testToken)
	var p struct {
		Results []struct {
			Properties map[string]any `json:"properties"`
		}
	}
	if err := json.Unmarshal(res.Body, &p); err != nil {
		t.Fatal(err)
	}
	nulls := 0
	for _, r := range p.Results {
		for k, v := range r.Properties {
			switch v.(type) {
			case string:
			case nil:
				nulls++
			default:
				t.Fatalf("property %s is a %T, not a string or null", k, v)
			}
		}
	}
	if nulls == 0 {
		t.Error("no deal without a closed_lost_reason: the test data should have some (won and open deals)")
	}
}

func TestCompaniesMapTheDemoAccounts(t *testing.T) {
	c := testCompany()
	base := serve(t, New(c, testToken))
	raws, _ := walk(t, base, PathCompanies, url.Values{"limit": {"100"},
		"properties": {"name,industry,numberofemployees,annualrevenue,country,hubspot_owner_id,strategic_account,strategic_reasons"}})
	recs := decodeRecords(t, raws)
	ownerRaws, _ := walk(t, base, PathOwners, url.Values{})
	ownerName := map[string]string{}
	for _, r := range ownerRaws {
		var o struct{ ID, FirstName, LastName string }
		_ = json.Unmarshal(r, &o)
		ownerName[o.ID] = o.FirstName + " " + o.LastName
	}
	for i, a := range c.Accounts {
		r := recs[i]
		p := func(k string) string {
			if v := r.Properties[k]; v != nil {
				return *v
			}
			return ""
		}
		if r.ID != a.ID || p("name") != a.Name || p("industry") != Industries[a.Industry] ||
			p("numberofemployees") != strconv.Itoa(a.EmployeeCount) || p("country") != demo.CountryNames[a.Country] ||
			ownerName[p("hubspot_owner_id")] != a.Owner || p(PropStrategic) != strconv.FormatBool(a.IsStrategic) ||
			p(PropStrategicReasons) != a.StrategicReasons {
			t.Fatalf("company %d %+v does not match account %+v", i, r.Properties, a)
		}
		if rev, _ := strconv.ParseFloat(p("annualrevenue"), 64); rev != a.AnnualRevenue {
			t.Fatalf("annualrevenue %s, want %v", p("annualrevenue"), a.AnnualRevenue)
		}
		if r.CreatedAt != a.CreatedAt.Format(timeLayout) || r.UpdatedAt != a.UpdatedAt.Format(timeLayout) || r.Archived {
			t.Fatalf("company %s: createdAt %s updatedAt %s archived %v", r.ID, r.CreatedAt, r.UpdatedAt, r.Archived)
		}
	}
}

func TestDealsMapTheDemoOpportunities(t *testing.T) {
	c := testCompany()
	base := serve(t, New(c, testToken))
	raws, _ := walk(t, base, PathDeals, url.Values{"limit": {"100"}, "associations": {"companies"},
		"properties": {"dealname,amount,dealstage,hs_is_closed,hs_is_closed_won,closedate,hs_manual_forecast_category,closed_lost_reason," + PropMotion}})
	recs := decodeRecords(t, raws)
	byID := map[string]testRecord{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	stages := map[string]int{}
	primaryNotFirst, labelled := 0, 0
	for _, o := range c.Opportunities {
		r, ok := byID[DealID(o.ID)]
		if !ok {
			t.Fatalf("opportunity %s has no deal %s", o.ID, DealID(o.ID))
		}
		p := func(k string) string {
			if v := r.Properties[k]; v != nil {
				return *v
			}
			return ""
		}
		stages[p("dealstage")]++
		assoc := r.Associations["companies"].Results
		var primary []string
		for _, a := range assoc {
			if a.Type == "deal_to_company" {
				primary = append(primary, a.ID)
			}
		}
		if len(primary) != 1 || primary[0] != o.AccountID {
			t.Fatalf("deal %s associations %+v, want one primary company %s", r.ID, assoc, o.AccountID)
		}
		if !slices.IsSortedFunc(assoc, func(x, y struct{ ID, Type string }) int { return compareIDs(x.ID, y.ID) }) {
			t.Fatalf("deal %s associations %+v not listed by company id", r.ID, assoc)
		}
		if assoc[0].ID != o.AccountID {
			primaryNotFirst++
		}
		for _, a := range assoc {
			if a.Type != "deal_to_company" && a.Type != "deal_to_company_unlabeled" {
				labelled++
			}
		}
		if p("dealname") != o.Name || p("dealstage") != DealStages[o.Stage] || p(PropMotion) != o.Motion ||
			p("hs_is_closed") != strconv.FormatBool(o.IsClosed) || p("hs_manual_forecast_category") != ForecastCategories[o.ForecastCategory] {
			t.Fatalf("deal %s %+v does not match %+v", r.ID, r.Properties, o)
		}
		if amt, _ := strconv.ParseFloat(p("amount"), 64); amt != o.Amount {
			t.Fatalf("amount %s, want %v", p("amount"), o.Amount)
		}
		if o.ClosedAt != nil && p("closedate") != o.ClosedAt.Format(timeLayout) {
			t.Fatalf("closedate %s, want %s", p("closedate"), o.ClosedAt)
		}
		if (o.LossReason != nil) != (p("closed_lost_reason") != "") {
			t.Fatalf("closed_lost_reason %q for loss reason %v", p("closed_lost_reason"), o.LossReason)
		}
	}
	if len(recs) != len(c.Opportunities) {
		t.Fatalf("%d deals, want %d", len(recs), len(c.Opportunities))
	}
	// Two-company deals must put a reader of the first association wrong now and then.
	if primaryNotFirst == 0 || labelled == 0 {
		t.Errorf("%d deals list another company first, %d carry a custom label: want some of each", primaryNotFirst, labelled)
	}
	for _, s := range []string{"closedwon", "closedlost", "appointmentscheduled"} {
		if stages[s] == 0 {
			t.Errorf("no deal in stage %s: %v", s, stages)
		}
	}
	// Without associations=companies there is no associations member.
	res := get(t, base+PathDeals+"?limit=3", testToken)
	if strings.Contains(string(res.Body), `"associations"`) {
		t.Errorf("associations listed without being asked for: %s", res.Body)
	}
}

func TestAuthFailures(t *testing.T) {
	base := serve(t, New(testCompany(), testToken))
	for name, token := range map[string]string{"missing": "", "wrong": "pat-na1-other"} {
		t.Run(name, func(t *testing.T) {
			res := get(t, base+PathCompanies, token)
			var e apiError
			if err := json.Unmarshal(res.Body, &e); err != nil {
				t.Fatal(err)
			}
			if res.Status != http.StatusUnauthorized || e.Status != "error" || e.Category != "INVALID_AUTHENTICATION" || e.CorrelationID == "" || e.Message == "" {
				t.Errorf("%d %s", res.Status, res.Body)
			}
		})
	}
}

func TestBadParamsAreValidationErrors(t *testing.T) {
	base := serve(t, New(testCompany(), testToken))
	for _, q := range []string{"limit=0", "limit=101", "limit=ten", "after=bm9wZQ", "after=%21%21", "archived=maybe"} {
		t.Run(q, func(t *testing.T) {
			res := get(t, base+PathCompanies+"?"+q, testToken)
			var e apiError
			if err := json.Unmarshal(res.Body, &e); err != nil {
				t.Fatalf("%d %s: %v", res.Status, res.Body, err)
			}
			if res.Status != http.StatusBadRequest || e.Status != "error" || e.Category != "VALIDATION_ERROR" || e.Message == "" {
				t.Errorf("%d %s", res.Status, res.Body)
			}
		})
	}
	res := get(t, base+PathOwners+"?limit=500", testToken)
	if res.Status != http.StatusOK {
		t.Errorf("owners accept limit=500: %d %s", res.Status, res.Body)
	}
	res = get(t, base+"/crm/v3/objects/widgets", testToken)
	if !strings.Contains(string(res.Body), "OBJECT_NOT_FOUND") || res.Status != http.StatusNotFound {
		t.Errorf("unknown object: %d %s", res.Status, res.Body)
	}
	req, _ := http.NewRequest(http.MethodPost, base+PathCompanies, strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+testToken)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", r.StatusCode)
	}
}

func TestRateLimitFault(t *testing.T) {
	api := New(testCompany(), testToken)
	api.InjectFault(Fault{Request: 2, Status: http.StatusTooManyRequests})
	base := serve(t, api)
	first := get(t, base+PathCompanies, testToken)
	if first.Status != http.StatusOK || first.Header.Get("X-HubSpot-RateLimit-Max") != strconv.Itoa(rateMax) ||
		first.Header.Get("X-HubSpot-RateLimit-Remaining") != strconv.Itoa(rateMax-1) ||
		first.Header.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "10000" {
		t.Fatalf("first request: %d %v", first.Status, first.Header)
	}
	limited := get(t, base+PathCompanies, testToken)
	var e apiError
	if err := json.Unmarshal(limited.Body, &e); err != nil {
		t.Fatal(err)
	}
	if limited.Status != http.StatusTooManyRequests || limited.Header.Get("X-HubSpot-RateLimit-Remaining") != "0" ||
		e.ErrorType != "RATE_LIMIT" || e.PolicyName != "TEN_SECONDLY_ROLLING" || e.Category != "RATE_LIMITS" {
		t.Fatalf("second request: %d %v %s", limited.Status, limited.Header, limited.Body)
	}
	if again := get(t, base+PathCompanies, testToken); again.Status != http.StatusOK {
		t.Fatalf("third request: %d", again.Status)
	}
	if api.Requests() != 3 {
		t.Errorf("Requests() = %d, want 3", api.Requests())
	}
	api.InjectFault(Fault{Request: 4, Status: http.StatusTooManyRequests, Policy: "SECONDLY"})
	secondly := get(t, base+PathCompanies, testToken)
	if secondly.Status != http.StatusTooManyRequests || secondly.Header.Get("X-HubSpot-RateLimit-Secondly-Remaining") != "0" ||
		secondly.Header.Get("X-HubSpot-RateLimit-Remaining") == "0" || !strings.Contains(string(secondly.Body), `"policyName":"SECONDLY"`) {
		t.Errorf("SECONDLY: %d %v %s", secondly.Status, secondly.Header, secondly.Body)
	}
	api.InjectFault(Fault{Request: 5, Status: http.StatusBadGateway})
	if res := get(t, base+PathCompanies, testToken); res.Status != http.StatusBadGateway || !strings.Contains(string(res.Body), "INTERNAL_ERROR") {
		t.Errorf("5xx fault: %d %s", res.Status, res.Body)
	}
}

func TestArchivedRecordsListSeparately(t *testing.T) {
	c := testCompany()
	api := New(c, testToken)
	at := c.End
	gone := []string{c.Accounts[0].ID, c.Accounts[5].ID}
	api.Archive(at, gone...)
	base := serve(t, api)
	active, _ := walk(t, base, PathCompanies, url.Values{"limit": {"100"}})
	if len(active) != len(c.Accounts)-len(gone) {
		t.Errorf("%d active companies, want %d", len(active), len(c.Accounts)-len(gone))
	}
	archived := decodeRecords(t, mustWalk(t, base, PathCompanies, url.Values{"archived": {"true"}}))
	if len(archived) != 2 || archived[0].ID != gone[0] || !archived[0].Archived || archived[0].ArchivedAt != at.Format(timeLayout) || archived[0].UpdatedAt != archived[0].ArchivedAt {
		t.Errorf("archived list: %+v", archived)
	}
}

func mustWalk(t *testing.T, base, path string, q url.Values) []json.RawMessage {
	r, _ := walk(t, base, path, q)
	return r
}
