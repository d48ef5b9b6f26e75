package lake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// LandedFile is one Parquet file of a landed dataset.
type LandedFile struct {
	Key    string `json:"key"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// LandedColumn is one column of a landed dataset's schema.
type LandedColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ColumnCount is one declared column's nulls in a landed dataset.
type ColumnCount struct {
	Name string `json:"name"`
	// Nulls counts landed rows where the column is null, Absent those of them whose record
	// lacked the field (a JSON member, a CSV header column).
	Nulls  int64 `json:"nulls"`
	Absent int64 `json:"absent"`
}

// Manifest describes one landed dataset: what came from a source entity for one dt.
// It is written last; a dataset without a manifest is not landed.
type Manifest struct {
	Source      string    `json:"source"`
	Entity      string    `json:"entity"`
	Dt          string    `json:"dt"`
	RunID       string    `json:"run_id"`
	ExtractedAt time.Time `json:"extracted_at"`
	Pages       int       `json:"pages"`
	// ResponseBytes is the size of every page's response body, decompressed.
	ResponseBytes int64 `json:"response_bytes,omitempty"`
	Rows          int64 `json:"rows"`
	// Bytes is the size of the landed Parquet files.
	Bytes       int64 `json:"bytes"`
	Quarantined int64 `json:"quarantined"`
	// Mode is full (every record of the export) or incremental (changes since Since).
	Mode string `json:"mode"`
	// Since is the cursor an incremental landing asked from (lookback applied); nil for full.
	Since *time.Time `json:"since,omitempty"`
	// CursorMax is the largest value of the incremental cursor column landed; the next
	// incremental run starts from it. Nil when the entity is not incremental or nothing landed.
	CursorMax *time.Time `json:"cursor_max,omitempty"`
	// Filtered counts records dropped client-side because they were not newer than Since.
	Filtered int64 `json:"filtered,omitempty"`
	// Superseded counts landed records that are an older version of a record landed again
	// in this landing with another cursor value (a record changed while the export was
	// paged); both are in the Parquet, staging keeps the version known at as_of.
	Superseded int64 `json:"superseded,omitempty"`
	// RepeatsDropped counts records that came again with the same text, not landed twice.
	RepeatsDropped int64 `json:"repeats_dropped,omitempty"`
	// OlderEvents counts the events of an event feed (config Incremental.Events) left out
	// because a newer event of the same object came in the same landing, which landed instead.
	OlderEvents int64 `json:"older_events,omitempty"`
	// QuarantineKey is the NDJSON file of rejected records, "" when none were rejected.
	QuarantineKey string         `json:"quarantine_key,omitempty"`
	Schema        []LandedColumn `json:"schema"`
	// Columns counts, per declared column, the landed rows where it is null, and of those
	// the rows whose record did not have the column's field at all. A landing compares its
	// null shares with the previous landing's (docs/sources.md, "When the export's shape
	// changes"). Manifests written before this field have none.
	Columns []ColumnCount `json:"columns,omitempty"`
	Files   []LandedFile  `json:"files"`
}

// RawPrefix is the folder of a source entity's landed data for one dt.
func RawPrefix(source, entity, dt string) string {
	return fmt.Sprintf("raw/%s/%s/dt=%s/", source, entity, dt)
}

// ManifestKey is where the manifest of a landed dataset lives.
func ManifestKey(source, entity, dt string) string {
	return RawPrefix(source, entity, dt) + "_manifest.json"
}

// QuarantinePrefix is the folder of a source entity's rejected records for one dt.
func QuarantinePrefix(source, entity, dt string) string {
	return fmt.Sprintf("quarantine/%s/%s/dt=%s/", source, entity, dt)
}

// WriteManifest stores m at its key.
func WriteManifest(ctx context.Context, s Store, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return PutBytes(ctx, s, ManifestKey(m.Source, m.Entity, m.Dt), append(b, '\n'))
}

// ReadManifest loads the manifest of a landed dataset; the error wraps ErrNotExist when
// nothing has landed for that dt.
func ReadManifest(ctx context.Context, s Store, source, entity, dt string) (*Manifest, error) {
	b, err := GetBytes(ctx, s, ManifestKey(source, entity, dt))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", ManifestKey(source, entity, dt), err)
	}
	return &m, nil
}

// ErrNotLanded is returned when a source entity has no landed dataset to read.
var ErrNotLanded = errors.New("nothing landed")

// LandedDates lists the dts with a manifest for a source entity, oldest first.
func LandedDates(ctx context.Context, s Store, source, entity string) ([]string, error) {
	objs, err := s.List(ctx, fmt.Sprintf("raw/%s/%s/dt=", source, entity))
	if err != nil {
		return nil, err
	}
	var dts []string
	for _, o := range objs {
		rest := strings.TrimPrefix(o.Key, fmt.Sprintf("raw/%s/%s/dt=", source, entity))
		dt, file, ok := strings.Cut(rest, "/")
		if ok && file == "_manifest.json" {
			dts = append(dts, dt)
		}
	}
	sort.Strings(dts)
	return dts, nil
}
