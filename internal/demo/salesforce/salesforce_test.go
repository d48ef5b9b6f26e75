package salesforce

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/vendortest"
)

const testToken = "00Dxx0000000001!AQ4AQFakeToken"

// testCompany is a small generated company with Salesforce ids, shared by the tests.
var testCompany = sync.OnceValue(func() *demo.Company {
	return demo.Generate(demo.Options{Accounts: 400, Seed: 5}).WithAccountIDs(demo.IDStyleSalesforce)
})

// serve mounts the fake under /salesforce, as the demo server does.
func serve(t *testing.T, api *API) string {
	t.Helper()
	return vendortest.ServeUnder(t, "/salesforce", api)
}

// do sends a request with token (none if ""), body as JSON (none if nil) and a JSON
// Content-Type.
func do(t *testing.T, method, rawURL, token string, body any) vendortest.Response {
	t.Helper()
	return vendortest.Call(t, method, rawURL, token, body, map[string]string{"Content-Type": "application/json"})
}

type jobInfo struct {
	ID, Operation, Object, State, ErrorMessage, JobType string
	APIVersion                                          float64
	NumberRecordsProcessed                              int
}

func createJob(t *testing.T, base string, body map[string]string) jobInfo {
	t.Helper()
	res := do(t, http.MethodPost, base+PathJobs, testToken, body)
	if res.Status != http.StatusOK {
		t.Fatalf("create job: %d %s", res.Status, res.Body)
	}
	var j jobInfo
	if err := json.Unmarshal(res.Body, &j); err != nil {
		t.Fatal(err)
	}
	return j
}

func poll(t *testing.T, base, id string) jobInfo {
	t.Helper()
	res := do(t, http.MethodGet, base+PathJobs+"/"+id, testToken, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("poll: %d %s", res.Status, res.Body)
	}
	var j jobInfo
	if err := json.Unmarshal(res.Body, &j); err != nil {
		t.Fatal(err)
	}
	return j
}

// runQuery creates a job, polls it to JobComplete and pages its results with maxRecords,
// checking every result set's headers. It returns the header and every row.
func runQuery(t *testing.T, base, soql, operation string, maxRecords int) ([]string, [][]string, int) {
	t.Helper()
	j := createJob(t, base, map[string]string{"operation": operation, "query": soql})
	for j.State != "JobComplete" {
		if j = poll(t, base, j.ID); j.State == "Failed" || j.State == "Aborted" {
			t.Fatalf("job %s: %s", j.State, j.ErrorMessage)
		}
	}
	var header []string
	var rows [][]string
	sets := 0
	locator := ""
	for {
		q := url.Values{"maxRecords": {strconv.Itoa(maxRecords)}}
		if locator != "" {
			q.Set("locator", locator)
		}
		res := do(t, http.MethodGet, base+PathJobs+"/"+j.ID+"/results?"+q.Encode(), testToken, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("results: %d %s", res.Status, res.Body)
		}
		sets++
		recs, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if header == nil {
			header = recs[0]
		} else if !slices.Equal(header, recs[0]) {
			t.Fatalf("result set %d has header %v, want %v", sets, recs[0], header)
		}
		if n, _ := strconv.Atoi(res.Header.Get("Sforce-NumberOfRecords")); n != len(recs)-1 {
			t.Fatalf("Sforce-NumberOfRecords %s for %d rows", res.Header.Get("Sforce-NumberOfRecords"), len(recs)-1)
		}
		if len(recs)-1 > maxRecords {
			t.Fatalf("%d rows in a result set of at most %d", len(recs)-1, maxRecords)
		}
		rows = append(rows, recs[1:]...)
		locator = res.Header.Get("Sforce-Locator")
		if locator == "" {
			t.Fatal("no Sforce-Locator header")
		}
		if locator == "null" {
			return header, rows, sets
		}
	}
}

