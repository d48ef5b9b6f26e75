package crmsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
)

// Entry is the ledger's last word on one record.
type Entry struct {
	// Hash is Record.Hash of the values last sent.
	Hash string `json:"hash"`
	// Status is synced (the CRM took the values) or rejected (it refused them: sent again
	// by the next sync).
	Status string `json:"status"`
	// Reason is the CRM's error of a rejected record.
	Reason string `json:"reason,omitempty"`
	// Values are the values last sent, by CRM field name (null clears).
	Values map[string]*string `json:"values"`
	// AsOf is the release the values came from; RunID the sync that sent them.
	AsOf  string `json:"as_of"`
	RunID string `json:"run_id"`
}

// The statuses of an Entry.
const (
	StatusSynced   = "synced"
	StatusRejected = "rejected"
)

// Ledger is sync/<target>/ledger.json: what each record of the CRM was last sent, as of the
// last sync that finished.
type Ledger struct {
	Target string `json:"target"`
	Vendor string `json:"vendor"`
	// AsOf is the release the last finished sync wrote; RunID and SyncedAt say which and when.
	AsOf     string    `json:"as_of"`
	RunID    string    `json:"run_id"`
	SyncedAt time.Time `json:"synced_at"`
	// Records are by Record.Key.
	Records map[string]Entry `json:"records"`
}

// Prefix is the lake folder of a target's sync state: sync/<target>/.
func Prefix(target string) string { return "sync/" + target + "/" }

// LedgerKey is the ledger's key in the lake.
func LedgerKey(target string) string { return Prefix(target) + "ledger.json" }

func journalPrefix(target string) string { return Prefix(target) + "journal/" }
func pendingPrefix(target string) string { return Prefix(target) + "pending/" }

// journalChunk is one journal file: the CRM's answers for one chunk, with what was sent.
type journalChunk struct {
	RunID   string           `json:"run_id"`
	AsOf    string           `json:"as_of"`
	Entries map[string]Entry `json:"entries"`
}

// State is the ledger with the journal of every sync since it was written applied: what
// the CRM has been told, crashed syncs included.
type State struct {
	Ledger *Ledger
	// Journals and Pendings are the lake keys read; a finished sync removes them.
	Journals []string
	Pendings []Pending
	// Resumed counts the journal entries of syncs that did not finish.
	Resumed int
}

// LoadState reads a target's ledger (empty when there is none yet), its journal and its
// pending chunks.
func LoadState(ctx context.Context, s lake.Store, target string) (*State, error) {
	st := &State{Ledger: &Ledger{Target: target, Records: map[string]Entry{}}}
	b, err := lake.GetBytes(ctx, s, LedgerKey(target))
	switch {
	case errors.Is(err, lake.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("sync ledger: %w", err)
	default:
		if err := json.Unmarshal(b, st.Ledger); err != nil {
			return nil, fmt.Errorf("sync ledger %s: %w", LedgerKey(target), err)
		}
		if st.Ledger.Records == nil {
			st.Ledger.Records = map[string]Entry{}
		}
	}
	chunks, keys, err := readJSONFiles[journalChunk](ctx, s, journalPrefix(target), "sync journal")
	if err != nil {
		return nil, err
	}
	for _, c := range chunks {
		for k, e := range c.Entries {
			st.Ledger.Records[k] = e
			st.Resumed++
		}
	}
	st.Journals = keys
	if st.Pendings, _, err = readJSONFiles[Pending](ctx, s, pendingPrefix(target), "sync pending chunk"); err != nil {
		return nil, err
	}
	return st, nil
}

// readJSONFiles reads every .json object under prefix, in key order, and returns them with
// their keys; what names them in errors.
func readJSONFiles[T any](ctx context.Context, s lake.Store, prefix, what string) ([]T, []string, error) {
	objs, err := s.List(ctx, prefix)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	var out []T
	var keys []string
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".json") {
			continue
		}
		b, err := lake.GetBytes(ctx, s, o.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", what, o.Key, err)
		}
		out = append(out, v)
		keys = append(keys, o.Key)
	}
	return out, keys, nil
}

// Journal records the CRM's answers of one sync in the lake as they come: each answered
// chunk is one file under sync/<target>/journal/, written before the next chunk is sent.
type Journal struct {
	store  lake.Store
	target string
	runID  string
	asOf   string
	// sent holds what each record of this sync carries, by key.
	sent map[string]*Record

	mu       sync.Mutex
	seq      int
	outcomes map[string]Outcome
	// recoveredKeys are the answers read for a dead sync's pending jobs (not this sync's sends).
	recoveredKeys map[string]bool
	written       []string
	state         *State
}

