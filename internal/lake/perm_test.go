package lake

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Published files honour the umask of the process that writes them, like any file it creates:
// a BI tool running as another user on the host reads latest/ (0644 under the usual 022).
func TestPublishedFilesHonourTheUmask(t *testing.T) {
	for _, c := range []struct {
		umask string
		want  os.FileMode
	}{{"022", 0o644}, {"027", 0o640}, {"002", 0o664}, {"077", 0o600}} {
		t.Run("umask "+c.umask, func(t *testing.T) {
			dir := t.TempDir()
			// The umask is a process's: publish from a child started under it.
			cmd := exec.Command("sh", "-c", fmt.Sprintf(`umask %s && exec "$0" -test.run='^TestPublishUnderUmaskHelper$'`, c.umask), os.Args[0])
			cmd.Env = append(os.Environ(), "SEGPIPE_PERM_HELPER_LAKE="+dir)
			if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "PASS") {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			for _, rel := range []string{"latest/account_segments.parquet", "latest/" + DatabaseName, PublishedKey, "marts/account_segments/as_of=2026-11-01/data.parquet", "raw/crm/accounts/dt=2026-11-01/part-r1.parquet"} {
				st, err := os.Stat(filepath.Join(dir, rel))
				if err != nil {
					t.Fatal(err)
				}
				if got := st.Mode().Perm(); got != c.want {
					t.Errorf("%s is %v under umask %s, want %v", rel, got, c.umask, c.want)
				}
			}
			st, err := os.Stat(filepath.Join(dir, "releases"))
			if err != nil {
				t.Fatal(err)
			}
			// Folders are 0777 less the umask, as mkdir(1) makes them.
			if got, want := st.Mode().Perm(), c.want|(c.want&0o444)>>2; got != want {
				t.Errorf("releases/ is %v under umask %s, want %v", got, c.umask, want)
			}
		})
	}
}

// TestPublishUnderUmaskHelper runs only as TestPublishedFilesHonourTheUmask's child.
func TestPublishUnderUmaskHelper(t *testing.T) {
	dir := os.Getenv("SEGPIPE_PERM_HELPER_LAKE")
	if dir == "" {
		t.Skip("run by TestPublishedFilesHonourTheUmask")
	}
	ctx := context.Background()
	s, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := PutBytes(ctx, s, "raw/crm/accounts/dt=2026-11-01/part-r1.parquet", []byte("p")); err != nil {
		t.Fatal(err)
	}
	tables, db := writeTables(t, "x")
	if _, err := Publish(ctx, s, "2026-11-01", "r1", tables, db, nil, time.Now(), 0); err != nil {
		t.Fatal(err)
	}
}
