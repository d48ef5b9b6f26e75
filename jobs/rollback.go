package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
)

// JobRollback names rollback run records (runs/<run_id>.json, job "rollback").
const JobRollback = "rollback"

// rollbackLease is the lease one rollback at a time holds; publishes are excluded by the
// pointer's generation precondition instead (lake.Rollback).
const rollbackLease = "rollback"

// RollbackResult is what a rollback moved.
type RollbackResult struct {
	RunID string
	// Publication is the pointer as the rollback wrote it (nil when it changed nothing).
	Publication *lake.Publication
	// From is the release that was published before.
	From string
	// NewerHistory are the as_of dates after the release's with history partitions
	// (marts/<table>/as_of=<d>/): they stay, and a later run reads the newest of them before
	// its own as_of as its previous state.
	NewerHistory []string
}

// Operator names who runs this process, for records: user@host (the sudo caller when run
// under sudo).
func Operator() string {
	name := os.Getenv("SUDO_USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		name = "unknown"
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// Rollback points latest/ and marts/_published.json back at the kept release to names (an
// as_of date, a run id or a release name; lake.FindRelease), and records who did it and why
// in a run record of job rollback and in the pointer itself. reason is required.
func Rollback(ctx context.Context, p Params, to, reason, by string) (*RollbackResult, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, errors.New("rollback: give the reason (--reason): it is recorded with the rollback for whoever looks next")
	}
	if strings.TrimSpace(to) == "" {
		return nil, errors.New("rollback: name the release to go back to (--to <as_of | run id | release>)")
	}
	rec := newRecord(&p, JobRollback)
	rec.AsOf = ""
	rec.Extra = map[string]any{"to": to, "by": by, "reason": reason}
	res, err := rollback(ctx, &p, rec, to, reason, by)
	return res, finish(ctx, &p, rec, err)
}

func rollback(ctx context.Context, p *Params, rec *RunRecord, to, reason, by string) (*RollbackResult, error) {
	holder := lake.NewHolder(p.RunID)
	lc := p.Config.Lease
	l, err := lake.AcquireWait(ctx, p.Lake, rollbackLease, holder, lc.TTL.D(), lc.OnConflict, lc.WaitTimeout.D())
	if err != nil {
		return nil, fmt.Errorf("rollback: %w", err)
	}
	rec.Lease = &LeaseSummary{Name: rollbackLease, Holder: holder, Held: true}
	defer l.Release(context.WithoutCancel(ctx))
	ctx = l.Context()

	releases, err := lake.Releases(ctx, p.Lake)
	if err != nil {
		return nil, fmt.Errorf("rollback: list releases: %w", err)
	}
	target, err := lake.FindRelease(releases, to)
	if err != nil {
		return nil, fmt.Errorf("rollback: %w", err)
	}
	rec.AsOf = target.Publication.AsOf
	rec.Extra["to_release"] = target.Key
	res := &RollbackResult{RunID: p.RunID}
	info := lake.RollbackInfo{RunID: p.RunID, At: time.Now(), By: by, Reason: reason}
	pub, err := lake.Rollback(ctx, p.Lake, target, info, p.Config.Publish.KeepReleases)
	if pub != nil {
		res.Publication, res.From = pub, pub.Rollback.FromRelease
		rec.Publication = pub
		rec.Extra["from_release"] = pub.Rollback.FromRelease
	}
	if err != nil {
		return res, err
	}
	res.NewerHistory, err = historyAfter(ctx, p.Lake, pub)
	if err != nil {
		return res, err
	}
	if len(res.NewerHistory) > 0 {
		rec.Extra["newer_history"] = res.NewerHistory
	}
	p.logger().Info("rolled back", "run_id", p.RunID, "to", target.Key, "from", res.From, "by", by, "reason", reason)
	return res, nil
}

// historyAfter lists the as_of dates after pub's that have a history partition of any table
// pub publishes.
func historyAfter(ctx context.Context, s lake.Store, pub *lake.Publication) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, t := range pub.Tables {
		prefix := "marts/" + t.Name + "/as_of="
		objs, err := s.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			d, _, ok := strings.Cut(strings.TrimPrefix(o.Key, prefix), "/")
			if ok && d > pub.AsOf && !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