func newJournal(s lake.Store, target, runID, asOf string, st *State, sent map[string]*Record) *Journal {
	return &Journal{store: s, target: target, runID: runID, asOf: asOf, sent: sent, outcomes: map[string]Outcome{}, recoveredKeys: map[string]bool{}, state: st}
}

func (j *Journal) next() string {
	j.seq++
	return fmt.Sprintf("%s-%05d", j.runID, j.seq)
}

// Pend records a chunk the CRM will answer later, before it is handed over; the returned
// Pending goes back to Confirm with the answer.
func (j *Journal) Pend(ctx context.Context, object, jobID string, recs []*Record) (Pending, error) {
	j.mu.Lock()
	name := j.next()
	j.mu.Unlock()
	p := Pending{Name: name, Object: object, JobID: jobID, AsOf: j.asOf, RunID: j.runID, Records: map[string]Entry{}}
	for _, r := range recs {
		p.Records[r.Key()] = Entry{Hash: r.Hash(), Values: r.Values, AsOf: j.asOf, RunID: j.runID}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return p, err
	}
	if err := lake.PutBytes(ctx, j.store, pendingPrefix(j.target)+name+".json", b); err != nil {
		return p, fmt.Errorf("sync: record pending job %s: %w", jobID, err)
	}
	return p, nil
}

// Confirm records the CRM's answers for a chunk (and clears its pending file, if any).
// Records of the sync without an answer here stay as the ledger had them.
func (j *Journal) Confirm(ctx context.Context, pending *Pending, outcomes []Outcome) error {
	return j.confirm(ctx, pending, outcomes, false)
}

// recovered records the answers read for a dead sync's pending job: the values that job sent.
func (j *Journal) recovered(ctx context.Context, pending *Pending, outcomes []Outcome) error {
	return j.confirm(ctx, pending, outcomes, true)
}

func (j *Journal) confirm(ctx context.Context, pending *Pending, outcomes []Outcome, recovered bool) error {
	if len(outcomes) > 0 {
		c := journalChunk{RunID: j.runID, AsOf: j.asOf, Entries: map[string]Entry{}}
		for _, o := range outcomes {
			var e Entry
			switch {
			case recovered:
				sent, ok := pending.Records[o.Key]
				if !ok {
					continue // the CRM answered for a record the job did not carry
				}
				e = sent
			case j.sent[o.Key] != nil:
				r := j.sent[o.Key]
				e = Entry{Hash: r.Hash(), Values: r.Values, AsOf: j.asOf, RunID: j.runID}
			default:
				continue // the CRM answered for a record this sync did not send
			}
			e.Status = StatusSynced
			if !o.OK {
				e.Status, e.Reason = StatusRejected, o.Reason
			}
			c.Entries[o.Key] = e
		}
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		j.mu.Lock()
		name := j.next()
		j.mu.Unlock()
		key := journalPrefix(j.target) + name + ".json"
		if err := lake.PutBytes(ctx, j.store, key, b); err != nil {
			return fmt.Errorf("sync: journal the CRM's answers: %w", err)
		}
		j.mu.Lock()
		j.written = append(j.written, key)
		for _, o := range outcomes {
			if e, ok := c.Entries[o.Key]; ok {
				j.outcomes[o.Key] = o
				j.recoveredKeys[o.Key] = recovered
				j.state.Ledger.Records[o.Key] = e
			}
		}
		j.mu.Unlock()
	}
	if pending != nil {
		if err := j.store.Delete(ctx, pendingPrefix(j.target)+pending.Name+".json"); err != nil && !errors.Is(err, lake.ErrNotExist) {
			return fmt.Errorf("sync: clear pending job %s: %w", pending.JobID, err)
		}
	}
	return nil
}

// compact writes the ledger of a finished sync, keeping only the records of the release
// (keep), then removes the journal and pending files it folded in.
func compact(ctx context.Context, s lake.Store, st *State, j *Journal, keep map[string]bool, vendor string, now time.Time) error {
	l := st.Ledger
	for k := range l.Records {
		if !keep[k] {
			delete(l.Records, k)
		}
	}
	l.Vendor, l.AsOf, l.RunID, l.SyncedAt = vendor, j.asOf, j.runID, now.UTC()
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if err := lake.PutBytes(ctx, s, LedgerKey(l.Target), b); err != nil {
		return fmt.Errorf("sync: write the ledger: %w", err)
	}
	for _, k := range append(st.Journals, j.written...) {
		if err := s.Delete(ctx, k); err != nil && !errors.Is(err, lake.ErrNotExist) {
			return fmt.Errorf("sync: remove journal %s: %w", k, err)
		}
	}
	return nil
}
