package extract

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
)

// opportunity is one row of the fake Salesforce org.
type opportunity struct {
	id, name string
	amount   float64
	modstamp time.Time
}

func opportunities(n int) []opportunity {
	out := make([]opportunity, n)
	base := mustTime("2026-01-01T00:00:00Z")
	for i := range out {
		out[i] = opportunity{id: fmt.Sprintf("006%015d", i), name: fmt.Sprintf("Deal, %d", i), amount: float64(i) * 100.5, modstamp: base.Add(time.Duration(i) * time.Hour)}
	}
	return out
}

// salesforceBulk is a fake of the Bulk API 2.0 query resources: create a job, get its
// state (InProgress for the first polls, then final), page its CSV results with
// Sforce-Locator. It understands one SOQL shape: ... WHERE SystemModstamp > <literal>.
type salesforceBulk struct {
	t       testing.TB
	version string
	opps    []opportunity
	polls   int    // status calls answered InProgress before the final state
	final   string // JobComplete, Failed, Aborted
	errMsg  string // the job's errorMessage

	mu      sync.Mutex
	log     requestLog
	queries []string
	bodies  []map[string]any
	matched []opportunity
	statusN int
}

const sfJobID = "750R0000000zlhEIAQ"

func (s *salesforceBulk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.log.add(r)
	if !bearerOK(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	jobs := "/services/data/" + s.version + "/jobs/query"
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == jobs:
		if r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `[{"errorCode":"UNSUPPORTED_MEDIA_TYPE"}]`, http.StatusUnsupportedMediaType)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, `[{"errorCode":"JSON_PARSER_ERROR"}]`, http.StatusBadRequest)
			return
		}
		s.bodies = append(s.bodies, body)
		q, _ := body["query"].(string)
		s.queries = append(s.queries, q)
		_, lit, ok := strings.Cut(q, "WHERE SystemModstamp > ")
		since, err := time.Parse("2006-01-02T15:04:05Z", lit)
		if !ok || err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `[{"errorCode":"INVALIDJOB","message":"unexpected query %q"}]`, q)
			return
		}
		s.matched = nil
		for _, o := range s.opps {
			if o.modstamp.After(since) {
				s.matched = append(s.matched, o)
			}
		}
		fmt.Fprintf(w, `{"id":%q,"operation":"query","object":"Opportunity","state":"UploadComplete","concurrencyMode":"Parallel","contentType":"CSV","apiVersion":60.0,"lineEnding":"LF","columnDelimiter":"COMMA"}`, sfJobID)
	case r.Method == http.MethodGet && r.URL.Path == jobs+"/"+sfJobID:
		s.statusN++
		state, msg := "InProgress", ""
		if s.statusN > s.polls {
			state, msg = s.final, s.errMsg
		}
		fmt.Fprintf(w, `{"id":%q,"operation":"query","state":%q,"errorMessage":%q,"numberRecordsProcessed":%d}`, sfJobID, state, msg, len(s.matched))
	case r.Method == http.MethodGet && r.URL.Path == jobs+"/"+sfJobID+"/results":
		if s.statusN <= s.polls || s.final != "JobComplete" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `[{"errorCode":"INVALIDJOBSTATE","message":"job not complete"}]`)
			return
		}
		max, err := strconv.Atoi(r.URL.Query().Get("maxRecords"))
		if err != nil || max < 1 {
			http.Error(w, `[{"errorCode":"INVALID_MAX_RECORDS"}]`, http.StatusBadRequest)
			return
		}
		off := 0
		if l := r.URL.Query().Get("locator"); l != "" {
			off, err = strconv.Atoi(strings.TrimPrefix(l, "MTAw"))
			if err != nil {
				http.Error(w, `[{"errorCode":"INVALID_LOCATOR"}]`, http.StatusBadRequest)
				return
			}
		}
		end := min(off+max, len(s.matched))
		loc := "null"
		if end < len(s.matched) {
			loc = "MTAw" + strconv.Itoa(end)
		}
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Sforce-Locator", loc)
		w.Header().Set("Sforce-NumberOfRecords", strconv.Itoa(end-off))
		var b strings.Builder
		b.WriteString(`"Id","Name","Amount","SystemModstamp"` + "\n")
		for _, o := range s.matched[off:end] {
			fmt.Fprintf(&b, "%q,%q,%q,%q\n", o.id, o.name, strconv.FormatFloat(o.amount, 'f', -1, 64), o.modstamp.Format("2006-01-02T15:04:05.000Z"))
		}
		fmt.Fprint(w, b.String())
	default:
		http.Error(w, `[{"errorCode":"NOT_FOUND"}]`, http.StatusNotFound)
	}
}

