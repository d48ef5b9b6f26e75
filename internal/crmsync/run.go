package crmsync

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
)

// Options are a sync's choices.
type Options struct {
	// Target is the config's sync.target (the lake folder sync/<target>/).
	Target string
	// AsOf and RunID name the release the records come from and this sync.
	AsOf, RunID string
	// DryRun plans and checks the fields without writing anything, to the CRM or the lake.
	DryRun bool
	// Force sends a sync whose changed share is above MaxChangedShare.
	Force bool
	// MaxChangedShare bounds updated / previously synced records (1: no bound).
	MaxChangedShare float64
	// SampleSize is how many changes Result.Sample shows (default 5).
	SampleSize int
	// Logger receives progress; nil discards.
	Logger *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Counts are a sync's records of one object by what the plan does with them.
type Counts struct {
	// Create are records never sent before; Update records whose values changed since they
	// were synced; Retry records the CRM rejected last time; Unchanged records already
	// synced with these values.
	Create    int `json:"create"`
	Update    int `json:"update"`
	Retry     int `json:"retry"`
	Unchanged int `json:"unchanged"`
	// Sent, Synced and Rejected are what was sent and what the CRM answered (0 in a dry run).
	Sent     int `json:"sent"`
	Synced   int `json:"synced"`
	Rejected int `json:"rejected"`
	// Gone counts ledger records no longer in the release (deleted accounts, closed deals):
	// left as they are in the CRM and dropped from the ledger.
	Gone int `json:"gone"`
}

// Change is one planned change, for a dry run's sample.
type Change struct {
	Key string `json:"key"`
	// Kind is create, update or retry.
	Kind string `json:"kind"`
	// Fields are the CRM fields whose value changes: From is the value last sent (nil: none
	// or cleared), To the new one (nil clears).
	Fields []FieldChange `json:"fields"`
	// Reason is the CRM's error of a record being retried.
	Reason string `json:"reason,omitempty"`
}

// FieldChange is one field of a Change.
type FieldChange struct {
	Field string  `json:"field"`
	From  *string `json:"from"`
	To    *string `json:"to"`
}

// Result is what a sync planned and did.
type Result struct {
	Target, Vendor, AsOf, RunID string
	DryRun                      bool
	// Objects are the counts by object (account, deal).
	Objects map[string]*Counts
	// ChangedShare is the updated share of the records already synced (0 on a first sync).
	ChangedShare float64
	Fields       []FieldStatus
	// Sample is up to SampleSize planned changes.
	Sample []Change
	// Rejections are the records the CRM rejected in this sync (up to 20; Counts has all).
	Rejections []Outcome
	// Resumed counts the answers of an earlier sync that did not finish, read from its
	// journal; Recovered the records of its pending jobs whose answers were read from the CRM.
	Resumed   int
	Recovered int
}

// Total adds the counts of every object.
func (r *Result) Total() Counts {
	var t Counts
	for _, c := range r.Objects {
		t.Create += c.Create
		t.Update += c.Update
		t.Retry += c.Retry
		t.Unchanged += c.Unchanged
		t.Sent += c.Sent
		t.Synced += c.Synced
		t.Rejected += c.Rejected
		t.Gone += c.Gone
	}
	return t
}

// Run syncs recs (the release's records) to t: it reads the target's state, settles what a
// dead sync left pending, plans against the ledger, checks the changed-share bound and the
// fields, sends what changed and writes the new ledger. A dry run stops before sending and
// writes nothing.
func Run(ctx context.Context, s lake.Store, t Target, mappings []config.SyncMapping, recs []*Record, o Options) (*Result, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if o.SampleSize == 0 {
		o.SampleSize = 5
	}
	res := &Result{Target: o.Target, Vendor: t.Vendor(), AsOf: o.AsOf, RunID: o.RunID, DryRun: o.DryRun, Objects: map[string]*Counts{}}
	st, err := LoadState(ctx, s, o.Target)
	if err != nil {
		return res, err
	}
	res.Resumed = st.Resumed
	byKey := make(map[string]*Record, len(recs))
	for _, r := range recs {
		if _, dup := byKey[r.Key()]; dup {
			return res, fmt.Errorf("sync: %s appears twice in the release", r.Key())
		}
		byKey[r.Key()] = r
	}
	j := newJournal(s, o.Target, o.RunID, o.AsOf, st, byKey)

	// A dead sync's pending jobs: read their answers from the CRM (never in a dry run).
	if !o.DryRun {
		for _, p := range st.Pendings {
			outs, err := t.Recover(ctx, p)
			if err != nil {
				return res, fmt.Errorf("sync: recover pending job %s of a sync that did not finish: %w", p.JobID, err)
			}
			// The ledger takes the values the job sent: a record changed since is updated below.
			if err := j.recovered(ctx, &p, outs); err != nil {
				return res, err
			}
			res.Recovered += len(outs)
		}
	}

	// Plan.
	objects := []string{config.SyncAccount, config.SyncDeal}
	for _, obj := range objects {
		res.Objects[obj] = &Counts{}
	}
	send := map[string][]*Record{}
	var creates []*Record
	keep := map[string]bool{}
	previouslySynced := 0
	for _, r := range recs {
		c := res.Objects[r.Object]
		keep[r.Key()] = true
		e, known := st.Ledger.Records[r.Key()]
		kind := ""
		switch {
		case !known:
			kind, c.Create = "create", c.Create+1
		case e.Status == StatusRejected:
			kind, c.Retry = "retry", c.Retry+1
		case e.Hash != r.Hash():
			kind, c.Update = "update", c.Update+1
			previouslySynced++
		default:
			c.Unchanged++
			previouslySynced++
			continue
		}
		send[r.Object] = append(send[r.Object], r)
		if kind == "create" {
			creates = append(creates, r)
		} else if len(res.Sample) < o.SampleSize {
			res.Sample = append(res.Sample, change(r, e, kind, known))
		}
	}
	// Updates and retries first; then creates spread over the release (not its first ids).
	if room := o.SampleSize - len(res.Sample); room > 0 && len(creates) > 0 {
		step := max(1, len(creates)/room)
		for i := 0; i < len(creates) && len(res.Sample) < o.SampleSize; i += step {
			res.Sample = append(res.Sample, change(creates[i], Entry{}, "create", false))
		}
	}
	for k := range st.Ledger.Records {
		if !keep[k] {
			obj := config.SyncAccount
			if strings.HasPrefix(k, config.SyncDeal+"/") {
				obj = config.SyncDeal
			}
			res.Objects[obj].Gone++
		}
	}
	total := res.Total()
	if previouslySynced > 0 {
		res.ChangedShare = float64(total.Update) / float64(previouslySynced)
	}
	log.Info("sync planned", "target", o.Target, "as_of", o.AsOf, "create", total.Create, "update", total.Update,
		"retry", total.Retry, "unchanged", total.Unchanged, "gone", total.Gone, "changed_share", res.ChangedShare, "dry_run", o.DryRun)

	// Fields: the distinct values each field will carry, for enumerations.
	values := map[string][]string{}
	for _, r := range recs {
		for name, v := range r.Values {
			if v != nil && !slices.Contains(values[name], *v) {
				values[name] = append(values[name], *v)
			}
		}
	}
	for _, vs := range values {
		sort.Strings(vs)
	}
	res.Fields, err = t.Prepare(ctx, mappings, values, o.DryRun)
	if err != nil {
		return res, err
	}
	if err := fieldProblems(res.Fields); err != nil {
		return res, err
	}
	if o.MaxChangedShare < 1 && res.ChangedShare > o.MaxChangedShare && !o.Force {
		return res, fmt.Errorf("sync: %w: %d of the %d records already synced (%.1f%%) would be updated, above sync.max_changed_share %.0f%%; "+
			"a bad run would rewrite the CRM: check with --dry-run, then rerun with --force if it is right",
			ErrTooManyChanges, total.Update, previouslySynced, 100*res.ChangedShare, 100*o.MaxChangedShare)
	}
	if o.DryRun {
		return res, nil
	}

	for _, obj := range objects {
		if len(send[obj]) == 0 {
			continue
		}
		res.Objects[obj].Sent = len(send[obj])
		err := t.Send(ctx, obj, send[obj], j)
		tally(res, j)
		if err != nil {
			return res, fmt.Errorf("sync %s records: %w", obj, err)
		}
	}
	tally(res, j)
	if err := compact(ctx, s, st, j, keep, t.Vendor(), now()); err != nil {
		return res, err
	}
	total = res.Total()
	log.Info("sync finished", "target", o.Target, "as_of", o.AsOf, "sent", total.Sent, "synced", total.Synced, "rejected", total.Rejected)
	return res, nil
}

// tally counts the journal's answers into res.
func tally(res *Result, j *Journal) {
	for _, c := range res.Objects {
		c.Synced, c.Rejected = 0, 0
	}
	res.Rejections = res.Rejections[:0]
	j.mu.Lock()
	defer j.mu.Unlock()
	keys := make([]string, 0, len(j.outcomes))
	for k := range j.outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o := j.outcomes[k]
		if j.recoveredKeys[k] || j.sent[k] == nil {
			continue
		}
		c := res.Objects[j.sent[k].Object]
		if o.OK {
			c.Synced++
		} else {
			c.Rejected++
			if len(res.Rejections) < 20 {
				res.Rejections = append(res.Rejections, o)
			}
		}
	}
}

// change describes what a planned record changes.
func change(r *Record, e Entry, kind string, known bool) Change {
	c := Change{Key: r.Key(), Kind: kind}
	if kind == "retry" {
		c.Reason = e.Reason
	}
	names := make([]string, 0, len(r.Values))
	for n := range r.Values {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		to := r.Values[n]
		var from *string
		if known {
			from = e.Values[n]
		}
		if eq(from, to) {
			continue // not a change (an empty field stays empty)
		}
		c.Fields = append(c.Fields, FieldChange{Field: n, From: from, To: to})
	}
	return c
}

func eq(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
