package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/segpipe/segpipe/internal/config"
)

// NewLimiter is the token bucket of a source's requests_per_second, with a burst of
// max(1, ceil(rps)); nil (no limit) when the rate is 0. Share one per source across the
// source's concurrent entities, through Options.Limiter.
func NewLimiter(src *config.Source) *rate.Limiter {
	if src == nil || !(src.RequestsPerSecond > 0) {
		return nil
	}
	burst := max(1, int(math.Ceil(src.RequestsPerSecond)))
	return rate.NewLimiter(rate.Limit(src.RequestsPerSecond), burst)
}

// Bulk API 2.0 query job states (Get Information About a Query Job).
const (
	bulkJobComplete = "JobComplete"
	bulkJobFailed   = "Failed"
	bulkJobAborted  = "Aborted"
)

// soqlEpoch stands for {{cursor}} in a full load's SOQL.
const soqlEpoch = "1970-01-01T00:00:00Z"

// bulkJobID is what a job id must look like to be put in a URL path (Salesforce ids are 15
// or 18 letters and digits).
var bulkJobID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// bulkJob is the part of a query job's description segpipe reads.
type bulkJob struct {
	ID           string `json:"id"`
	State        string `json:"state"`
	ErrorMessage string `json:"errorMessage"`
}

// bulkJobRequest is the body of Create a Query Job. Field order is the documented one.
type bulkJobRequest struct {
	Operation       string `json:"operation"`
	Query           string `json:"query"`
	ContentType     string `json:"contentType"`
	ColumnDelimiter string `json:"columnDelimiter"`
	LineEnding      string `json:"lineEnding"`
}

// BulkSOQL is the entity's bulk query with {{cursor}} replaced: since as a SOQL datetime
// literal (2026-01-02T03:04:05Z, UTC, whole seconds), or 1970-01-01T00:00:00Z when since is
// nil (a full load).
func BulkSOQL(bq *config.BulkQuery, since *time.Time) string {
	lit := soqlEpoch
	if since != nil {
		lit = since.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
	}
	return strings.ReplaceAll(bq.SOQL, "{{cursor}}", lit)
}

// startBulkQuery creates the entity's Bulk API 2.0 query job, polls it until it completes
// and returns the URL of its first page of results.
func (l *landing) startBulkQuery(ctx context.Context, f *fetcher) (*url.URL, error) {
	bq := l.ent.BulkQuery
	jobs, err := url.Parse(strings.TrimRight(l.src.BaseURL, "/") + "/services/data/" + url.PathEscape(bq.APIVersion) + "/jobs/query")
	if err != nil || (jobs.Scheme != "http" && jobs.Scheme != "https") || jobs.Host == "" || jobs.User != nil {
		return nil, errors.New("bulk query: need an http:// or https:// base_url without credentials")
	}
	body, err := json.Marshal(bulkJobRequest{Operation: "query", Query: BulkSOQL(bq, l.sincePtr()), ContentType: "CSV", ColumnDelimiter: "COMMA", LineEnding: "LF"})
	if err != nil {
		return nil, fmt.Errorf("bulk query: %w", err)
	}
	// A damaged answer to the create call is not retried: that would create a second job.
	job, err := l.bulkCall(ctx, f, &call{method: http.MethodPost, u: jobs, body: body, what: "bulk query job create", accept: "application/json"}, false)
	if err != nil {
		return nil, err
	}
	if !bulkJobID.MatchString(job.ID) {
		return nil, fmt.Errorf("bulk query job create: the answer has no usable job id (%q)", snippet(job.ID))
	}
	l.log.Info("bulk query job created", "job", job.ID, "state", job.State)
	jobURL := jobs.JoinPath(job.ID)
	poll := bq.PollInterval.D()
	if poll <= 0 {
		poll = 2 * time.Second
	}
	limit := bq.Timeout.D()
	if limit <= 0 {
		limit = 30 * time.Minute
	}
	deadline := time.Now().Add(limit)
	start := time.Now()
	for job.State != bulkJobComplete {
		switch job.State {
		case bulkJobFailed, bulkJobAborted:
			return nil, fmt.Errorf("bulk query job %s is %s: %s", job.ID, job.State, f.scrub(job.ErrorMessage))
		}
		if time.Now().Add(poll).After(deadline) {
			return nil, fmt.Errorf("bulk query job %s did not complete within %v (state %s); raise bulk_query.timeout", job.ID, limit, job.State)
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("bulk query job %s: %w", job.ID, ctx.Err())
		case <-t.C:
		}
		next, err := l.bulkCall(ctx, f, &call{method: http.MethodGet, u: jobURL, what: "bulk query job status", accept: "application/json"}, true)
		if err != nil {
			return nil, err
		}
		if next.ID != "" && next.ID != job.ID {
			return nil, fmt.Errorf("bulk query job %s: the status call answered for job %s", job.ID, next.ID)
		}
		job.State, job.ErrorMessage = next.State, next.ErrorMessage
	}
	l.log.Info("bulk query job complete", "job", job.ID, "seconds", time.Since(start).Seconds())
	results := jobURL.JoinPath("results")
	if l.src.PageSize > 0 {
		results = withParam(results, "maxRecords", strconv.Itoa(l.src.PageSize))
	}
	return results, nil
}

// bulkCall sends a job call and decodes the job description it answers with. A body that
// is not JSON is retried when retryDamaged, else it fails the landing.
func (l *landing) bulkCall(ctx context.Context, f *fetcher, c *call, retryDamaged bool) (*bulkJob, error) {
	var job bulkJob
	c.handle = func(resp *http.Response) error {
		b, err := readBody(resp)
		if err == nil {
			err = json.Unmarshal(b, &job)
			if err != nil {
				err = fmt.Errorf("the answer is not a JSON job description (%d bytes): %w", len(b), err)
				if retryDamaged {
					err = &transientError{err}
				}
			}
		}
		if err != nil && !retryDamaged {
			return &permanentError{err}
		}
		return err
	}
	if _, err := f.do(ctx, c); err != nil {
		return nil, err
	}
	return &job, nil
}
