package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// LeasePrefix is the folder holding run leases: leases/<name>.json.
const LeasePrefix = "leases/"

// What a run does when the lease it needs is held by another run (config lease.on_conflict).
const (
	OnConflictWait = "wait"
	OnConflictExit = "exit"
)

// ErrLeaseLost is the cause of a lease's context being cancelled: another run took the lease,
// or it could not be renewed before it expired.
var ErrLeaseLost = errors.New("run lease lost")

// Holder names the run holding a lease.
type Holder struct {
	Host  string `json:"host"`
	PID   int    `json:"pid"`
	RunID string `json:"run_id"`
	// BootID and PIDNamespace (Linux; empty elsewhere) tell which boot of the host and which
	// PID namespace (container) PID belongs to, so a process is judged dead only by a taker
	// that sees the same PIDs (ProcessGone).
	BootID       string `json:"boot_id,omitempty"`
	PIDNamespace string `json:"pid_ns,omitempty"`
}

// NewHolder describes this process running runID.
func NewHolder(runID string) Holder {
	host, _ := os.Hostname()
	boot, ns := processIdentity()
	return Holder{Host: host, PID: os.Getpid(), RunID: runID, BootID: boot, PIDNamespace: ns}
}

// processIdentity is this boot's id and this process's PID namespace, "" where unknown.
var processIdentity = sync.OnceValues(func() (string, string) {
	boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return strings.TrimSpace(string(boot)), ns
})

// ProcessGone reports whether the holder's process is known to have exited: it ran on this
// host (same hostname and, when recorded, the same boot and PID namespace) and no process has
// its PID any more (kill(pid, 0) fails with ESRCH; EPERM means it is alive, as another user's).
// A holder on another host, or one this host cannot judge, is never gone: its lease expires.
func (h Holder) ProcessGone() bool {
	if h.PID <= 0 || h.Host == "" {
		return false
	}
	host, err := os.Hostname()
	if err != nil || host != h.Host {
		return false
	}
	boot, ns := processIdentity()
	if (h.BootID != "" && h.BootID != boot) || (h.PIDNamespace != "" && h.PIDNamespace != ns) {
		return false
	}
	if h.PID == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(h.PID, 0), syscall.ESRCH)
}

// String is "run <id> (host <h>, pid <n>)".
func (h Holder) String() string {
	return fmt.Sprintf("run %s (host %s, pid %d)", h.RunID, h.Host, h.PID)
}

