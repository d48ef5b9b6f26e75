package lake

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// TempSweeper is a store whose writes can leave temporary files behind when the writing
// process is killed before its rename (the file store); GCS uploads leave none.
type TempSweeper interface {
	// SweepTemp removes the temporary files last modified before cutoff and reports how
	// many, and their bytes.
	SweepTemp(ctx context.Context, cutoff time.Time) (files int, bytes int64, err error)
}

// linkTemp matches the temporary link SwitchLink makes: <link>.tmp-<unix nanoseconds>.
var linkTemp = regexp.MustCompile(`\.tmp-[0-9]+$`)

// isTempName reports whether a file name is one of the store's temporary files: Put's
// .tmp-<base>-<random> or SwitchLink's <link>.tmp-<n>.
func isTempName(name string) bool {
	return strings.HasPrefix(name, ".tmp-") || linkTemp.MatchString(name)
}

// SweepTemp removes temporary files anywhere in the lake (raw/, runs/, releases/, marts/, …)
// whose modification time is before cutoff. A writer's temporary file lives for one write:
// Put streams into it, touching it as it goes, and renames it at once; SwitchLink renames its
// link right after making it. So one untouched for long is a leftover of a killed process.
// (Removing one a stalled writer still holds only fails that write: its rename finds nothing.)
func (s *FileStore) SweepTemp(ctx context.Context, cutoff time.Time) (int, int64, error) {
	var files int
	var bytes int64
	var errs []error
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !isTempName(d.Name()) {
			return nil
		}
		info, err := d.Info() // the entry itself: a temporary link is not followed
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !info.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			return nil
		}
		s.removeEmptyParents(p)
		files++
		if info.Mode().IsRegular() {
			bytes += info.Size()
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return files, bytes, fmt.Errorf("sweep temporary files in %s: %w", s.root, errors.Join(errs...))
	}
	return files, bytes, nil
}

// SweepStaging deletes staging/<run_id>/ folders (a GCS publish in progress) whose run is not
// live, as live reports, and returns how many folders and files it deleted. A run's staging
// folder is its own: a live run's is left alone, whatever its age.
func SweepStaging(ctx context.Context, s Store, live func(ctx context.Context, runID string) (bool, error)) (runs, files int, err error) {
	objs, err := s.List(ctx, StagingPrefix)
	if err != nil {
		return 0, 0, fmt.Errorf("list %s: %w", StagingPrefix, err)
	}
	byRun := map[string][]string{}
	var order []string
	for _, o := range objs {
		run, _, ok := strings.Cut(strings.TrimPrefix(o.Key, StagingPrefix), "/")
		if !ok {
			continue
		}
		if _, seen := byRun[run]; !seen {
			order = append(order, run)
		}
		byRun[run] = append(byRun[run], o.Key)
	}
	var errs []error
	for _, run := range order {
		ok, err := live(ctx, run)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			continue
		}
		n := 0
		for _, k := range byRun[run] {
			if err := s.Delete(ctx, k); err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
		files += n
		if n == len(byRun[run]) {
			runs++
		}
	}
	return runs, files, errors.Join(errs...)
}

// TidyOptions say what Tidy may remove.
type TidyOptions struct {
	// TempCutoff: temporary files last modified before it are leftovers (TempSweeper).
	TempCutoff time.Time
	// RunLive reports whether a run may still be publishing; staging/<run_id>/ of runs it
	// says are not is deleted. Nil leaves staging alone.
	RunLive func(ctx context.Context, runID string) (bool, error)
	// Now is the time leases and reader registrations are judged at.
	Now time.Time
}

// TidyReport counts what Tidy removed.
type TidyReport struct {
	// TempFiles and TempBytes are the temporary files of killed writes removed.
	TempFiles int   `json:"temp_files"`
	TempBytes int64 `json:"temp_bytes"`
	// StaleReaders are reader registrations removed: expired, or their process is gone.
	StaleReaders int `json:"stale_readers"`
	// Superseded is the sweep of superseded landed files that readers had deferred.
	Superseded SweepResult `json:"superseded"`
	// StagingRuns and StagingFiles are the staging folders of runs no longer live removed.
	StagingRuns  int `json:"staging_runs"`
	StagingFiles int `json:"staging_files"`
}

// Empty reports whether Tidy found nothing to do (nothing removed, nothing deferred).
func (r TidyReport) Empty() bool {
	return r.TempFiles == 0 && r.StaleReaders == 0 && r.Superseded.Removed == 0 && r.Superseded.Deferred == 0 && r.StagingFiles == 0
}

// Tidy removes what killed and deferred work left in the lake: temporary files of killed
// writes, stale reader registrations, superseded landed files no reader needs any more
// (SweepDeferred) and staging folders of runs that are over. Each part goes on when another
// fails; the errors are joined.
func Tidy(ctx context.Context, s Store, opts TidyOptions) (TidyReport, error) {
	var rep TidyReport
	var errs []error
	if ts, ok := s.(TempSweeper); ok {
		n, b, err := ts.SweepTemp(ctx, opts.TempCutoff)
		rep.TempFiles, rep.TempBytes = n, b
		errs = append(errs, err)
	}
	if _, stale, err := Readers(ctx, s, opts.Now); err != nil {
		errs = append(errs, err)
	} else {
		rep.StaleReaders, err = RemoveStaleReaders(ctx, s, stale)
		errs = append(errs, err)
	}
	var err error
	rep.Superseded, err = SweepDeferred(ctx, s, opts.Now)
	errs = append(errs, err)
	if opts.RunLive != nil {
		rep.StagingRuns, rep.StagingFiles, err = SweepStaging(ctx, s, opts.RunLive)
		errs = append(errs, err)
	}
	return rep, errors.Join(errs...)
}
