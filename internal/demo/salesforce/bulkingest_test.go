package salesforce

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/segpipe/segpipe/internal/demo/vendortest"
)

type ingestInfo struct {
	ID, State, ErrorMessage, JobType, ContentURL string
	NumberRecordsProcessed, NumberRecordsFailed  int
}

// runIngest creates an update job on Account, uploads csvText, closes it and polls it to an
// end state, returning every state it saw.
func runIngest(t *testing.T, base, csvText string) (ingestInfo, []string) {
	t.Helper()
	res := do(t, http.MethodPost, base+PathIngestJobs, testToken, map[string]string{"object": "Account", "operation": "update", "contentType": "CSV", "lineEnding": "LF"})
	var j ingestInfo
	if err := json.Unmarshal(res.Body, &j); err != nil || res.Status != http.StatusOK || j.State != "Open" || j.JobType != "V2Ingest" {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	states := []string{j.State}
	up := vendortest.Call(t, http.MethodPut, base+PathIngestJobs+"/"+j.ID+"/batches", testToken, nil, map[string]string{"Content-Type": "text/csv"})
	if up.Status != http.StatusBadRequest {
		t.Errorf("empty upload: %d", up.Status)
	}
	req, _ := http.NewRequest(http.MethodPut, base+PathIngestJobs+"/"+j.ID+"/batches", strings.NewReader(csvText))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "text/csv")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d", r.StatusCode)
	}
	res = do(t, http.MethodPatch, base+PathIngestJobs+"/"+j.ID, testToken, map[string]string{"state": "UploadComplete"})
	if err := json.Unmarshal(res.Body, &j); err != nil || res.Status != http.StatusOK {
		t.Fatalf("close: %d %s", res.Status, res.Body)
	}
	states = append(states, j.State)
	for j.State != "JobComplete" && j.State != "Failed" {
		res = do(t, http.MethodGet, base+PathIngestJobs+"/"+j.ID, testToken, nil)
		if err := json.Unmarshal(res.Body, &j); err != nil || res.Status != http.StatusOK {
			t.Fatalf("poll: %d %s", res.Status, res.Body)
		}
		states = append(states, j.State)
	}
	return j, states
}