func TestJobLifecycle(t *testing.T) {
	c := testCompany()
	base := serve(t, New(c, testToken))
	j := createJob(t, base, map[string]string{"operation": "query", "query": "SELECT Id, Name FROM Account"})
	if j.State != "UploadComplete" || j.Object != "Account" || j.Operation != "query" || j.APIVersion != 60 || !strings.HasPrefix(j.ID, "750") {
		t.Fatalf("created job: %+v", j)
	}
	early := do(t, http.MethodGet, base+PathJobs+"/"+j.ID+"/results", testToken, nil)
	if early.Status != http.StatusBadRequest || !strings.Contains(string(early.Body), `"errorCode"`) {
		t.Errorf("results before JobComplete: %d %s", early.Status, early.Body)
	}
	if p := poll(t, base, j.ID); p.State != "InProgress" || p.JobType != "V2Query" {
		t.Fatalf("first poll: %+v", p)
	}
	if p := poll(t, base, j.ID); p.State != "JobComplete" || p.NumberRecordsProcessed != len(c.Accounts) {
		t.Fatalf("second poll: %+v", p)
	}
	header, rows, sets := runQueryFrom(t, base, j.ID, 150)
	if !slices.Equal(header, []string{"Id", "Name"}) || len(rows) != len(c.Accounts) || sets != (len(c.Accounts)+149)/150 {
		t.Fatalf("header %v, %d rows in %d sets", header, len(rows), sets)
	}
	seen := map[string]bool{}
	for i, r := range rows {
		if seen[r[0]] {
			t.Fatalf("row %s twice", r[0])
		}
		seen[r[0]] = true
		if r[0] != c.Accounts[i].ID || r[1] != c.Accounts[i].Name {
			t.Fatalf("row %d = %v, want %s %s", i, r, c.Accounts[i].ID, c.Accounts[i].Name)
		}
	}
	// A locator can be read again while the job exists.
	again := do(t, http.MethodGet, base+PathJobs+"/"+j.ID+"/results?maxRecords=150&locator="+encodeLocator(150), testToken, nil)
	if again.Status != http.StatusOK || again.Header.Get("Sforce-NumberOfRecords") != "150" {
		t.Errorf("re-reading a locator: %d %v", again.Status, again.Header)
	}
	if res := do(t, http.MethodDelete, base+PathJobs+"/"+j.ID, testToken, nil); res.Status != http.StatusNoContent {
		t.Errorf("delete job: %d %s", res.Status, res.Body)
	}
	if res := do(t, http.MethodGet, base+PathJobs+"/"+j.ID, testToken, nil); res.Status != http.StatusNotFound || !strings.Contains(string(res.Body), "NOT_FOUND") {
		t.Errorf("deleted job: %d %s", res.Status, res.Body)
	}
}

// runQueryFrom pages the results of a complete job.
func runQueryFrom(t *testing.T, base, id string, maxRecords int) ([]string, [][]string, int) {
	t.Helper()
	var header []string
	var rows [][]string
	locator, sets := "", 0
	for {
		u := base + PathJobs + "/" + id + "/results?maxRecords=" + strconv.Itoa(maxRecords)
		if locator != "" {
			u += "&locator=" + url.QueryEscape(locator)
		}
		res := do(t, http.MethodGet, u, testToken, nil)
		if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "text/csv" {
			t.Fatalf("results: %d %v %s", res.Status, res.Header, res.Body)
		}
		sets++
		recs, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		header = recs[0]
		rows = append(rows, recs[1:]...)
		if locator = res.Header.Get("Sforce-Locator"); locator == "null" {
			return header, rows, sets
		}
	}
}

func TestFieldsComeBackInTheOrderAsked(t *testing.T) {
	c := testCompany()
	base := serve(t, New(c, testToken))
	header, rows, _ := runQuery(t, base, "select name, OWNER.NAME, id, systemmodstamp from account", "query", 1000)
	if !slices.Equal(header, []string{"Name", "Owner.Name", "Id", "SystemModstamp"}) {
		t.Fatalf("header %v", header)
	}
	a := c.Accounts[3]
	if r := rows[3]; r[0] != a.Name || r[1] != a.Owner || r[2] != a.ID || r[3] != a.UpdatedAt.Format(dateTimeLayout) {
		t.Errorf("row %v, want %s %s %s %s", r, a.Name, a.Owner, a.ID, a.UpdatedAt)
	}
}

