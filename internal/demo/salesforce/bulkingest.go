package salesforce

// The write side of the fake, for a sync job: Bulk API 2.0 ingest jobs that update records by
// Id, and the sObject describe a config check reads. Each behaviour cites the Salesforce page it
// follows; docs/vendors/salesforce.md, "Write API (for sync)", lists them.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PathIngestJobs is the ingest jobs resource of APIVersion, relative to the instance URL
// (https://developer.salesforce.com/docs/platform/api-asynch/guide/bulk-api-2-0-ingest.html).
const PathIngestJobs = "/services/data/" + APIVersion + "/jobs/ingest"

// PathDescribe is the describe of an sObject: fmt.Sprintf(PathDescribe, "Account").
const PathDescribe = "/services/data/" + APIVersion + "/sobjects/%s/describe"

var (
	reIngest   = regexp.MustCompile(`^/services/data/v(\d+\.\d)/jobs/ingest(?:/([^/]+)(?:/(batches|successfulResults|failedResults|unprocessedrecords))?)?/?$`)
	reDescribe = regexp.MustCompile(`^/services/data/v(\d+\.\d)/sobjects/([^/]+)/describe/?$`)
	reID       = regexp.MustCompile(`^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$`)
)

// FieldType is the describe type of a custom field a test declares.
type FieldType string

// Field types DefineField takes, as describe names them.
const (
	FieldString   FieldType = "string"
	FieldPicklist FieldType = "picklist"
	FieldDouble   FieldType = "double"
	FieldBoolean  FieldType = "boolean"
	FieldDate     FieldType = "date"
	FieldDateTime FieldType = "datetime"
)

// ingestJob is one Bulk API 2.0 ingest job.
type ingestJob struct {
	id, object, operation, version string
	created                        time.Time
	state                          string
	polls                          int
	lineEnding, delimiterName      string
	delimiter                      byte
	data                           [][]string // the uploaded rows, header first
	errorMessage                   string
	succeeded, failed, unprocessed [][]string // result rows, each with its sf__ columns first
	processed                      int
}

// ingestState is the ingest side's state, guarded by API.mu.
type ingestState struct {
	jobs    map[string]*ingestJob
	custom  map[string]map[string]FieldType // object -> custom field -> type
	updated map[string]map[string]string    // record Id -> field -> value written
}

// DefineField adds a custom field (a name ending in __c) to object, empty on every record:
// describe lists it, ingest jobs may write it and query jobs read it. Fields the read side
// already has (Region__c, Strategic__c, ...) need no DefineField. Call it before serving
// requests: query jobs read the object's fields without the lock.
func (a *API) DefineField(object, name string, typ FieldType) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.org[strings.ToLower(object)]
	if o == nil {
		return fmt.Errorf("salesforce: define %s.%s: no object %s", object, name, object)
	}
	if !strings.HasSuffix(name, "__c") {
		return fmt.Errorf("salesforce: define %s.%s: a custom field's name ends in __c", object, name)
	}
	if _, _, ok := o.field(name); ok {
		return fmt.Errorf("salesforce: define %s.%s: the field exists", object, name)
	}
	kind := map[FieldType]fieldKind{FieldString: kindString, FieldPicklist: kindString, FieldDouble: kindNumber,
		FieldBoolean: kindBool, FieldDate: kindDate, FieldDateTime: kindDateTime}
	k, ok := kind[typ]
	if !ok {
		return fmt.Errorf("salesforce: define %s.%s: unknown type %q", object, name, typ)
	}
	o.byLower[strings.ToLower(name)] = len(o.fields)
	o.fields = append(o.fields, field{name, k})
	for i := range o.records {
		o.records[i] = append(o.records[i], "")
	}
	a.ingest().custom[o.name][name] = typ
	return nil
}

// Updated returns the values ingest jobs wrote to the record with this Id (field -> value),
// nil when none were written.
func (a *API) Updated(id string) map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	got := a.ingest().updated[id]
	if got == nil {
		return nil
	}
	out := make(map[string]string, len(got))
	for k, v := range got {
		out[k] = v
	}
	return out
}

// ingest returns the ingest state, made on first use. Called with a.mu held.
func (a *API) ingest() *ingestState {
	if a.in == nil {
		a.in = &ingestState{jobs: map[string]*ingestJob{}, custom: map[string]map[string]FieldType{}, updated: map[string]map[string]string{}}
		for _, o := range a.org {
			a.in.custom[o.name] = map[string]FieldType{}
		}
	}
	return a.in
}

