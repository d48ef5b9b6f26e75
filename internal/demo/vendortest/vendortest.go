// Package vendortest is the support code the vendor fakes' tests share (hubspot, salesforce,
// stripe, zendesk): parsing the example configs against a fake, landing entities into a
// lake.FileStore, registering raw views, running staging models in a warehouse.Session and
// comparing tables, and small HTTP helpers for contract tests.
//
// It is a normal package so that several test packages can import it; only tests import it.
// Every helper fails the test it is given rather than returning an error.
package vendortest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/vendors"
	"github.com/segpipe/segpipe/internal/warehouse"
	segsql "github.com/segpipe/segpipe/sql"
)

// DemoURLVar is the environment variable the example configs take the fakes' base URL from.
const DemoURLVar = "SEGPIPE_DEMO_URL"

// ServeWithDemo starts a server with vendor mounted under prefix (e.g. "/hubspot") and the
// demo vendor's export servers for c at the root, as `segpipe demo` does.
func ServeWithDemo(t testing.TB, c *demo.Company, prefix string, vendor http.Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, vendor))
	mux.Handle("/", demo.NewHandler(c, demo.DefaultTokens()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// ParseConfig parses a config with SEGPIPE_DEMO_URL set to demoURL and no other environment.
func ParseConfig(t testing.TB, name string, data []byte, demoURL string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(name, data, func(k string) (string, bool) {
		if k == DemoURLVar {
			return demoURL, true
		}
		return "", false
	})
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return cfg
}

// ReadConfig reads the config file at path and parses it as ParseConfig does.
func ReadConfig(t testing.TB, path, demoURL string) *config.Config {
	t.Helper()
	return ParseConfig(t, path, MustRead(t, path), demoURL)
}

// DemoConfig parses the embedded demo config (config/segpipe.yaml) as ParseConfig does.
func DemoConfig(t testing.TB, demoURL string) *config.Config {
	t.Helper()
	return ParseConfig(t, defaultconfig.DemoName, defaultconfig.DemoYAML, demoURL)
}

// MustRead returns the content of the file at path.
func MustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// NewStore returns a lake.FileStore in a fresh temporary directory.
func NewStore(t testing.TB) *lake.FileStore {
	t.Helper()
	s, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var runSeq atomic.Int64

// Land lands one entity of a source of cfg into store for partition dt. opts is passed on
// (Since, for one) with Dt and TempDir set; an empty RunID becomes a fresh "run-NNN".
func Land(t testing.TB, store lake.Store, cfg *config.Config, source, entity, dt string, opts extract.Options) *lake.Manifest {
	t.Helper()
	src := cfg.Sources[source]
	if src == nil {
		t.Fatalf("no source %s (has %v)", source, cfg.SourceNames())
	}
	ent := src.Entities[entity]
	if ent == nil {
		t.Fatalf("source %s has no entity %s (has %v)", source, entity, src.EntityNames())
	}
	opts.Dt, opts.TempDir = dt, t.TempDir()
	if opts.RunID == "" {
		opts.RunID = fmt.Sprintf("run-%03d", runSeq.Add(1))
	}
	m, err := extract.LandEntity(context.Background(), store, source, src, entity, ent, opts)
	if err != nil {
		t.Fatalf("land %s/%s: %v", source, entity, err)
	}
	return m
}

// LandSource lands every entity of one source into store and returns the manifests by entity.
func LandSource(t testing.TB, store lake.Store, cfg *config.Config, source, dt string, opts extract.Options) map[string]*lake.Manifest {
	t.Helper()
	src := cfg.Sources[source]
	if src == nil {
		t.Fatalf("no source %s", source)
	}
	out := map[string]*lake.Manifest{}
	for _, en := range src.EntityNames() {
		out[en] = Land(t, store, cfg, source, en, dt, opts)
	}
	return out
}

// LocalFiles returns the local paths of the files of the landings ms.
func LocalFiles(store *lake.FileStore, ms ...*lake.Manifest) []string {
	var out []string
	for _, m := range ms {
		for _, f := range m.Files {
			out = append(out, store.LocalPath(f.Key))
		}
	}
	return out
}

// Register creates the view over the files of one or more landings, as the segment job does
// (warehouse.Session.RegisterLanded).
func Register(t testing.TB, s *warehouse.Session, store *lake.FileStore, view string, ms ...*lake.Manifest) {
	t.Helper()
	if err := s.RegisterLanded(context.Background(), view, LocalFiles(store, ms...)); err != nil {
		t.Fatal(err)
	}
}

// RegisterRaw creates the raw_<vendor>__<entity> view over the files of one or more landings.
func RegisterRaw(t testing.TB, s *warehouse.Session, store *lake.FileStore, vendor, entity string, ms ...*lake.Manifest) {
	t.Helper()
	Register(t, s, store, vendors.RawView(vendor, entity), ms...)
}

// RegisterSource creates the raw_<vendor>__<entity> view of every landed manifest, by entity.
func RegisterSource(t testing.TB, s *warehouse.Session, store *lake.FileStore, vendor string, landed map[string]*lake.Manifest) {
	t.Helper()
	for en, m := range landed {
		RegisterRaw(t, s, store, vendor, en, m)
	}
}

// LandAll lands every entity of every source of cfg, registers raw_<vendor>__<entity> and
// returns the set of views registered.
func LandAll(t testing.TB, s *warehouse.Session, store *lake.FileStore, cfg *config.Config, dt string) map[string]bool {
	t.Helper()
	landed := map[string]bool{}
	for _, source := range cfg.SourceNames() {
		src := cfg.Sources[source]
		for _, entity := range src.EntityNames() {
			m := Land(t, store, cfg, source, entity, dt, extract.Options{})
			view := cfg.ViewOf(source, entity)
			Register(t, s, store, view, m)
			landed[view] = true
		}
	}
	return landed
}

// BuildAll builds every model the landed views call for and runs the assertions.
func BuildAll(t testing.TB, s *warehouse.Session, cfg *config.Config, asOf time.Time, landed map[string]bool) []warehouse.ModelRun {
	t.Helper()
	models, err := warehouse.LoadModels(segsql.Files, landed)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Build(context.Background(), segsql.Files, models, warehouse.ConfigVariables(cfg, asOf))
	if err != nil {
		t.Fatal(err)
	}
	assertions, err := warehouse.LoadAssertions(segsql.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunAssertions(context.Background(), assertions); err != nil {
		t.Fatal(err)
	}
	return runs
}

// OpenSession opens an in-memory warehouse session, closed when the test ends.
func OpenSession(t testing.TB) *warehouse.Session {
	t.Helper()
	s, err := warehouse.Open(context.Background(), warehouse.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Exec runs q.
func Exec(t testing.TB, s *warehouse.Session, q string, args ...any) {
	t.Helper()
	if err := s.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
}

// Query runs q and returns its rows.
func Query(t testing.TB, s *warehouse.Session, q string, args ...any) []warehouse.Row {
	t.Helper()
	rows, err := s.Query(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	return rows
}

// Count returns how many rows q returns.
func Count(t testing.TB, s *warehouse.Session, q string, args ...any) int64 {
	t.Helper()
	rows := Query(t, s, "select count(*) as n from ("+q+")", args...)
	return int64(rows[0].Float("n"))
}

// ModelSQL returns the SQL file at path in sql/, e.g. "staging/hubspot/stg_accounts.sql".
func ModelSQL(t testing.TB, path string) string {
	t.Helper()
	b, err := fs.ReadFile(segsql.Files, path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// StagingModel returns the SQL of a staging model, e.g. "stripe/stg_invoices".
func StagingModel(t testing.TB, name string) string {
	t.Helper()
	return ModelSQL(t, "staging/"+name+".sql")
}

// Bind sets cfg's variables for asOf and (re)creates the macros of sql/prelude.sql.
func Bind(t testing.TB, s *warehouse.Session, cfg *config.Config, asOf time.Time) {
	t.Helper()
	if err := s.SetVariables(context.Background(), warehouse.ConfigVariables(cfg, asOf)); err != nil {
		t.Fatal(err)
	}
	Exec(t, s, ModelSQL(t, "prelude.sql"))
}

// Build creates (or replaces) table from the model at path in sql/, as the segment job builds
// it: a staging model's rows with a _drop_reason are left out (warehouse.DropReasonColumn).
func Build(t testing.TB, s *warehouse.Session, table, path string) {
	t.Helper()
	layer := warehouse.Intermediate
	if strings.HasPrefix(path, "staging/") {
		layer = warehouse.Staging
	}
	m := warehouse.Model{Name: table, Layer: layer, Path: path, SQL: strings.TrimRight(strings.TrimSpace(ModelSQL(t, path)), "; \n\t")}
	if _, err := s.RunModels(context.Background(), []warehouse.Model{m}); err != nil {
		t.Fatal(err)
	}
}

// Columns returns "name type, ..." of a table, in column order.
func Columns(t testing.TB, s *warehouse.Session, table string) string {
	t.Helper()
	var parts []string
	for _, r := range Query(t, s, "select column_name, data_type from information_schema.columns where table_name = ? order by ordinal_position", table) {
		parts = append(parts, fmt.Sprintf("%v %v", r.Values[0], r.Values[1]))
	}
	return strings.Join(parts, ", ")
}

// OnlyIn returns up to limit rows of query a that query b lacks (a EXCEPT ALL b).
func OnlyIn(t testing.TB, s *warehouse.Session, a, b string, limit int) []warehouse.Row {
	t.Helper()
	return Query(t, s, fmt.Sprintf("select * from (%s except all %s) limit %d", a, b, limit))
}

// AssertSameTable checks that two tables have the same columns and types, in order, and the
// same rows (EXCEPT ALL both ways is empty, at least one row), and returns their row count.
// It stops the test at the first difference, showing up to 3 rows.
func AssertSameTable(t testing.TB, s *warehouse.Session, want, got string) int64 {
	t.Helper()
	if w, g := Columns(t, s, want), Columns(t, s, got); w != g {
		t.Fatalf("columns differ:\n want %s\n  got %s", w, g)
	}
	n := Count(t, s, "select * from "+want)
	if m := Count(t, s, "select * from "+got); m != n || n == 0 {
		t.Fatalf("%s has %d rows, %s %d", want, n, got, m)
	}
	for _, pair := range [][2]string{{want, got}, {got, want}} {
		rows := OnlyIn(t, s, "select * from "+pair[0], "select * from "+pair[1], 3)
		if len(rows) > 0 {
			var sample []string
			for _, r := range rows {
				sample = append(sample, r.String())
			}
			t.Fatalf("rows of %s not in %s, e.g.\n%s", pair[0], pair[1], strings.Join(sample, "\n"))
		}
	}
	return n
}

// AssertSameRows checks that queries a and b return the same multiset of rows, reporting (not
// stopping at) up to 5 rows only in either; what names the comparison.
func AssertSameRows(t testing.TB, s *warehouse.Session, what, a, b string) {
	t.Helper()
	for _, q := range [][2]string{{a, b}, {b, a}} {
		if rows := OnlyIn(t, s, q[0], q[1], 5); len(rows) > 0 {
			t.Errorf("%s: rows only in %s, e.g.\n%v", what, q[0], rows)
		}
	}
}

// ReplaceRaw replaces a raw view (or table) with a table made by q, which may read it.
func ReplaceRaw(t testing.TB, s *warehouse.Session, name, q string, args ...any) {
	t.Helper()
	Exec(t, s, "create or replace table replacement as "+q, args...)
	kind := "table"
	if r := Query(t, s, "select table_type from information_schema.tables where table_name = ?", name); len(r) > 0 && r[0].Values[0] == "VIEW" {
		kind = "view"
	}
	Exec(t, s, "drop "+kind+" if exists "+name)
	Exec(t, s, "alter table replacement rename to "+name)
}

// IDMap creates the table id_map(demo_id, vendor_id) from two lists of the same length.
func IDMap(t testing.TB, s *warehouse.Session, demoIDs, vendorIDs []string) {
	t.Helper()
	if err := s.SetVariables(context.Background(), []warehouse.Variable{{Name: "demo_ids", Value: demoIDs}, {Name: "vendor_ids", Value: vendorIDs}}); err != nil {
		t.Fatal(err)
	}
	Exec(t, s, "create table id_map as select unnest(getvariable('demo_ids')) as demo_id, unnest(getvariable('vendor_ids')) as vendor_id")
}

// Rounded makes <table>_rounded: table with every DOUBLE rounded to 9 significant digits and
// without opportunity_id, which differs between CRMs for the same deal.
func Rounded(t testing.TB, s *warehouse.Session, table string) {
	t.Helper()
	var cols []string
	for _, r := range Query(t, s, "select column_name, data_type from information_schema.columns where table_name = ? order by ordinal_position", table) {
		name := fmt.Sprint(r.Values[0])
		if name == "opportunity_id" {
			continue // each CRM has its own deal ids (the account ids are shared)
		}
		if r.Values[1] == "DOUBLE" {
			cols = append(cols, fmt.Sprintf(`case when "%[1]s" = 0 or not isfinite("%[1]s") then "%[1]s" else round("%[1]s", 8 - floor(log10(abs("%[1]s")))::int) end as "%[1]s"`, name))
		} else {
			cols = append(cols, `"`+name+`"`)
		}
	}
	Exec(t, s, fmt.Sprintf("create or replace table %s_rounded as select %s from %s", table, strings.Join(cols, ", "), table))
}

// SameTime reports whether v is a time.Time equal to want.
func SameTime(v any, want time.Time) bool {
	got, ok := v.(time.Time)
	return ok && got.Equal(want)
}

// AssertMartsMatchDemo builds every model and assertion from the sources of cfg, whose CRM is
// vendor's, then again with the demo CRM of demoCfg for the same company, and checks that the
// marts are equal (doubles to 9 significant digits) and that stg_accounts has wantAccounts
// rows. The vendor's marts are kept as <vendor>_<mart>.
func AssertMartsMatchDemo(t testing.TB, cfg, demoCfg *config.Config, vendor string, asOf time.Time, wantAccounts int) {
	t.Helper()
	store := NewStore(t)
	s := OpenSession(t)
	landed := LandAll(t, s, store, cfg, asOf.Format(time.DateOnly))
	runs := BuildAll(t, s, cfg, asOf, landed)
	var marts []string
	for _, r := range runs {
		if r.Layer == warehouse.Marts {
			marts = append(marts, r.Name)
			Exec(t, s, fmt.Sprintf("create table %s_%s as select * from %s", vendor, r.Name, r.Name))
		}
		if r.Name == "stg_accounts" && r.Rows != int64(wantAccounts) {
			t.Errorf("stg_accounts has %d rows, want %d", r.Rows, wantAccounts)
		}
	}
	if len(marts) == 0 {
		t.Fatal("no marts built")
	}
	// The same company through the demo CRM.
	demoLanded := map[string]bool{}
	for v := range landed {
		if from, _, ok := vendors.ParseRawView(v); ok && from == "demo" {
			demoLanded[v] = true
		}
	}
	for _, entity := range []string{"accounts", "opportunities"} {
		m := Land(t, store, demoCfg, "crm", entity, asOf.Format(time.DateOnly), extract.Options{})
		RegisterRaw(t, s, store, "demo", entity, m)
		demoLanded[vendors.RawView("demo", entity)] = true
	}
	BuildAll(t, s, demoCfg, asOf, demoLanded)
	// Sums of doubles come out of DuckDB's parallel aggregation in any order: compare doubles
	// to 9 significant digits.
	for _, m := range marts {
		Rounded(t, s, m)
		Rounded(t, s, vendor+"_"+m)
		n := AssertSameTable(t, s, m+"_rounded", vendor+"_"+m+"_rounded")
		t.Logf("mart %s: %d rows equal", m, n)
	}
}

// LandCRMs lands every entity of cfg's crm source (a vendor's) and the demo CRM's accounts and
// opportunities of demoCfg for the same company into a new store, registers their raw views
// in a new session, and creates id_map from the opportunities' demo ids to the vendor's.
func LandCRMs(t testing.TB, cfg, demoCfg *config.Config, c *demo.Company, vendorOppID func(string) string) *warehouse.Session {
	t.Helper()
	dt := c.AsOf().Format(time.DateOnly)
	store := NewStore(t)
	s := OpenSession(t)
	RegisterSource(t, s, store, cfg.Sources["crm"].Vendor, LandSource(t, store, cfg, "crm", dt, extract.Options{}))
	for _, entity := range []string{"accounts", "opportunities"} {
		RegisterRaw(t, s, store, "demo", entity, Land(t, store, demoCfg, "crm", entity, dt, extract.Options{}))
	}
	var demoIDs, vendorIDs []string
	for _, o := range c.Opportunities {
		demoIDs = append(demoIDs, o.ID)
		vendorIDs = append(vendorIDs, vendorOppID(o.ID))
	}
	IDMap(t, s, demoIDs, vendorIDs)
	return s
}

// StageCRMs binds asOf in a session made by LandCRMs and builds the staging of both CRMs:
// demo_accounts and <prefix>_accounts (staging/<vendor>/stg_accounts.sql), which must be the
// same table, demo_opps, demo_opps_mapped (demo_opps under the vendor's ids) and
// <prefix>_opps. It returns the number of accounts.
func StageCRMs(t testing.TB, s *warehouse.Session, cfg *config.Config, asOf time.Time, vendor, prefix string) int64 {
	t.Helper()
	Bind(t, s, cfg, asOf)
	Build(t, s, "demo_accounts", "staging/demo/stg_accounts.sql")
	Build(t, s, prefix+"_accounts", "staging/"+vendor+"/stg_accounts.sql")
	accounts := AssertSameTable(t, s, "demo_accounts", prefix+"_accounts")

	Build(t, s, "demo_opps", "staging/demo/stg_opportunities.sql")
	Exec(t, s, `create or replace table demo_opps_mapped as
				select m.vendor_id as opportunity_id, d.* exclude (opportunity_id)
				from demo_opps d join id_map m on m.demo_id = d.opportunity_id`)
	Build(t, s, prefix+"_opps", "staging/"+vendor+"/stg_opportunities.sql")
	return accounts
}

// Response is an HTTP answer, its body read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Call sends method rawURL over the network with a bearer token (none if token is ""), body
// encoded as JSON (none if body is nil) and the header fields in header, and reads the answer.
func Call(t testing.TB, method, rawURL, token string, body any, header map[string]string) Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{res.StatusCode, res.Header, b}
}

// Record serves a GET of target (a path or an absolute URL) by h in process, with the header
// fields in header set, or removed where the value is "", and returns the recorded answer.
func Record(h http.Handler, target string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// ServeUnder starts a server with h mounted under prefix (e.g. "/hubspot"), closed when the
// test ends, and returns the base URL of h.
func ServeUnder(t testing.TB, prefix string, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(http.StripPrefix(prefix, h))
	t.Cleanup(srv.Close)
	return srv.URL + prefix
}
