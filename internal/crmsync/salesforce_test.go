package crmsync_test

import (
	"context"
	"encoding/csv"
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
			}
		case r.Method == http.MethodPatch && strings.Contains(string(body), "UploadComplete") && l.failAfterClose:
			l.dead = true
		}
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *ingestLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.creates, l.uploaded, l.dead, l.failAfterClose, l.failAfterCreate = 0, map[string]int{}, false, false, false
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
	log := &ingestLog{uploaded: map[string]int{}}
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

func (e *salesforceEnv) run(t *testing.T, recs []*crmsync.Record, asOf, runID string) (*crmsync.Result, error) {
	t.Helper()
	src := e.cfg.Sources["crm"]
	caller, err := extract.NewCaller("crm", src, e.cfg.SyncAuth(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	target := &crmsync.Salesforce{BaseURL: src.BaseURL, APIVersion: e.cfg.Sync.APIVersion, Caller: caller,
		PollInterval: e.cfg.Sync.PollInterval.D(), JobTimeout: e.cfg.Sync.JobTimeout.D(), JobSize: 100}
	return crmsync.Run(context.Background(), e.store, target, e.cfg.SyncMappings(), recs,
		crmsync.Options{Target: "crm", AsOf: asOf, RunID: runID, MaxChangedShare: e.cfg.Sync.MaxChangedShare})
}

func (e *salesforceEnv) release(asOf string, n, deals int, override map[string]string) []*crmsync.Record {
	return buildRelease(e.cfg, e.c, salesforce.OpportunityID, asOf, n, deals, override)
}

// crmEquals checks that the org holds the records' hashed values ("" for a cleared one).
func (e *salesforceEnv) crmEquals(t *testing.T, recs []*crmsync.Record) {
	t.Helper()
	bad := 0
	for _, r := range recs {
		got := e.api.Updated(r.ID)
		for _, k := range r.Hashed {
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
