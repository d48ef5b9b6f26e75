package extract

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/lake"
)

const (
	testDt    = "2026-03-01"
	testToken = "s3cret-token-value"
)

func TestMain(m *testing.M) {
	// Retries in tests wait milliseconds, not seconds.
	timing = retryTiming{Min: time.Millisecond, Max: 4 * time.Millisecond, RetryAfterMin: time.Millisecond, RetryAfterMax: 20 * time.Millisecond}
	os.Exit(m.Run())
}

// testSource is a source at url with bearer auth, page size 2 and forgiving bad share.
func testSource(url string) *config.Source {
	return &config.Source{
		BaseURL:     url,
		Auth:        config.Auth{Type: "bearer", Token: testToken},
		PageSize:    2,
		Timeout:     config.Duration(5 * time.Second),
		MaxRetries:  3,
		MaxBadShare: 1,
	}
}

func intp(i int) *int { return &i }

// accountsJSON is a JSON entity of the shape most tests use.
func accountsJSON(path, recordsPath string, pg config.Pagination) *config.Entity {
	return &config.Entity{
		Path:        path,
		Format:      "json",
		RecordsPath: recordsPath,
		Pagination:  pg,
		PrimaryKey:  "id",
		// Tests of paging and values send records with a few fields; which fields arrive is
		// shape_test.go's subject, so every column but the key is optional here.
		Columns: config.Columns{
			{Name: "id", Type: "string"},
			{Name: "name", Type: "string", Optional: true},
			{Name: "employees", Type: "int64", Optional: true},
			{Name: "revenue", Type: "float64", Optional: true},
			{Name: "active", Type: "bool", Optional: true},
			{Name: "created_at", Type: "timestamp", Optional: true},
			{Name: "signup", Type: "date", Optional: true},
		},
	}
}

// ticketsCSV is a CSV entity with link pagination.
func ticketsCSV(path string) *config.Entity {
	return &config.Entity{
		Path:       path,
		Format:     "csv",
		Pagination: config.Pagination{Type: "link", LimitParam: "per_page"},
		PrimaryKey: "ticket_id",
		Columns: config.Columns{ // optional but the key, as in accountsJSON
			{Name: "ticket_id", Type: "string"},
			{Name: "subject", Type: "string", Optional: true},
			{Name: "created_at", Type: "timestamp", Optional: true},
			{Name: "csat", Type: "int64", Optional: true},
			{Name: "escalated", Type: "bool", Optional: true},
		},
	}
}

func newStore(t testing.TB) *lake.FileStore {
	t.Helper()
	s, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testOptions(t testing.TB, runID string) Options {
	return Options{Dt: testDt, RunID: runID, TempDir: t.TempDir()}
}

func land(t testing.TB, store lake.Store, src *config.Source, ent *config.Entity, opts Options) (*lake.Manifest, error) {
	t.Helper()
	return LandEntity(context.Background(), store, "src", src, "ent", ent, opts)
}

func mustLand(t testing.TB, store lake.Store, src *config.Source, ent *config.Entity, opts Options) *lake.Manifest {
	t.Helper()
	m, err := land(t, store, src, ent, opts)
	if err != nil {
		t.Fatalf("LandEntity: %v", err)
	}
	return m
}

// row is one landed row: column name → Go value (string, int64, float64, bool, int32,
// time.Time for timestamps, "YYYY-MM-DD" for dates, nil for null).
type row map[string]any

// readParquet reads one landed part back through pqarrow.
func readParquet(t testing.TB, path string) (*arrow.Schema, []row) {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1024}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	defer tbl.Release()
	rows := make([]row, tbl.NumRows())
	for i := range rows {
		rows[i] = row{}
	}
	for c := 0; c < int(tbl.NumCols()); c++ {
		col := tbl.Column(c)
		r := 0
		for _, chunk := range col.Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				rows[r][col.Name()] = value(chunk, i)
				r++
			}
		}
	}
	return tbl.Schema(), rows
}

func value(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.String:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Timestamp:
		return time.UnixMicro(int64(a.Value(i))).UTC()
	case *array.Date32:
		return a.Value(i).ToTime().Format(time.DateOnly)
	}
	return fmt.Sprintf("unexpected %T", a)
}

// landedRows reads every part the manifest lists, checking sizes and checksums.
func landedRows(t testing.TB, store *lake.FileStore, m *lake.Manifest) []row {
	t.Helper()
	var all []row
	for _, f := range m.Files {
		p := store.LocalPath(f.Key)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Bytes {
			t.Errorf("%s: manifest says %d bytes sha256 %s, file has %d bytes sha256 %x", f.Key, f.Bytes, f.SHA256, len(b), sum)
		}
		_, rows := readParquet(t, p)
		if int64(len(rows)) != f.Rows {
			t.Errorf("%s: manifest says %d rows, file has %d", f.Key, f.Rows, len(rows))
		}
		all = append(all, rows...)
	}
	if int64(len(all)) != m.Rows {
		t.Errorf("manifest says %d rows, files hold %d", m.Rows, len(all))
	}
	return all
}

// column collects one column of rows.
func column(rows []row, name string) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r[name]
	}
	return out
}

// quarantined reads a quarantine file, in page and index order (records whose key came
// before are judged, and written, after the last page).
func quarantined(t testing.TB, store *lake.FileStore, key string) []QuarantinedRecord {
	t.Helper()
	f, err := os.Open(store.LocalPath(key))
	if err != nil {
		t.Fatalf("quarantine: %v", err)
	}
	defer f.Close()
	var out []QuarantinedRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var q QuarantinedRecord
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatalf("quarantine line %q: %v", sc.Text(), err)
		}
		out = append(out, q)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Page < out[j].Page || (out[i].Page == out[j].Page && out[i].Index < out[j].Index)
	})
	return out
}

// lakeKeys lists every object key in the store (relative, slash-separated).
func lakeKeys(t testing.TB, store *lake.FileStore) []string {
	t.Helper()
	var keys []string
	err := filepath.WalkDir(store.Root(), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(store.Root(), p)
		if rel == ".segpipe.lock" {
			return nil // the store's lock for conditional writes, not an object
		}
		keys = append(keys, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func assertNoManifest(t testing.TB, store lake.Store) {
	t.Helper()
	if _, err := lake.ReadManifest(context.Background(), store, "src", "ent", testDt); !errors.Is(err, lake.ErrNotExist) {
		t.Fatalf("a manifest exists (err=%v); a failed landing must not write one", err)
	}
}

func mustContain(t testing.TB, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q\ndoes not contain %q", s, sub)
		}
	}
}

// jsonRecords renders n account records as JSON object texts.
func jsonRecords(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"id":"a%d","name":"Acme %d","employees":%d,"revenue":%d.5,"active":%t,"created_at":"2025-01-%02dT10:00:00Z","signup":"2025-02-%02d"}`,
			i, i, 10+i, 1000*i, i%2 == 0, 1+i%28, 1+i%28)
	}
	return out
}

func readManifest(store lake.Store) (*lake.Manifest, error) {
	return lake.ReadManifest(context.Background(), store, "src", "ent", testDt)
}

// tempFiles lists what is left in a temporary directory.
func tempFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
