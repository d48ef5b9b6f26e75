package crmsync

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	neturl "net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/extract"
)

// SalesforceJobSize is the most records one ingest job carries: Salesforce processes a job
// in batches of 10,000 records
// (https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_bulk_v2/datafiles_understanding_bulk2_ingest.htm),
// and a job of one batch is what a resumed sync reads back or resends at most.
const SalesforceJobSize = 10_000

// Salesforce writes Account and Opportunity custom fields through Bulk API 2.0 ingest jobs
// that update records by Id
// (https://developer.salesforce.com/docs/platform/api-asynch/guide/bulk-api-2-0-ingest.html):
// create the job, upload CSV, close it (UploadComplete), poll it, read its results.
type Salesforce struct {
	// BaseURL is the org's instance URL (the source's base_url).
	BaseURL string
	// APIVersion is the REST API version, e.g. v60.0.
	APIVersion string
	Caller     *extract.Caller
	// PollInterval is the wait between polls of a job; JobTimeout bounds the wait for one.
	PollInterval, JobTimeout time.Duration
	// JobSize is the records per ingest job (default SalesforceJobSize).
	JobSize int
}

// Vendor names the target.
func (s *Salesforce) Vendor() string { return "salesforce" }

func salesforceObject(object string) string {
	if object == config.SyncDeal {
		return "Opportunity"
	}
	return "Account"
}

func (s *Salesforce) url(path string) string {
	v := s.APIVersion
	if v == "" {
		v = "v60.0" // config's default sync.api_version
	}
	return strings.TrimRight(s.BaseURL, "/") + "/services/data/" + v + path
}

// salesforceError is a failed call: what the sync was doing, with Salesforce's own error,
// wrapping the caller's error (an *extract.HTTPError, a context error) for errors.As and Is.
type salesforceError struct {
	msg string
	err error
}

func (e *salesforceError) Error() string { return e.msg }
func (e *salesforceError) Unwrap() error { return e.err }

// callError names what failed (fmt.Sprintf(format, args...)) and Salesforce's reason.
func callError(err error, format string, args ...any) error {
	return &salesforceError{msg: "salesforce: " + fmt.Sprintf(format, args...) + ": " + salesforceReason(err), err: err}
}

// salesforceTypes are the describe types a field kind can be written to.
var salesforceTypes = map[string][]string{
	config.SyncEnum:   {"picklist", "string", "textarea"},
	config.SyncText:   {"string", "textarea", "picklist"},
	config.SyncNumber: {"double", "int", "currency", "percent"},
	config.SyncDate:   {"date"},
}

// salesforceCreateAs is what an admin creates a missing field as.
var salesforceCreateAs = map[string]string{
	config.SyncEnum: "Picklist or Text(255)", config.SyncText: "Text(255)", config.SyncNumber: "Number(16, 4)", config.SyncDate: "Date",
}