func resultCSV(t *testing.T, base, id, which string) [][]string {
	t.Helper()
	res := do(t, http.MethodGet, base+PathIngestJobs+"/"+id+"/"+which+"/", testToken, nil)
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%s: %d %s", which, res.Status, res.Body)
	}
	rows, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestIngestUpdateLifecycle(t *testing.T) {
	c := testCompany()
	api := New(c, testToken)
	if err := api.DefineField("Account", "Segpipe_Tier__c", FieldPicklist); err != nil {
		t.Fatal(err)
	}
	if err := api.DefineField("Account", "Segpipe_Score__c", FieldDouble); err != nil {
		t.Fatal(err)
	}
	base := serve(t, api)

	res := do(t, http.MethodGet, base+fmt.Sprintf(PathDescribe, "Account"), testToken, nil)
	var d struct {
		Name   string
		Fields []describeField
	}
	if err := json.Unmarshal(res.Body, &d); err != nil || d.Name != "Account" {
		t.Fatalf("describe: %d %s", res.Status, res.Body)
	}
	found := 0
	for _, f := range d.Fields {
		if f.Name == "Segpipe_Tier__c" && f.Type == "picklist" && f.Custom && f.Updateable {
			found++
		}
		if f.Name == "Id" && (f.Updateable || f.Type != "id") {
			t.Errorf("Id in describe: %+v", f)
		}
	}
	if found != 1 {
		t.Errorf("Segpipe_Tier__c not in describe: %s", res.Body)
	}

	good, other := c.Accounts[0].ID, c.Accounts[1].ID
	missing := "001" + strings.Repeat("9", 12) + "AAA"
	data := "Id,Segpipe_Tier__c,Segpipe_Score__c\n" +
		good + ",Tier 1,91.5\n" +
		missing + ",Tier 2,10\n" +
		other + ",Tier 3,abc\n" +
		"not-an-id,Tier 3,1\n"
	j, states := runIngest(t, base, data)
	if strings.Join(states, " ") != "Open UploadComplete InProgress JobComplete" {
		t.Errorf("states %v", states)
	}
	if j.NumberRecordsProcessed != 4 || j.NumberRecordsFailed != 3 {
		t.Errorf("job info: %+v", j)
	}
	ok := resultCSV(t, base, j.ID, "successfulResults")
	if strings.Join(ok[0], ",") != "sf__Id,sf__Created,Id,Segpipe_Tier__c,Segpipe_Score__c" || len(ok) != 2 || ok[1][0] != good || ok[1][1] != "false" {
		t.Errorf("successfulResults: %v", ok)
	}
	failed := resultCSV(t, base, j.ID, "failedResults")
	if strings.Join(failed[0], ",") != "sf__Id,sf__Error,Id,Segpipe_Tier__c,Segpipe_Score__c" || len(failed) != 4 {
		t.Fatalf("failedResults: %v", failed)
	}
	for i, want := range []string{"INVALID_CROSS_REFERENCE_KEY:", "INVALID_TYPE_ON_FIELD_IN_RECORD:Segpipe_Score__c", "MALFORMED_ID:"} {
		if !strings.HasPrefix(failed[i+1][1], want) {
			t.Errorf("failed row %d: %v, want %s", i+1, failed[i+1], want)
		}
	}
	if got := api.Updated(good); got["Segpipe_Tier__c"] != "Tier 1" || got["Segpipe_Score__c"] != "91.5" {
		t.Errorf("Updated = %v", got)
	}
	if api.Updated(other) != nil {
		t.Errorf("a failed row was applied: %v", api.Updated(other))
	}

	header, rows, _ := runQuery(t, base, "SELECT Id, Segpipe_Tier__c, Segpipe_Score__c FROM Account WHERE Id = '"+good+"'", "query", 100)
	if len(rows) != 1 || strings.Join(header, ",") != "Id,Segpipe_Tier__c,Segpipe_Score__c" || rows[0][1] != "Tier 1" || rows[0][2] != "91.5" {
		t.Errorf("SOQL after the update: %v %v", header, rows)
	}
}

func TestIngestUnknownFieldFailsTheJob(t *testing.T) {
	c := testCompany()
	api := New(c, testToken)
	base := serve(t, api)
	j, _ := runIngest(t, base, "Id,Segpipe_Tier__c\n"+c.Accounts[0].ID+",Tier 1\n")
	if j.State != "Failed" || !strings.Contains(j.ErrorMessage, "InvalidBatch") || !strings.Contains(j.ErrorMessage, "Segpipe_Tier__c") || j.NumberRecordsProcessed != 0 {
		t.Errorf("job: %+v", j)
	}
	if rows := resultCSV(t, base, j.ID, "unprocessedrecords"); len(rows) != 2 || rows[1][0] != c.Accounts[0].ID {
		t.Errorf("unprocessedrecords: %v", rows)
	}
	if rows := resultCSV(t, base, j.ID, "failedResults"); len(rows) != 1 {
		t.Errorf("failedResults: %v", rows)
	}
	if res := do(t, http.MethodPost, base+PathIngestJobs, "", map[string]string{"object": "Account", "operation": "update"}); res.Status != http.StatusUnauthorized || !strings.Contains(string(res.Body), "INVALID_SESSION_ID") {
		t.Errorf("no token: %d %s", res.Status, res.Body)
	}
	if res := do(t, http.MethodPost, base+PathIngestJobs, testToken, map[string]string{"object": "Widget__c", "operation": "update"}); res.Status != http.StatusBadRequest || !strings.HasPrefix(string(res.Body), `[{"errorCode"`) {
		t.Errorf("unknown object: %d %s", res.Status, res.Body)
	}
}
