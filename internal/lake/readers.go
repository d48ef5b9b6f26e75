package lake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ReaderPrefix holds reader registrations: leases/readers/<run_id>.json, one per run that is
// reading landed data (a segment run), while it reads.
const ReaderPrefix = LeasePrefix + "readers/"

// RegisterReader registers holder's run as a reader of landed data, for ttl at a time; the
// returned lease renews itself until Release, and its Context is cancelled if the
// registration is lost. Register before reading any manifest and release after the last read
// of a data file: while a live reader is registered, no landing deletes the files it
// superseded (SweepLanding), so a reader always finds every file its manifests name.
func RegisterReader(ctx context.Context, s Store, holder Holder, ttl time.Duration) (*Lease, error) {
	if holder.RunID == "" {
		return nil, errors.New("register reader: the holder has no run id")
	}
	l, err := Acquire(ctx, s, readerName(holder.RunID), holder, ttl)
	if err != nil {
		return nil, fmt.Errorf("register reader: %w", err)
	}
	return l, nil
}

func readerName(runID string) string { return strings.TrimPrefix(ReaderPrefix, LeasePrefix) + runID }

// Readers reads the reader registrations: live ones, and stale ones (expired, or whose holder
// ran on this host and has exited) that no longer protect anything.
func Readers(ctx context.Context, s Store, now time.Time) (live, stale []*LeaseState, err error) {
	objs, err := s.List(ctx, ReaderPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("list readers: %w", err)
	}
	for _, o := range objs {
		name, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, LeasePrefix), ".json")
		if !ok {
			continue
		}
		st, err := readLease(ctx, s, name, o, DefaultReaderTTL)
		if errors.Is(err, ErrNotExist) {
			continue // released since the listing
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read reader %s: %w", o.Key, err)
		}
		if st.Live(now) {
			live = append(live, st)
		} else {
			stale = append(stale, st)
		}
	}
	return live, stale, nil
}

// DefaultReaderTTL is the TTL assumed for a reader registration that cannot be parsed.
const DefaultReaderTTL = 30 * time.Minute

// RemoveStaleReaders deletes reader registrations that no longer protect anything, each
// only at the generation read (a registration renewed meanwhile stays). It returns how many
// it removed.
func RemoveStaleReaders(ctx context.Context, s Store, stale []*LeaseState) (int, error) {
	n := 0
	var errs []error
	for _, st := range stale {
		err := s.DeleteIf(ctx, LeaseKey(st.Name), st.Generation)
		switch {
		case err == nil:
			n++
		case errors.Is(err, ErrPrecondition) || errors.Is(err, ErrNotExist):
		default:
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}
