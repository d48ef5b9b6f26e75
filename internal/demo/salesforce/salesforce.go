// Package salesforce serves a demo.Company through a fake of Salesforce's Bulk API 2.0 query
// jobs: create a job with SOQL, poll it until JobComplete, then page its CSV results with the
// Sforce-Locator header. Errors are Salesforce's JSON arrays of {errorCode, message}.
//
// The company should have Salesforce-style account ids (demo.IDStyleSalesforce): an account id
// is used as the Account Id. Opportunity Ids come from the opportunity numbers
// (OpportunityID), User Ids from the owner names (UserID). docs/vendors/salesforce.md
// describes the mapping.
package salesforce

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
)

// APIVersion is the API version of the preset; the fake accepts any version from 47.0 (the
// first with Bulk API 2.0 query jobs).
const APIVersion = "v60.0"

// PathJobs is the query jobs resource of APIVersion, relative to the instance URL.
const PathJobs = "/services/data/" + APIVersion + "/jobs/query"

// DefaultMaxRecords is the result set size when a request gives no maxRecords.
const DefaultMaxRecords = 50_000

// apiUserID is the id of the integration user that creates the jobs.
const apiUserID = "005900000000000AAA"

// dailyAPILimit is the org's advertised daily API request allocation (Sforce-Limit-Info).
const dailyAPILimit = 100_000

// jobTimeLayout is how job info writes datetimes.
const jobTimeLayout = "2006-01-02T15:04:05.000-0700"

var rePath = regexp.MustCompile(`^/services/data/v(\d+\.\d)/jobs/query(?:/([^/]+)(/results)?)?/?$`)

// Fault makes one request fail the way Salesforce fails.
type Fault struct {
	// Request is the 1-based number of the request, counted over every path, that fails.
	Request int64
	// Status is 403 (REQUEST_LIMIT_EXCEEDED: the org's API request limit, not retryable),
	// 503 (SERVER_UNAVAILABLE) or another 5xx (UNKNOWN_EXCEPTION).
	Status int
}

// job is one Bulk API 2.0 query job; its results are fixed when it is created.
type job struct {
	id, operation, object, version string
	created                        time.Time
	state                          string
	polls                          int
	failMsg                        string
	delimiter                      byte
	delimiterName, lineEnding      string
	header                         []string
	rows                           [][]string
}

// API is the fake Salesforce org over one demo company. It is an http.Handler.
type API struct {
	token string
	org   map[string]*sobject // by lower-case object name

	mu       sync.Mutex
	requests int64
	faults   map[int64]Fault
	failNext string
	jobs     map[string]*job
	jobSeq   int64
	queries  []string
	deleted  map[string]time.Time // record Id -> deletion time
	in       *ingestState         // ingest jobs and custom fields (bulkingest.go)
}

// NewHandler returns the fake Salesforce API for c, accepting token as the OAuth access token.
func NewHandler(c *demo.Company, token string) http.Handler { return New(c, token) }

// New builds the fake Salesforce API for c, accepting token as the OAuth access token.
func New(c *demo.Company, token string) *API {
	return &API{token: token, org: buildOrg(c), faults: map[int64]Fault{}, jobs: map[string]*job{}, deleted: map[string]time.Time{}}
}

// InjectFault makes request f.Request fail with f.Status.
func (a *API) InjectFault(f Fault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faults[f.Request] = f
}

// FailNextJob makes the next query job created end in state Failed with this errorMessage.
func (a *API) FailNextJob(msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failNext = msg
}

// Delete moves records (any object, by Id) to the recycle bin at time at: query jobs leave
// them out, queryAll jobs return them with IsDeleted true and SystemModstamp at.
func (a *API) Delete(at time.Time, ids ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range ids {
		a.deleted[id] = at.UTC().Truncate(time.Millisecond)
	}
}

// Queries returns the SOQL of every query job created, in order.
func (a *API) Queries() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.queries...)
}

// Requests returns how many requests reached the API (authorized or not).
func (a *API) Requests() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests
}

