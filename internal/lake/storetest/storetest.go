// Package storetest is the conformance suite every lake.Store passes, and an in-process fake
// of Google Cloud Storage to run it (and jobs) against GCSStore. Only tests import it.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/segpipe/segpipe/internal/lake"
)

// Run runs the conformance suite: each subtest gets a fresh, empty store from newStore.
func Run(t *testing.T, newStore func(t *testing.T) lake.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s lake.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Replace", testReplace},
		{"ListPrefixAndOrder", testList},
		{"NotExist", testNotExist},
		{"DeleteIsIdempotent", testDelete},
		{"InvalidKeysRejected", testInvalidKeys},
		{"PutIsAtomicUnderReaders", testPutIsAtomic},
		{"CancelledPutLeavesNothing", testCancelledPut},
		{"ConditionalWrites", testConditionalWrites},
		{"PutIfHasOneWinner", testPutIfOneWinner},
		{"GenerationChangesOnEveryWrite", testGenerations},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

var bg = context.Background()

func put(t *testing.T, s lake.Store, key, content string) lake.ObjectInfo {
	t.Helper()
	info, err := s.Put(bg, key, strings.NewReader(content))
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return info
}

func get(t *testing.T, s lake.Store, key string) string {
	t.Helper()
	b, err := lake.GetBytes(bg, s, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return string(b)
}

func keys(objs []lake.ObjectInfo) string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Key)
	}
	return strings.Join(ks, " ")
}

func testRoundTrip(t *testing.T, s lake.Store) {
	binary := string([]byte{0, 1, 2, 0xff, '\n', 0})
	for key, content := range map[string]string{
		"raw/crm/accounts/dt=2026-01-01/a.parquet": "one",
		"state/crm/accounts.json":                  `{"cursor":"2026-01-01T00:00:00Z"}`,
		"bin/x":                                    binary,
		"empty/object":                             "",
		"top":                                      "a key without a folder",
	} {
		info := put(t, s, key, content)
		if info.Key != key || info.Size != int64(len(content)) || info.Generation == 0 || info.Updated.IsZero() {
			t.Errorf("put %s returned %+v", key, info)
		}
		if got := get(t, s, key); got != content {
			t.Errorf("get %s = %q, want %q", key, got, content)
		}
		st, err := s.Stat(bg, key)
		if err != nil || st.Key != key || st.Size != info.Size || st.Generation != info.Generation {
			t.Errorf("stat %s = %+v, %v; put returned %+v", key, st, err, info)
		}
	}
	if !strings.Contains(s.URL(), "://") {
		t.Errorf("URL %q names no scheme", s.URL())
	}
}

func testReplace(t *testing.T, s lake.Store) {
	const key = "raw/crm/accounts/dt=2026-01-01/a.parquet"
	put(t, s, key, "one")
	second := put(t, s, key, "two!")
	if got := get(t, s, key); got != "two!" {
		t.Fatalf("get = %q; want the replaced content", got)
	}
	info, err := s.Stat(bg, key)
	if err != nil || info.Size != 4 || info.Generation != second.Generation {
		t.Fatalf("stat = %+v, %v; want size 4 at generation %d", info, err, second.Generation)
	}
	if objs, _ := s.List(bg, ""); len(objs) != 1 {
		t.Fatalf("a replaced object is listed %d times: %v", len(objs), keys(objs))
	}
}

