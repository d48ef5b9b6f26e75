// Package crmsync writes published segment values back to a CRM: it diffs them against the
// ledger of what was last written, sends only the changed records through a vendor target
// (HubSpot batch updates, Salesforce Bulk API 2.0 ingest jobs) and journals every answer
// the CRM gave, so a sync that dies resumes without resending what was confirmed.
package crmsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/segpipe/segpipe/internal/config"
)

// Record is one CRM record's values as the release gives them.
type Record struct {
	// Object is config.SyncAccount or config.SyncDeal.
	Object string
	// ID is the CRM's id of the record.
	ID string
	// Values are by CRM field name; nil clears the field.
	Values map[string]*string
	// Hashed names the CRM fields whose values make a change (not segment_as_of).
	Hashed []string
}

// Key is the record's key in the ledger: account/<id> or deal/<id>.
func (r *Record) Key() string { return r.Object + "/" + r.ID }

// Hash fingerprints the record's hashed values, field names included: a record whose hash is
// the ledger's was written with these values already.
func (r *Record) Hash() string {
	names := slices.Clone(r.Hashed)
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n))
		if v := r.Values[n]; v == nil {
			h.Write([]byte{0, 0})
		} else {
			h.Write([]byte{0, 1})
			h.Write([]byte(*v))
		}
		h.Write([]byte{0xff})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Outcome is what the CRM answered for one record.
type Outcome struct {
	Key string `json:"key"`
	OK  bool   `json:"ok"`
	// Reason is the CRM's error for a rejected record, e.g. "OBJECT_NOT_FOUND: Could not get
	// some companies objects, they may be deleted or not exist".
	Reason string `json:"reason,omitempty"`
}

// Pending is a chunk whose answer comes later (a Salesforce ingest job): written before the
// chunk is sent, so a sync that dies while the CRM works on it can read the answer instead
// of sending the chunk again.
type Pending struct {
	// Name is the pending file's name in the lake: <run_id>-<seq>.
	Name   string `json:"name"`
	Object string `json:"object"`
	// JobID is the CRM's id of the job.
	JobID string `json:"job_id"`
	// AsOf and RunID are the release and the sync of the chunk.
	AsOf  string `json:"as_of"`
	RunID string `json:"run_id"`
	// Records are what the chunk sent (hash and values), by key.
	Records map[string]Entry `json:"records"`
}

// FieldStatus is what a target found of one mapped CRM field.
type FieldStatus struct {
	Object  string `json:"object"`
	Field   string `json:"field"`
	CRMName string `json:"crm_name"`
	// CRMType is the CRM's type of the field (e.g. enumeration/select, picklist).
	CRMType string `json:"crm_type,omitempty"`
	// State is exists, created, updated, would_create or missing.
	State string `json:"state"`
	// Problem says why the field cannot be written ("" when it can): the sync stops.
	Problem string `json:"problem,omitempty"`
	// Warning says what some records will meet (values an enumeration lacks): they are sent
	// and the CRM's rejections reported.
	Warning string `json:"warning,omitempty"`
}

// The states of a FieldStatus.
const (
	FieldExists      = "exists"
	FieldCreated     = "created"
	FieldWouldCreate = "would_create"
	// FieldUpdated is an existing field segpipe changed (options added to its enumeration).
	FieldUpdated = "updated"
	FieldMissing = "missing"
)

// Target is one CRM's write side.
type Target interface {
	// Vendor is the target's vendor name (hubspot, salesforce).
	Vendor() string
	// Prepare checks every mapped field and, unless check is true, creates the missing ones
	// where the CRM's API can (HubSpot properties). values are the distinct values the sync
	// will send per CRM field name, to check enumerations against.
	Prepare(ctx context.Context, fields []config.SyncMapping, values map[string][]string, check bool) ([]FieldStatus, error)
	// Send writes recs, all of one object, and hands the journal each answer of the CRM
	// before it sends the next chunk.
	Send(ctx context.Context, object string, recs []*Record, j *Journal) error
	// Recover reads what the CRM did with a chunk a dead sync left pending: the outcomes it
	// has; records without one are sent again.
	Recover(ctx context.Context, p Pending) ([]Outcome, error)
}

// ErrTooManyChanges stops a sync that would change more than sync.max_changed_share of the
// records already synced.
var ErrTooManyChanges = errors.New("too many records would change")

// ErrFieldProblems stops a sync whose mapped CRM fields cannot all be written.
var ErrFieldProblems = errors.New("CRM fields cannot be written")

// fieldProblems joins the problems of statuses into one error, nil without any.
func fieldProblems(statuses []FieldStatus) error {
	var msgs []string
	for _, s := range statuses {
		if s.Problem != "" {
			msgs = append(msgs, fmt.Sprintf("%s field %s (%s): %s", s.Object, s.Field, s.CRMName, s.Problem))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrFieldProblems, strings.Join(msgs, "; "))
}

// mappingsOf are the mappings of one sync object (config.SyncAccount or SyncDeal), in order.
func mappingsOf(fields []config.SyncMapping, object string) []config.SyncMapping {
	var out []config.SyncMapping
	for _, m := range fields {
		if m.Field.Object == object {
			out = append(out, m)
		}
	}
	return out
}

// chunks splits recs into slices of at most n.
func chunks[T any](recs []T, n int) [][]T {
	var out [][]T
	for len(recs) > n {
		out = append(out, recs[:n])
		recs = recs[n:]
	}
	if len(recs) > 0 {
		out = append(out, recs)
	}
	return out
}