// apiError is one element of Salesforce's error array.
type apiError struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, []apiError{{ErrorCode: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, `[{"errorCode":"UNKNOWN_EXCEPTION","message":"encoding failed"}]`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// ServeHTTP answers one request: auth (401), fault injection, then the query jobs resource.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests++
	n := a.requests
	fault, faulty := a.faults[n]
	a.mu.Unlock()
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", n, dailyAPILimit))

	if !a.authorized(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", "Token")
		writeError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	if faulty {
		switch fault.Status {
		case http.StatusForbidden:
			writeError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		case http.StatusServiceUnavailable:
			writeError(w, http.StatusServiceUnavailable, "SERVER_UNAVAILABLE", "Server temporarily unavailable, please retry later.")
		default:
			status := fault.Status
			if status == 0 {
				status = http.StatusInternalServerError
			}
			writeError(w, status, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)")
		}
		return
	}
	if a.serveIngest(w, r) {
		return
	}
	m := rePath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	version, jobID, results := m[1], m[2], m[3] != ""
	if v, err := strconv.ParseFloat(version, 64); err != nil || v < 47 {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	switch {
	case jobID == "" && r.Method == http.MethodPost:
		a.createJob(w, r, version)
	case jobID == "" && r.Method == http.MethodGet:
		a.listJobs(w)
	case jobID == "":
		methodNotAllowed(w, r, "GET, POST")
	case results && r.Method == http.MethodGet:
		a.results(w, r, jobID, version)
	case results:
		methodNotAllowed(w, r, "GET")
	case r.Method == http.MethodGet:
		a.jobInfo(w, jobID)
	case r.Method == http.MethodPatch:
		a.abortJob(w, r, jobID)
	case r.Method == http.MethodDelete:
		a.deleteJob(w, jobID)
	default:
		methodNotAllowed(w, r, "GET, PATCH, DELETE")
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+r.Method+"' not allowed. Allowed are "+allow)
}

func (a *API) authorized(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || (!strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "OAuth")) || a.token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(a.token)) == 1
}

// createRequest is the body of POST .../jobs/query.
type createRequest struct {
	Operation       string `json:"operation"`
	Query           string `json:"query"`
	ContentType     string `json:"contentType"`
	ColumnDelimiter string `json:"columnDelimiter"`
	LineEnding      string `json:"lineEnding"`
}

var delimiters = map[string]byte{"COMMA": ',', "BACKQUOTE": '`', "CARET": '^', "PIPE": '|', "SEMICOLON": ';', "TAB": '\t'}

func (a *API) createJob(w http.ResponseWriter, r *http.Request, version string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "could not read the request body: "+err.Error())
		return
	}
	var req createRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Cannot deserialize the request body: "+err.Error())
		return
	}
	if req.Operation != "query" && req.Operation != "queryAll" {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Invalid operation: %q; use query or queryAll", req.Operation))
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : query is required")
		return
	}
	if req.ContentType == "" {
		req.ContentType = "CSV"
	}
	if req.ContentType != "CSV" {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Unsupported contentType: %q; CSV is the only one", req.ContentType))
		return
	}
	if req.ColumnDelimiter == "" {
		req.ColumnDelimiter = "COMMA"
	}
	delim, ok := delimiters[req.ColumnDelimiter]
	if !ok {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Invalid columnDelimiter: %q", req.ColumnDelimiter))
		return
	}
	if req.LineEnding == "" {
		req.LineEnding = "LF"
	}
	if req.LineEnding != "LF" && req.LineEnding != "CRLF" {
		writeError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Invalid lineEnding: %q", req.LineEnding))
		return
	}
	q, err := parseQuery(req.Query, a.org)
	if err != nil {
		se := err.(*soqlError)
		writeError(w, http.StatusBadRequest, se.code, se.msg)
		return
	}

	a.mu.Lock()
	a.queries = append(a.queries, req.Query)
	a.jobSeq++
	j := &job{
		id: recordID(prefixJob, a.jobSeq), operation: req.Operation, object: q.object.name, version: version,
		created: time.Now().UTC().Truncate(time.Second), state: "UploadComplete",
		delimiter: delim, delimiterName: req.ColumnDelimiter, lineEnding: req.LineEnding,
	}
	j.failMsg, a.failNext = a.failNext, ""
	for _, c := range q.cols {
		j.header = append(j.header, q.object.fields[c].name)
	}
	j.rows = a.run(q, req.Operation == "queryAll")
	a.jobs[j.id] = j
	info := j.info(false)
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

