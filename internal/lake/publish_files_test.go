package lake

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A release's other files (report.html) go into the release and latest/ beside the tables on
// both publish paths, are named in the pointer, follow a rollback, and never go into the
// history; a name that would take a table's or the pointer's place is refused.
func TestPublishCarriesFiles(t *testing.T) {
	ctx := context.Background()
	report := func(t *testing.T, content string) LocalFile {
		p := filepath.Join(t.TempDir(), ReportName)
		if err := os.WriteFile(p, []byte("<html>"+content+"</html>"), 0o644); err != nil {
			t.Fatal(err)
		}
		return LocalFile{Name: ReportName, Path: p}
	}
	for _, links := range []bool{true, false} {
		name := map[bool]string{true: "links", false: "copies"}[links]
		t.Run(name, func(t *testing.T) {
			fs := newStore(t)
			var s Store = fs
			if !links {
				s = &faultyStore{Store: fs}
			}
			for i, run := range []string{"r1", "r2"} {
				tables, db := writeTables(t, run)
				pub, err := Publish(ctx, s, "2026-11-0"+string(rune('1'+i)), run, tables, db, nil, time.Now(), 0, report(t, run))
				if err != nil {
					t.Fatal(err)
				}
				if len(pub.Files) != 1 || pub.Files[0].Name != ReportName || pub.Files[0].Key != pub.Release+"/"+ReportName ||
					pub.Files[0].Bytes != int64(len("<html>"+run+"</html>")) || pub.Files[0].SHA256 == "" {
					t.Fatalf("%s: files = %+v", run, pub.Files)
				}
				if got := readLatest(t, fs, ReportName); got != "<html>"+run+"</html>" {
					t.Fatalf("%s: latest/%s = %q", run, ReportName, got)
				}
				p, err := ReadPublished(ctx, fs)
				if err != nil || len(p.Files) != 1 || p.Files[0].Key != pub.Release+"/"+ReportName {
					t.Fatalf("%s: pointer files = %+v, %v", run, p, err)
				}
			}
			objs, _ := fs.List(ctx, "marts/")
			for _, o := range objs {
				if strings.Contains(o.Key, "report") {
					t.Fatalf("a file went into the history: %s", o.Key)
				}
			}
			releases, err := Releases(ctx, fs)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Rollback(ctx, s, releases[0], RollbackInfo{RunID: "rb", By: "t", Reason: "test"}, 0); err != nil {
				t.Fatal(err)
			}
			if got := readLatest(t, fs, ReportName); got != "<html>r1</html>" {
				t.Fatalf("after rollback latest/%s = %q, want r1's", ReportName, got)
			}
			// A release whose report is missing is not whole: the rollback refuses it.
			if err := fs.Delete(ctx, releases[1].Key+"/"+ReportName); err != nil {
				t.Fatal(err)
			}
			if _, err := Rollback(ctx, s, releases[1], RollbackInfo{RunID: "rb2", By: "t", Reason: "test"}, 0); err == nil || !strings.Contains(err.Error(), "not whole") {
				t.Fatalf("rollback to a release without its report: %v, want not whole", err)
			}
		})
	}
	for _, bad := range []string{"", "a/b.html", "x.parquet", DatabaseName, "_published.json", ".."} {
		tables, db := writeTables(t, "bad")
		_, err := Publish(ctx, newStore(t), "2026-11-01", "r1", tables, db, nil, time.Now(), 0, LocalFile{Name: bad, Path: db})
		if err == nil {
			t.Fatalf("file name %q was accepted", bad)
		}
	}
}
