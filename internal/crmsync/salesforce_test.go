package crmsync_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/crmsync"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/salesforce"
	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/lake"
)

const salesforceToken = "test-salesforce-token"

var salesforceCompany = sync.OnceValue(func() *demo.Company {
	return demo.Generate(demo.Options{Accounts: 250, Seed: 9}).WithAccountIDs(demo.IDStyleSalesforce)
})

// ingestLog records the ingest calls that reached the fake and the rows each upload carried.
type ingestLog struct {
	mu       sync.Mutex
	creates  int
	uploaded map[string]int // Id -> times uploaded
	// failAfterClose, when set, makes every request after the first UploadComplete fail at
	// the transport, as a sync whose machine dies while Salesforce processes its job.
	failAfterClose bool
	// failAfterCreate fails every request after the first job is created (before upload).
	failAfterCreate bool
	dead            bool
	// cells are the last uploaded row of each Id, by column.
	cells map[string]map[string]string
	// intercept, when set, may answer a request instead of the fake (true when it did).
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

func (l *ingestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		dead := l.dead
		l.mu.Unlock()
		if dead {
			hj, _ := w.(http.Hijacker)
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		l.mu.Lock()
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/jobs/ingest"):
			l.creates++
			if l.failAfterCreate {
				l.dead = true
			}
		case r.Method == http.MethodPut:
			rows, _ := csv.NewReader(strings.NewReader(string(body))).ReadAll()
			for _, row := range rows[1:] {
				l.uploaded[row[0]]++
				l.cells[row[0]] = map[string]string{}
				for i, c := range row {
					l.cells[row[0]][rows[0][i]] = c
				}
			}
		case r.Method == http.MethodPatch && strings.Contains(string(body), "UploadComplete") && l.failAfterClose:
			l.dead = true
		}
		intercept := l.intercept
		l.mu.Unlock()
		if intercept != nil && intercept(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (l *ingestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.creates, l.uploaded, l.dead, l.failAfterClose, l.failAfterCreate = 0, map[string]int{}, false, false, false
	l.cells, l.intercept = map[string]map[string]string{}, nil
}

type salesforceEnv struct {
	api   *salesforce.API
	cfg   *config.Config
	store lake.Store
	log   *ingestLog
	c     *demo.Company
}

// newSalesforceEnv serves an org whose admin created the default custom fields, less skip.
func newSalesforceEnv(t *testing.T, extra string, skip ...string) *salesforceEnv {
	t.Helper()
	c := salesforceCompany()
	api := salesforce.New(c, salesforceToken)
	types := map[string]salesforce.FieldType{config.SyncEnum: salesforce.FieldPicklist, config.SyncNumber: salesforce.FieldDouble, config.SyncDate: salesforce.FieldDate}
	for _, f := range config.SyncFields {
		name := config.DefaultSyncName("salesforce", f)
		object := map[string]string{"account": "Account", "deal": "Opportunity"}[f.Object]
		if !contains(skip, name) {
			if err := api.DefineField(object, name, types[f.Kind]); err != nil {
				t.Fatal(err)
			}
		}
	}
	log := &ingestLog{uploaded: map[string]int{}, cells: map[string]map[string]string{}}
	srv := httptest.NewServer(log.wrap(api))
	t.Cleanup(srv.Close)
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &salesforceEnv{api: api, cfg: vendorConfig(t, "salesforce", srv.URL, salesforceToken, extra), store: store, log: log, c: c}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// target is the sync's Salesforce target with auth (the config's when its type is ""), in
// jobs of 100 records.
func (e *salesforceEnv) target(t *testing.T, auth config.Auth) *crmsync.Salesforce {
	t.Helper()
	src := e.cfg.Sources["crm"]
	if auth.Type == "" {
		auth = e.cfg.SyncAuth()
	}
	caller, err := extract.NewCaller("crm", src, auth, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(caller.Close)
	return &crmsync.Salesforce{BaseURL: src.BaseURL, APIVersion: e.cfg.Sync.APIVersion, Caller: caller,
		PollInterval: e.cfg.Sync.PollInterval.D(), JobTimeout: e.cfg.Sync.JobTimeout.D(), JobSize: 100}
}

func (e *salesforceEnv) run(t *testing.T, recs []*crmsync.Record, asOf, runID string) (*crmsync.Result, error) {
	t.Helper()
	return e.runWith(t, e.target(t, config.Auth{}), recs, asOf, runID)
}

func (e *salesforceEnv) runWith(t *testing.T, target crmsync.Target, recs []*crmsync.Record, asOf, runID string) (*crmsync.Result, error) {
	t.Helper()
	return crmsync.Run(context.Background(), e.store, target, e.cfg.SyncMappings(), recs,
		crmsync.Options{Target: "crm", AsOf: asOf, RunID: runID, MaxChangedShare: e.cfg.Sync.MaxChangedShare})
}

func (e *salesforceEnv) release(asOf string, n, deals int, override map[string]string) []*crmsync.Record {
	return buildRelease(e.cfg, e.c, salesforce.OpportunityID, asOf, n, deals, override)
}

// crmEquals checks that the org holds the records' values ("" for a cleared one).
func (e *salesforceEnv) crmEquals(t *testing.T, recs []*crmsync.Record) {
	t.Helper()
	bad := 0
	for _, r := range recs {
		got := e.api.Updated(r.ID)
		for k := range r.Values {
			want := ""
			if v := r.Values[k]; v != nil {
				want = *v
			}
			if got[k] != want {
				if bad++; bad <= 5 {
					t.Errorf("%s: %s = %q, want %q", r.Key(), k, got[k], want)
				}
			}
		}
	}
}

func TestSalesforceSyncOnlyWhatChanged(t *testing.T) {
	e := newSalesforceEnv(t, "")
	recs := e.release("2026-10-31", 250, 20, nil)
	res, err := e.run(t, recs, "2026-10-31", "run1")
	if err != nil {
		t.Fatal(err)
	}
	if tot := res.Total(); tot.Create != 270 || tot.Synced != 270 || tot.Rejected != 0 {
		t.Fatalf("first sync: %+v", tot)
	}
	// 250 accounts in jobs of 100: 3 jobs; 20 deals: 1.
	if e.log.creates != 4 {
		t.Errorf("ingest jobs %d, want 4", e.log.creates)
	}
	e.crmEquals(t, recs)
	for _, f := range res.Fields {
		if f.State != crmsync.FieldExists || f.Problem != "" {
			t.Errorf("field %+v", f)
		}
	}
	if got := e.api.Updated(recs[0].ID)["Segpipe_Arr_Band__c"]; got != "Enterprise" {
		t.Errorf("arr band %q", got)
	}
	if got, ok := e.api.Updated(recs[1].ID)["Segpipe_Arr_Band__c"]; !ok || got != "" {
		t.Errorf("a cleared value (#N/A) reads %q, %v", got, ok)
	}

	e.log.reset()
	res, err = e.run(t, recs, "2026-10-31", "run2")
	if err != nil || e.log.creates != 0 || res.Total().Unchanged != 270 {
		t.Fatalf("second sync: %+v, %d jobs, %v", res.Total(), e.log.creates, err)
	}
	// One account's tier changes: one job, one row.
	id := e.c.Accounts[42].ID
	recs = e.release("2026-11-01", 250, 20, map[string]string{id: config.TierNames[0]})
	res, err = e.run(t, recs, "2026-11-01", "run3")
	if err != nil {
		t.Fatal(err)
	}
	if e.log.creates != 1 || len(e.log.uploaded) != 1 || e.log.uploaded[id] != 1 || res.Total().Synced != 1 {
		t.Errorf("one change: %d jobs, uploaded %v, %+v", e.log.creates, e.log.uploaded, res.Total())
	}
	if got := e.api.Updated(id); got["Segpipe_Cs_Tier__c"] != config.TierNames[0] || got["Segpipe_Segment_As_Of__c"] != "2026-11-01" {
		t.Errorf("account %s: %v", id, got)
	}
}

func TestSalesforceRejectedRecordIsReportedAndRetried(t *testing.T) {
	e := newSalesforceEnv(t, "")
	recs := e.release("2026-10-31", 30, 0, nil)
	// An Account Id of no record: failedResults INVALID_CROSS_REFERENCE_KEY.
	ghost := &crmsync.Record{Object: "account", ID: "001999999999999AAA", Values: recs[0].Values, Hashed: recs[0].Hashed}
	recs = append(recs, ghost)
	res, err := e.run(t, recs, "2026-10-31", "run1")
	if err != nil {
		t.Fatal(err)
	}
	if tot := res.Total(); tot.Synced != 30 || tot.Rejected != 1 || len(res.Rejections) != 1 ||
		res.Rejections[0].Key != ghost.Key() || !strings.HasPrefix(res.Rejections[0].Reason, "INVALID_CROSS_REFERENCE_KEY") {
		t.Fatalf("%+v %+v", tot, res.Rejections)
	}
	e.log.reset()
	res, err = e.run(t, recs, "2026-10-31", "run2")
	if err != nil || res.Total().Retry != 1 || res.Total().Rejected != 1 || len(e.log.uploaded) != 1 || e.log.uploaded[ghost.ID] != 1 {
		t.Errorf("retry: %+v, uploaded %v, %v", res.Total(), e.log.uploaded, err)
	}
}

func TestSalesforceMissingFieldStopsBeforeWriting(t *testing.T) {
	e := newSalesforceEnv(t, "", "Segpipe_Deal_Fit_Score__c")
	_, err := e.run(t, e.release("2026-10-31", 10, 5, nil), "2026-10-31", "run1")
	if !errors.Is(err, crmsync.ErrFieldProblems) || !strings.Contains(err.Error(), "no field Segpipe_Deal_Fit_Score__c on Opportunity") ||
		!strings.Contains(err.Error(), "sync.deals.fit_score") || e.log.creates != 0 {
		t.Errorf("err %v, %d jobs", err, e.log.creates)
	}
}

// A sync that dies after closing its job (Salesforce processes it without anyone polling):
// the next sync reads the job's results instead of sending it again.
func TestSalesforceCrashAfterCloseRecoversTheJob(t *testing.T) {
	e := newSalesforceEnv(t, "")
	recs := e.release("2026-10-31", 80, 0, nil)
	e.log.failAfterClose = true
	if _, err := e.run(t, recs, "2026-10-31", "run1"); err == nil {
		t.Fatal("the sync survived its machine")
	}
	if e.log.creates != 1 || len(e.log.uploaded) != 80 {
		t.Fatalf("first attempt: %d jobs, %d rows", e.log.creates, len(e.log.uploaded))
	}
	pend, _ := e.store.List(context.Background(), crmsync.Prefix("crm")+"pending/")
	if len(pend) != 1 {
		t.Fatalf("pending jobs in the lake: %v", pend)
	}
	e.log.reset()
	res, err := e.run(t, recs, "2026-10-31", "run2")
	if err != nil {
		t.Fatal(err)
	}
	if res.Recovered != 80 || e.log.creates != 0 || len(e.log.uploaded) != 0 || res.Total().Unchanged != 80 {
		t.Errorf("recovery: recovered %d, %d new jobs, %d rows uploaded, %+v", res.Recovered, e.log.creates, len(e.log.uploaded), res.Total())
	}
	e.crmEquals(t, recs)
	if pend, _ := e.store.List(context.Background(), crmsync.Prefix("crm")); len(pend) != 1 {
		t.Errorf("left in the lake: %v (want only the ledger)", pend)
	}
}

// A sync that dies after creating its job and before uploading: the job is left Open; the
// next sync aborts it and sends the records in a new job.
func TestSalesforceJobLeftOpenIsAbortedAndResent(t *testing.T) {
	e := newSalesforceEnv(t, "")
	recs := e.release("2026-10-31", 40, 0, nil)
	e.log.failAfterCreate = true
	if _, err := e.run(t, recs, "2026-10-31", "run1"); err == nil {
		t.Fatal("the sync survived its machine")
	}
	e.log.reset()
	res, err := e.run(t, recs, "2026-10-31", "run2")
	if err != nil {
		t.Fatal(err)
	}
	if res.Recovered != 0 || e.log.creates != 1 || len(e.log.uploaded) != 40 || res.Total().Synced != 40 {
		t.Errorf("resend: recovered %d, %d jobs, %d rows, %+v", res.Recovered, e.log.creates, len(e.log.uploaded), res.Total())
	}
	e.crmEquals(t, recs)
}

// ledgerStatuses reads the target's ledger: status by record key.
func (e *salesforceEnv) ledgerStatuses(t *testing.T) map[string]string {
	t.Helper()
	st, err := crmsync.LoadState(context.Background(), e.store, "crm")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range st.Ledger.Records {
		out[k] = v.Status
	}
	return out
}

// A job Salesforce fails as a whole (a header column that is no field: InvalidBatch) rejects
// its records, is confirmed (no pending job left) and stops the sync with the job's error.
func TestSalesforceFailedJobRejectsItsRecords(t *testing.T) {
	e := newSalesforceEnv(t, "  deals:\n    segment_as_of: Segpipe_Ghost__c\n")
	// The describe lists a field the ingest side does not have, so the check passes and the
	// job fails: the shape of a field deleted between the check and the job.
	e.log.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/sobjects/Opportunity/describe") {
			return false
		}
		rec := httptest.NewRecorder()
		e.api.ServeHTTP(rec, r)
		var d map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
			t.Errorf("describe: %v", err)
			return false
		}
		d["fields"] = append(d["fields"].([]any), map[string]any{"name": "Segpipe_Ghost__c", "type": "date", "custom": true, "updateable": true, "nillable": true})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(d)
		return true
	}
	recs := e.release("2026-10-31", 20, 5, nil)
	res, err := e.run(t, recs, "2026-10-31", "run1")
	if err == nil || !strings.Contains(err.Error(), "InvalidBatch : Field name not found : Segpipe_Ghost__c") || !strings.Contains(err.Error(), "ended Failed") {
		t.Fatalf("err %v", err)
	}
	acc, deal := res.Objects["account"], res.Objects["deal"]
	if acc.Synced != 20 || deal.Sent != 5 || deal.Rejected != 5 || deal.Synced != 0 {
		t.Fatalf("accounts %+v deals %+v", acc, deal)
	}
	for _, o := range res.Rejections {
		if !strings.HasPrefix(o.Reason, "not processed: job 750") || !strings.Contains(o.Reason, "Failed: InvalidBatch") {
			t.Errorf("rejection %+v", o)
		}
	}
	if pend, _ := e.store.List(context.Background(), crmsync.Prefix("crm")+"pending/"); len(pend) != 0 {
		t.Errorf("pending jobs left: %v", pend)
	}
	if e.api.Updated(recs[20].ID) != nil {
		t.Errorf("the failed job wrote %v", e.api.Updated(recs[20].ID))
	}
	// The next sync retries the rejected deals (failing the same way) and does not send the
	// synced accounts again.
	intercept := e.log.intercept
	e.log.reset()
	e.log.intercept = intercept
	res, err = e.run(t, recs, "2026-10-31", "run2")
	acc, deal = res.Objects["account"], res.Objects["deal"]
	if err == nil || acc.Unchanged != 20 || deal.Retry != 5 || e.log.creates != 1 || len(e.log.uploaded) != 5 {
		t.Errorf("retry: accounts %+v deals %+v, %d jobs, uploaded %v, %v", acc, deal, e.log.creates, e.log.uploaded, err)
	}
}

// An empty value is sent as #N/A: Bulk API ignores an empty cell on update, so "" would
// leave the old value in the CRM.
func TestSalesforceEmptyValueIsSentAsNull(t *testing.T) {
	e := newSalesforceEnv(t, "")
	recs := e.release("2026-10-31", 6, 0, nil)
	if _, err := e.run(t, recs, "2026-10-31", "run1"); err != nil {
		t.Fatal(err)
	}
	if got := e.log.cells[recs[1].ID]["Segpipe_Arr_Band__c"]; got != "#N/A" {
		t.Errorf("a nil value is uploaded as %q", got)
	}
	if got := e.api.Updated(recs[0].ID)["Segpipe_Size_Band__c"]; got != "SMB" {
		t.Fatalf("size band %q", got)
	}
	recs[0].Values["Segpipe_Size_Band__c"] = str("")
	e.log.reset()
	res, err := e.run(t, recs, "2026-10-31", "run2")
	if err != nil || res.Total().Update != 1 || res.Total().Synced != 1 {
		t.Fatalf("%+v %v", res.Total(), err)
	}
	if got := e.log.cells[recs[0].ID]["Segpipe_Size_Band__c"]; got != "#N/A" {
		t.Errorf("an empty value is uploaded as %q, want #N/A", got)
	}
	if got, ok := e.api.Updated(recs[0].ID)["Segpipe_Size_Band__c"]; !ok || got != "" {
		t.Errorf("size band after clearing: %q %v", got, ok)
	}
}

// The field check: a field of a type the values do not fit is a problem; a describe the
// token may not read is an error naming the object and the path.
func TestSalesforcePrepareChecksTypesAndAccess(t *testing.T) {
	e := newSalesforceEnv(t, "", "Segpipe_Deal_Fit_Score__c")
	if err := e.api.DefineField("Opportunity", "Segpipe_Deal_Fit_Score__c", salesforce.FieldString); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := e.target(t, config.Auth{}).Prepare(ctx, e.cfg.SyncMappings(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(config.SyncFields) {
		t.Fatalf("%d statuses", len(st))
	}
	for _, s := range st {
		switch {
		case s.Field == "fit_score":
			if s.State != crmsync.FieldExists || s.CRMType != "string" || !strings.Contains(s.Problem, "of type string") || !strings.Contains(s.Problem, "double") {
				t.Errorf("mistyped field: %+v", s)
			}
		case s.State != crmsync.FieldExists || s.Problem != "":
			t.Errorf("%+v", s)
		case s.Field == "size_band" && s.CRMType != "picklist", s.Field == "ltv_quintile" && s.CRMType != "double", s.Field == "segment_as_of" && s.CRMType != "date":
			t.Errorf("type: %+v", s)
		}
	}
	_, err = e.target(t, config.Auth{Type: "bearer", Token: "expired-token"}).Prepare(ctx, e.cfg.SyncMappings(), nil, true)
	var he *extract.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "describe Account") ||
		!strings.Contains(err.Error(), "/services/data/v60.0/sobjects/Account/describe") || !strings.Contains(err.Error(), "INVALID_SESSION_ID") ||
		strings.Contains(err.Error(), "expired-token") {
		t.Errorf("bad token: %v", err)
	}
}

// A job that does not finish within job_timeout stops the sync naming the job and its state;
// the pending job stays, and the next sync waits for it and reads its results.
func TestSalesforceJobTimeoutLeavesItPending(t *testing.T) {
	e := newSalesforceEnv(t, "  job_timeout: 20ms\n")
	e.log.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		_, id, ok := strings.Cut(r.URL.Path, "/jobs/ingest/")
		if !ok || r.Method != http.MethodGet || strings.Contains(id, "/") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "state": "InProgress", "object": "Account", "operation": "update"})
		return true
	}
	recs := e.release("2026-10-31", 30, 0, nil)
	_, err := e.run(t, recs, "2026-10-31", "run1")
	if err == nil || !strings.Contains(err.Error(), "ingest job 750") || !strings.Contains(err.Error(), "still InProgress") {
		t.Fatalf("err %v", err)
	}
	if pend, _ := e.store.List(context.Background(), crmsync.Prefix("crm")+"pending/"); len(pend) != 1 {
		t.Fatalf("pending jobs: %v", pend)
	}
	e.log.reset()
	res, err := e.run(t, recs, "2026-10-31", "run2")
	if err != nil {
		t.Fatal(err)
	}
	if res.Recovered != 30 || e.log.creates != 0 || res.Total().Unchanged != 30 {
		t.Errorf("recovered %d, %d new jobs, %+v", res.Recovered, e.log.creates, res.Total())
	}
	ledger := e.ledgerStatuses(t)
	for _, r := range recs {
		if s := ledger[r.Key()]; s != crmsync.StatusSynced {
			t.Fatalf("%s is %q in the ledger", r.Key(), s)
		}
	}
	e.crmEquals(t, recs)
}