func testList(t *testing.T, s lake.Store) {
	for _, k := range []string{ // written out of order
		"state/crm/accounts.json",
		"raw/crm/deals/dt=2026-01-01/b.parquet",
		"raw/crmx/accounts/dt=2026-01-01/c.parquet",
		"raw/crm/accounts/dt=2026-01-02/a.parquet",
		"raw/crm/accounts/dt=2026-01-01/a.parquet",
		"raw/crm/accounts/dt=2026-01-01/_manifest.json",
	} {
		put(t, s, k, "content of "+k)
	}
	for prefix, want := range map[string]string{
		"raw/crm/":                               "raw/crm/accounts/dt=2026-01-01/_manifest.json raw/crm/accounts/dt=2026-01-01/a.parquet raw/crm/accounts/dt=2026-01-02/a.parquet raw/crm/deals/dt=2026-01-01/b.parquet",
		"raw/crm/acc":                            "raw/crm/accounts/dt=2026-01-01/_manifest.json raw/crm/accounts/dt=2026-01-01/a.parquet raw/crm/accounts/dt=2026-01-02/a.parquet",
		"raw/crm":                                "raw/crm/accounts/dt=2026-01-01/_manifest.json raw/crm/accounts/dt=2026-01-01/a.parquet raw/crm/accounts/dt=2026-01-02/a.parquet raw/crm/deals/dt=2026-01-01/b.parquet raw/crmx/accounts/dt=2026-01-01/c.parquet",
		"raw/crm/accounts/dt=2026-01-01/":        "raw/crm/accounts/dt=2026-01-01/_manifest.json raw/crm/accounts/dt=2026-01-01/a.parquet",
		"state/crm/accounts.json":                "state/crm/accounts.json",
		"st":                                     "state/crm/accounts.json",
		"nothing/":                               "",
		"raw/crm/deals/dt=2026-01-01/b.parquet/": "",
	} {
		objs, err := s.List(bg, prefix)
		if err != nil {
			t.Fatalf("list %q: %v", prefix, err)
		}
		if got := keys(objs); got != want {
			t.Errorf("list %q =\n  %s\nwant\n  %s", prefix, got, want)
		}
	}
	all, err := s.List(bg, "")
	if err != nil || len(all) != 6 || all[0].Key != "raw/crm/accounts/dt=2026-01-01/_manifest.json" || all[5].Key != "state/crm/accounts.json" {
		t.Fatalf("list everything = %s, %v", keys(all), err)
	}
	for _, o := range all {
		st, err := s.Stat(bg, o.Key)
		if err != nil || st.Size != o.Size || st.Generation != o.Generation || o.Size != int64(len("content of "+o.Key)) {
			t.Errorf("listed %+v, stat says %+v, %v", o, st, err)
		}
	}
}

func testNotExist(t *testing.T, s lake.Store) {
	put(t, s, "raw/crm/deals/dt=2026-01-01/b.parquet", "x")
	if _, err := s.Get(bg, "nope/x"); !errors.Is(err, lake.ErrNotExist) {
		t.Errorf("get missing: %v, want ErrNotExist", err)
	}
	if _, err := s.Stat(bg, "nope/x"); !errors.Is(err, lake.ErrNotExist) {
		t.Errorf("stat missing: %v, want ErrNotExist", err)
	}
	if _, err := s.Stat(bg, "raw/crm"); !errors.Is(err, lake.ErrNotExist) {
		t.Errorf("stat of a folder: %v, want ErrNotExist", err)
	}
	if _, err := s.Get(bg, "raw/crm/deals"); !errors.Is(err, lake.ErrNotExist) {
		t.Errorf("get of a folder: %v, want ErrNotExist", err)
	}
}

func testDelete(t *testing.T, s lake.Store) {
	const key = "raw/crm/deals/dt=2026-01-01/b.parquet"
	put(t, s, key, "x")
	put(t, s, "raw/crm/accounts/dt=2026-01-01/a.parquet", "y")
	if err := s.Delete(bg, key); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(bg, key); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if err := s.Delete(bg, "never/there"); err != nil {
		t.Fatalf("deleting what never existed: %v", err)
	}
	if _, err := s.Get(bg, key); !errors.Is(err, lake.ErrNotExist) {
		t.Fatalf("get after delete: %v, want ErrNotExist", err)
	}
	if objs, _ := s.List(bg, "raw/"); keys(objs) != "raw/crm/accounts/dt=2026-01-01/a.parquet" {
		t.Fatalf("list after delete: %s", keys(objs))
	}
}