// leaseRecord is the content of leases/<name>.json.
type leaseRecord struct {
	Holder     Holder    `json:"holder"`
	AcquiredAt time.Time `json:"acquired_at"`
	RenewedAt  time.Time `json:"renewed_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	TTLSeconds float64   `json:"ttl_seconds"`
}

// LeaseHeldError is returned when another run holds an unexpired lease.
type LeaseHeldError struct {
	Name      string
	Holder    Holder
	ExpiresAt time.Time
	// Waited is how long AcquireWait waited before giving up (0: it did not wait).
	Waited time.Duration
}

func (e *LeaseHeldError) Error() string {
	msg := fmt.Sprintf("lease %s is held by %s until %s", e.Name, e.Holder, e.ExpiresAt.UTC().Format(time.RFC3339))
	if e.Waited > 0 {
		msg += fmt.Sprintf(" (gave up after waiting %s)", e.Waited.Round(time.Second))
	}
	return msg
}

// Lease is a held run lease. It renews itself every TTL/3 until Release; if a renewal finds
// that another run has taken it (or it cannot be renewed before it expires), Context is
// cancelled with ErrLeaseLost as its cause.
type Lease struct {
	// Name is the lease's name, e.g. segment-2026-10-31; the object is leases/<name>.json.
	Name   string
	Holder Holder
	// TookOver is set when Acquire took the lease over from another holder: who, and why.
	TookOver *Takeover

	store Store
	key   string
	ttl   time.Duration

	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	mu  sync.Mutex
	rec leaseRecord
	gen int64
}

// Takeover describes a lease taken over from a holder that can no longer hold it.
type Takeover struct {
	Previous Holder `json:"previous"`
	// Reason is ReasonExpired or ReasonProcessGone.
	Reason string `json:"reason"`
}

// Why a lease no longer protects its holder (LeaseState.Why, Takeover.Reason).
const (
	ReasonExpired     = "expired"
	ReasonProcessGone = "holder process is gone"
)

// LeaseKey is the object holding the lease name.
func LeaseKey(name string) string { return LeasePrefix + name + ".json" }

// Acquire takes the lease name for holder, for ttl at a time. An absent lease is created with
// PutIf(…, 0); an expired one, or one whose holder ran on this host and whose process is gone
// (Holder.ProcessGone: the holder was killed), is taken over with PutIf at the generation
// read, so of two takers exactly one wins. A live lease returns *LeaseHeldError.
//
// Expiry is judged conservatively across clocks: a lease is expired only when local time is
// past both its recorded expires_at (the holder's clock) and the object's Updated time plus
// its TTL (the store's clock).
//
// The returned lease renews itself in the background, under ctx, until Release.
func Acquire(ctx context.Context, s Store, name string, holder Holder, ttl time.Duration) (*Lease, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("lease %s: the TTL must be positive, got %s", name, ttl)
	}
	key := LeaseKey(name)
	if err := CheckKey(key); err != nil {
		return nil, fmt.Errorf("lease %q: %w", name, err)
	}
	for attempt := 0; ; attempt++ {
		l, held, err := tryAcquire(ctx, s, name, key, holder, ttl)
		switch {
		case err == nil && held == nil:
			l.start(ctx)
			return l, nil
		case held != nil:
			return nil, held
		case errors.Is(err, ErrPrecondition) || errors.Is(err, ErrNotExist):
			// Someone created, renewed, took or released it between our read and write:
			// look again (a few times: each round trip means someone else made progress).
			if attempt < 5 {
				continue
			}
			return nil, fmt.Errorf("lease %s: it keeps changing under us: %w", name, err)
		default:
			return nil, fmt.Errorf("lease %s: %w", name, err)
		}
	}
}

// tryAcquire makes one attempt: the lease, or who holds it, or an error.
func tryAcquire(ctx context.Context, s Store, name, key string, holder Holder, ttl time.Duration) (*Lease, *LeaseHeldError, error) {
	var ifGen int64
	var took *Takeover
	info, err := s.Stat(ctx, key)
	switch {
	case errors.Is(err, ErrNotExist):
	case err != nil:
		return nil, nil, err
	default:
		st, err := readLease(ctx, s, name, info, ttl)
		if err != nil {
			return nil, nil, err
		}
		why := st.Why(time.Now())
		if why == "" {
			return nil, &LeaseHeldError{Name: name, Holder: st.Holder, ExpiresAt: st.ExpiresAt}, nil
		}
		ifGen = info.Generation
		took = &Takeover{Previous: st.Holder, Reason: why}
	}
	now := time.Now().UTC()
	l := &Lease{Name: name, Holder: holder, TookOver: took, store: s, key: key, ttl: ttl}
	l.rec = leaseRecord{Holder: holder, AcquiredAt: now, RenewedAt: now, ExpiresAt: now.Add(ttl), TTLSeconds: ttl.Seconds()}
	gen, err := l.write(ctx, ifGen)
	if err != nil {
		return nil, nil, err
	}
	l.gen = gen
	return l, nil, nil
}

// LeaseState is a lease object as found in the lake.
type LeaseState struct {
	Name   string
	Holder Holder
	// ExpiresAt is the lease's expiry judged conservatively across clocks (see Acquire).
	ExpiresAt time.Time
	// Generation is the object's generation when it was read.
	Generation int64
}

// Why returns "" while the lease protects its holder at now, else why it no longer does:
// ReasonExpired, or ReasonProcessGone when the holder ran on this host and has exited.
func (l *LeaseState) Why(now time.Time) string {
	switch {
	case !now.Before(l.ExpiresAt):
		return ReasonExpired
	case l.Holder.ProcessGone():
		return ReasonProcessGone
	}
	return ""
}

// Live reports whether the lease still protects its holder at now.
func (l *LeaseState) Live(now time.Time) bool { return l.Why(now) == "" }

// ReadLease reads the lease name; the error wraps ErrNotExist when there is none. A record
// that cannot be parsed counts as written by a holder with fallbackTTL.
func ReadLease(ctx context.Context, s Store, name string, fallbackTTL time.Duration) (*LeaseState, error) {
	key := LeaseKey(name)
	if err := CheckKey(key); err != nil {
		return nil, fmt.Errorf("lease %q: %w", name, err)
	}
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	return readLease(ctx, s, name, info, fallbackTTL)
}

// readLease reads the lease object info describes.
func readLease(ctx context.Context, s Store, name string, info ObjectInfo, ttl time.Duration) (*LeaseState, error) {
	b, err := GetBytes(ctx, s, info.Key)
	if err != nil {
		return nil, err
	}
	var rec leaseRecord
	if json.Unmarshal(b, &rec) != nil {
		// Unreadable (not ours, or torn by hand): it expires TTL after it was written.
		rec = leaseRecord{ExpiresAt: info.Updated.Add(ttl), TTLSeconds: ttl.Seconds()}
	}
	return &LeaseState{Name: name, Holder: rec.Holder, ExpiresAt: rec.expiry(info, ttl), Generation: info.Generation}, nil
}

// expiry is the later of the holder's expires_at and the store's Updated + TTL.
func (r leaseRecord) expiry(info ObjectInfo, fallbackTTL time.Duration) time.Time {
	ttl := time.Duration(r.TTLSeconds * float64(time.Second))
	if ttl <= 0 {
		ttl = fallbackTTL
	}
	exp := r.ExpiresAt
	if byStore := info.Updated.Add(ttl); byStore.After(exp) {
		exp = byStore
	}
	return exp
}

func (l *Lease) write(ctx context.Context, ifGen int64) (int64, error) {
	b, err := json.MarshalIndent(l.rec, "", "  ")
	if err != nil {
		return 0, err
	}
	info, err := l.store.PutIf(ctx, l.key, bytes.NewReader(append(b, '\n')), ifGen)
	if err != nil {
		return 0, err
	}
	return info.Generation, nil
}

// start begins renewing in the background.
func (l *Lease) start(ctx context.Context) {
	l.ctx, l.cancel = context.WithCancelCause(ctx)
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.renewLoop()
}

// Context is cancelled, with cause ErrLeaseLost (see context.Cause), when the lease is lost;
// the job holding the lease runs under it so it stops before publishing.
func (l *Lease) Context() context.Context { return l.ctx }

// ExpiresAt is when the lease expires unless renewed.
func (l *Lease) ExpiresAt() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rec.ExpiresAt
}

func (l *Lease) renewLoop() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.ctx.Done():
			return
		case <-t.C:
		}
		if err := l.renew(); err != nil {
			l.cancel(err)
			return
		}
	}
}

// renew extends the lease by its TTL with PutIf at its last generation. A precondition
// failure means another run took it; other errors are retried at the next tick while the
// lease has not yet expired.
func (l *Lease) renew() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now().UTC()
	next := l.rec
	next.RenewedAt, next.ExpiresAt = now, now.Add(l.ttl)
	prev := l.rec
	l.rec = next
	gen, err := l.write(l.ctx, l.gen)
	switch {
	case err == nil:
		l.gen = gen
		return nil
	case errors.Is(err, ErrPrecondition) || errors.Is(err, ErrNotExist):
		l.rec = prev
		return fmt.Errorf("%w: %s was taken over or removed by another run: %v", ErrLeaseLost, l.key, err)
	case l.ctx.Err() != nil:
		l.rec = prev
		return l.ctx.Err()
	default:
		l.rec = prev
		// Keep a margin of one renewal interval: past it another run may take over.
		if time.Now().Add(l.ttl / 3).After(prev.ExpiresAt) {
			return fmt.Errorf("%w: could not renew %s before it expired: %v", ErrLeaseLost, l.key, err)
		}
		return nil
	}
}

// Release stops renewing and deletes the lease object (DeleteIf at its generation). It
// returns an error wrapping ErrLeaseLost when the lease had already been lost.
func (l *Lease) Release(ctx context.Context) error {
	released := true
	l.once.Do(func() { released = false; close(l.stop) })
	if released {
		return nil
	}
	<-l.done
	lost := context.Cause(l.ctx)
	l.cancel(context.Canceled)
	if lost != nil && errors.Is(lost, ErrLeaseLost) {
		return lost
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.store.DeleteIf(ctx, l.key, l.gen)
	if errors.Is(err, ErrPrecondition) || errors.Is(err, ErrNotExist) {
		return fmt.Errorf("release %s: %w: %v", l.key, ErrLeaseLost, err)
	}
	if err != nil {
		return fmt.Errorf("release %s: %w", l.key, err)
	}
	return nil
}

// AcquireWait is Acquire with the configured conflict policy: OnConflictExit returns the
// *LeaseHeldError at once; OnConflictWait polls, with jitter, until the lease is free or
// waitTimeout has passed (then the *LeaseHeldError, with Waited set).
func AcquireWait(ctx context.Context, s Store, name string, holder Holder, ttl time.Duration, onConflict string, waitTimeout time.Duration) (*Lease, error) {
	if onConflict != OnConflictWait && onConflict != OnConflictExit {
		return nil, fmt.Errorf("lease %s: on_conflict must be %s or %s, got %q", name, OnConflictWait, OnConflictExit, onConflict)
	}
	start := time.Now()
	deadline := start.Add(waitTimeout)
	for {
		l, err := Acquire(ctx, s, name, holder, ttl)
		var held *LeaseHeldError
		if !errors.As(err, &held) || onConflict == OnConflictExit {
			return l, err
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			held.Waited = time.Since(start)
			return nil, held
		}
		// Poll a few times per TTL (a released lease frees at once), at most every 15 s, with
		// ±25% jitter so waiting runs do not stampede; never sleep past expiry or the deadline.
		wait := min(ttl/6, 15*time.Second)
		wait = time.Duration(float64(wait) * (0.75 + rand.Float64()/2))
		if untilExp := time.Until(held.ExpiresAt) + 10*time.Millisecond; untilExp > 0 && untilExp < wait {
			wait = untilExp
		}
		wait = max(min(wait, remaining), time.Millisecond)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for lease %s: %w", name, context.Cause(ctx))
		case <-time.After(wait):
		}
	}
}