// Prepare reads the describe of Account and Opportunity and checks each mapped field: it
// must exist, take the kind's values and be updateable by the integration user. Custom
// fields are made by an admin (Setup, or the Metadata API), never by a data call, so a
// missing field is a problem whether check is set or not. Picklist values are not checked:
// a value the picklist lacks is refused per record (the describe's picklistValues are not
// read).
func (s *Salesforce) Prepare(ctx context.Context, fields []config.SyncMapping, _ map[string][]string, _ bool) ([]FieldStatus, error) {
	var out []FieldStatus
	for _, obj := range []string{config.SyncAccount, config.SyncDeal} {
		mine := mappingsOf(fields, obj)
		if len(mine) == 0 {
			continue
		}
		so := salesforceObject(obj)
		u := s.url("/sobjects/" + so + "/describe")
		resp, err := s.Caller.Do(ctx, extract.Request{Method: http.MethodGet, URL: u, What: so + " describe"})
		if err != nil {
			path := u
			if pu, perr := neturl.Parse(u); perr == nil {
				path = pu.Path
			}
			return out, callError(err, "describe %s (GET %s; the integration user needs API access and read access to %s)", so, path, so)
		}
		var d struct {
			Fields []salesforceField `json:"fields"`
		}
		if err := json.Unmarshal(resp.Body, &d); err != nil {
			return out, fmt.Errorf("salesforce: describe %s: %w", so, err)
		}
		for _, m := range mine {
			st := FieldStatus{Object: obj, Field: m.Field.Name, CRMName: m.CRMName}
			i := slices.IndexFunc(d.Fields, func(f salesforceField) bool { return strings.EqualFold(f.Name, m.CRMName) })
			switch {
			case i < 0:
				st.State = FieldMissing
				st.Problem = fmt.Sprintf("no field %s on %s: create it in Setup > Object Manager > %s > Fields & Relationships (%s), or map sync.%ss.%s to an existing field",
					m.CRMName, so, so, salesforceCreateAs[m.Field.Kind], m.Field.Object, m.Field.Name)
			default:
				f := d.Fields[i]
				st.State, st.CRMType = FieldExists, f.Type
				switch {
				case !slices.Contains(salesforceTypes[m.Field.Kind], f.Type):
					st.Problem = fmt.Sprintf("the field is of type %s; the values need %s", f.Type, strings.Join(salesforceTypes[m.Field.Kind], " or "))
				case !f.Updateable:
					st.Problem = "the integration user cannot edit the field (field-level security): give its profile or permission set edit access"
				}
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// salesforceField is the part of a describe's field the check reads
// (https://developer.salesforce.com/docs/platform/api-rest/guide/dome-sobject-describe).
type salesforceField struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Updateable bool   `json:"updateable"`
}

// salesforceReason is Salesforce's error ([{"errorCode":..., "message":...}]) when it sent one.
func salesforceReason(err error) string {
	var he *extract.HTTPError
	if !errors.As(err, &he) {
		return err.Error()
	}
	var body []struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
	}
	if json.Unmarshal([]byte(he.Detail), &body) == nil && len(body) > 0 {
		return fmt.Sprintf("HTTP %d %s: %s", he.Status, body[0].ErrorCode, body[0].Message)
	}
	return he.Error()
}

// salesforceJob is the part of an ingest job's info the sync reads.
type salesforceJob struct {
	ID           string `json:"id"`
	State        string `json:"state"`
	ErrorMessage string `json:"errorMessage"`
}

func (j salesforceJob) done() bool {
	return j.State == "JobComplete" || j.State == "Failed" || j.State == "Aborted"
}

// Send writes recs in ingest jobs of JobSize records. Each job is recorded as pending before
// its data is uploaded, so a sync that dies while Salesforce works reads the results next
// time instead of sending the job again.
func (s *Salesforce) Send(ctx context.Context, object string, recs []*Record, j *Journal) error {
	n := s.JobSize
	if n <= 0 {
		n = SalesforceJobSize
	}
	for _, chunk := range chunks(recs, n) {
		if err := s.sendJob(ctx, object, chunk, j); err != nil {
			return err
		}
	}
	return nil
}

func (s *Salesforce) sendJob(ctx context.Context, object string, recs []*Record, j *Journal) error {
	so := salesforceObject(object)
	data, err := salesforceCSV(recs)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"object": so, "operation": "update", "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"})
	resp, err := s.Caller.Do(ctx, extract.Request{Method: http.MethodPost, URL: s.url("/jobs/ingest"), Body: body, What: so + " ingest job create"})
	if err != nil {
		return callError(err, "create the %s ingest job", so)
	}
	var job salesforceJob
	if err := json.Unmarshal(resp.Body, &job); err != nil || job.ID == "" || strings.ContainsAny(job.ID, "/?#") {
		return fmt.Errorf("salesforce: the %s ingest job's answer has no usable id: %q", so, truncate(string(resp.Body), 200))
	}
	pending, err := j.Pend(ctx, object, job.ID, recs)
	if err != nil {
		return err
	}
	if _, err := s.Caller.Do(ctx, extract.Request{Method: http.MethodPut, URL: s.url("/jobs/ingest/" + job.ID + "/batches"), Body: data,
		ContentType: "text/csv", What: so + " ingest job " + job.ID + " upload"}); err != nil {
		return callError(err, "upload the data of %s ingest job %s", so, job.ID)
	}
	closeBody, _ := json.Marshal(map[string]string{"state": "UploadComplete"})
	if _, err := s.Caller.Do(ctx, extract.Request{Method: http.MethodPatch, URL: s.url("/jobs/ingest/" + job.ID), Body: closeBody,
		What: so + " ingest job " + job.ID + " close"}); err != nil {
		return callError(err, "close %s ingest job %s (UploadComplete)", so, job.ID)
	}
	job, err = s.wait(ctx, job.ID)
	if err != nil {
		return err
	}
	outs, err := s.results(ctx, object, job, true)
	if err != nil {
		return err
	}
	// A record in none of the three result sets is rejected, so the next sync sends it again
	// and the report shows it.
	answered := make(map[string]bool, len(outs))
	for _, o := range outs {
		answered[o.Key] = true
	}
	for _, r := range recs {
		if !answered[r.Key()] {
			outs = append(outs, Outcome{Key: r.Key(), Reason: fmt.Sprintf("not in the job's results: job %s %s", job.ID, job.State)})
		}
	}
	if err := j.Confirm(ctx, &pending, outs); err != nil {
		return err
	}
	if job.State != "JobComplete" {
		return fmt.Errorf("salesforce: ingest job %s ended %s: %s", job.ID, job.State, job.ErrorMessage)
	}
	return nil
}