// serveIngest answers the ingest and describe resources; false when the path is neither.
func (a *API) serveIngest(w http.ResponseWriter, r *http.Request) bool {
	if m := reDescribe.FindStringSubmatch(r.URL.Path); m != nil {
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r, "GET")
		} else {
			a.describe(w, m[2])
		}
		return true
	}
	m := reIngest.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return false
	}
	version, id, sub := m[1], m[2], m[3]
	if v, err := strconv.ParseFloat(version, 64); err != nil || v < 41 {
		notFound(w) // ingest jobs exist from API version 41.0
		return true
	}
	switch {
	case id == "" && r.Method == http.MethodPost:
		a.createIngestJob(w, r, version)
	case id == "":
		methodNotAllowed(w, r, "POST")
	case sub == "batches" && r.Method == http.MethodPut:
		a.uploadJobData(w, r, id)
	case sub == "batches":
		methodNotAllowed(w, r, "PUT")
	case sub != "" && r.Method == http.MethodGet:
		a.ingestResults(w, id, sub)
	case sub != "":
		methodNotAllowed(w, r, "GET")
	case r.Method == http.MethodGet:
		a.ingestJobInfo(w, id)
	case r.Method == http.MethodPatch:
		a.changeIngestState(w, r, id)
	case r.Method == http.MethodDelete:
		a.deleteIngestJob(w, id)
	default:
		methodNotAllowed(w, r, "GET, PATCH, DELETE")
	}
	return true
}

// describeField is one field of a describe answer (the subset a config check reads).
type describeField struct {
	Name       string `json:"name"`
	Label      string `json:"label"`
	Type       string `json:"type"`
	Custom     bool   `json:"custom"`
	Updateable bool   `json:"updateable"`
	Nillable   bool   `json:"nillable"`
}

