package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/crmsync"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/fakes"
	"github.com/segpipe/segpipe/internal/demo/hubspot"
	"github.com/segpipe/segpipe/internal/demo/salesforce"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/lake/storetest"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

// syncEnv runs the nightly of a company served with the HubSpot example config and returns
// params for a sync, with the HubSpot fake.
func syncEnv(t *testing.T, accounts int) (jobs.Params, *hubspot.API) {
	t.Helper()
	p, srv := exampleSyncEnv(t, accounts, "hubspot.yaml", demo.IDStyleHubSpot, nil)
	return p, srv.Fakes["hubspot"].(*hubspot.API)
}

// exampleSyncEnv runs the nightly of a company served in style with config/examples/<file>
// (mutate, when set, changes the params first: another lake).
func exampleSyncEnv(t *testing.T, accounts int, file string, style demo.AccountIDStyle, mutate func(*jobs.Params)) (jobs.Params, *fakes.Server) {
	t.Helper()
	company := demo.Generate(demo.Options{Accounts: accounts, Seed: 7})
	srv, err := fakes.Start(company, style)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	p := exampleParams(t, file, "", "SEGPIPE_DEMO_URL", srv.URL, company.AsOf())
	p.Config.Sync.PollInterval = config.Duration(10 * time.Millisecond)
	if mutate != nil {
		mutate(&p)
	}
	if _, err := jobs.Nightly(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p, srv
}

// releaseRows reads account_segments joined to tier_assignments, and prospect_fit, from the
// published release with an independent query.
func releaseRows(t *testing.T, p jobs.Params) (accounts, deals []warehouse.Row) {
	t.Helper()
	ctx := context.Background()
	pub, err := lake.ReadPublished(ctx, p.Lake)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := warehouse.Open(ctx, warehouse.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	for _, tb := range pub.Tables {
		switch tb.Name {
		case "account_segments", "tier_assignments", "prospect_fit":
			if err := sess.RegisterParquet(ctx, tb.Name, []string{p.Lake.(*lake.FileStore).LocalPath(tb.Key)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	accounts, err = sess.Query(ctx, `select a.account_id, a.size_band, a.arr_band, a.ltv_quintile, t.tier_name, a.icp_fit_score,
		a.is_icp, a.is_anti_icp, a.churn_risk, a.usage_intensity from account_segments a left join tier_assignments t using (account_id)`)
	if err != nil {
		t.Fatal(err)
	}
	deals, err = sess.Query(ctx, `select opportunity_id, icp_fit_score, recommendation from prospect_fit`)
	if err != nil {
		t.Fatal(err)
	}
	return accounts, deals
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(math.Round(x*1e4)/1e4, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// The first sync writes every mapped field of every account and open deal as the release
// has them; a second sends nothing; the dry run before wrote nothing at all.
func TestSyncHubSpotWritesTheRelease(t *testing.T) {
	p, api := syncEnv(t, 600)
	ctx := context.Background()
	accounts, deals := releaseRows(t, p)

	dry, err := jobs.Sync(ctx, p, jobs.SyncOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Objects["account"].Create != len(accounts) || dry.Objects["deal"].Create != len(deals) || api.Writes() != 0 ||
		api.Calls("POST", "/crm/v3/properties/companies") != 0 || len(dry.Sample) != 5 {
		t.Fatalf("dry run: %+v %+v, %d writes", dry.Objects["account"], dry.Objects["deal"], api.Writes())
	}
	if objs, _ := p.Lake.List(ctx, crmsync.Prefix("crm")); len(objs) != 0 {
		t.Errorf("the dry run wrote %v", objs)
	}

	p.RunID = jobs.NewRunID(time.Now())
	res, err := jobs.Sync(ctx, p, jobs.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total().Synced != len(accounts)+len(deals) || res.Total().Rejected != 0 {
		t.Fatalf("first sync: %+v", res.Total())
	}
	wantBatches := int64((len(accounts)+99)/100 + (len(deals)+99)/100)
	if api.Writes() != wantBatches {
		t.Errorf("batch updates %d, want %d", api.Writes(), wantBatches)
	}
	asOf := p.AsOf.Format(time.DateOnly)
	bad := 0
	check := func(what, id string, got map[string]string, want map[string]string) {
		for k, v := range want {
			if got[k] != v {
				if bad++; bad <= 10 {
					t.Errorf("%s %s: %s = %q, want %q", what, id, k, got[k], v)
				}
			}
		}
	}
	for _, a := range accounts {
		grade := ""
		switch {
		case a.Get("is_anti_icp") == true:
			grade = "anti_icp"
		case a.Get("is_icp") == true:
			grade = "icp"
		case a.Get("icp_fit_score") != nil:
			grade = "neutral"
		}
		id := a.Get("account_id").(string)
		check("company", id, api.Properties("companies", id), map[string]string{
			"segpipe_size_band": text(a.Get("size_band")), "segpipe_arr_band": text(a.Get("arr_band")),
			"segpipe_ltv_quintile": text(a.Get("ltv_quintile")), "segpipe_cs_tier": text(a.Get("tier_name")),
			"segpipe_icp_fit_score": text(a.Get("icp_fit_score")), "segpipe_icp_fit_grade": grade,
			"segpipe_churn_risk": text(a.Get("churn_risk")), "segpipe_usage_intensity": text(a.Get("usage_intensity")),
			"segpipe_segment_as_of": asOf,
		})
	}
	for _, d := range deals {
		id := d.Get("opportunity_id").(string)
		check("deal", id, api.Properties("deals", id), map[string]string{
			"segpipe_deal_fit_score": text(d.Get("icp_fit_score")), "segpipe_deal_recommendation": text(d.Get("recommendation")),
			"segpipe_segment_as_of": asOf,
		})
	}
	// The run record tells what the sync did.
	rec, err := jobs.ReadRun(ctx, p.Lake, p.RunID)
	if err != nil || rec.Status != jobs.RunSucceeded || rec.Job != jobs.JobSync || rec.Extra["sync"] == nil || rec.AsOf != asOf {
		t.Errorf("run record %+v %v", rec, err)
	}

	before := api.Writes()
	p.RunID = jobs.NewRunID(time.Now())
	res, err = jobs.Sync(ctx, p, jobs.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if api.Writes() != before || res.Total().Sent != 0 || res.Total().Unchanged != len(accounts)+len(deals) {
		t.Errorf("second sync: %+v, %d batch updates", res.Total(), api.Writes()-before)
	}
}

// Without a published release, or without sync.target, a sync refuses with the reason.
func TestSyncRefusals(t *testing.T) {
	p, _ := demoEnv(t, 50, nil)
	_, err := jobs.Sync(context.Background(), p, jobs.SyncOptions{})
	if !errors.Is(err, jobs.ErrNoSyncTarget) {
		t.Errorf("no target: %v", err)
	}
	p.Config.Sync.Target = "crm"
	p.Config.Sources["crm"].Vendor = "hubspot"
	_, err = jobs.Sync(context.Background(), p, jobs.SyncOptions{})
	if !errors.Is(err, jobs.ErrNothingPublished) {
		t.Errorf("nothing published: %v", err)
	}
}

// One sync writes a CRM at a time: a sync finding the lease sync-<target> held exits naming
// the holder (lease.on_conflict exit), and writes nothing.
func TestSyncTakesTheTargetLease(t *testing.T) {
	p, api := syncEnv(t, 100)
	ctx := context.Background()
	held, err := lake.Acquire(ctx, p.Lake, "sync-crm", lake.NewHolder("other-sync"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(ctx)
	p.Config.Lease.OnConflict = lake.OnConflictExit
	p.RunID = jobs.NewRunID(time.Now())
	_, err = jobs.Sync(ctx, p, jobs.SyncOptions{})
	var lh *lake.LeaseHeldError
	if !errors.As(err, &lh) || !strings.Contains(err.Error(), "sync crm: another run is writing it") || api.Writes() != 0 {
		t.Errorf("err %v, %d writes", err, api.Writes())
	}
	// A dry run takes no lease: it runs beside the other sync.
	if _, err := jobs.Sync(ctx, p, jobs.SyncOptions{DryRun: true}); err != nil {
		t.Errorf("dry run beside a sync: %v", err)
	}
}

// Salesforce: the demo org has the custom fields; the first sync writes every account and
// open deal through ingest jobs, the second sends nothing.
func TestSyncSalesforceWritesTheRelease(t *testing.T) {
	p, srv := exampleSyncEnv(t, 300, "salesforce.yaml", demo.IDStyleSalesforce, nil)
	api := srv.Fakes["salesforce"].(*salesforce.API)
	ctx := context.Background()
	accounts, deals := releaseRows(t, p)
	res, err := jobs.Sync(ctx, p, jobs.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total().Synced != len(accounts)+len(deals) || res.Total().Rejected != 0 {
		t.Fatalf("first sync: %+v", res.Total())
	}
	for _, a := range accounts {
		id := a.Get("account_id").(string)
		got := api.Updated(id)
		if got["Segpipe_Size_Band__c"] != text(a.Get("size_band")) || got["Segpipe_Cs_Tier__c"] != text(a.Get("tier_name")) ||
			got["Segpipe_Ltv_Quintile__c"] != text(a.Get("ltv_quintile")) || got["Segpipe_Churn_Risk__c"] != text(a.Get("churn_risk")) {
			t.Fatalf("account %s: %v, release %v", id, got, a)
		}
	}
	for _, d := range deals {
		id := d.Get("opportunity_id").(string)
		if got := api.Updated(id); got["Segpipe_Deal_Recommendation__c"] != text(d.Get("recommendation")) || got["Segpipe_Deal_Fit_Score__c"] != text(d.Get("icp_fit_score")) {
			t.Fatalf("deal %s: %v", id, got)
		}
	}
	p.RunID = jobs.NewRunID(time.Now())
	res, err = jobs.Sync(ctx, p, jobs.SyncOptions{})
	if err != nil || res.Total().Sent != 0 {
		t.Errorf("second sync: %+v %v", res.Total(), err)
	}
}

// On a GCS lake the ledger and journal are objects in the bucket; a second sync reads the
// ledger back and sends nothing.
func TestSyncOnGCS(t *testing.T) {
	fake := storetest.NewFakeGCS(t, "acme-segpipe")
	p, srv := exampleSyncEnv(t, 200, "hubspot.yaml", demo.IDStyleHubSpot, func(p *jobs.Params) {
		p.Lake = fake.Store(t, "prod")
		p.Cache = lake.NewCache(t.TempDir())
	})
	api := srv.Fakes["hubspot"].(*hubspot.API)
	ctx := context.Background()
	res, err := jobs.Sync(ctx, p, jobs.SyncOptions{})
	if err != nil || res.Total().Synced == 0 || res.Total().Synced != res.Total().Create {
		t.Fatalf("first sync: %+v %v", res.Total(), err)
	}
	if _, err := fake.Server.GetObject("acme-segpipe", "prod/"+crmsync.LedgerKey("crm")); err != nil {
		t.Errorf("the ledger is not in the bucket: %v", err)
	}
	if objs, _ := p.Lake.List(ctx, crmsync.Prefix("crm")+"journal/"); len(objs) != 0 {
		t.Errorf("journal left after a finished sync: %v", objs)
	}
	writes := api.Writes()
	p.RunID = jobs.NewRunID(time.Now())
	res, err = jobs.Sync(ctx, p, jobs.SyncOptions{})
	if err != nil || res.Total().Sent != 0 || api.Writes() != writes {
		t.Errorf("second sync: %+v %v", res.Total(), err)
	}
}