func opportunitiesBulk() *config.Entity {
	return &config.Entity{
		Format:     "csv",
		Pagination: config.Pagination{Type: "cursor", CursorParam: "locator", NextCursorHeader: "Sforce-Locator"},
		PrimaryKey: "opportunity_id",
		Columns: config.Columns{
			{Name: "opportunity_id", Type: "string", Field: "Id"},
			{Name: "name", Type: "string", Field: "Name"},
			{Name: "amount", Type: "float64", Field: "Amount"},
			{Name: "system_modstamp", Type: "timestamp", Field: "SystemModstamp"},
		},
		Incremental: &config.Incremental{CursorColumn: "system_modstamp", Lookback: config.Duration(time.Hour)},
		BulkQuery: &config.BulkQuery{
			SOQL:         "SELECT Id, Name, Amount, SystemModstamp FROM Opportunity WHERE SystemModstamp > {{cursor}}",
			APIVersion:   "v60.0",
			PollInterval: config.Duration(5 * time.Millisecond),
			Timeout:      config.Duration(5 * time.Second),
		},
	}
}

func TestBulkQueryFullAndIncremental(t *testing.T) {
	fake := &salesforceBulk{t: t, version: "v60.0", opps: opportunities(7), polls: 2, final: "JobComplete"}
	srv := serve(t, fake)
	src := testSource(srv.URL)
	src.PageSize = 3
	ent := opportunitiesBulk()
	store := newStore(t)

	m := mustLand(t, store, src, ent, testOptions(t, "r1"))
	rows := landedRows(t, store, m)
	if len(rows) != 7 || m.Pages != 3 || m.Mode != "full" || m.Quarantined != 0 {
		t.Fatalf("rows %d pages %d mode %s quarantined %d", len(rows), m.Pages, m.Mode, m.Quarantined)
	}
	if rows[1]["opportunity_id"] != "006000000000000001" || rows[1]["name"] != "Deal, 1" || rows[1]["amount"] != 100.5 ||
		rows[1]["system_modstamp"] != mustTime("2026-01-01T01:00:00Z") {
		t.Errorf("row 1 %v", rows[1])
	}
	if m.CursorMax == nil || !m.CursorMax.Equal(mustTime("2026-01-01T06:00:00Z")) {
		t.Errorf("cursor_max %v", m.CursorMax)
	}
	if want := "SELECT Id, Name, Amount, SystemModstamp FROM Opportunity WHERE SystemModstamp > 1970-01-01T00:00:00Z"; fake.queries[0] != want {
		t.Errorf("SOQL %q", fake.queries[0])
	}
	wantBody := map[string]any{"operation": "query", "query": fake.queries[0], "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"}
	if !reflect.DeepEqual(fake.bodies[0], wantBody) {
		t.Errorf("job body %v", fake.bodies[0])
	}
	jobs := "/services/data/v60.0/jobs/query"
	want := []string{
		"POST " + jobs,
		"GET " + jobs + "/" + sfJobID, "GET " + jobs + "/" + sfJobID, "GET " + jobs + "/" + sfJobID,
		"GET " + jobs + "/" + sfJobID + "/results?maxRecords=3",
		"GET " + jobs + "/" + sfJobID + "/results?locator=MTAw3&maxRecords=3",
		"GET " + jobs + "/" + sfJobID + "/results?locator=MTAw6&maxRecords=3",
	}
	var got []string
	fake.log.mu.Lock()
	for _, r := range fake.log.reqs {
		got = append(got, r.Method+" "+r.URL.RequestURI())
	}
	fake.log.mu.Unlock()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests\n got %v\nwant %v", got, want)
	}

	// Incremental: the cursor goes into the SOQL (whole seconds, UTC); the server filters, so
	// nothing is dropped client-side.
	fake.statusN = 0
	opts := testOptions(t, "r2")
	opts.Since = timep("2026-01-01T04:30:00.999+00:00")
	m = mustLand(t, store, src, ent, opts)
	if got := column(landedRows(t, store, m), "opportunity_id"); !reflect.DeepEqual(got, []any{"006000000000000005", "006000000000000006"}) {
		t.Errorf("incremental rows %v", got)
	}
	if !strings.HasSuffix(fake.queries[1], "> 2026-01-01T04:30:00Z") || m.Mode != "incremental" || m.Filtered != 0 || !m.Since.Equal(*opts.Since) {
		t.Errorf("SOQL %q mode %s filtered %d", fake.queries[1], m.Mode, m.Filtered)
	}
}

