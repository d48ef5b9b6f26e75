package hubspot

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/demo/vendortest"
)

func post(t *testing.T, rawURL string, body any) vendortest.Response {
	t.Helper()
	return vendortest.Call(t, http.MethodPost, rawURL, testToken, body, nil)
}

type updateInput struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

func inputs(in ...updateInput) map[string]any { return map[string]any{"inputs": in} }

// tierProperty is the segment field a sync writes: an enumeration in its own group.
func createTier(t *testing.T, base string) {
	t.Helper()
	if r := post(t, base+PathProperties+"/companies/groups", PropertyGroup{Name: "segpipe", Label: "segpipe"}); r.Status != http.StatusCreated {
		t.Fatalf("create group: %d %s", r.Status, r.Body)
	}
	tier := Property{Name: "segpipe_tier", Label: "Tier", Type: "enumeration", FieldType: "select", GroupName: "segpipe",
		Options: []PropertyOption{{Label: "Tier 1", Value: "tier_1"}, {Label: "Tier 2", Value: "tier_2", DisplayOrder: 1}}}
	if r := post(t, base+PathProperties+"/companies", tier); r.Status != http.StatusCreated {
		t.Fatalf("create property: %d %s", r.Status, r.Body)
	}
	score := Property{Name: "segpipe_score", Label: "Score", Type: "number", FieldType: "number", GroupName: "segpipe"}
	if r := post(t, base+PathProperties+"/companies", score); r.Status != http.StatusCreated {
		t.Fatalf("create property: %d %s", r.Status, r.Body)
	}
}

func TestPropertiesAPI(t *testing.T) {
	api := New(testCompany(), testToken)
	base := serve(t, api)
	createTier(t, base)

	if r := post(t, base+PathProperties+"/companies/groups", PropertyGroup{Name: "segpipe", Label: "again"}); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), `"category":"CONFLICT"`) {
		t.Errorf("second group: %d %s", r.Status, r.Body)
	}
	again := Property{Name: "segpipe_tier", Label: "Tier", Type: "string", FieldType: "text", GroupName: "segpipe"}
	if r := post(t, base+PathProperties+"/companies", again); r.Status != http.StatusConflict {
		t.Errorf("second property: %d %s", r.Status, r.Body)
	}
	mismatched := Property{Name: "segpipe_flag", Label: "Flag", Type: "bool", FieldType: "text", GroupName: "segpipe"}
	if r := post(t, base+PathProperties+"/companies", mismatched); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "VALIDATION_ERROR") {
		t.Errorf("bool/text: %d %s", r.Status, r.Body)
	}
	noGroup := Property{Name: "segpipe_band", Label: "Band", Type: "string", FieldType: "text", GroupName: "nosuchgroup"}
	if r := post(t, base+PathProperties+"/companies", noGroup); r.Status != http.StatusBadRequest {
		t.Errorf("unknown group: %d %s", r.Status, r.Body)
	}

	r := get(t, base+PathProperties+"/companies/segpipe_tier", testToken)
	var p Property
	if err := json.Unmarshal(r.Body, &p); err != nil || r.Status != http.StatusOK || p.Type != "enumeration" || p.FieldType != "select" || len(p.Options) != 2 || p.HubSpotDefined {
		t.Errorf("get property: %d %s", r.Status, r.Body)
	}
	if r := get(t, base+PathProperties+"/companies/numberofemployees", testToken); !strings.Contains(string(r.Body), `"type":"number"`) {
		t.Errorf("built-in property: %d %s", r.Status, r.Body)
	}
	if r := get(t, base+PathProperties+"/deals/segpipe_tier", testToken); r.Status != http.StatusNotFound {
		t.Errorf("companies property on deals: %d %s", r.Status, r.Body)
	}
	var groups listPage[PropertyGroup]
	r = get(t, base+PathProperties+"/companies/groups", testToken)
	if err := json.Unmarshal(r.Body, &groups); err != nil || len(groups.Results) != 2 {
		t.Errorf("groups: %s", r.Body)
	}

	// PATCH replaces the options whole; the other fields stay.
	patch := map[string]any{"options": []PropertyOption{{Label: "Tier 3", Value: "tier_3"}}}
	r = vendortest.Call(t, http.MethodPatch, base+PathProperties+"/companies/segpipe_tier", testToken, patch, nil)
	if err := json.Unmarshal(r.Body, &p); err != nil || r.Status != http.StatusOK || len(p.Options) != 1 || p.Options[0].Value != "tier_3" || p.Label != "Tier" {
		t.Errorf("patch: %d %s", r.Status, r.Body)
	}
	if r := vendortest.Call(t, http.MethodPatch, base+PathProperties+"/companies/nosuch", testToken, patch, nil); r.Status != http.StatusNotFound {
		t.Errorf("patch of no property: %d %s", r.Status, r.Body)
	}
	if r := vendortest.Call(t, http.MethodPatch, base+PathProperties+"/companies/industry", testToken, patch, nil); r.Status != http.StatusBadRequest {
		t.Errorf("patch of a HubSpot-defined property: %d %s", r.Status, r.Body)
	}
	if r := vendortest.Call(t, http.MethodPatch, base+PathProperties+"/companies/segpipe_score", testToken, map[string]any{"fieldType": "select"}, nil); r.Status != http.StatusBadRequest {
		t.Errorf("patch to a fieldType the type refuses: %d %s", r.Status, r.Body)
	}
}

