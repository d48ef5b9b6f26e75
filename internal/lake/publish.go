package lake

import (
	"bytes"
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

// DefaultKeepReleases is how many releases stay besides the one latest points to when Publish
// is given 0: the releases `segpipe rollback` can go back to, and what a reader that opened
// files just before a switch finishes on (config publish.keep_releases).
const DefaultKeepReleases = 7

// LocalTable is an audited mart exported to a local Parquet file, ready to publish.
type LocalTable struct {
	Name string
	Path string
	Rows int64
}

// LocalFile is another file a release carries beside its tables and database (report.html),
// published to releases/<as_of>_<run>/<Name> and latest/<Name>.
type LocalFile struct {
	Name string
	Path string
}

// ReportName is the HTML report every release carries (internal/report).
const ReportName = "report.html"

// checkFileName refuses a LocalFile name that is not one plain file name or that would take
// the place of a table, the database or a pointer in the release.
func checkFileName(name string) error {
	switch {
	case name == "" || strings.ContainsAny(name, "/\\") || name == "." || name == "..":
		return fmt.Errorf("file name %q is not a plain file name", name)
	case name == DatabaseName || name == "_published.json" || strings.HasSuffix(name, ".parquet"):
		return fmt.Errorf("file name %q would take the place of a table, the database or the pointer", name)
	}
	return CheckKey(LatestDir + "/" + name)
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
	// Files are the release's other files (report.html), by file name.
	Files []PublishedFile `json:"files,omitempty"`
	// Inputs are the landings the run read, per source entity (Snapshot): which dt, run and
	// mode each table was computed from, and how stale the read was.
	Inputs []InputRead `json:"inputs,omitempty"`
	// Rollback is set when an operator pointed the pointer back at this release (Rollback).
	Rollback *RollbackInfo `json:"rollback,omitempty"`
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

// StagingPrefix holds a run's marts while it publishes to a store without links:
// staging/<run_id>/, deleted once the run is published.
const StagingPrefix = "staging/"

// ErrPublishConflict marks a publish that found marts/_published.json moved by another
// publisher after this one read it; this run's pointer was not written.
var ErrPublishConflict = errors.New("another run published first")

// Copier is a store that copies an object server-side; Publish uses it, when a store has it,
// to copy staged marts into place instead of uploading them again.
type Copier interface {
	// Copy writes the object at src to dst, replacing dst.
	Copy(ctx context.Context, src, dst string) (ObjectInfo, error)
}

// Publish makes an audited run visible, in an order that never shows readers a partial run.
//
// On a store that implements Linker (the file store):
//  1. each table to marts/<table>/as_of=<asOf>/data.parquet (the history; a rerun replaces it);
//  2. unless a newer as_of is already published, every table and segments.duckdb into
//     releases/<asOf>_<runID>/, then latest switches to that release in one atomic step;
//  3. marts/_published.json, last, with PutIf at the generation read at the start (a rollback
//     or publisher that moved it first fails this publish with ErrPublishConflict, and latest
//     is switched back to the release the pointer names).
//
// On other stores (GCS): the tables and database go to staging/<runID>/ first; then the
// history; then releases/<asOf>_<runID>/; then marts/_published.json with PutIf at the
// generation read at the start (a concurrent publisher that moved it first fails this publish
// with ErrPublishConflict); then latest/<table>.parquet and latest/segments.duckdb are
// refreshed as convenience copies; then staging is deleted. Readers that need one consistent
// run follow _published.json, which names the release files.
//
// files (report.html) travel with the database: into the release and latest/, not into the
// history.
//
// A backfill of an older date (releases, pointer and latest skipped) returns the publication
// and ErrOlderThanPublished. Old releases are pruned on both paths, keeping keep besides the
// current one (0: DefaultKeepReleases).
func Publish(ctx context.Context, s Store, asOf, runID string, tables []LocalTable, database string, inputs []InputRead, now time.Time, keep int, files ...LocalFile) (*Publication, error) {
	pub := &Publication{AsOf: asOf, RunID: runID, PublishedAt: now.UTC(), Inputs: inputs}
	if keep <= 0 {
		keep = DefaultKeepReleases
	}
	for _, f := range files {
		if err := checkFileName(f.Name); err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
	}
	if linker, ok := s.(Linker); ok {
		return publishLinked(ctx, s, linker, pub, tables, database, files, keep)
	}
	return publishCopied(ctx, s, pub, tables, database, files, keep)
}

func publishLinked(ctx context.Context, s Store, linker Linker, pub *Publication, tables []LocalTable, database string, files []LocalFile, keep int) (*Publication, error) {
	asOf, runID := pub.AsOf, pub.RunID
	for _, t := range tables {
		f, err := putFile(ctx, s, historyKey(t.Name, asOf), t.Path)
		if err != nil {
			return nil, fmt.Errorf("publish %s history: %w", t.Name, err)
		}
		f.Name, f.Rows = t.Name, t.Rows
		pub.History = append(pub.History, f)
	}
	prev, prevGen, err := readPublishedGen(ctx, s)
	if err != nil {
		return nil, err
	}
	if prev != nil && prev.AsOf > asOf {
		return pub, fmt.Errorf("%w (%s > %s): history written, latest kept", ErrOlderThanPublished, prev.AsOf, asOf)
	}
	pub.Release = releaseKey(asOf, runID)
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
	for _, lf := range files {
		f, err := putFile(ctx, s, pub.Release+"/"+lf.Name, lf.Path)
		if err != nil {
			return nil, fmt.Errorf("publish %s: %w", lf.Name, err)
		}
		f.Name = lf.Name
		pub.Files = append(pub.Files, f)
	}
	body, err := pub.encode()
	if err != nil {
		return nil, err
	}
	if err := PutBytes(ctx, s, pub.Release+"/_published.json", body); err != nil {
		return nil, err
	}
	// The pointer at the generation read at the start, as on GCS: a rollback (or another
	// publisher) that moved it meanwhile wins, and latest goes back to what it names.
	if err := switchThenPoint(ctx, s, linker, pub.Release, body, prevGen); err != nil {
		if errors.Is(err, ErrPrecondition) {
			return nil, fmt.Errorf("publish %s run %s: %w: %s changed since this run read it, so it was not overwritten (its history partitions are written; rerun to publish): %v",
				asOf, runID, ErrPublishConflict, PublishedKey, err)
		}
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := pruneReleases(ctx, s, pub.Release, keep); err != nil {
		return pub, fmt.Errorf("published, but pruning old releases failed: %w", err)
	}
	return pub, nil
}

// publishCopied is Publish for stores without links; see Publish for the order.
func publishCopied(ctx context.Context, s Store, pub *Publication, tables []LocalTable, database string, files []LocalFile, keep int) (*Publication, error) {
	asOf, runID := pub.AsOf, pub.RunID
	prev, prevGen, err := readPublishedGen(ctx, s)
	if err != nil {
		return nil, err
	}
	staging := StagingPrefix + runID + "/"
	if err := CheckKey(staging + DatabaseName); err != nil {
		return nil, fmt.Errorf("publish: run id %q: %w", runID, err)
	}

	// Write: every file under staging/<run>/, with its checksum.
	staged := map[string]PublishedFile{}
	locals := map[string]string{}
	for _, t := range tables {
		f, err := putFile(ctx, s, staging+t.Name+".parquet", t.Path)
		if err != nil {
			return nil, fmt.Errorf("publish %s: stage: %w", t.Name, err)
		}
		f.Name, f.Rows = t.Name, t.Rows
		staged[t.Name], locals[t.Name] = f, t.Path
	}
	db, err := putFile(ctx, s, staging+DatabaseName, database)
	if err != nil {
		return nil, fmt.Errorf("publish %s: stage: %w", DatabaseName, err)
	}
	db.Name = DatabaseName
	staged[DatabaseName], locals[DatabaseName] = db, database
	for _, lf := range files {
		f, err := putFile(ctx, s, staging+lf.Name, lf.Path)
		if err != nil {
			return nil, fmt.Errorf("publish %s: stage: %w", lf.Name, err)
		}
		f.Name = lf.Name
		staged[lf.Name], locals[lf.Name] = f, lf.Path
	}
	place := func(name, dst string) (PublishedFile, error) {
		f, err := copyStaged(ctx, s, staged[name], locals[name], dst)
		if err != nil {
			return PublishedFile{}, fmt.Errorf("publish %s to %s: %w", name, dst, err)
		}
		return f, nil
	}

	// History.
	for _, t := range tables {
		f, err := place(t.Name, historyKey(t.Name, asOf))
		if err != nil {
			return nil, err
		}
		pub.History = append(pub.History, f)
	}
	if prev != nil && prev.AsOf > asOf {
		if err := deletePrefix(ctx, s, staging); err != nil {
			return pub, fmt.Errorf("%w (%s > %s): history written, latest kept; deleting %s failed: %v", ErrOlderThanPublished, prev.AsOf, asOf, staging, err)
		}
		return pub, fmt.Errorf("%w (%s > %s): history written, latest kept", ErrOlderThanPublished, prev.AsOf, asOf)
	}

	// The release, then the pointer, last and conditionally.
	pub.Release = releaseKey(asOf, runID)
	for _, t := range tables {
		f, err := place(t.Name, pub.Release+"/"+t.Name+".parquet")
		if err != nil {
			return nil, err
		}
		pub.Tables = append(pub.Tables, f)
	}
	if pub.Database, err = place(DatabaseName, pub.Release+"/"+DatabaseName); err != nil {
		return nil, err
	}
	for _, lf := range files {
		f, err := place(lf.Name, pub.Release+"/"+lf.Name)
		if err != nil {
			return nil, err
		}
		pub.Files = append(pub.Files, f)
	}
	body, err := pub.encode()
	if err != nil {
		return nil, err
	}
	if err := PutBytes(ctx, s, pub.Release+"/_published.json", body); err != nil {
		return nil, err
	}
	pointer, err := s.PutIf(ctx, PublishedKey, bytes.NewReader(body), prevGen)
	if errors.Is(err, ErrPrecondition) {
		// Best effort: this run's release and staging are its own, nobody reads them.
		cleanup := context.WithoutCancel(ctx)
		_ = deletePrefix(cleanup, s, pub.Release+"/")
		_ = deletePrefix(cleanup, s, staging)
		return nil, fmt.Errorf("publish %s run %s: %w: %s changed since this run read it, so it was not overwritten (its history partitions are written; rerun to publish): %v",
			asOf, runID, ErrPublishConflict, PublishedKey, err)
	}
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", PublishedKey, err)
	}

	// Published. Now the convenience copies in latest/, staging and old releases.
	if err := refreshLatest(ctx, s, pub, pointer.Generation, staged, locals); err != nil {
		return pub, fmt.Errorf("published %s, but refreshing %s/ failed (readers following %s are unaffected; the next publish refreshes it): %w", pub.Release, LatestDir, PublishedKey, err)
	}
	if err := deletePrefix(ctx, s, staging); err != nil {
		return pub, fmt.Errorf("published, but deleting %s failed: %w", staging, err)
	}
	if err := pruneReleases(ctx, s, pub.Release, keep); err != nil {
		return pub, fmt.Errorf("published, but pruning old releases failed: %w", err)
	}
	return pub, nil
}

// refreshLatest copies the published files to latest/<table>.parquet, latest/segments.duckdb,
// latest/<file> (report.html) and latest/_published.json (last), and deletes latest/ files
// no longer published.
// It stops, without error, as soon as the pointer is no longer the one this run wrote: the
// newer publisher refreshes latest/ itself.
func refreshLatest(ctx context.Context, s Store, pub *Publication, pointerGen int64, staged map[string]PublishedFile, locals map[string]string) error {
	ours := func() (bool, error) {
		info, err := s.Stat(ctx, PublishedKey)
		if err != nil {
			return false, err
		}
		return info.Generation == pointerGen, nil
	}
	keep := map[string]bool{}
	names := make([]string, 0, len(pub.Tables)+1)
	for _, t := range pub.Tables {
		names = append(names, t.Name)
	}
	names = append(names, DatabaseName)
	files := map[string]bool{DatabaseName: true}
	for _, f := range pub.Files {
		names = append(names, f.Name)
		files[f.Name] = true
	}
	for _, name := range names {
		dst := LatestDir + "/" + name + ".parquet"
		if files[name] {
			dst = LatestDir + "/" + name
		}
		keep[dst] = true
		if ok, err := ours(); err != nil || !ok {
			return err
		}
		if _, err := copyStaged(ctx, s, staged[name], locals[name], dst); err != nil {
			return err
		}
	}
	body, err := pub.encode()
	if err != nil {
		return err
	}
	if ok, err := ours(); err != nil || !ok {
		return err
	}
	if err := PutBytes(ctx, s, LatestDir+"/_published.json", body); err != nil {
		return err
	}
	keep[LatestDir+"/_published.json"] = true
	objs, err := s.List(ctx, LatestDir+"/")
	if err != nil {
		return err
	}
	for _, o := range objs {
		if !keep[o.Key] {
			if err := s.Delete(ctx, o.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyStaged puts the staged file at dst: a server-side copy when the store is a Copier,
// else an upload of the local file it was staged from (or, with no local file, of the staged
// object itself), checked against the staged checksum.
func copyStaged(ctx context.Context, s Store, staged PublishedFile, local, dst string) (PublishedFile, error) {
	var f PublishedFile
	if c, ok := s.(Copier); ok {
		info, err := c.Copy(ctx, staged.Key, dst)
		if err != nil {
			return PublishedFile{}, err
		}
		if info.Size != staged.Bytes {
			return PublishedFile{}, fmt.Errorf("copied %d bytes, staged %d", info.Size, staged.Bytes)
		}
		f = PublishedFile{Key: dst, Bytes: info.Size, SHA256: staged.SHA256}
	} else if local == "" {
		var err error
		if f, err = copyObject(ctx, s, staged, dst); err != nil {
			return PublishedFile{}, err
		}
	} else {
		var err error
		if f, err = putFile(ctx, s, dst, local); err != nil {
			return PublishedFile{}, err
		}
		if f.SHA256 != staged.SHA256 {
			return PublishedFile{}, fmt.Errorf("%s changed since it was staged (sha256 %s, staged %s)", local, f.SHA256, staged.SHA256)
		}
	}
	f.Name, f.Rows = staged.Name, staged.Rows
	return f, nil
}

// switchThenPoint switches latest to release, then writes the pointer body with PutIf at
// gen. When the pointer write fails (another publisher or a rollback moved it: the error wraps
// ErrPrecondition), latest is switched back to the release the pointer names now.
func switchThenPoint(ctx context.Context, s Store, linker Linker, release string, body []byte, gen int64) error {
	if err := linker.SwitchLink(ctx, LatestDir, release); err != nil {
		return fmt.Errorf("switch %s to %s: %w", LatestDir, release, err)
	}
	if _, err := s.PutIf(ctx, PublishedKey, bytes.NewReader(body), gen); err != nil {
		restore := context.WithoutCancel(ctx)
		if now, rerr := ReadPublished(restore, s); rerr == nil && now.Release != "" {
			_ = linker.SwitchLink(restore, LatestDir, now.Release)
		}
		return fmt.Errorf("write %s: %w", PublishedKey, err)
	}
	return nil
}

// readPublishedGen reads the pointer and the generation it was read at (0: none yet).
func readPublishedGen(ctx context.Context, s Store) (*Publication, int64, error) {
	for range 5 {
		before, err := s.Stat(ctx, PublishedKey)
		if errors.Is(err, ErrNotExist) {
			return nil, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		p, err := ReadPublished(ctx, s)
		if errors.Is(err, ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		after, err := s.Stat(ctx, PublishedKey)
		if err == nil && after.Generation == before.Generation {
			return p, before.Generation, nil
		}
	}
	return nil, 0, fmt.Errorf("read %s: %w: it keeps changing", PublishedKey, ErrPublishConflict)
}

func deletePrefix(ctx context.Context, s Store, prefix string) error {
	objs, err := s.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := s.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
}

func historyKey(table, asOf string) string {
	return fmt.Sprintf("marts/%s/as_of=%s/data.parquet", table, asOf)
}

func releaseKey(asOf, runID string) string { return fmt.Sprintf("releases/%s_%s", asOf, runID) }

func (p *Publication) encode() ([]byte, error) {
	body, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(body, '\n'), nil
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

// pruneReleases deletes all but the newest keep releases besides current.
func pruneReleases(ctx context.Context, s Store, current string, keep int) error {
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
	for len(others) > keep {
		for _, k := range byRelease[others[0]] {
			if err := s.Delete(ctx, k); err != nil {
				return err
			}
		}
		others = others[1:]
	}
	return nil
}