func TestWhereFiltersOnSystemModstamp(t *testing.T) {
	c := testCompany()
	base := serve(t, New(c, testToken))
	since := c.End.AddDate(0, -6, 0)
	want := 0
	for _, a := range c.Accounts {
		if a.UpdatedAt.After(since) {
			want++
		}
	}
	if want == 0 || want == len(c.Accounts) {
		t.Fatalf("test data: %d of %d accounts changed since %s", want, len(c.Accounts), since)
	}
	for _, lit := range []string{
		since.Format("2006-01-02T15:04:05Z"),
		since.Format("2006-01-02T15:04:05.000Z"),
		since.In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05-07:00"),
	} {
		_, rows, _ := runQuery(t, base, "SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp > "+lit, "query", 1000)
		if len(rows) != want {
			t.Errorf("WHERE SystemModstamp > %s: %d rows, want %d", lit, len(rows), want)
		}
		for _, r := range rows {
			if ts, _ := time.Parse(dateTimeLayout, r[1]); !ts.After(since) {
				t.Fatalf("row %v is not after %s", r, since)
			}
		}
	}
	// A full load: the preset's {{cursor}} is the epoch then.
	if _, rows, _ := runQuery(t, base, "SELECT Id FROM Opportunity WHERE SystemModstamp > 1970-01-01T00:00:00Z", "query", 5000); len(rows) != len(c.Opportunities) {
		t.Errorf("full load: %d opportunities, want %d", len(rows), len(c.Opportunities))
	}
	// Several conditions, dates and booleans.
	wantWon := 0
	for _, o := range c.Opportunities {
		if o.IsWon && o.ClosedAt != nil && !o.ClosedAt.Before(since.Truncate(24*time.Hour)) {
			wantWon++
		}
	}
	_, rows, _ := runQuery(t, base, "SELECT Id FROM Opportunity WHERE IsWon = true AND CloseDate >= "+since.Format("2006-01-02"), "query", 5000)
	if len(rows) != wantWon {
		t.Errorf("won since %s: %d, want %d", since, len(rows), wantWon)
	}
}

func TestOpportunitiesMapTheDemo(t *testing.T) {
	c := testCompany()
	base := serve(t, New(c, testToken))
	header, rows, _ := runQuery(t, base, "SELECT Id, AccountId, Name, Amount, StageName, IsClosed, IsWon, Type, LeadSource, ForecastCategoryName, CloseDate, LastActivityDate, LastStageChangeDate, Loss_Reason__c, CreatedDate FROM Opportunity", "query", 10000)
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	byID := map[string][]string{}
	for _, r := range rows {
		byID[r[0]] = r
	}
	neverMoved := 0
	for _, o := range c.Opportunities {
		r := byID[OpportunityID(o.ID)]
		if r == nil {
			t.Fatalf("no Opportunity for %s", o.ID)
		}
		v := func(k string) string { return r[col[k]] }
		if v("AccountId") != o.AccountID || v("Name") != o.Name || v("StageName") != Stages[o.Stage] ||
			v("IsClosed") != strconv.FormatBool(o.IsClosed) || v("Type") != Types[o.Motion] ||
			v("LeadSource") != LeadSources[o.LeadSource] || v("ForecastCategoryName") != ForecastCategories[o.ForecastCategory] ||
			v("LastActivityDate") != o.LastActivityAt.Format(dateLayout) || v("CreatedDate") != o.CreatedAt.Format(dateTimeLayout) {
			t.Fatalf("opportunity %v does not match %+v", r, o)
		}
		if o.ClosedAt != nil && v("CloseDate") != o.ClosedAt.Format(dateLayout) {
			t.Fatalf("CloseDate %s, want %s", v("CloseDate"), o.ClosedAt)
		}
		if v("LastStageChangeDate") == "" {
			neverMoved++
		} else if v("LastStageChangeDate") != o.StageEnteredAt.Format(dateTimeLayout) {
			t.Fatalf("LastStageChangeDate %s, want %s", v("LastStageChangeDate"), o.StageEnteredAt)
		}
		if (o.LossReason != nil) != (v("Loss_Reason__c") != "") {
			t.Fatalf("Loss_Reason__c %q for %v", v("Loss_Reason__c"), o.LossReason)
		}
	}
	if neverMoved == 0 {
		t.Error("no opportunity still in its first stage (LastStageChangeDate null)")
	}
}

