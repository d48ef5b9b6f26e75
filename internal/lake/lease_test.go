package lake

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// writeStaleLease leaves a lease as a holder that died would: expires_at in the past and the
// object last written long ago (its Updated time backdated too).
func writeStaleLease(t *testing.T, s *FileStore, name string, holder Holder) {
	t.Helper()
	past := time.Now().Add(-time.Hour)
	b, _ := json.Marshal(leaseRecord{Holder: holder, AcquiredAt: past, RenewedAt: past, ExpiresAt: past.Add(time.Minute), TTLSeconds: 60})
	if err := PutBytes(context.Background(), s, LeaseKey(name), b); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(s.LocalPath(LeaseKey(name)), past, past); err != nil {
		t.Fatal(err)
	}
}

func TestLeaseExcludesAndReleases(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	a, err := Acquire(ctx, s, "segment-2026-10-31", Holder{Host: "h", PID: 1, RunID: "ra"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(ctx, s, "segment-2026-10-31", Holder{Host: "h", PID: 2, RunID: "rb"}, time.Minute)
	var held *LeaseHeldError
	if !errors.As(err, &held) || held.Holder.RunID != "ra" || held.Name != "segment-2026-10-31" || time.Until(held.ExpiresAt) < 50*time.Second {
		t.Fatalf("second acquire: %v, want a LeaseHeldError naming ra", err)
	}
	// Another name is another lease.
	other, err := Acquire(ctx, s, "segment-2026-11-01", Holder{RunID: "rc"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if a.Context().Err() == nil {
		t.Error("a released lease's context is still live")
	}
	b, err := Acquire(ctx, s, "segment-2026-10-31", Holder{RunID: "rb"}, time.Minute)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	b.Release(ctx)
	other.Release(ctx)
	if objs, _ := s.List(ctx, LeasePrefix); len(objs) != 0 {
		t.Fatalf("released leases left %v", objs)
	}
}

func TestLeaseRenewsItself(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	ttl := 150 * time.Millisecond
	a, err := Acquire(ctx, s, "ingest-2026-10-31", Holder{RunID: "ra"}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	first := a.ExpiresAt()
	time.Sleep(3 * ttl)
	if _, err := Acquire(ctx, s, "ingest-2026-10-31", Holder{RunID: "rb"}, ttl); !errors.As(err, new(*LeaseHeldError)) {
		t.Fatalf("after 3 TTLs the renewed lease is not held: %v", err)
	}
	if !a.ExpiresAt().After(first) {
		t.Error("expiry did not move")
	}
	if err := a.Context().Err(); err != nil {
		t.Fatalf("the held lease's context ended: %v", context.Cause(a.Context()))
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestStaleLeaseIsTakenOverOnce(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	writeStaleLease(t, s, "segment-2026-10-31", Holder{Host: "gone", PID: 9, RunID: "dead"})
	var wg sync.WaitGroup
	results := make(chan error, 8)
	leases := make(chan *Lease, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := Acquire(ctx, s, "segment-2026-10-31", Holder{PID: i, RunID: "taker"}, time.Minute)
			results <- err
			if l != nil {
				leases <- l
			}
		}()
	}
	wg.Wait()
	close(results)
	close(leases)
	wins := 0
	for err := range results {
		var held *LeaseHeldError
		switch {
		case err == nil:
			wins++
		case errors.As(err, &held):
			if held.Holder.RunID != "taker" {
				t.Errorf("a loser was told the dead holder holds it: %v", err)
			}
		default:
			t.Errorf("taker: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d takers won a stale lease, want exactly 1", wins)
	}
	for l := range leases {
		l.Release(ctx)
	}
}

// A lease whose recorded expiry is past but whose object was written just now is not taken:
// the store's clock says the holder renewed it within the TTL (the holder's clock may lag).
func TestLeaseExpiryIsConservativeAcrossClocks(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	past := time.Now().Add(-time.Hour)
	b, _ := json.Marshal(leaseRecord{Holder: Holder{RunID: "skewed"}, AcquiredAt: past, RenewedAt: past, ExpiresAt: past.Add(time.Minute), TTLSeconds: 60})
	if err := PutBytes(ctx, s, LeaseKey("x"), b); err != nil {
		t.Fatal(err)
	}
	_, err := Acquire(ctx, s, "x", Holder{RunID: "me"}, time.Minute)
	var held *LeaseHeldError
	if !errors.As(err, &held) || held.Holder.RunID != "skewed" || time.Until(held.ExpiresAt) < 50*time.Second {
		t.Fatalf("acquire: %v, want held until the object's Updated + TTL", err)
	}
}

// When another run takes the lease, the holder's next renewal notices: its context is
// cancelled with ErrLeaseLost and Release leaves the new holder's object alone.
func TestLostLeaseCancelsTheRun(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	a, err := Acquire(ctx, s, "segment-d", Holder{RunID: "ra"}, 150*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := PutBytes(ctx, s, LeaseKey("segment-d"), []byte(`{"holder":{"run_id":"intruder"}}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Context().Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the lost lease's context was not cancelled")
	}
	if cause := context.Cause(a.Context()); !errors.Is(cause, ErrLeaseLost) {
		t.Fatalf("cause %v, want ErrLeaseLost", cause)
	}
	if err := a.Release(ctx); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("release of a lost lease: %v", err)
	}
	if b, _ := GetBytes(ctx, s, LeaseKey("segment-d")); string(b) != `{"holder":{"run_id":"intruder"}}` {
		t.Fatalf("the new holder's lease was touched: %s", b)
	}
}

func TestAcquireWait(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	ttl := 300 * time.Millisecond
	a, err := Acquire(ctx, s, "segment-d", Holder{RunID: "ra"}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if _, err := AcquireWait(ctx, s, "segment-d", Holder{RunID: "rb"}, ttl, OnConflictExit, time.Minute); !errors.As(err, new(*LeaseHeldError)) || time.Since(t0) > 100*time.Millisecond {
		t.Fatalf("exit: %v after %s, want the held error at once", err, time.Since(t0))
	}
	_, err = AcquireWait(ctx, s, "segment-d", Holder{RunID: "rb"}, ttl, OnConflictWait, 150*time.Millisecond)
	var held *LeaseHeldError
	if !errors.As(err, &held) || held.Waited < 150*time.Millisecond {
		t.Fatalf("wait with a short timeout: %v", err)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		a.Release(ctx)
	}()
	b, err := AcquireWait(ctx, s, "segment-d", Holder{RunID: "rb"}, ttl, OnConflictWait, 5*time.Second)
	if err != nil {
		t.Fatalf("wait until released: %v", err)
	}
	b.Release(ctx)
	if _, err := AcquireWait(ctx, s, "segment-d", Holder{}, ttl, "sometimes", time.Second); err == nil {
		t.Fatal("an unknown on_conflict was accepted")
	}
}

// deadPID is the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a child process: %v", err)
	}
	pid := cmd.Process.Pid
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return pid
}

// writeLiveLease leaves a lease as a holder writes it: unexpired (30 minutes to go).
func writeLiveLease(t *testing.T, s *FileStore, name string, holder Holder) {
	t.Helper()
	now := time.Now().UTC()
	b, _ := json.Marshal(leaseRecord{Holder: holder, AcquiredAt: now, RenewedAt: now, ExpiresAt: now.Add(30 * time.Minute), TTLSeconds: 1800})
	if err := PutBytes(context.Background(), s, LeaseKey(name), b); err != nil {
		t.Fatal(err)
	}
}

// An unexpired lease whose holder ran on this host and has exited is taken over at once; one
// whose holder is alive, or ran elsewhere (another host, boot or PID namespace), is not.
func TestLeaseOfADeadHolderIsTakenOverAtOnce(t *testing.T) {
	ctx := context.Background()
	me := NewHolder("me")
	dead := me
	dead.PID, dead.RunID = deadPID(t), "killed"
	tests := []struct {
		name     string
		holder   Holder
		takeOver bool
	}{
		{"dead on this host", dead, true},
		{"alive on this host", Holder{Host: me.Host, PID: os.Getppid(), RunID: "alive", BootID: me.BootID, PIDNamespace: me.PIDNamespace}, false},
		{"this process", Holder{Host: me.Host, PID: os.Getpid(), RunID: "sibling", BootID: me.BootID, PIDNamespace: me.PIDNamespace}, false},
		{"dead pid on another host", Holder{Host: me.Host + "-other", PID: dead.PID, RunID: "far"}, false},
		{"another boot of this host", Holder{Host: me.Host, PID: dead.PID, RunID: "old-boot", BootID: "another-boot", PIDNamespace: me.PIDNamespace}, false},
		{"another PID namespace", Holder{Host: me.Host, PID: dead.PID, RunID: "container", BootID: me.BootID, PIDNamespace: "pid:[1]"}, false},
		{"recorded before boot ids", Holder{Host: me.Host, PID: dead.PID, RunID: "older-segpipe"}, true},
		{"no pid", Holder{Host: me.Host, RunID: "no-pid"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			writeLiveLease(t, s, "segment-2026-10-31", tc.holder)
			l, err := Acquire(ctx, s, "segment-2026-10-31", me, 30*time.Minute)
			if !tc.takeOver {
				var held *LeaseHeldError
				if !errors.As(err, &held) || held.Holder.RunID != tc.holder.RunID {
					t.Fatalf("acquire: %v, want the lease held by %s", err, tc.holder.RunID)
				}
				return
			}
			if err != nil {
				t.Fatalf("acquire over a dead holder: %v", err)
			}
			defer l.Release(ctx)
			if l.TookOver == nil || l.TookOver.Reason != ReasonProcessGone || l.TookOver.Previous.RunID != tc.holder.RunID {
				t.Fatalf("took over %+v, want from %s because its process is gone", l.TookOver, tc.holder.RunID)
			}
			st, err := ReadLease(ctx, s, "segment-2026-10-31", time.Minute)
			if err != nil || st.Holder.RunID != "me" || !st.Live(time.Now()) {
				t.Fatalf("the lease after the takeover: %+v, %v", st, err)
			}
		})
	}
}

// Of several runs finding a dead holder's lease at once, exactly one takes it over: the
// takeover is a conditional write at the generation read.
func TestDeadHolderLeaseIsTakenOverOnce(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	dead := NewHolder("killed")
	dead.PID = deadPID(t)
	writeLiveLease(t, s, "ingest-2026-10-31", dead)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, held := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := Acquire(ctx, s, "ingest-2026-10-31", NewHolder("taker"), time.Minute)
			mu.Lock()
			defer mu.Unlock()
			var he *LeaseHeldError
			switch {
			case err == nil:
				wins++
				t.Cleanup(func() { l.Release(ctx) })
			case errors.As(err, &he) && he.Holder.RunID == "taker":
				held++
			default:
				t.Errorf("taker: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || held != 7 {
		t.Fatalf("%d takers won and %d found it held, want 1 and 7", wins, held)
	}
}
