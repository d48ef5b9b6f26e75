package lake

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// State is state/<source>/<entity>.json: where the next incremental landing of an entity
// starts. It is written only after the landing it describes has its manifest.
type State struct {
	Source string `json:"source"`
	Entity string `json:"entity"`
	// Cursor is the largest cursor-column value landed so far.
	Cursor time.Time `json:"cursor"`
	// Dt and RunID name the landing that last moved the cursor.
	Dt        string    `json:"dt"`
	RunID     string    `json:"run_id"`
	UpdatedAt time.Time `json:"updated_at"`
}

// StateKey is where an entity's state lives.
func StateKey(source, entity string) string {
	return fmt.Sprintf("state/%s/%s.json", source, entity)
}

// ReadState loads an entity's state; the error wraps ErrNotExist before the first landing.
func ReadState(ctx context.Context, s Store, source, entity string) (*State, error) {
	b, err := GetBytes(ctx, s, StateKey(source, entity))
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", StateKey(source, entity), err)
	}
	return &st, nil
}

// WriteState stores an entity's state.
func WriteState(ctx context.Context, s Store, st *State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return PutBytes(ctx, s, StateKey(st.Source, st.Entity), append(b, '\n'))
}

// IsFull reports whether a manifest holds a whole export (manifests from before incremental
// loads have no mode and were full).
func (m *Manifest) IsFull() bool { return m.Mode != "incremental" }

// Landing names one landed dataset a run read.
type Landing struct {
	Dt    string `json:"dt"`
	RunID string `json:"run_id"`
	// Mode is full or incremental.
	Mode string `json:"mode"`
}

// InputRead is what a run read of one source entity: the landings, oldest first, and how
// much of as_of they hold.
type InputRead struct {
	Source   string    `json:"source"`
	Entity   string    `json:"entity"`
	Landings []Landing `json:"landings"`
	// KnownAt is the dt of the newest landing read: the read holds every fact up to that day.
	KnownAt string `json:"known_at"`
	// StaleDays is how many days KnownAt is short of as_of: 0 unless every landing was older
	// than as_of and the run accepted stale data.
	StaleDays int `json:"stale_days,omitempty"`
}

// SnapshotRead is the landings of one source entity a run as of a date reads (Snapshot).
type SnapshotRead struct {
	InputRead
	// Manifests are the landings' manifests, oldest first.
	Manifests []*Manifest
}

// StaleError is returned by Snapshot when every landing of an entity is older than as_of, so
// none can hold the facts of the days in between.
type StaleError struct {
	Source, Entity string
	AsOf           string
	// Newest is the dt of the newest landing; Days is how many days it is short of AsOf.
	Newest string
	Days   int
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("%s/%s: the newest landing is dt=%s, %d day(s) short of as_of %s: no landing holds the facts up to as_of",
		e.Source, e.Entity, e.Newest, e.Days, e.AsOf)
}

// Snapshot returns the landings that together hold every fact of an entity up to asOf, as
// close after it as the lake allows (a landing at dt holds what the export held on dt):
//   - a full landing on asOf;
//   - else the newest full landing before asOf with the incremental landings after it, up to
//     and including the first on or after asOf, when that chain reaches asOf before the next
//     full landing;
//   - else the earliest full landing after asOf;
//   - whichever of the last two has the earlier newest dt.
//
// Every model cuts facts by their own timestamps, so a landing from after asOf still gives
// as_of-correct history. When every landing is older than asOf, Snapshot returns a
// *StaleError, unless allowStale: then the newest full landing and the increments after it,
// with StaleDays set.
func Snapshot(ctx context.Context, s Store, source, entity, asOf string, allowStale bool) (*SnapshotRead, error) {
	dts, err := LandedDates(ctx, s, source, entity)
	if err != nil {
		return nil, err
	}
	if len(dts) == 0 {
		return nil, fmt.Errorf("%s/%s in %s: %w (run the ingest job first)", source, entity, s.URL(), ErrNotLanded)
	}
	var all []*Manifest
	for _, dt := range dts {
		m, err := ReadManifest(ctx, s, source, entity, dt)
		if err != nil {
			return nil, err
		}
		all = append(all, m)
	}
	read := func(ms []*Manifest) *SnapshotRead {
		r := &SnapshotRead{InputRead: InputRead{Source: source, Entity: entity}, Manifests: ms}
		for _, m := range ms {
			mode := "full"
			if !m.IsFull() {
				mode = "incremental"
			}
			r.Landings = append(r.Landings, Landing{Dt: m.Dt, RunID: m.RunID, Mode: mode})
		}
		r.KnownAt = ms[len(ms)-1].Dt
		return r
	}
	base, later := -1, -1 // newest full landing on or before asOf; earliest full one after it
	for i, m := range all {
		if !m.IsFull() {
			continue
		}
		if m.Dt <= asOf {
			base = i
		} else if later < 0 {
			later = i
		}
	}
	if base < 0 && later < 0 {
		return nil, fmt.Errorf("%s/%s in %s: only incremental landings, no full one to start from: %w (run ingest with --full-refresh)", source, entity, s.URL(), ErrNotLanded)
	}
	if base >= 0 {
		chain := []*Manifest{all[base]}
		for _, m := range all[base+1:] {
			if m.IsFull() || chain[len(chain)-1].Dt >= asOf {
				break
			}
			chain = append(chain, m)
		}
		if chain[len(chain)-1].Dt >= asOf {
			return read(chain), nil
		}
		if later < 0 {
			// Every landing is older than asOf: chain is the newest full one and every
			// increment after it.
			r := read(chain)
			stale := &StaleError{Source: source, Entity: entity, AsOf: asOf, Newest: r.KnownAt, Days: daysBetween(r.KnownAt, asOf)}
			if !allowStale {
				return nil, stale
			}
			r.StaleDays = stale.Days
			return r, nil
		}
	}
	return read(all[later : later+1]), nil
}

// daysBetween is the number of days from date a to date b (YYYY-MM-DD).
func daysBetween(a, b string) int {
	ta, errA := time.Parse(time.DateOnly, a)
	tb, errB := time.Parse(time.DateOnly, b)
	if errA != nil || errB != nil {
		return 0
	}
	return int(tb.Sub(ta).Hours() / 24)
}