func testInvalidKeys(t *testing.T, s lake.Store) {
	for _, k := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/", "./a", "..", "a/./b"} {
		if _, err := s.Put(bg, k, strings.NewReader("x")); err == nil {
			t.Errorf("put %q succeeded; want an invalid key error", k)
		}
		if _, err := s.PutIf(bg, k, strings.NewReader("x"), 0); err == nil {
			t.Errorf("put-if %q succeeded; want an invalid key error", k)
		}
		if _, err := s.Get(bg, k); err == nil || errors.Is(err, lake.ErrNotExist) {
			t.Errorf("get %q: %v; want an invalid key error", k, err)
		}
		if _, err := s.Stat(bg, k); err == nil || errors.Is(err, lake.ErrNotExist) {
			t.Errorf("stat %q: %v; want an invalid key error", k, err)
		}
		if err := s.Delete(bg, k); err == nil {
			t.Errorf("delete %q succeeded; want an invalid key error", k)
		}
		if err := s.DeleteIf(bg, k, 1); err == nil {
			t.Errorf("delete-if %q succeeded; want an invalid key error", k)
		}
	}
	if objs, _ := s.List(bg, ""); len(objs) != 0 {
		t.Fatalf("invalid keys left %s", keys(objs))
	}
}

// A reader polling an object while it is rewritten sees the old or the new content, never part.
func testPutIsAtomic(t *testing.T, s lake.Store) {
	a, b := strings.Repeat("a", 1<<20), strings.Repeat("b", 1<<20)
	put(t, s, "k/v", a)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(stop)
		for i := 0; i < 20; i++ {
			v := a
			if i%2 == 0 {
				v = b
			}
			if err := lake.PutBytes(bg, s, "k/v", []byte(v)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	reads := 0
	for {
		select {
		case <-stop:
			wg.Wait()
			if reads == 0 {
				t.Fatal("no reads happened")
			}
			return
		default:
		}
		got, err := lake.GetBytes(bg, s, "k/v")
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != a && string(got) != b {
			t.Fatalf("read a torn object of %d bytes", len(got))
		}
		reads++
	}
}

// cancellingReader yields n bytes, then cancels its context and keeps yielding: a Put must
// notice and write nothing.
type cancellingReader struct {
	n      int
	cancel context.CancelFunc
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		r.cancel()
	}
	for i := range p {
		p[i] = 'z'
	}
	r.n -= len(p)
	return len(p), nil
}

// failingReader yields n bytes, then fails.
type failingReader struct{ n int }

var errSourceBroke = errors.New("source broke off")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errSourceBroke
	}
	if len(p) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = 'f'
	}
	r.n -= len(p)
	return len(p), nil
}

func testCancelledPut(t *testing.T, s lake.Store) {
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := s.Put(ctx, "a/b", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("put with a cancelled context: %v", err)
	}
	if _, err := s.PutIf(ctx, "a/c", strings.NewReader("x"), 0); err == nil {
		t.Fatal("put-if with a cancelled context succeeded")
	}
	if objs, _ := s.List(bg, ""); len(objs) != 0 {
		t.Fatalf("cancelled put left %s", keys(objs))
	}
	// Cancelled or failed part way, small and large: the previous object stays as it was.
	old := put(t, s, "a/b", "old")
	for _, size := range []int{1 << 10, 6 << 20} {
		ctx, cancel := context.WithCancel(bg)
		_, err := s.Put(ctx, "a/b", &cancellingReader{n: size, cancel: cancel})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("put cancelled after %d bytes: %v, want context.Canceled", size, err)
		}
		if _, err := s.Put(bg, "a/b", io.MultiReader(strings.NewReader("partial"), &failingReader{n: size})); !errors.Is(err, errSourceBroke) {
			t.Errorf("put whose reader failed after %d bytes: %v, want the reader's error", size, err)
		}
		if _, err := s.PutIf(bg, "a/b", &failingReader{n: size}, old.Generation); !errors.Is(err, errSourceBroke) {
			t.Errorf("put-if whose reader failed after %d bytes: %v, want the reader's error", size, err)
		}
	}
	if got := get(t, s, "a/b"); got != "old" {
		t.Fatalf("after aborted puts a/b holds %d bytes, want the old content", len(got))
	}
	if info, _ := s.Stat(bg, "a/b"); info.Generation != old.Generation {
		t.Fatalf("aborted puts changed the generation: %d, was %d", info.Generation, old.Generation)
	}
	if objs, _ := s.List(bg, ""); keys(objs) != "a/b" {
		t.Fatalf("aborted puts left %s", keys(objs))
	}
}