func TestErrorsAreSalesforceErrorArrays(t *testing.T) {
	base := serve(t, New(testCompany(), testToken))
	for _, tc := range []struct {
		name   string
		body   map[string]string
		status int
		code   string
	}{
		{"unknown field", map[string]string{"operation": "query", "query": "SELECT Id, Revenue FROM Account"}, 400, "INVALID_FIELD"},
		{"unknown object", map[string]string{"operation": "query", "query": "SELECT Id FROM Acount"}, 400, "INVALID_TYPE"},
		{"no FROM", map[string]string{"operation": "query", "query": "SELECT Id, Name"}, 400, "MALFORMED_QUERY"},
		{"OR", map[string]string{"operation": "query", "query": "SELECT Id FROM Account WHERE IsDeleted = false OR IsDeleted = true"}, 400, "MALFORMED_QUERY"},
		{"quoted datetime", map[string]string{"operation": "query", "query": "SELECT Id FROM Account WHERE SystemModstamp > '2026-01-01T00:00:00Z'"}, 400, "INVALID_FIELD"},
		{"date for datetime", map[string]string{"operation": "query", "query": "SELECT Id FROM Account WHERE SystemModstamp > 2026-01-01"}, 400, "INVALID_FIELD"},
		{"bad operation", map[string]string{"operation": "insert", "query": "SELECT Id FROM Account"}, 400, "INVALIDJOB"},
		{"bad delimiter", map[string]string{"operation": "query", "query": "SELECT Id FROM Account", "columnDelimiter": "COLON"}, 400, "INVALIDJOB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := do(t, http.MethodPost, base+PathJobs, testToken, tc.body)
			var errs []apiError
			if err := json.Unmarshal(res.Body, &errs); err != nil {
				t.Fatalf("%d %s: %v", res.Status, res.Body, err)
			}
			if res.Status != tc.status || len(errs) != 1 || errs[0].ErrorCode != tc.code || errs[0].Message == "" {
				t.Errorf("%d %s", res.Status, res.Body)
			}
		})
	}
	for name, token := range map[string]string{"missing": "", "wrong": "00Dxx!other"} {
		res := do(t, http.MethodGet, base+PathJobs, token, nil)
		if res.Status != http.StatusUnauthorized || !strings.Contains(string(res.Body), `"errorCode":"INVALID_SESSION_ID"`) {
			t.Errorf("%s token: %d %s", name, res.Status, res.Body)
		}
	}
	j := createJob(t, base, map[string]string{"operation": "query", "query": "SELECT Id FROM Account"})
	poll(t, base, j.ID)
	poll(t, base, j.ID)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/services/data/v60.0/jobs/query/750000000000999AAA", 404},
		{"/services/data/v59.0/jobs/query/" + j.ID + "/results", 409},
		{"/services/data/v40.0/jobs/query", 404},
		{PathJobs + "/" + j.ID + "/results?maxRecords=0", 400},
		{PathJobs + "/" + j.ID + "/results?locator=bm9wZQ", 400},
		{"/services/data/v60.0/sobjects/Account", 404},
	} {
		res := do(t, http.MethodGet, base+tc.path, testToken, nil)
		var errs []apiError
		if err := json.Unmarshal(res.Body, &errs); err != nil || res.Status != tc.status || len(errs) != 1 || errs[0].ErrorCode == "" {
			t.Errorf("GET %s: %d %s", tc.path, res.Status, res.Body)
		}
	}
}