// run evaluates q over the current records. Deleted records are left out unless all; their
// IsDeleted is true and their SystemModstamp the deletion time. Called with a.mu held.
func (a *API) run(q *query, all bool) [][]string {
	o := q.object
	_, delCol, _ := o.field("IsDeleted")
	_, modCol, _ := o.field("SystemModstamp")
	_, lastModCol, _ := o.field("LastModifiedDate")
	var rows [][]string
	for _, rec := range o.records {
		if at, gone := a.deleted[rec[0]]; gone {
			if !all {
				continue
			}
			rec = append([]string(nil), rec...)
			rec[delCol] = "true"
			rec[modCol] = dt(at)
			rec[lastModCol] = dt(at)
		}
		if !q.match(rec) {
			continue
		}
		row := make([]string, len(q.cols))
		for i, c := range q.cols {
			row[i] = rec[c]
		}
		rows = append(rows, row)
	}
	return rows
}

// jobInfoCommon is the job info fields query and ingest jobs share, in the order Salesforce
// writes them.
type jobInfoCommon struct {
	ID              string      `json:"id"`
	Operation       string      `json:"operation"`
	Object          string      `json:"object"`
	CreatedByID     string      `json:"createdById"`
	CreatedDate     string      `json:"createdDate"`
	SystemModstamp  string      `json:"systemModstamp"`
	State           string      `json:"state"`
	ConcurrencyMode string      `json:"concurrencyMode"`
	ContentType     string      `json:"contentType"`
	APIVersion      json.Number `json:"apiVersion"`
	JobType         string      `json:"jobType,omitempty"`
	LineEnding      string      `json:"lineEnding"`
	ColumnDelimiter string      `json:"columnDelimiter"`
}

func newJobInfo(id, operation, object string, created time.Time, state, version, lineEnding, delimiter string) jobInfoCommon {
	return jobInfoCommon{
		ID: id, Operation: operation, Object: object, CreatedByID: apiUserID,
		CreatedDate: created.Format(jobTimeLayout), SystemModstamp: created.Format(jobTimeLayout),
		State: state, ConcurrencyMode: "Parallel", ContentType: "CSV", APIVersion: json.Number(version),
		LineEnding: lineEnding, ColumnDelimiter: delimiter,
	}
}

// jobInfoBody is the JSON info of a query job.
type jobInfoBody struct {
	jobInfoCommon
	NumberRecordsProcessed *int   `json:"numberRecordsProcessed,omitempty"`
	Retries                *int   `json:"retries,omitempty"`
	TotalProcessingTime    *int   `json:"totalProcessingTime,omitempty"`
	IsPkChunkingSupported  *bool  `json:"isPkChunkingSupported,omitempty"`
	ErrorMessage           string `json:"errorMessage,omitempty"`
}

func (j *job) info(detail bool) jobInfoBody {
	b := jobInfoBody{jobInfoCommon: newJobInfo(j.id, j.operation, j.object, j.created, j.state, j.version, j.lineEnding, j.delimiterName)}
	if detail {
		processed, zero, pk := 0, 0, true
		if j.state == "JobComplete" {
			processed = len(j.rows)
		}
		took := 0
		if j.polls > 0 {
			took = 1200
		}
		b.JobType = "V2Query"
		b.NumberRecordsProcessed, b.Retries, b.TotalProcessingTime, b.IsPkChunkingSupported = &processed, &zero, &took, &pk
		if j.state == "Failed" {
			b.ErrorMessage = j.failMsg
		}
	}
	return b
}

func notFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
}

// jobInfo answers a poll: the first poll finds the job InProgress, the next JobComplete (or
// Failed when FailNextJob asked for it).
func (a *API) jobInfo(w http.ResponseWriter, id string) {
	a.mu.Lock()
	j, ok := a.jobs[id]
	if !ok {
		a.mu.Unlock()
		notFound(w)
		return
	}
	j.polls++
	switch j.state {
	case "UploadComplete":
		j.state = "InProgress"
	case "InProgress":
		j.state = "JobComplete"
		if j.failMsg != "" {
			j.state = "Failed"
		}
	}
	info := j.info(true)
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, info)
}

