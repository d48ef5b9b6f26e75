package crmsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/crmsync"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/hubspot"
	"github.com/segpipe/segpipe/internal/extract"
	"github.com/segpipe/segpipe/internal/lake"
)

const hubspotToken = "test-hubspot-token"

var hubspotCompany = sync.OnceValue(func() *demo.Company {
	return demo.Generate(demo.Options{Accounts: 250, Seed: 7}).WithAccountIDs(demo.IDStyleHubSpot)
})

// hubspotConfig is a config whose sync targets a HubSpot source at base.
func hubspotConfig(t testing.TB, base string, extra string) *config.Config {
	t.Helper()
	return vendorConfig(t, "hubspot", base, hubspotToken, extra)
}

// vendorConfig is a config whose sync targets a source of vendor at base.
func vendorConfig(t testing.TB, vendor, base, token, extra string) *config.Config {
	t.Helper()
	y := `currency: USD
lake: ./lake
sources:
  crm:
    vendor: ` + vendor + `
    base_url: ` + base + `
    auth: {type: bearer, token: ` + token + `}
    requests_per_second: 0
    max_retries: 1
    max_retry_wait: 1s
sync:
  target: crm
  poll_interval: 1ms
` + extra
	cfg, err := config.Parse("test.yaml", []byte(y), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// sentLog counts what reached the fake: batch update calls and the records each carried.
type sentLog struct {
	mu      sync.Mutex
	batches int
	records map[string]int // id -> times sent
	creates int            // POST /crm/v3/properties/... (property or group creations)
}

func (l *sentLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/batch/update") {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			var in struct {
				Inputs []struct {
					ID string `json:"id"`
				} `json:"inputs"`
			}
			_ = json.Unmarshal(b, &in)
			l.mu.Lock()
			l.batches++
			for _, i := range in.Inputs {
				l.records[i.ID]++
			}
			l.mu.Unlock()
		}
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/crm/v3/properties/") {
			l.mu.Lock()
			l.creates++
			l.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func (l *sentLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.batches, l.creates, l.records = 0, 0, map[string]int{}
}

type hubspotEnv struct {
	api   *hubspot.API
	cfg   *config.Config
	store lake.Store
	log   *sentLog
	c     *demo.Company
}

func newHubSpotEnv(t *testing.T, extra string) *hubspotEnv {
	t.Helper()
	return newHubSpotEnvFor(t, hubspotCompany(), extra)
}

// newHubSpotEnvFor serves company c (HubSpot ids) through the fake, in a fresh lake.
func newHubSpotEnvFor(t testing.TB, c *demo.Company, extra string) *hubspotEnv {
	t.Helper()
	api := hubspot.New(c, hubspotToken)
	log := &sentLog{records: map[string]int{}}
	srv := httptest.NewServer(http.StripPrefix("/hubspot", log.wrap(api)))
	t.Cleanup(srv.Close)
	return &hubspotEnv{api: api, cfg: hubspotConfig(t, srv.URL+"/hubspot", extra), store: newStore(t), log: log, c: c}
}

func newStore(t testing.TB) lake.Store {
	t.Helper()
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func (e *hubspotEnv) target(t testing.TB) crmsync.Target {
	t.Helper()
	src := e.cfg.Sources["crm"]
	caller, err := extract.NewCaller("crm", src, e.cfg.SyncAuth(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(caller.Close)
	return &crmsync.HubSpot{BaseURL: src.BaseURL, Group: e.cfg.Sync.PropertyGroup, Caller: caller, Config: e.cfg}
}

func str(s string) *string { return &s }

// release builds the records of a made-up release of the first n accounts and the first
// deals open deals (tiers changed for the ids in tierOverride).
func (e *hubspotEnv) release(asOf string, n, deals int, tierOverride map[string]string) []*crmsync.Record {
	return buildRelease(e.cfg, e.c, hubspot.DealID, asOf, n, deals, tierOverride)
}

// buildRelease makes records with values derived from each account's index, for the config's
// mappings; dealID maps a demo opportunity id to the CRM's.
func buildRelease(cfg *config.Config, c *demo.Company, dealID func(string) string, asOf string, n, deals int, tierOverride map[string]string) []*crmsync.Record {
	maps := cfg.SyncMappings()
	name := func(obj, field string) string {
		for _, m := range maps {
			if m.Field.Object == obj && m.Field.Name == field {
				return m.CRMName
			}
		}
		return ""
	}
	hashed := func(obj string) []string {
		var out []string
		for _, m := range maps {
			if m.Field.Object == obj && m.Field.Hashed {
				out = append(out, m.CRMName)
			}
		}
		return out
	}
	var recs []*crmsync.Record
	bands := []string{"SMB", "Mid-market", "Enterprise"}
	for i, a := range c.Accounts[:n] {
		v := map[string]*string{
			name("account", "size_band"):       str(bands[i%3]),
			name("account", "arr_band"):        nil,
			name("account", "ltv_quintile"):    nil,
			name("account", "cs_tier"):         str(config.TierNames[i%4]),
			name("account", "icp_fit_score"):   str("0.5"),
			name("account", "icp_fit_grade"):   str("neutral"),
			name("account", "churn_risk"):      str("low"),
			name("account", "usage_intensity"): str("regular"),
			name("account", "segment_as_of"):   str(asOf),
		}
		if i%5 == 0 {
			v[name("account", "ltv_quintile")] = str("1")
			v[name("account", "arr_band")] = str("Enterprise")
		}
		if tier, ok := tierOverride[a.ID]; ok {
			v[name("account", "cs_tier")] = str(tier)
		}
		recs = append(recs, &crmsync.Record{Object: "account", ID: a.ID, Values: v, Hashed: hashed("account")})
	}
	for _, o := range c.Opportunities {
		if len(recs) >= n+deals {
			break
		}
		if o.ClosedAt != nil {
			continue
		}
		recs = append(recs, &crmsync.Record{Object: "deal", ID: dealID(o.ID), Hashed: hashed("deal"), Values: map[string]*string{
			name("deal", "fit_score"): str("0.75"), name("deal", "recommendation"): str("pursue"), name("deal", "segment_as_of"): str(asOf),
		}})
	}
	return recs
}

func (e *hubspotEnv) run(t testing.TB, recs []*crmsync.Record, asOf, runID string, mod func(*crmsync.Options)) (*crmsync.Result, error) {
	t.Helper()
	o := crmsync.Options{Target: "crm", AsOf: asOf, RunID: runID, MaxChangedShare: e.cfg.Sync.MaxChangedShare}
	if mod != nil {
		mod(&o)
	}
	return crmsync.Run(context.Background(), e.store, e.target(t), e.cfg.SyncMappings(), recs, o)
}

// crmEquals checks that the fake holds exactly the records' values ("" for a cleared one).
func (e *hubspotEnv) crmEquals(t *testing.T, recs []*crmsync.Record) {
	t.Helper()
	bad := 0
	for _, r := range recs {
		ot := "companies"
		if r.Object == "deal" {
			ot = "deals"
		}
		got := e.api.Properties(ot, r.ID)
		for k, v := range r.Values {
			if !slices.Contains(r.Hashed, k) {
				continue // segment_as_of: the date the values last changed, checked apart
			}
			want := ""
			if v != nil {
				want = *v
			}
			if got[k] != want {
				if bad++; bad <= 5 {
					t.Errorf("%s %s: %s = %q, want %q", ot, r.ID, k, got[k], want)
				}
			}
		}
	}
}

func TestHubSpotFirstSyncThenNothing(t *testing.T) {
	e := newHubSpotEnv(t, "")
	recs := e.release("2026-10-31", 250, 20, nil)
	res, err := e.run(t, recs, "2026-10-31", "run1", nil)
	if err != nil {
		t.Fatal(err)
	}
	acc, deal := res.Objects["account"], res.Objects["deal"]
	if acc.Create != 250 || acc.Synced != 250 || acc.Sent != 250 || deal.Create != 20 || deal.Synced != 20 || res.Total().Rejected != 0 {
		t.Fatalf("first sync: accounts %+v deals %+v", acc, deal)
	}
	// 250 companies in batches of at most 100: 3 calls; 30 deals: 1.
	if e.log.batches != 4 {
		t.Errorf("batch updates = %d, want 4", e.log.batches)
	}
	// Every mapped property was created, with the right type, in the segpipe group.
	created := 0
	for _, f := range res.Fields {
		if f.State == crmsync.FieldCreated {
			created++
		}
	}
	if created != len(e.cfg.SyncMappings()) {
		t.Errorf("created %d properties, want %d: %+v", created, len(e.cfg.SyncMappings()), res.Fields)
	}
	for _, f := range res.Fields {
		want := map[string]string{"size_band": "enumeration/select", "cs_tier": "enumeration/select", "ltv_quintile": "number/number",
			"icp_fit_score": "number/number", "segment_as_of": "date/date", "fit_score": "number/number", "recommendation": "enumeration/select"}[f.Field]
		if want != "" && f.CRMType != want {
			t.Errorf("%s %s: type %s, want %s", f.Object, f.Field, f.CRMType, want)
		}
	}
	e.crmEquals(t, recs)

	e.log.reset()
	res, err = e.run(t, recs, "2026-10-31", "run2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tot := res.Total(); tot.Unchanged != 270 || tot.Sent != 0 || e.log.batches != 0 || e.log.creates != 0 {
		t.Errorf("second sync: %+v, %d batch calls, %d creations; want everything unchanged and no call", tot, e.log.batches, e.log.creates)
	}
	// A later release whose values are the same sends nothing either: segment_as_of alone is
	// not a change.
	res, err = e.run(t, e.release("2026-11-01", 250, 20, nil), "2026-11-01", "run3", nil)
	if err != nil || res.Total().Sent != 0 || e.log.batches != 0 {
		t.Errorf("next day, same values: %+v %v", res.Total(), err)
	}
}

func TestHubSpotOneChangeSendsOneRecord(t *testing.T) {
	e := newHubSpotEnv(t, "")
	if _, err := e.run(t, e.release("2026-10-31", 120, 10, nil), "2026-10-31", "run1", nil); err != nil {
		t.Fatal(err)
	}
	id := e.c.Accounts[7].ID
	e.log.reset()
	recs := e.release("2026-11-01", 120, 10, map[string]string{id: config.TierNames[0]})
	res, err := e.run(t, recs, "2026-11-01", "run2", func(o *crmsync.Options) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	if tot := res.Total(); tot.Update != 1 || tot.Unchanged != 129 || tot.Sent != 0 || e.log.batches != 0 {
		t.Fatalf("dry run: %+v, %d calls", tot, e.log.batches)
	}
	if len(res.Sample) != 1 || res.Sample[0].Key != "account/"+id || len(res.Sample[0].Fields) != 2 {
		t.Fatalf("dry-run sample: %+v", res.Sample)
	}
	// The sample shows the tier's old and new value, and the new as_of.
	for _, f := range res.Sample[0].Fields {
		if f.Field == "segpipe_cs_tier" && (f.From == nil || *f.From != config.TierNames[7%4] || *f.To != config.TierNames[0]) {
			t.Errorf("tier change: %+v", f)
		}
	}
	res, err = e.run(t, recs, "2026-11-01", "run3", nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.log.batches != 1 || len(e.log.records) != 1 || e.log.records[id] != 1 || res.Total().Synced != 1 {
		t.Errorf("sent %v in %d calls, want only %s once", e.log.records, e.log.batches, id)
	}
	if got := e.api.Properties("companies", id); got["segpipe_cs_tier"] != config.TierNames[0] || got["segpipe_segment_as_of"] != "2026-11-01" {
		t.Errorf("company %s: %v", id, got)
	}
	// The other companies keep the as_of of the values they hold.
	if got := e.api.Properties("companies", e.c.Accounts[8].ID); got["segpipe_segment_as_of"] != "2026-10-31" {
		t.Errorf("unchanged company's as_of: %v", got["segpipe_segment_as_of"])
	}
}

func TestHubSpotRejectedRecordsAreReportedAndRetried(t *testing.T) {
	e := newHubSpotEnv(t, "")
	recs := e.release("2026-10-31", 60, 0, nil)
	// A company HubSpot no longer has (merged away, archived): 207 OBJECT_NOT_FOUND.
	gone := e.c.Accounts[3].ID
	e.api.Archive(e.c.End, gone)
	// A value the enumeration does not take: the whole batch gets a 400 VALIDATION_ERROR;
	// the sync splits the batch to find it and writes the rest.
	bad := recs[10]
	bad.Values["segpipe_churn_risk"] = str("catastrophic")
	res, err := e.run(t, recs, "2026-10-31", "run1", nil)
	if err != nil {
		t.Fatal(err)
	}
	tot := res.Total()
	if tot.Synced != 58 || tot.Rejected != 2 || len(res.Rejections) != 2 {
		t.Fatalf("counts %+v, rejections %+v", tot, res.Rejections)
	}
	reasons := map[string]string{}
	for _, o := range res.Rejections {
		reasons[o.Key] = o.Reason
	}
	if !strings.Contains(reasons["account/"+gone], "OBJECT_NOT_FOUND") {
		t.Errorf("archived company's reason: %q", reasons["account/"+gone])
	}
	if r := reasons[bad.Key()]; !strings.Contains(r, "VALIDATION_ERROR") || !strings.Contains(r, "catastrophic") {
		t.Errorf("bad value's reason: %q", r)
	}
	e.crmEquals(t, append(append([]*crmsync.Record{}, recs[:3]...), recs[11:]...))

	// The next sync retries exactly those two (still rejected), and only them.
	e.log.reset()
	res, err = e.run(t, recs, "2026-10-31", "run2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tot := res.Total(); tot.Retry != 2 || tot.Unchanged != 58 || tot.Rejected != 2 || len(e.log.records) != 2 {
		t.Errorf("retry: %+v, sent %v", tot, e.log.records)
	}
	// Once fixed, the record goes through and is synced.
	bad.Values["segpipe_churn_risk"] = str("high")
	res, err = e.run(t, recs, "2026-10-31", "run3", nil)
	if err != nil || res.Total().Synced != 1 || res.Total().Rejected != 1 {
		t.Errorf("after the fix: %+v %v", res.Total(), err)
	}
}

func TestHubSpotChangedShareBound(t *testing.T) {
	e := newHubSpotEnv(t, "  max_changed_share: 0.3\n")
	if _, err := e.run(t, e.release("2026-10-31", 100, 0, nil), "2026-10-31", "run1", nil); err != nil {
		t.Fatal(err)
	}
	// A bad run moves 45 accounts to Tier 1; 12 of them (every fourth) were there already, so
	// 33 of the 100 change: 33% > 30%.
	over := map[string]string{}
	for _, a := range e.c.Accounts[:45] {
		over[a.ID] = "Tier 1 (Strategic)"
	}
	e.log.reset()
	recs := e.release("2026-11-01", 100, 0, over)
	res, err := e.run(t, recs, "2026-11-01", "run2", nil)
	if !errors.Is(err, crmsync.ErrTooManyChanges) || e.log.batches != 0 {
		t.Fatalf("err %v, %d calls; want ErrTooManyChanges and nothing sent", err, e.log.batches)
	}
	if !strings.Contains(err.Error(), "33 of the 100 records already synced (33.0%)") || res.Total().Update != 33 {
		t.Errorf("message: %v", err)
	}
	// Forced, it goes through.
	res, err = e.run(t, recs, "2026-11-01", "run3", func(o *crmsync.Options) { o.Force = true })
	if err != nil || res.Total().Synced != res.Total().Update || e.log.batches != 1 {
		t.Errorf("forced: %+v %v, %d calls", res.Total(), err, e.log.batches)
	}
	e.crmEquals(t, recs)
}

func TestHubSpotCrashMidSyncResumes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash hubspot.Crash
		// recovered is how many records of the unanswered third batch (50 companies) the
		// resumed sync finds written when it reads them back.
		recovered int
	}{
		{"500 before applying", hubspot.Crash{AfterWrites: 2}, 0},
		{"connection dropped after applying", hubspot.Crash{AfterWrites: 2, Drop: true, Applied: true}, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newHubSpotEnv(t, "")
			recs := e.release("2026-10-31", 250, 20, nil)
			e.api.CrashAfter(tc.crash)
			_, err := e.run(t, recs, "2026-10-31", "run1", nil)
			if err == nil {
				t.Fatal("the sync survived the crash")
			}
			firstSent := map[string]int{}
			for id, n := range e.log.records {
				firstSent[id] = n
			}
			e.api.CrashAfter(hubspot.Crash{})
			e.log.reset()
			res, err := e.run(t, recs, "2026-10-31", "run2", nil)
			if err != nil {
				t.Fatal(err)
			}
			// The two confirmed batches (200 companies) are not sent again; the unanswered
			// third is read back: what it wrote is not written again.
			if res.Resumed != 200 || res.Recovered != tc.recovered || res.Total().Unchanged != 200+tc.recovered || res.Total().Synced != 70-tc.recovered {
				t.Errorf("resume: resumed %d, recovered %d, %+v", res.Resumed, res.Recovered, res.Total())
			}
			for _, r := range recs[:200] {
				if e.log.records[r.ID] != 0 {
					t.Fatalf("confirmed %s was sent again", r.Key())
				}
			}
			for i, r := range recs[200:] {
				want := 1
				if i < tc.recovered {
					want = 0 // found written by the crashed sync
				}
				if e.log.records[r.ID] != want {
					t.Errorf("%s sent %d times by the resumed sync, want %d", r.Key(), e.log.records[r.ID], want)
				}
			}
			// The CRM equals the release.
			e.crmEquals(t, recs)
			// Nothing is left to do.
			res, err = e.run(t, recs, "2026-10-31", "run3", nil)
			if err != nil || res.Total().Sent != 0 {
				t.Errorf("after resuming: %+v %v", res.Total(), err)
			}
		})
	}
}

func TestHubSpotMissingScopeAndCheck(t *testing.T) {
	e := newHubSpotEnv(t, "  accounts:\n    arr_band: \"\"\n    cs_tier: acme_cs_tier\n  deals:\n    recommendation: \"\"\n")
	// The check creates nothing and says what it would create.
	st, err := e.target(t).Prepare(context.Background(), e.cfg.SyncMappings(), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(config.SyncFields)-2 || e.log.creates != 0 {
		t.Fatalf("check: %d statuses, %d creations", len(st), e.log.creates)
	}
	for _, s := range st {
		if s.State != crmsync.FieldWouldCreate {
			t.Errorf("%+v", s)
		}
		if s.Field == "cs_tier" && s.CRMName != "acme_cs_tier" {
			t.Errorf("mapped name: %+v", s)
		}
	}
	// An existing property of the wrong type is a problem the sync stops on, before writing.
	if err := e.api.DefineProperty("companies", hubspot.Property{Name: "segpipe_size_band", Label: "x", Type: "number", FieldType: "number", GroupName: "companyinformation"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.run(t, e.release("2026-10-31", 10, 0, nil), "2026-10-31", "run1", nil)
	if !errors.Is(err, crmsync.ErrFieldProblems) || !strings.Contains(err.Error(), "segpipe_size_band") || e.log.batches != 0 {
		t.Errorf("wrong type: %v, %d calls", err, e.log.batches)
	}
	// Without the schema write scope, the creation fails naming the scope; the token never shows.
	e2 := newHubSpotEnv(t, "")
	e2.api.SetScopes("crm.objects.companies.read", "crm.objects.companies.write", "crm.schemas.companies.read")
	_, err = e2.run(t, e2.release("2026-10-31", 10, 0, nil), "2026-10-31", "run1", nil)
	if err == nil || !strings.Contains(err.Error(), "crm.schemas.companies.write") || strings.Contains(err.Error(), hubspotToken) {
		t.Errorf("missing scope: %v", err)
	}
}

// A 429 (the per-second limit) and a 502 on batch updates are waited out and retried by the
// extract's client; the records go through once each.
func TestHubSpotRateLimitAndServerErrorRetried(t *testing.T) {
	e := newHubSpotEnv(t, "  max_changed_share: 1\n")
	if _, err := e.run(t, e.release("2026-10-31", 150, 0, nil), "2026-10-31", "run1", nil); err != nil {
		t.Fatal(err)
	}
	over := map[string]string{}
	for _, a := range e.c.Accounts[:150] {
		over[a.ID] = "Tier 4 (Tech-touch)"
	}
	recs := e.release("2026-11-01", 150, 0, over)
	// The second sync's requests: companies properties (1), deals properties (2), then the
	// batch updates: the first (3) is rate limited, its retry (4) goes through; the second
	// (5) meets a 502, its retry (6) goes through.
	n := e.api.Requests()
	e.api.InjectFault(hubspot.Fault{Request: n + 3, Status: http.StatusTooManyRequests, Policy: "SECONDLY"})
	e.api.InjectFault(hubspot.Fault{Request: n + 5, Status: http.StatusBadGateway})
	e.log.reset()
	res, err := e.run(t, recs, "2026-11-01", "run2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tot := res.Total(); tot.Update != 113 || tot.Synced != 113 || e.log.batches != 4 {
		t.Errorf("%+v in %d batch calls (2 batches, each tried twice)", tot, e.log.batches)
	}
	e.crmEquals(t, recs)
}

// Bands renamed in the config: segpipe's own enumeration gets the new options (the old kept)
// and the records go through; an enumeration of the portal's own (another group) is not
// touched: the dry run warns and HubSpot's rejections are reported per record.
func TestHubSpotRenamedBandsExtendTheEnumeration(t *testing.T) {
	e := newHubSpotEnv(t, "")
	recs := e.release("2026-10-31", 30, 0, nil)
	if _, err := e.run(t, recs, "2026-10-31", "run1", nil); err != nil {
		t.Fatal(err)
	}
	renamed := "segments:\n  size_bands:\n    - {name: Small, min: 1}\n    - {name: Mid-market, min: 200}\n    - {name: Enterprise, min: 2000}\n"
	e.cfg = hubspotConfig(t, e.cfg.Sources["crm"].BaseURL, "  max_changed_share: 1\n"+renamed)
	for _, r := range recs {
		if v := r.Values["segpipe_size_band"]; v != nil && *v == "SMB" {
			r.Values["segpipe_size_band"] = str("Small")
		}
	}
	// The portal's own enumeration for the tier, in its own group, without Tier 4.
	if err := e.api.DefineProperty("companies", hubspot.Property{Name: "acme_tier", Label: "Tier", Type: "enumeration", FieldType: "select", GroupName: "companyinformation",
		Options: []hubspot.PropertyOption{{Label: "T1", Value: config.TierNames[0]}, {Label: "T2", Value: config.TierNames[1]}, {Label: "T3", Value: config.TierNames[2]}}}); err != nil {
		t.Fatal(err)
	}
	e.cfg.Sync.Accounts = map[string]string{"cs_tier": "acme_tier"}
	for _, r := range recs {
		r.Values["acme_tier"] = r.Values["segpipe_cs_tier"]
		delete(r.Values, "segpipe_cs_tier")
		r.Hashed = slices.DeleteFunc(slices.Clone(r.Hashed), func(n string) bool { return n == "segpipe_cs_tier" })
		r.Hashed = append(r.Hashed, "acme_tier")
	}
	dry, err := e.run(t, recs, "2026-11-01", "dry", func(o *crmsync.Options) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	warned := map[string]string{}
	for _, f := range dry.Fields {
		warned[f.CRMName] = f.Warning
	}
	if !strings.Contains(warned["segpipe_size_band"], `will add the options "Small"`) || !strings.Contains(warned["acme_tier"], `no option "Tier 4 (Tech-touch)"`) {
		t.Fatalf("dry-run warnings: %v", warned)
	}
	res, err := e.run(t, recs, "2026-11-01", "run2", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Every fourth account is in Tier 4: 7 of 30 (indices 3, 7, ..., 27) are rejected.
	if tot := res.Total(); tot.Rejected != 7 || tot.Synced != 23 {
		t.Errorf("%+v; rejections %v", tot, res.Rejections)
	}
	for _, o := range res.Rejections {
		if !strings.Contains(o.Reason, "Tier 4 (Tech-touch)") {
			t.Errorf("reason %q", o.Reason)
		}
	}
	for _, f := range res.Fields {
		if f.CRMName == "segpipe_size_band" && f.State != crmsync.FieldUpdated {
			t.Errorf("size band property: %+v", f)
		}
	}
	if got := e.api.Properties("companies", e.c.Accounts[0].ID)["segpipe_size_band"]; got != "Small" {
		t.Errorf("renamed band written as %q", got)
	}
}