func TestBulkQueryJobFails(t *testing.T) {
	for _, tc := range []struct {
		name, final, msg string
		polls            int
		timeout          time.Duration
		want             []string
	}{
		{"failed", "Failed", "INVALID_FIELD: No such column 'Amout' (token " + testToken + ")", 1, time.Second, []string{"bulk query job " + sfJobID + " is Failed", "INVALID_FIELD: No such column 'Amout'", "[redacted]"}},
		{"aborted", "Aborted", "", 0, time.Second, []string{"is Aborted"}},
		{"timeout", "JobComplete", "", 1000, 50 * time.Millisecond, []string{"did not complete within 50ms (state InProgress)", "bulk_query.timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &salesforceBulk{t: t, version: "v60.0", opps: opportunities(2), polls: tc.polls, final: tc.final, errMsg: tc.msg}
			srv := serve(t, fake)
			ent := opportunitiesBulk()
			ent.BulkQuery.Timeout = config.Duration(tc.timeout)
			store := newStore(t)
			_, err := land(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
			if err == nil {
				t.Fatal("no error")
			}
			mustContain(t, err.Error(), append(tc.want, "src/ent")...)
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("the token leaked: %v", err)
			}
			assertNoManifest(t, store)
			if keys := lakeKeys(t, store); len(keys) != 0 {
				t.Errorf("left %v", keys)
			}
		})
	}
}

func TestBulkQueryCreateRejected(t *testing.T) {
	var posts int
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts++
		w.WriteHeader(http.StatusBadRequest)
		// A careless server echoes the credential.
		fmt.Fprintf(w, `[{"errorCode":"INVALIDJOB","message":"bad SOQL, auth %s"}]`, r.Header.Get("Authorization"))
	}))
	_, err := land(t, newStore(t), testSource(srv.URL), opportunitiesBulk(), testOptions(t, "r1"))
	var he *HTTPError
	if !errors.As(err, &he) {
		t.Fatalf("err = %v", err)
	}
	if he.Method != "POST" || he.Call != "bulk query job create" || he.Status != 400 || posts != 1 {
		t.Errorf("%+v, %d posts", he, posts)
	}
	mustContain(t, err.Error(), "src/ent dt=2026-03-01: bulk query job create: POST "+srv.URL+"/services/data/v60.0/jobs/query: HTTP 400", "INVALIDJOB", "[redacted]")
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("the token leaked: %v", err)
	}
}

func TestBulkQueryStatusRetried(t *testing.T) {
	fake := &salesforceBulk{t: t, version: "v61.0", opps: opportunities(2), polls: 1, final: "JobComplete"}
	calls := 0
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/results") {
			calls++
			switch calls {
			case 1:
				status(503)(w, r)
				return
			case 2:
				fmt.Fprint(w, `{"id":"`+sfJobID+`","state":"InPro`) // cut off
				return
			}
		}
		fake.ServeHTTP(w, r)
	}))
	ent := opportunitiesBulk()
	ent.BulkQuery.APIVersion = "v61.0"
	store := newStore(t)
	m := mustLand(t, store, testSource(srv.URL), ent, testOptions(t, "r1"))
	if m.Rows != 2 {
		t.Errorf("rows %d", m.Rows)
	}
}

func TestBulkSOQL(t *testing.T) {
	bq := &config.BulkQuery{SOQL: "SELECT Id FROM Account WHERE SystemModstamp >= {{cursor}} AND LastModifiedDate >= {{cursor}}"}
	if got := BulkSOQL(bq, nil); got != "SELECT Id FROM Account WHERE SystemModstamp >= 1970-01-01T00:00:00Z AND LastModifiedDate >= 1970-01-01T00:00:00Z" {
		t.Errorf("full: %s", got)
	}
	if got := BulkSOQL(bq, timep("2026-01-02T05:04:05.9+02:00")); got != "SELECT Id FROM Account WHERE SystemModstamp >= 2026-01-02T03:04:05Z AND LastModifiedDate >= 2026-01-02T03:04:05Z" {
		t.Errorf("incremental: %s", got)
	}
}