func TestBatchUpdate(t *testing.T) {
	c := testCompany()
	api := New(c, testToken)
	base := serve(t, api)
	id0, id1 := c.Accounts[0].ID, c.Accounts[1].ID

	// Not yet created: the whole batch is refused.
	r := post(t, base+PathCompaniesBatchUpdate, inputs(updateInput{ID: id0, Properties: map[string]string{"segpipe_tier": "tier_1"}}))
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "PROPERTY_DOESNT_EXIST") || !strings.Contains(string(r.Body), "Property values were not valid") {
		t.Fatalf("unknown property: %d %s", r.Status, r.Body)
	}
	createTier(t, base)

	var many []updateInput
	for i := range MaxBatchInputs + 1 {
		many = append(many, updateInput{ID: c.Accounts[i].ID, Properties: map[string]string{"segpipe_tier": "tier_1"}})
	}
	if r := post(t, base+PathCompaniesBatchUpdate, inputs(many...)); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "VALIDATION_ERROR") {
		t.Errorf("101 inputs: %d %s", r.Status, r.Body)
	}
	if r := post(t, base+PathCompaniesBatchUpdate, inputs(many[:MaxBatchInputs]...)); r.Status != http.StatusOK {
		t.Errorf("100 inputs: %d %s", r.Status, r.Body)
	}
	for _, bad := range []map[string]string{{"segpipe_score": "abc"}, {"segpipe_tier": "tier_9"}, {"hs_object_id": "1"}} {
		if r := post(t, base+PathCompaniesBatchUpdate, inputs(updateInput{ID: id0, Properties: bad})); r.Status != http.StatusBadRequest {
			t.Errorf("%v: %d %s", bad, r.Status, r.Body)
		}
	}

	// A missing id fails alone: 207, the other record is applied.
	r = post(t, base+PathCompaniesBatchUpdate, inputs(
		updateInput{ID: id0, Properties: map[string]string{"segpipe_tier": "tier_2", "segpipe_score": "87.5"}},
		updateInput{ID: "999999999999", Properties: map[string]string{"segpipe_tier": "tier_1"}},
	))
	var got batchResponse
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusMultiStatus || got.NumErrors != 1 || len(got.Results) != 1 || got.Results[0].ID != id0 ||
		got.Errors[0].Category != "OBJECT_NOT_FOUND" || got.Errors[0].Context["ids"][0] != "999999999999" || got.Status != "COMPLETE" {
		t.Errorf("partial failure: %d %s", r.Status, r.Body)
	}
	if p := api.Properties("companies", id0); p["segpipe_tier"] != "tier_2" || p["segpipe_score"] != "87.5" {
		t.Errorf("Properties = %v", p)
	}
	if p := api.Properties("companies", id1); p["segpipe_tier"] != "tier_1" {
		t.Errorf("Properties(%s) = %v", id1, p)
	}

	// Visible through the read side when properties= names them.
	recs := decodeRecords(t, mustWalk(t, base, PathCompanies, url.Values{"limit": {"100"}, "properties": {"segpipe_tier,segpipe_score"}}))
	if recs[0].ID != id0 || recs[0].Properties["segpipe_tier"] == nil || *recs[0].Properties["segpipe_tier"] != "tier_2" || *recs[0].Properties["segpipe_score"] != "87.5" {
		t.Errorf("read back: %+v", recs[0].Properties)
	}
	if api.Calls(http.MethodPost, PathCompaniesBatchUpdate) != 7 || api.Writes() != 2 {
		t.Errorf("Calls = %d, Writes = %d", api.Calls(http.MethodPost, PathCompaniesBatchUpdate), api.Writes())
	}
}

