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

// Snapshot returns the landings that together hold an entity as of asOf, oldest first: the
// newest full landing with dt <= asOf and every incremental landing after it up to asOf.
// Staging keeps the latest version of each record across them. When no full landing is that
// old, it returns the oldest full landing alone: every model cuts facts by their own
// timestamps, so a later snapshot still gives as_of-correct history.
func Snapshot(ctx context.Context, s Store, source, entity, asOf string) ([]*Manifest, error) {
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
	base := -1
	for i, m := range all {
		if m.Dt <= asOf && m.IsFull() {
			base = i
		}
	}
	if base < 0 {
		for _, m := range all {
			if m.IsFull() {
				return []*Manifest{m}, nil
			}
		}
		return nil, fmt.Errorf("%s/%s in %s: only incremental landings, no full one to start from: %w (run ingest with --full-refresh)", source, entity, s.URL(), ErrNotLanded)
	}
	out := []*Manifest{all[base]}
	for _, m := range all[base+1:] {
		if m.Dt <= asOf {
			out = append(out, m)
		}
	}
	return out, nil
}