// describe answers GET /sobjects/{object}/describe: name, custom, updateable and the fields
// with name, type, custom, updateable, nillable
// (https://developer.salesforce.com/docs/platform/api-rest/guide/dome-sobject-describe).
// An unknown object is a 404 NOT_FOUND.
func (a *API) describe(w http.ResponseWriter, object string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.org[strings.ToLower(object)]
	if o == nil {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return
	}
	custom := a.ingest().custom[o.name]
	fields := []describeField{}
	for _, f := range o.fields {
		if strings.Contains(f.name, ".") {
			continue // a relationship path, not a field of the object
		}
		typ := map[fieldKind]string{kindString: "string", kindBool: "boolean", kindNumber: "double", kindDate: "date", kindDateTime: "datetime"}[f.kind]
		if t, ok := custom[f.name]; ok {
			typ = string(t)
		}
		switch {
		case f.name == "Id":
			typ = "id"
		case strings.HasSuffix(f.name, "Id") && f.kind == kindString:
			typ = "reference"
		}
		fields = append(fields, describeField{Name: f.name, Label: f.name, Type: typ, Custom: strings.HasSuffix(f.name, "__c"),
			Updateable: updateable(f.name), Nillable: f.name != "Id" && f.kind != kindBool && updateable(f.name)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": o.name, "label": o.name, "custom": false, "updateable": true, "queryable": true, "fields": fields})
}

// updateable says whether an update may set the field: not Id, not a system field, not a
// relationship path.
func updateable(name string) bool {
	if strings.Contains(name, ".") {
		return false
	}
	return !slices.ContainsFunc(systemFields, func(f field) bool { return f.name == name })
}

type ingestCreateRequest struct {
	Object              string `json:"object"`
	Operation           string `json:"operation"`
	ExternalIDFieldName string `json:"externalIdFieldName"`
	ContentType         string `json:"contentType"`
	ColumnDelimiter     string `json:"columnDelimiter"`
	LineEnding          string `json:"lineEnding"`
}

// createIngestJob answers POST /jobs/ingest: a job in state Open
// (https://developer.salesforce.com/docs/atlas.en-us.254.0.api_asynch.meta/api_asynch/walkthrough_upload_data.htm).
// The fake runs operation update (by Id); other operations are refused with InvalidJob.
func (a *API) createIngestJob(w http.ResponseWriter, r *http.Request, version string) {
	var req ingestCreateRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Cannot deserialize the request body: "+err.Error())
		return
	}
	if req.ContentType == "" {
		req.ContentType = "CSV"
	}
	if req.ColumnDelimiter == "" {
		req.ColumnDelimiter = "COMMA"
	}
	if req.LineEnding == "" {
		req.LineEnding = "LF"
	}
	delim, okDelim := delimiters[req.ColumnDelimiter]
	a.mu.Lock()
	defer a.mu.Unlock()
	o := a.org[strings.ToLower(req.Object)]
	switch {
	case req.Object == "":
		writeError(w, http.StatusBadRequest, "INVALIDJOB", "InvalidJob : object is required")
	case o == nil:
		writeError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Unable to find object: %s", req.Object))
	case req.Operation != "update":
		writeError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : operation %q: this fake runs update jobs only", req.Operation))
	case req.ContentType != "CSV":
		writeError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Unsupported contentType: %q; CSV is the only one", req.ContentType))
	case !okDelim:
		writeError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Invalid columnDelimiter: %q", req.ColumnDelimiter))
	case req.LineEnding != "LF" && req.LineEnding != "CRLF":
		writeError(w, http.StatusBadRequest, "INVALIDJOB", fmt.Sprintf("InvalidJob : Invalid lineEnding: %q", req.LineEnding))
	default:
		a.jobSeq++
		j := &ingestJob{id: recordID(prefixJob, a.jobSeq), object: o.name, operation: req.Operation, version: version,
			created: time.Now().UTC().Truncate(time.Second), state: "Open", lineEnding: req.LineEnding,
			delimiterName: req.ColumnDelimiter, delimiter: delim}
		a.ingest().jobs[j.id] = j
		writeJSON(w, http.StatusOK, j.info())
	}
}

// uploadJobData answers PUT /jobs/ingest/{id}/batches: CSV (Content-Type text/csv) for an Open
// job, 201 Created with no body
// (https://developer.salesforce.com/docs/platform/api-asynch/guide/upload-job-data.html).
// The header of every upload must be the same; rows are kept in order.
func (a *API) uploadJobData(w http.ResponseWriter, r *http.Request, id string) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "text/csv") {
		writeError(w, http.StatusBadRequest, "INVALIDREQUEST", fmt.Sprintf("Content-Type %q: upload job data as text/csv", ct))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 150<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "CLIENTINPUTERROR", "could not read the upload: "+err.Error())
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	j := a.ingest().jobs[id]
	if j == nil {
		notFound(w)
		return
	}
	if j.state != "Open" {
		writeError(w, http.StatusConflict, "INVALIDJOBSTATE", "Job is not open for uploads: its state is "+j.state)
		return
	}
	cr := csv.NewReader(bytes.NewReader(body))
	cr.Comma = rune(j.delimiter)
	rows, err := cr.ReadAll()
	if err != nil || len(rows) == 0 {
		msg := "the upload is empty"
		if err != nil {
			msg = err.Error()
		}
		writeError(w, http.StatusBadRequest, "CLIENTINPUTERROR", "ClientInputError : CSV could not be parsed: "+msg)
		return
	}
	if len(j.data) > 0 {
		if !slices.Equal(j.data[0], rows[0]) {
			writeError(w, http.StatusBadRequest, "CLIENTINPUTERROR", "ClientInputError : the header differs from the job's earlier upload")
			return
		}
		rows = rows[1:]
	}
	j.data = append(j.data, rows...)
	w.WriteHeader(http.StatusCreated)
}