func (a *API) listJobs(w http.ResponseWriter) {
	a.mu.Lock()
	records := make([]jobInfoBody, 0, len(a.jobs))
	for i := int64(1); i <= a.jobSeq; i++ {
		if j, ok := a.jobs[recordID(prefixJob, i)]; ok {
			records = append(records, j.info(false))
		}
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"done": true, "records": records, "nextRecordsUrl": nil})
}

func (a *API) abortJob(w http.ResponseWriter, r *http.Request, id string) {
	var req struct {
		State string `json:"state"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil || req.State != "Aborted" {
		writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", `a query job can only be changed to {"state": "Aborted"}`)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	j, ok := a.jobs[id]
	if !ok {
		notFound(w)
		return
	}
	if j.state == "JobComplete" || j.state == "Failed" {
		writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Job is already "+j.state)
		return
	}
	j.state = "Aborted"
	writeJSON(w, http.StatusOK, j.info(false))
}

func (a *API) deleteJob(w http.ResponseWriter, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.jobs[id]; !ok {
		notFound(w)
		return
	}
	delete(a.jobs, id)
	w.WriteHeader(http.StatusNoContent)
}

// encodeLocator makes the locator of the result set starting at offset (the way Salesforce
// writes them: base64 of a number, e.g. MTAwMDA).
func encodeLocator(offset int) string {
	return base64.RawStdEncoding.EncodeToString([]byte(strconv.Itoa(offset)))
}

func decodeLocator(s string, n int) (int, bool) {
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	off, err := strconv.Atoi(string(b))
	return off, err == nil && off >= 0 && off <= n
}

// results answers one result set: the CSV header and up to maxRecords rows from the locator,
// Sforce-NumberOfRecords, and Sforce-Locator (the next set, or the text null at the end).
func (a *API) results(w http.ResponseWriter, r *http.Request, id, version string) {
	q := r.URL.Query()
	a.mu.Lock()
	j, ok := a.jobs[id]
	var state, jobVersion string
	if ok {
		state, jobVersion = j.state, j.version
	}
	a.mu.Unlock()
	switch {
	case !ok:
		notFound(w)
		return
	case jobVersion != version:
		writeError(w, http.StatusConflict, "INVALIDJOBSTATE", fmt.Sprintf("The job was created with API version %s; get its results with the same version, not %s", jobVersion, version))
		return
	case state != "JobComplete":
		writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Job is not complete: its state is "+state)
		return
	}
	limit := DefaultMaxRecords
	if s := q.Get("maxRecords"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "INVALIDREQUEST", fmt.Sprintf("maxRecords must be a positive integer, got %q", s))
			return
		}
		limit = n
	}
	off := 0
	if s := q.Get("locator"); s != "" {
		o, ok := decodeLocator(s, len(j.rows))
		if !ok {
			writeError(w, http.StatusBadRequest, "INVALIDREQUEST", fmt.Sprintf("Invalid locator: %q", s))
			return
		}
		off = o
	}
	end := min(off+limit, len(j.rows))
	eol := "\n"
	if j.lineEnding == "CRLF" {
		eol = "\r\n"
	}
	var buf bytes.Buffer
	writeCSVRow(&buf, j.header, j.delimiter, eol)
	for _, row := range j.rows[off:end] {
		writeCSVRow(&buf, row, j.delimiter, eol)
	}
	next := "null"
	if end < len(j.rows) {
		next = encodeLocator(end)
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Sforce-Locator", next)
	h.Set("Sforce-NumberOfRecords", strconv.Itoa(end-off))
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
}

// writeCSVRow writes one row with every field quoted, as Bulk API 2.0 does.
func writeCSVRow(buf *bytes.Buffer, fields []string, delim byte, eol string) {
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(delim)
		}
		buf.WriteByte('"')
		buf.WriteString(strings.ReplaceAll(f, `"`, `""`))
		buf.WriteByte('"')
	}
	buf.WriteString(eol)
}
