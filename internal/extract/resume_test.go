package extract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
)

// killChildEnv selects TestKilledLandingChild: it holds the child's killSpec as JSON.
const killChildEnv = "SEGPIPE_EXTRACT_KILL_CHILD"

// killSpec is what the parent test tells the child landing process.
type killSpec struct {
	Lake       string // the lake directory
	TempDir    string // where the child builds parts
	Signal     string // the file the child writes once it is blocked between pages
	RunID      string
	Records    int // the export's size
	BlockAfter int // pages served before the fake blocks
}

const (
	resumeRecords   = 20
	resumePageSize  = 2
	resumeRowsPerPt = 4
)

func resumeSource(url string) *config.Source {
	src := testSource(url)
	src.PageSize = resumePageSize
	src.Timeout = config.Duration(time.Minute) // the child is killed long before
	return src
}

// TestKilledLandingChild is the child process of TestKilledLandingResumes: it lands from a
// fake export that blocks after BlockAfter pages, and waits there to be killed.
func TestKilledLandingChild(t *testing.T) {
	raw := os.Getenv(killChildEnv)
	if raw == "" {
		t.Skip("helper process of TestKilledLandingResumes")
	}
	var spec killSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	api := cursorAPI(t, jsonRecords(spec.Records), nil)
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(served.Add(1)) > spec.BlockAfter {
			// Parts of the pages before are uploaded; the next page never comes.
			if err := os.WriteFile(spec.Signal, []byte("blocked"), 0o644); err != nil {
				panic(err)
			}
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			return
		}
		api(w, r)
	}))
	defer srv.Close()
	store, err := lake.NewFileStore(spec.Lake)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LandEntity(context.Background(), store, "src", resumeSource(srv.URL), "ent", accountsJSON("/a", "data", cursorPaging),
		Options{Dt: testDt, RunID: spec.RunID, TempDir: spec.TempDir, RowsPerFile: resumeRowsPerPt})
	t.Fatalf("the landing was to be killed mid-export, but it returned: %v", err)
}

// killLandingMidExport runs TestKilledLandingChild in a child process and SIGKILLs it once
// it is blocked between pages and has uploaded wantParts parts of the pages before (the
// page feed asks for the next page while earlier ones are still being converted and
// written, so the block comes before those uploads).
func killLandingMidExport(t *testing.T, lakeDir, runID string, blockAfter, wantParts int) {
	t.Helper()
	dir := t.TempDir()
	spec, _ := json.Marshal(killSpec{Lake: lakeDir, TempDir: dir, Signal: filepath.Join(dir, "blocked"), RunID: runID, Records: resumeRecords, BlockAfter: blockAfter})
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledLandingChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+string(spec))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "blocked")); err == nil && countParts(t, lakeDir, runID) >= wantParts {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the child exited before blocking (%v):\n%s", err, out.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("the child never blocked:\n%s", out.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no defer, no clean-up runs
		t.Fatal(err)
	}
	err := <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(ee.String(), "killed") {
		t.Fatalf("the child ended with %v, want killed:\n%s", err, out.String())
	}
}

// countParts counts the Parquet parts of run runID under the lake directory.
func countParts(t *testing.T, lakeDir, runID string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(lakeDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "part-"+runID+"-") {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestKilledLandingResumes(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		t.Skip("in the child")
	}
	for _, tc := range []struct {
		name       string
		earlier    bool // a landing of the dt exists before the killed run
		blockAfter int
	}{
		{"first landing of the dt", false, 3},
		{"rerun over an earlier landing", true, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lakeDir := t.TempDir()
			store, err := lake.NewFileStore(lakeDir)
			if err != nil {
				t.Fatal(err)
			}
			var before *lake.Manifest
			if tc.earlier {
				old := serve(t, cursorAPI(t, jsonRecords(5), nil))
				before = mustLand(t, store, resumeSource(old.URL), accountsJSON("/a", "data", cursorPaging), testOptions(t, "earlier"))
			}

			killLandingMidExport(t, lakeDir, "killed", tc.blockAfter, tc.blockAfter*resumePageSize/resumeRowsPerPt)

			// The killed run left parts (it got that far) but no manifest: nothing it did is
			// visible to readers, and an earlier landing is untouched.
			var orphans int
			for _, k := range lakeKeys(t, store) {
				if strings.Contains(k, "part-killed-") {
					orphans++
				}
			}
			if want := tc.blockAfter * resumePageSize / resumeRowsPerPt; orphans != want {
				t.Errorf("the killed run left %d parts, want %d (it uploads a part every %d rows)", orphans, want, resumeRowsPerPt)
			}
			m, err := readManifest(store)
			switch {
			case !tc.earlier && !errors.Is(err, lake.ErrNotExist):
				t.Fatalf("the killed run left a manifest: %+v %v", m, err)
			case tc.earlier && (err != nil || m.RunID != "earlier"):
				t.Fatalf("the earlier manifest was touched: %+v %v", m, err)
			case tc.earlier:
				if rows := landedRows(t, store, before); len(rows) != 5 {
					t.Errorf("the earlier landing reads %d rows", len(rows))
				}
			}

			// Rerun to completion with a new run id, against the same lake.
			srv := serve(t, cursorAPI(t, jsonRecords(resumeRecords), nil))
			opts := testOptions(t, "resumed")
			opts.RowsPerFile = resumeRowsPerPt
			final := mustLand(t, store, resumeSource(srv.URL), accountsJSON("/a", "data", cursorPaging), opts)
			rows := landedRows(t, store, final)
			if got := ids(rows); fmt.Sprint(got) != fmt.Sprint(wantIDs(resumeRecords)) || final.Rows != resumeRecords {
				t.Fatalf("final rows %v (manifest %d), want the source's %d", got, final.Rows, resumeRecords)
			}
			seen := map[any]string{}
			for _, r := range rows {
				if _, dup := seen[r["id"]]; dup {
					t.Errorf("primary key %v twice across the manifest's files", r["id"])
				}
				seen[r["id"]] = r["_run_id"].(string)
			}
			// No orphan: every part under the dt is one the manifest lists.
			listed := map[string]bool{}
			for _, f := range final.Files {
				listed[f.Key] = true
			}
			for _, k := range lakeKeys(t, store) {
				if strings.HasSuffix(k, ".parquet") && !listed[k] {
					t.Errorf("orphan part %s after the successful run", k)
				}
				if strings.Contains(k, "killed") || strings.Contains(k, "earlier") {
					t.Errorf("%s is left", k)
				}
			}
			if disk, err := readManifest(store); err != nil || disk.RunID != "resumed" {
				t.Errorf("manifest %+v %v", disk, err)
			}
		})
	}
}
