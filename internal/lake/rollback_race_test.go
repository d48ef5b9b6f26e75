package lake

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A run that publishes between a rollback's read of the pointer and its write wins: the
// rollback fails with ErrPublishConflict and latest names what the pointer names. The same
// holds the other way round (a publish racing a rollback), on links and on copies.
func TestRollbackAndPublishRacing(t *testing.T) {
	ctx := context.Background()
	for _, linked := range []bool{true, false} {
		fs := newStore(t)
		f := &faultyStore{Store: fs}
		var s Store = f
		var other Store = &faultyStore{Store: fs} // the concurrent writer, on the same path
		if linked {
			s, other = faultyLinker{f, fs}, fs
		}
		for _, r := range [][2]string{{"2026-11-01", "r1"}, {"2026-11-02", "r2"}} {
			tables, db := writeTables(t, r[1])
			if _, err := Publish(ctx, s, r[0], r[1], tables, db, nil, time.Now(), 0); err != nil {
				t.Fatal(err)
			}
		}
		releases, err := Releases(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		target, err := FindRelease(releases, "r1")
		if err != nil {
			t.Fatal(err)
		}
		// The rollback loses to a publish.
		f.before = func(op, key string) {
			if op == "putif" && key == PublishedKey {
				f.before = nil
				tables, db := writeTables(t, "r3")
				if _, err := Publish(ctx, other, "2026-11-03", "r3", tables, db, nil, time.Now(), 0); err != nil {
					t.Error(err)
				}
			}
		}
		_, err = Rollback(ctx, s, target, RollbackInfo{Reason: "x"}, 0)
		if !errors.Is(err, ErrPublishConflict) {
			t.Fatalf("linked=%v: rollback racing a publish: %v", linked, err)
		}
		checkPublished(t, fs, "r3")
		checkLatestCopiesOrLink(t, fs, linked, "r3")

		// A publish loses to the rollback.
		f.before = func(op, key string) {
			if op == "putif" && key == PublishedKey {
				f.before = nil
				if _, err := Rollback(ctx, other, target, RollbackInfo{Reason: "y"}, 0); err != nil {
					t.Error(err)
				}
			}
		}
		tables, db := writeTables(t, "r4")
		if _, err := Publish(ctx, s, "2026-11-04", "r4", tables, db, nil, time.Now(), 0); !errors.Is(err, ErrPublishConflict) {
			t.Fatalf("linked=%v: publish racing a rollback: %v", linked, err)
		}
		checkPublished(t, fs, "r1")
		checkLatestCopiesOrLink(t, fs, linked, "r1")
	}
}

func checkLatestCopiesOrLink(t *testing.T, fs *FileStore, linked bool, run string) {
	t.Helper()
	if !linked {
		checkLatestCopies(t, fs, run)
		return
	}
	pub, err := ReadPublished(context.Background(), fs)
	if err != nil {
		t.Fatal(err)
	}
	if target, _ := fs.LinkTarget(LatestDir); target != pub.Release {
		t.Fatalf("latest -> %s, pointer names %s", target, pub.Release)
	}
	checkLatestCopies(t, fs, run)
}