func TestFaults(t *testing.T) {
	c := testCompany()
	api := New(c, testToken)
	base := serve(t, api)
	api.InjectFault(Fault{Request: 1, Status: http.StatusServiceUnavailable})
	api.InjectFault(Fault{Request: 2, Status: http.StatusForbidden})
	res := do(t, http.MethodGet, base+PathJobs, testToken, nil)
	if res.Status != http.StatusServiceUnavailable || !strings.Contains(string(res.Body), "SERVER_UNAVAILABLE") {
		t.Errorf("503 fault: %d %s", res.Status, res.Body)
	}
	res = do(t, http.MethodGet, base+PathJobs, testToken, nil)
	if res.Status != http.StatusForbidden || !strings.Contains(string(res.Body), `"errorCode":"REQUEST_LIMIT_EXCEEDED"`) {
		t.Errorf("403 fault: %d %s", res.Status, res.Body)
	}
	if res = do(t, http.MethodGet, base+PathJobs, testToken, nil); res.Status != http.StatusOK || res.Header.Get("Sforce-Limit-Info") != "api-usage=3/100000" {
		t.Errorf("after the faults: %d %v", res.Status, res.Header)
	}
	api.FailNextJob("InvalidBatch : Failed to process query: OPERATION_TOO_LARGE")
	j := createJob(t, base, map[string]string{"operation": "query", "query": "SELECT Id FROM Account"})
	poll(t, base, j.ID)
	if p := poll(t, base, j.ID); p.State != "Failed" || !strings.Contains(p.ErrorMessage, "OPERATION_TOO_LARGE") {
		t.Errorf("failed job: %+v", p)
	}
	if res := do(t, http.MethodGet, base+PathJobs+"/"+j.ID+"/results", testToken, nil); res.Status != http.StatusBadRequest {
		t.Errorf("results of a failed job: %d %s", res.Status, res.Body)
	}
	// The next job is healthy again.
	if _, rows, _ := runQuery(t, base, "SELECT Id FROM Account", "query", 1000); len(rows) != len(c.Accounts) {
		t.Errorf("%d rows after a failed job", len(rows))
	}
}

func TestDeletedRecordsOnlyInQueryAll(t *testing.T) {
	c := testCompany()
	api := New(c, testToken)
	base := serve(t, api)
	at := c.End.Add(time.Hour)
	gone := c.Accounts[7].ID
	api.Delete(at, gone)
	_, rows, _ := runQuery(t, base, "SELECT Id, IsDeleted FROM Account", "query", 1000)
	if len(rows) != len(c.Accounts)-1 || slices.ContainsFunc(rows, func(r []string) bool { return r[0] == gone }) {
		t.Errorf("query: %d rows", len(rows))
	}
	_, rows, _ = runQuery(t, base, "SELECT Id, IsDeleted, SystemModstamp FROM Account WHERE SystemModstamp > "+c.End.Format(time.RFC3339), "queryAll", 1000)
	if len(rows) != 1 || rows[0][0] != gone || rows[0][1] != "true" || rows[0][2] != at.Format(dateTimeLayout) {
		t.Errorf("queryAll since the deletion: %v", rows)
	}
}

func TestDelimiterAndLineEnding(t *testing.T) {
	base := serve(t, New(testCompany(), testToken))
	j := createJob(t, base, map[string]string{"operation": "query", "query": "SELECT Id, Name FROM Account", "columnDelimiter": "CARET", "lineEnding": "CRLF"})
	poll(t, base, j.ID)
	poll(t, base, j.ID)
	res := do(t, http.MethodGet, base+PathJobs+"/"+j.ID+"/results?maxRecords=2", testToken, nil)
	if !strings.HasPrefix(string(res.Body), "\"Id\"^\"Name\"\r\n") || strings.Count(string(res.Body), "\r\n") != 3 {
		t.Errorf("CARET/CRLF body: %q", res.Body)
	}
}

func TestAbortJob(t *testing.T) {
	base := serve(t, New(testCompany(), testToken))
	j := createJob(t, base, map[string]string{"operation": "query", "query": "SELECT Id FROM User"})
	res := do(t, http.MethodPatch, base+PathJobs+"/"+j.ID, testToken, map[string]string{"state": "Aborted"})
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"state":"Aborted"`) {
		t.Errorf("abort: %d %s", res.Status, res.Body)
	}
	if p := poll(t, base, j.ID); p.State != "Aborted" {
		t.Errorf("aborted job polled as %s", p.State)
	}
}
