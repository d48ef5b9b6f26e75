package lake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// PublishedKey is the pointer to the newest published run; it is written after everything it names.
const PublishedKey = "marts/_published.json"

// LatestDir is the folder BI tools read: the newest run's tables and segments.duckdb.
const LatestDir = "latest"

// DatabaseName is the DuckDB file holding every latest table.
const DatabaseName = "segments.duckdb"

// keepReleases is how many releases stay on disk besides the one latest points to, so a reader
// that opened files just before a switch can finish.
const keepReleases = 2

// LocalTable is an audited mart exported to a local Parquet file, ready to publish.
type LocalTable struct {
	Name string
	Path string
	Rows int64
}

// PublishedFile is one file of a publication.
type PublishedFile struct {
	Name   string `json:"name"`
	Key    string `json:"key"`
	Rows   int64  `json:"rows,omitempty"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Publication describes a published run: what marts/_published.json and each release hold.
type Publication struct {
	AsOf        string          `json:"as_of"`
	RunID       string          `json:"run_id"`
	PublishedAt time.Time       `json:"published_at"`
	Release     string          `json:"release"`
	Tables      []PublishedFile `json:"tables"`
	History     []PublishedFile `json:"history"`
	Database    PublishedFile   `json:"database"`
}

// Linker is a store that can switch a name to point at a folder atomically; the file store
// does it with a symlink and rename(2).
type Linker interface {
	// SwitchLink makes name resolve to the folder target (both keys), replacing what it was.
	SwitchLink(ctx context.Context, name, target string) error
	// LinkTarget returns the folder key name points to ("" and no error when there is none).
	LinkTarget(name string) (string, error)
}

// ErrOlderThanPublished marks a publish whose as_of is older than the published one: its
// history partition is written, latest stays where it is.
var ErrOlderThanPublished = errors.New("as_of is older than the published run")

// Publish makes an audited run visible, in an order that never shows readers a partial run:
//  1. each table to marts/<table>/as_of=<asOf>/data.parquet (the history; a rerun replaces it);
//  2. unless a newer as_of is already published, every table and segments.duckdb into
//     releases/<asOf>_<runID>/, then latest switches to that release in one atomic step;
//  3. marts/_published.json, last.
//
// A backfill of an older date (step 2 skipped) returns the publication and ErrOlderThanPublished.
func Publish(ctx context.Context, s Store, asOf, runID string, tables []LocalTable, database string, now time.Time) (*Publication, error) {
	linker, ok := s.(Linker)
	if !ok {
		return nil, fmt.Errorf("publish to %s: this store cannot switch latest atomically", s.URL())
	}
	pub := &Publication{AsOf: asOf, RunID: runID, PublishedAt: now.UTC()}
	for _, t := range tables {
		f, err := putFile(ctx, s, fmt.Sprintf("marts/%s/as_of=%s/data.parquet", t.Name, asOf), t.Path)
		if err != nil {
			return nil, fmt.Errorf("publish %s history: %w", t.Name, err)
		}
		f.Name, f.Rows = t.Name, t.Rows
		pub.History = append(pub.History, f)
	}
	prev, err := ReadPublished(ctx, s)
	if err != nil && !errors.Is(err, ErrNotExist) {
		return nil, err
	}
	if prev != nil && prev.AsOf > asOf {
		return pub, fmt.Errorf("%w (%s > %s): history written, latest kept", ErrOlderThanPublished, prev.AsOf, asOf)
	}
	pub.Release = fmt.Sprintf("releases/%s_%s", asOf, runID)
	for _, t := range tables {
		f, err := putFile(ctx, s, pub.Release+"/"+t.Name+".parquet", t.Path)
		if err != nil {
			return nil, fmt.Errorf("publish %s: %w", t.Name, err)
		}
		f.Name, f.Rows = t.Name, t.Rows
		pub.Tables = append(pub.Tables, f)
	}
	db, err := putFile(ctx, s, pub.Release+"/"+DatabaseName, database)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", DatabaseName, err)
	}
	db.Name = DatabaseName
	pub.Database = db
	body, err := json.MarshalIndent(pub, "", "  ")
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	if err := PutBytes(ctx, s, pub.Release+"/_published.json", body); err != nil {
		return nil, err
	}
	if err := linker.SwitchLink(ctx, LatestDir, pub.Release); err != nil {
		return nil, fmt.Errorf("switch %s to %s: %w", LatestDir, pub.Release, err)
	}
	if err := PutBytes(ctx, s, PublishedKey, body); err != nil {
		return nil, err
	}
	if err := pruneReleases(ctx, s, pub.Release); err != nil {
		return pub, fmt.Errorf("published, but pruning old releases failed: %w", err)
	}
	return pub, nil
}

// ReadPublished loads marts/_published.json; the error wraps ErrNotExist before the first publish.
func ReadPublished(ctx context.Context, s Store) (*Publication, error) {
	b, err := GetBytes(ctx, s, PublishedKey)
	if err != nil {
		return nil, err
	}
	var p Publication
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", PublishedKey, err)
	}
	return &p, nil
}

func putFile(ctx context.Context, s Store, key, local string) (PublishedFile, error) {
	f, err := os.Open(local)
	if err != nil {
		return PublishedFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	info, err := s.Put(ctx, key, io.TeeReader(f, h))
	if err != nil {
		return PublishedFile{}, err
	}
	return PublishedFile{Key: key, Bytes: info.Size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// pruneReleases deletes all but the newest keepReleases releases besides current.
func pruneReleases(ctx context.Context, s Store, current string) error {
	objs, err := s.List(ctx, "releases/")
	if err != nil {
		return err
	}
	byRelease := map[string][]string{}
	for _, o := range objs {
		parts := strings.SplitN(o.Key, "/", 3)
		if len(parts) == 3 {
			rel := path.Join(parts[0], parts[1])
			byRelease[rel] = append(byRelease[rel], o.Key)
		}
	}
	var others []string
	for rel := range byRelease {
		if rel != current {
			others = append(others, rel)
		}
	}
	sort.Strings(others) // names start with as_of then a time-ordered run id
	for len(others) > keepReleases {
		for _, k := range byRelease[others[0]] {
			if err := s.Delete(ctx, k); err != nil {
				return err
			}
		}
		others = others[1:]
	}
	return nil
}
