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
	"path"
	"sort"
	"strings"
	"time"
)

// RollbackInfo is what marts/_published.json carries after an operator pointed it back at an
// earlier release (segpipe rollback): from where, who, when and why.
type RollbackInfo struct {
	// RunID is the rollback's own run record (runs/<run_id>.json).
	RunID       string    `json:"run_id"`
	FromRelease string    `json:"from_release"`
	FromAsOf    string    `json:"from_as_of"`
	FromRunID   string    `json:"from_run_id"`
	At          time.Time `json:"at"`
	// By is user@host of the operator.
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// Release is one release kept in the lake, with the publication it was published with.
type Release struct {
	Key         string
	Publication *Publication
}

// ErrNoSuchRelease marks a rollback target that names no kept release.
var ErrNoSuchRelease = errors.New("no kept release matches")

// ErrAlreadyPublished marks a rollback to the release that is already published.
var ErrAlreadyPublished = errors.New("that release is the one published")

// Releases lists the releases kept under releases/, oldest first (their names start with the
// as_of, then a time-ordered run id). A folder without its _published.json (a publish that
// died before finishing it) is not a release.
func Releases(ctx context.Context, s Store) ([]Release, error) {
	objs, err := s.List(ctx, "releases/")
	if err != nil {
		return nil, err
	}
	var out []Release
	for _, o := range objs {
		dir, base := path.Split(o.Key)
		if base != "_published.json" || strings.Count(dir, "/") != 2 {
			continue
		}
		b, err := GetBytes(ctx, s, o.Key)
		if errors.Is(err, ErrNotExist) {
			continue // pruned since the listing
		}
		if err != nil {
			return nil, err
		}
		var p Publication
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", o.Key, err)
		}
		out = append(out, Release{Key: strings.TrimSuffix(dir, "/"), Publication: &p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// FindRelease picks the release to roll back to: to is an as_of date (the newest release of
// that date), a run id, or a release name (2026-11-30_<run>, with or without releases/).
func FindRelease(releases []Release, to string) (Release, error) {
	var match []Release
	isDate := false
	if _, err := time.Parse(time.DateOnly, to); err == nil {
		isDate = true
	}
	for _, r := range releases {
		switch {
		case isDate && r.Publication.AsOf == to,
			!isDate && (r.Publication.RunID == to || r.Key == to || r.Key == "releases/"+to):
			match = append(match, r)
		}
	}
	if len(match) == 0 {
		kept := make([]string, 0, len(releases))
		for _, r := range releases {
			kept = append(kept, r.Publication.AsOf+" (run "+r.Publication.RunID+")")
		}
		if len(kept) == 0 {
			kept = append(kept, "none")
		}
		return Release{}, fmt.Errorf("%w %q; the kept releases are: %s (publish.keep_releases sets how many are kept)", ErrNoSuchRelease, to, strings.Join(kept, ", "))
	}
	return match[len(match)-1], nil
}

// Rollback points marts/_published.json and latest at the kept release target, atomically
// for readers that follow the pointer:
//   - the release is checked whole first (every file it names is there, at its size);
//   - the pointer is written with PutIf at the generation read at the start, as a publish
//     writes it: a run that published meanwhile wins and the rollback fails with
//     ErrPublishConflict, changing nothing;
//   - on a store with links, latest switches to the release just before the pointer (and back
//     to whatever the pointer names if the pointer write lost); on other stores latest/ is
//     refreshed from the release after the pointer, as after a publish;
//   - the history partitions of the release's as_of (marts/<table>/as_of=<d>/) are restored
//     from the release, so they hold what is published.
//
// info names who and why; its From* fields are filled in. Releases are then pruned to keep
// besides the target (0: DefaultKeepReleases).
func Rollback(ctx context.Context, s Store, target Release, info RollbackInfo, keep int) (*Publication, error) {
	if keep <= 0 {
		keep = DefaultKeepReleases
	}
	cur, gen, err := readPublishedGen(ctx, s)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, fmt.Errorf("rollback: nothing is published yet (%s)", PublishedKey)
	}
	if cur.Release == target.Key {
		return nil, fmt.Errorf("rollback to %s: %w (as_of %s, run %s)", target.Key, ErrAlreadyPublished, cur.AsOf, cur.RunID)
	}
	files := append(append([]PublishedFile(nil), target.Publication.Tables...), target.Publication.Database)
	files = append(files, target.Publication.Files...)
	for _, f := range files {
		st, err := s.Stat(ctx, f.Key)
		if err != nil {
			return nil, fmt.Errorf("rollback to %s: the release is not whole: %w", target.Key, err)
		}
		if st.Size != f.Bytes {
			return nil, fmt.Errorf("rollback to %s: the release is not whole: %s is %d bytes, published as %d", target.Key, f.Key, st.Size, f.Bytes)
		}
	}
	info.FromRelease, info.FromAsOf, info.FromRunID = cur.Release, cur.AsOf, cur.RunID
	info.At = info.At.UTC()
	pub := *target.Publication
	pub.Release = target.Key
	pub.Rollback = &info
	body, err := pub.encode()
	if err != nil {
		return nil, err
	}
	conflict := func(err error) error {
		return fmt.Errorf("rollback to %s: %w: %s changed since the rollback read it, so it was not overwritten (see segpipe status, then rerun the rollback if it is still wanted): %v",
			target.Key, ErrPublishConflict, PublishedKey, err)
	}
	if linker, ok := s.(Linker); ok {
		if err := switchThenPoint(ctx, s, linker, target.Key, body, gen); err != nil {
			if errors.Is(err, ErrPrecondition) {
				return nil, conflict(err)
			}
			return nil, fmt.Errorf("rollback: %w", err)
		}
	} else {
		pointer, err := s.PutIf(ctx, PublishedKey, bytes.NewReader(body), gen)
		if errors.Is(err, ErrPrecondition) {
			return nil, conflict(err)
		}
		if err != nil {
			return nil, fmt.Errorf("rollback: write %s: %w", PublishedKey, err)
		}
		inRelease := map[string]PublishedFile{}
		for _, f := range files {
			inRelease[f.Name] = f
		}
		if err := refreshLatest(ctx, s, &pub, pointer.Generation, inRelease, nil); err != nil {
			return &pub, fmt.Errorf("rolled back to %s, but refreshing %s/ failed (readers following %s are unaffected): %w", target.Key, LatestDir, PublishedKey, err)
		}
	}
	for _, t := range target.Publication.Tables {
		if _, err := copyStaged(ctx, s, t, "", historyKey(t.Name, pub.AsOf)); err != nil {
			return &pub, fmt.Errorf("rolled back to %s, but restoring the history partition of %s as of %s failed (rerun the rollback): %w", target.Key, t.Name, pub.AsOf, err)
		}
	}
	if err := pruneReleases(ctx, s, target.Key, keep); err != nil {
		return &pub, fmt.Errorf("rolled back, but pruning old releases failed: %w", err)
	}
	return &pub, nil
}

// copyObject copies src to dst through this host (for stores without server-side copy) and
// checks the bytes against the sha256 src was published with.
func copyObject(ctx context.Context, s Store, src PublishedFile, dst string) (PublishedFile, error) {
	r, err := s.Get(ctx, src.Key)
	if err != nil {
		return PublishedFile{}, err
	}
	defer r.Close()
	h := sha256.New()
	info, err := s.Put(ctx, dst, io.TeeReader(r, h))
	if err != nil {
		return PublishedFile{}, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if src.SHA256 != "" && sum != src.SHA256 {
		return PublishedFile{}, fmt.Errorf("%s changed since it was published (sha256 %s, published %s)", src.Key, sum, src.SHA256)
	}
	return PublishedFile{Key: dst, Bytes: info.Size, SHA256: sum}, nil
}