func testConditionalWrites(t *testing.T, s lake.Store) {
	first, err := s.PutIf(bg, "leases/x.json", strings.NewReader("a"), 0)
	if err != nil || first.Generation == 0 {
		t.Fatalf("create if absent: %+v, %v", first, err)
	}
	if _, err := s.PutIf(bg, "leases/x.json", strings.NewReader("b"), 0); !errors.Is(err, lake.ErrPrecondition) {
		t.Fatalf("create when present: %v, want ErrPrecondition", err)
	}
	second, err := s.PutIf(bg, "leases/x.json", strings.NewReader("c"), first.Generation)
	if err != nil || second.Generation == first.Generation {
		t.Fatalf("replace at the read generation: %+v, %v", second, err)
	}
	if _, err := s.PutIf(bg, "leases/x.json", strings.NewReader("d"), first.Generation); !errors.Is(err, lake.ErrPrecondition) {
		t.Fatalf("replace at a stale generation: %v", err)
	}
	if b := get(t, s, "leases/x.json"); b != "c" {
		t.Fatalf("content %q, want c", b)
	}
	if _, err := s.PutIf(bg, "leases/never.json", strings.NewReader("e"), first.Generation); err == nil {
		t.Fatal("replace of an absent object at some generation succeeded")
	}
	if err := s.DeleteIf(bg, "leases/x.json", 0); err == nil {
		t.Fatal("conditional delete with generation 0 succeeded")
	}
	if err := s.DeleteIf(bg, "leases/x.json", first.Generation); !errors.Is(err, lake.ErrPrecondition) {
		t.Fatalf("delete at a stale generation: %v", err)
	}
	if b := get(t, s, "leases/x.json"); b != "c" {
		t.Fatalf("a refused delete changed the object: %q", b)
	}
	if err := s.DeleteIf(bg, "leases/x.json", second.Generation); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIf(bg, "leases/x.json", second.Generation); !errors.Is(err, lake.ErrNotExist) {
		t.Fatalf("delete of a gone object: %v", err)
	}
	if objs, _ := s.List(bg, ""); len(objs) != 0 {
		t.Fatalf("lock files or leftovers are listed: %s", keys(objs))
	}
}

// Conditional writes race: exactly one of many writers wins, creating or replacing.
func testPutIfOneWinner(t *testing.T, s lake.Store) {
	race := func(ifGeneration int64) (winners []string) {
		var wg sync.WaitGroup
		wins := make(chan string, 16)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				holder := fmt.Sprintf("holder-%d", i)
				if _, err := s.PutIf(bg, "leases/run.json", strings.NewReader(holder), ifGeneration); err == nil {
					wins <- holder
				} else if !errors.Is(err, lake.ErrPrecondition) {
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		close(wins)
		for w := range wins {
			winners = append(winners, w)
		}
		return winners
	}
	for round := 0; round < 2; round++ {
		var gen int64
		if round == 1 {
			info, err := s.Stat(bg, "leases/run.json")
			if err != nil {
				t.Fatal(err)
			}
			gen = info.Generation
		}
		winners := race(gen)
		if len(winners) != 1 {
			t.Fatalf("round %d: %d writers won (%v), want exactly 1", round, len(winners), winners)
		}
		if got := get(t, s, "leases/run.json"); got != winners[0] {
			t.Fatalf("round %d: the object holds %q, the winner was %s", round, got, winners[0])
		}
	}
}

func testGenerations(t *testing.T, s lake.Store) {
	seen := map[int64]bool{}
	var last lake.ObjectInfo
	for i := 0; i < 6; i++ {
		var err error
		if i%2 == 0 {
			last, err = s.Put(bg, "g/x", bytes.NewReader([]byte{byte(i)}))
		} else {
			last, err = s.PutIf(bg, "g/x", bytes.NewReader([]byte{byte(i)}), last.Generation)
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if seen[last.Generation] {
			t.Fatalf("write %d reused generation %d", i, last.Generation)
		}
		seen[last.Generation] = true
	}
	if info, err := s.Stat(bg, "g/x"); err != nil || info.Generation != last.Generation {
		t.Fatalf("stat says generation %d, %v; the last write returned %d", info.Generation, err, last.Generation)
	}
	if err := s.Delete(bg, "g/x"); err != nil {
		t.Fatal(err)
	}
	again := put(t, s, "g/x", "again")
	if seen[again.Generation] {
		t.Fatalf("an object re-created after a delete reused generation %d", again.Generation)
	}
}