// changeIngestState answers PATCH /jobs/ingest/{id} with {"state":"UploadComplete"} (start
// processing; "This request is required for every Bulk API 2.0 ingest job",
// https://developer.salesforce.com/docs/platform/api-asynch/guide/close-job.html) or
// {"state":"Aborted"}.
func (a *API) changeIngestState(w http.ResponseWriter, r *http.Request, id string) {
	var req struct {
		State string `json:"state"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Cannot deserialize the request body: "+err.Error())
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	j := a.ingest().jobs[id]
	if j == nil {
		notFound(w)
		return
	}
	switch {
	case req.State == "UploadComplete" && j.state == "Open":
		if len(j.data) == 0 {
			j.state, j.errorMessage = "Failed", "No data was uploaded"
		} else {
			j.state = "UploadComplete"
		}
	case req.State == "Aborted" && (j.state == "Open" || j.state == "UploadComplete" || j.state == "InProgress"):
		j.state = "Aborted"
		if len(j.data) > 0 { // a job aborted before any upload has no rows
			j.unprocessed = j.data[1:]
		}
	default:
		writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", fmt.Sprintf("InvalidJobState : cannot change a job in state %s to %q", j.state, req.State))
		return
	}
	writeJSON(w, http.StatusOK, j.info())
}

// ingestJobInfo answers a poll. A job moves UploadComplete -> InProgress on the first poll
// after upload complete and is processed on the next, ending JobComplete or Failed (job states:
// https://developer.salesforce.com/docs/atlas.en-us.236.0.api_asynch.meta/api_asynch/how_requests_are_processed.htm).
func (a *API) ingestJobInfo(w http.ResponseWriter, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j := a.ingest().jobs[id]
	if j == nil {
		notFound(w)
		return
	}
	j.polls++
	switch j.state {
	case "UploadComplete":
		j.state = "InProgress"
	case "InProgress":
		a.process(j)
	}
	writeJSON(w, http.StatusOK, j.info())
}

// process runs an update job over the records. Called with a.mu held.
//
// A header column that is no field of the object fails the whole job before a record is
// processed (InvalidBatch, https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/bulk_api_2_0_errors.htm;
// "Headers that don't match cause the entire batch to fail before any record is processed",
// https://salesforcedictionary.com/errors/bulk-api-invalid-csv): every row is then an
// unprocessed record. Otherwise each row fails or succeeds alone: a malformed Id
// (MALFORMED_ID), an Id of no record (INVALID_CROSS_REFERENCE_KEY), a deleted record
// (ENTITY_IS_DELETED), a field no update may set (INVALID_FIELD_FOR_INSERT_UPDATE) or a value
// its type refuses (INVALID_TYPE_ON_FIELD_IN_RECORD). Failed rows carry sf__Id and sf__Error
// before the original columns (https://developer.salesforce.com/docs/atlas.en-us.264.0.api_asynch.meta/api_asynch/get_job_failed_results.htm).
func (a *API) process(j *ingestJob) {
	o := a.org[strings.ToLower(j.object)]
	header, rows := j.data[0], j.data[1:]
	cols := make([]int, len(header))
	idCol := -1
	for i, name := range header {
		_, at, ok := o.field(name)
		if !ok || strings.Contains(name, ".") {
			j.state = "Failed"
			j.errorMessage = "InvalidBatch : Field name not found : " + name
			j.unprocessed = rows
			return
		}
		cols[i] = at
		if strings.EqualFold(name, "Id") {
			idCol = i
		}
	}
	if idCol < 0 {
		j.state = "Failed"
		j.errorMessage = "InvalidBatch : Id column is required for update"
		j.unprocessed = rows
		return
	}
	now := dt(time.Now().UTC())
	_, modCol, _ := o.field("SystemModstamp")
	_, lastModCol, _ := o.field("LastModifiedDate")
	for _, row := range rows {
		id := row[idCol]
		fail := func(msg string) { j.failed = append(j.failed, slices.Concat([]string{id, msg}, row)) }
		pos, exists := o.ids[id]
		if _, gone := a.deleted[id]; gone {
			fail("ENTITY_IS_DELETED:entity is deleted:--")
			continue
		}
		if !reID.MatchString(id) {
			fail(fmt.Sprintf("MALFORMED_ID:%s ID: id value of incorrect type: %s:Id --", o.name, id))
			continue
		}
		if !exists {
			fail("INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--")
			continue
		}
		msg := ""
		for i, v := range row {
			f := o.fields[cols[i]]
			if i == idCol {
				continue
			}
			if !updateable(f.name) {
				msg = fmt.Sprintf("INVALID_FIELD_FOR_INSERT_UPDATE:Unable to create/update fields: %s. Please check the security settings of this field and verify that it is read/write for your profile or permission set.:%s --", f.name, f.name)
				break
			}
			if !validValue(f.kind, v) {
				msg = fmt.Sprintf("INVALID_TYPE_ON_FIELD_IN_RECORD:%s: value not of required type: %s:%s --", f.name, v, f.name)
				break
			}
		}
		if msg != "" {
			fail(msg)
			continue
		}
		rec := o.records[pos]
		written := a.ingest().updated[id]
		if written == nil {
			written = map[string]string{}
			a.ingest().updated[id] = written
		}
		for i, v := range row {
			if i == idCol || v == "" {
				// "Empty field values are ignored when you update records. To set a field
				// value to null, use a field value of #N/A"
				// (https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_bulk_v2/datafiles_csv_valid_record_rows.htm).
				continue
			}
			if v == "#N/A" {
				v = "" // Bulk API's null
			}
			rec[cols[i]] = v
			written[o.fields[cols[i]].name] = v
		}
		rec[modCol], rec[lastModCol] = now, now
		j.succeeded = append(j.succeeded, slices.Concat([]string{id, "false"}, row))
	}
	j.processed = len(rows)
	j.state = "JobComplete"
}

// validValue checks CSV text against a field type; #N/A sets null, empty leaves the value.
func validValue(k fieldKind, v string) bool {
	if v == "" || v == "#N/A" {
		return true
	}
	switch k {
	case kindNumber:
		_, err := strconv.ParseFloat(v, 64)
		return err == nil
	case kindBool:
		return slices.Contains([]string{"true", "false", "1", "0"}, strings.ToLower(v))
	case kindDate:
		_, err := time.Parse(dateLayout, v)
		return err == nil
	case kindDateTime:
		_, err := time.Parse(time.RFC3339, v)
		return err == nil
	}
	return true
}

// ingestResults answers successfulResults/ (sf__Id, sf__Created, then the original columns),
// failedResults/ (sf__Id, sf__Error, ...) and unprocessedrecords/ (the original columns), CSV
// in the job's delimiter and line ending. Results exist once the job is JobComplete, Failed
// or Aborted (https://developer.salesforce.com/docs/atlas.en-us.264.0.api_asynch.meta/api_asynch/get_job_unprocessed_results.htm).
func (a *API) ingestResults(w http.ResponseWriter, id, which string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j := a.ingest().jobs[id]
	if j == nil {
		notFound(w)
		return
	}
	if j.state != "JobComplete" && j.state != "Failed" && j.state != "Aborted" {
		writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Job is not complete: its state is "+j.state)
		return
	}
	var header []string
	var rows [][]string
	if len(j.data) > 0 {
		header = j.data[0]
	}
	switch which {
	case "successfulResults":
		header, rows = slices.Concat([]string{"sf__Id", "sf__Created"}, header), j.succeeded
	case "failedResults":
		header, rows = slices.Concat([]string{"sf__Id", "sf__Error"}, header), j.failed
	default:
		rows = j.unprocessed
	}
	eol := "\n"
	if j.lineEnding == "CRLF" {
		eol = "\r\n"
	}
	var buf bytes.Buffer
	writeCSVRow(&buf, header, j.delimiter, eol)
	for _, row := range rows {
		writeCSVRow(&buf, row, j.delimiter, eol)
	}
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = buf.WriteTo(w)
}

func (a *API) deleteIngestJob(w http.ResponseWriter, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j := a.ingest().jobs[id]
	if j == nil {
		notFound(w)
		return
	}
	if j.state == "Open" || j.state == "UploadComplete" || j.state == "InProgress" {
		writeError(w, http.StatusBadRequest, "INVALIDJOBSTATE", "Only a job that is JobComplete, Failed or Aborted can be deleted; its state is "+j.state)
		return
	}
	delete(a.ingest().jobs, id)
	w.WriteHeader(http.StatusNoContent)
}

// ingestJobInfoBody is the JSON info of an ingest job
// (https://developer.salesforce.com/docs/platform/api-asynch/guide/close-job.html, whose response body lists the job info fields).
type ingestJobInfoBody struct {
	jobInfoCommon
	ContentURL             string `json:"contentUrl,omitempty"`
	NumberRecordsProcessed int    `json:"numberRecordsProcessed"`
	NumberRecordsFailed    int    `json:"numberRecordsFailed"`
	Retries                int    `json:"retries"`
	TotalProcessingTime    int    `json:"totalProcessingTime"`
	ErrorMessage           string `json:"errorMessage,omitempty"`
}

func (j *ingestJob) info() ingestJobInfoBody {
	b := ingestJobInfoBody{
		jobInfoCommon:          newJobInfo(j.id, j.operation, j.object, j.created, j.state, j.version, j.lineEnding, j.delimiterName),
		NumberRecordsProcessed: j.processed, NumberRecordsFailed: len(j.failed), ErrorMessage: j.errorMessage,
	}
	b.JobType = "V2Ingest"
	if j.state == "Open" {
		b.ContentURL = "services/data/v" + j.version + "/jobs/ingest/" + j.id + "/batches"
	}
	if j.processed > 0 {
		b.TotalProcessingTime = 1500
	}
	return b
}