func TestWriteFaultsAndScopes(t *testing.T) {
	c := testCompany()
	api := New(c, testToken)
	if err := api.DefineProperty("deals", Property{Name: "segpipe_band", Label: "Band", Type: "string", FieldType: "text", GroupName: "dealinformation"}); err != nil {
		t.Fatal(err)
	}
	base := serve(t, api)
	deal := DealID(c.Opportunities[0].ID)
	body := inputs(updateInput{ID: deal, Properties: map[string]string{"segpipe_band": "large"}})

	api.InjectFault(Fault{Request: 1, Status: http.StatusTooManyRequests})
	r := post(t, base+PathDealsBatchUpdate, body)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("X-HubSpot-RateLimit-Remaining") != "0" ||
		r.Header.Get("X-HubSpot-RateLimit-Max") != strconv.Itoa(rateMax) || !strings.Contains(string(r.Body), `"policyName":"TEN_SECONDLY_ROLLING"`) {
		t.Errorf("429: %d %v %s", r.Status, r.Header, r.Body)
	}
	if api.Properties("deals", deal) != nil {
		t.Error("a rate-limited batch was applied")
	}

	api.CrashAfter(Crash{AfterWrites: 1})
	if r := post(t, base+PathDealsBatchUpdate, body); r.Status != http.StatusOK {
		t.Fatalf("first write: %d %s", r.Status, r.Body)
	}
	if r := post(t, base+PathDealsBatchUpdate, body); r.Status != http.StatusInternalServerError {
		t.Errorf("after the crash: %d %s", r.Status, r.Body)
	}
	api.CrashAfter(Crash{AfterWrites: 1, Drop: true, Applied: true})
	req, _ := http.NewRequest(http.MethodPost, base+PathDealsBatchUpdate, strings.NewReader(`{"inputs":[{"id":"`+deal+`","properties":{"segpipe_band":"small"}}]}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Errorf("dropped connection answered %d", res.StatusCode)
	}
	if p := api.Properties("deals", deal); p["segpipe_band"] != "small" {
		t.Errorf("Applied crash: %v", p)
	}

	api.CrashAfter(Crash{})
	api.SetScopes("crm.objects.deals.read")
	r = post(t, base+PathDealsBatchUpdate, body)
	if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "MISSING_SCOPES") || !strings.Contains(string(r.Body), "crm.objects.deals.write") {
		t.Errorf("missing scope: %d %s", r.Status, r.Body)
	}
	if r := vendortest.Call(t, http.MethodPost, base+PathDealsBatchUpdate, "", body, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.Status)
	}
}

// A batch read returns what batch updates wrote, the properties asked for and the ones that
// always come back; an id of no record is a 207 OBJECT_NOT_FOUND.
func TestBatchRead(t *testing.T) {
	c := testCompany()
	api := New(c, testToken)
	base := serve(t, api)
	createTier(t, base)
	id := c.Accounts[0].ID
	if r := post(t, base+PathCompaniesBatchUpdate, inputs(updateInput{ID: id, Properties: map[string]string{"segpipe_tier": "tier_2"}})); r.Status != http.StatusOK {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	r := post(t, base+PathCompaniesBatchRead, map[string]any{"inputs": []map[string]string{{"id": id}, {"id": "404"}}, "properties": []string{"segpipe_tier", "segpipe_score"}})
	var got struct {
		Results []struct {
			ID         string             `json:"id"`
			Properties map[string]*string `json:"properties"`
		} `json:"results"`
		Errors []struct {
			Category string              `json:"category"`
			Context  map[string][]string `json:"context"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(r.Body, &got); err != nil || r.Status != http.StatusMultiStatus || len(got.Results) != 1 || len(got.Errors) != 1 {
		t.Fatalf("read: %d %s", r.Status, r.Body)
	}
	p := got.Results[0].Properties
	if p["segpipe_tier"] == nil || *p["segpipe_tier"] != "tier_2" || p["segpipe_score"] != nil || p["hs_object_id"] == nil {
		t.Errorf("properties %s", r.Body)
	}
	if got.Errors[0].Category != "OBJECT_NOT_FOUND" || got.Errors[0].Context["ids"][0] != "404" {
		t.Errorf("errors %s", r.Body)
	}
}