// salesforceCSV is the upload: Id, then the records' fields (the same for every record of a
// sync object), LF line ends. A cleared value, and an empty one, is #N/A, Bulk API's null:
// "Empty field values are ignored when you update records. To set a field value to null, use
// a field value of #N/A"
// (https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_bulk_v2/datafiles_csv_valid_record_rows.htm),
// so an empty cell would leave the old value in place while the ledger records it cleared.
func salesforceCSV(recs []*Record) ([]byte, error) {
	var names []string
	for k := range recs[0].Values {
		names = append(names, k)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(append([]string{"Id"}, names...)); err != nil {
		return nil, err
	}
	row := make([]string, len(names)+1)
	for _, r := range recs {
		if len(r.Values) != len(names) {
			return nil, fmt.Errorf("salesforce: %s has other fields than %s", r.Key(), recs[0].Key())
		}
		row[0] = r.ID
		for i, n := range names {
			v, ok := r.Values[n]
			switch {
			case !ok:
				return nil, fmt.Errorf("salesforce: %s has no %s", r.Key(), n)
			case v == nil || *v == "":
				row[i+1] = "#N/A"
			default:
				row[i+1] = *v
			}
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// job reads an ingest job's info; nil without error when Salesforce has no such job.
func (s *Salesforce) job(ctx context.Context, id string) (*salesforceJob, error) {
	resp, err := s.Caller.Do(ctx, extract.Request{Method: http.MethodGet, URL: s.url("/jobs/ingest/" + id), What: "ingest job " + id + " poll"})
	var he *extract.HTTPError
	if errors.As(err, &he) && he.Status == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, callError(err, "poll ingest job %s", id)
	}
	var job salesforceJob
	if err := json.Unmarshal(resp.Body, &job); err != nil {
		return nil, fmt.Errorf("salesforce: job %s info: %w", id, err)
	}
	return &job, nil
}

// wait polls a job until it is JobComplete, Failed or Aborted, at most JobTimeout.
func (s *Salesforce) wait(ctx context.Context, id string) (salesforceJob, error) {
	interval, timeout := s.PollInterval, s.JobTimeout
	if interval <= 0 {
		interval = 5 * time.Second
	}
	if timeout <= 0 {
		timeout = 30 * time.Minute
	}
	deadline := time.Now().Add(timeout)
	for {
		job, err := s.job(ctx, id)
		if err != nil {
			return salesforceJob{}, err
		}
		if job == nil {
			return salesforceJob{}, fmt.Errorf("salesforce: ingest job %s is gone", id)
		}
		if job.done() {
			return *job, nil
		}
		if time.Now().After(deadline) {
			return *job, fmt.Errorf("salesforce: ingest job %s still %s after sync.job_timeout %v: the next sync reads its results", id, job.State, timeout)
		}
		select {
		case <-ctx.Done():
			return *job, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// results reads a finished job's successfulResults, failedResults and unprocessedrecords
// (https://developer.salesforce.com/docs/atlas.en-us.264.0.api_asynch.meta/api_asynch/get_job_failed_results.htm)
// as outcomes, matched on the uploaded Id column; unprocessed records only when unprocessed
// is set (rejected: the next sync retries them).
func (s *Salesforce) results(ctx context.Context, object string, job salesforceJob, unprocessed bool) ([]Outcome, error) {
	var outs []Outcome
	sets := []string{"successfulResults", "failedResults"}
	if unprocessed {
		sets = append(sets, "unprocessedrecords")
	}
	for _, set := range sets {
		resp, err := s.Caller.Do(ctx, extract.Request{Method: http.MethodGet, URL: s.url("/jobs/ingest/" + job.ID + "/" + set + "/"), Accept: "text/csv",
			What: "ingest job " + job.ID + " " + set})
		if err != nil {
			return nil, callError(err, "read ingest job %s %s", job.ID, set)
		}
		r := csv.NewReader(bytes.NewReader(resp.Body))
		r.FieldsPerRecord = -1
		rows, err := r.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("salesforce: job %s %s: %w", job.ID, set, err)
		}
		if len(rows) < 2 {
			continue
		}
		idCol, errCol := slices.Index(rows[0], "Id"), slices.Index(rows[0], "sf__Error")
		if idCol < 0 {
			return nil, fmt.Errorf("salesforce: job %s %s has no Id column: %v", job.ID, set, rows[0])
		}
		for _, row := range rows[1:] {
			if idCol >= len(row) {
				continue
			}
			o := Outcome{Key: object + "/" + row[idCol]}
			switch set {
			case "successfulResults":
				o.OK = true
			case "failedResults":
				if errCol >= 0 && errCol < len(row) {
					o.Reason = row[errCol]
				}
			default:
				o.Reason = fmt.Sprintf("not processed: job %s %s: %s", job.ID, job.State, job.ErrorMessage)
			}
			outs = append(outs, o)
		}
	}
	return outs, nil
}

// Recover reads what Salesforce did with a job a dead sync left: a finished job's results;
// a job still running is waited for; one still Open (its upload may be partial) is aborted;
// the records of a job with no result for them, or that Salesforce no longer has, are sent
// again.
func (s *Salesforce) Recover(ctx context.Context, p Pending) ([]Outcome, error) {
	job, err := s.job(ctx, p.JobID)
	if err != nil || job == nil {
		return nil, err
	}
	if job.State == "Open" {
		body, _ := json.Marshal(map[string]string{"state": "Aborted"})
		if _, err := s.Caller.Do(ctx, extract.Request{Method: http.MethodPatch, URL: s.url("/jobs/ingest/" + p.JobID), Body: body, What: "ingest job " + p.JobID + " abort"}); err != nil {
			return nil, callError(err, "abort ingest job %s left open", p.JobID)
		}
		return nil, nil
	}
	if !job.done() {
		if *job, err = s.wait(ctx, p.JobID); err != nil {
			return nil, err
		}
	}
	// Records Salesforce did not process have no outcome: they are sent again.
	outs, err := s.results(ctx, p.Object, *job, false)
	if err != nil {
		return nil, err
	}
	var mine []Outcome
	for _, o := range outs {
		if _, ok := p.Records[o.Key]; ok {
			mine = append(mine, o)
		}
	}
	return mine, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