// A record Salesforce's results do not mention is rejected (and so sent again next time),
// not left unanswered.
func TestSalesforceRecordMissingFromResultsIsRejected(t *testing.T) {
	e := newSalesforceEnv(t, "")
	recs := e.release("2026-10-31", 10, 0, nil)
	lost := recs[4].ID
	e.log.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/successfulResults") {
			return false
		}
		rec := httptest.NewRecorder()
		e.api.ServeHTTP(rec, r)
		var kept []string
		for _, line := range strings.SplitAfter(rec.Body.String(), "\n") {
			if !strings.Contains(line, lost) {
				kept = append(kept, line)
			}
		}
		w.Header().Set("Content-Type", "text/csv")
		_, _ = io.WriteString(w, strings.Join(kept, ""))
		return true
	}
	res, err := e.run(t, recs, "2026-10-31", "run1")
	if err != nil {
		t.Fatal(err)
	}
	if tot := res.Total(); tot.Synced != 9 || tot.Rejected != 1 || len(res.Rejections) != 1 || res.Rejections[0].Key != "account/"+lost ||
		!strings.HasPrefix(res.Rejections[0].Reason, "not in the job's results") {
		t.Fatalf("%+v %+v", tot, res.Rejections)
	}
	e.log.reset()
	if res, err := e.run(t, recs, "2026-10-31", "run2"); err != nil || res.Total().Retry != 1 || e.log.uploaded[lost] != 1 {
		t.Errorf("retry: %+v %v", res.Total(), err)
	}
}
