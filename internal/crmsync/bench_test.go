package crmsync_test

import (
	"context"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/crmsync"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/hubspot"
)

// benchEnv is a HubSpot env over a company of n accounts.
func benchEnv(b *testing.B, n int) *hubspotEnv {
	b.Helper()
	c := demo.Generate(demo.Options{Accounts: n, Seed: 7}).WithAccountIDs(demo.IDStyleHubSpot)
	e := newHubSpotEnvFor(b, c, "  max_changed_share: 1\n")
	return e
}

// BenchmarkHubSpotFirstSync sends every account of a 20,000-account release to the fake
// (200 batch updates, each journalled to the lake): records/s end to end on loopback.
func BenchmarkHubSpotFirstSync(b *testing.B) {
	const n = 20_000
	e := benchEnv(b, n)
	recs := buildRelease(e.cfg, e.c, hubspot.DealID, "2026-10-31", n, 0, nil)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		e.store = newStore(b)
		res, err := e.run(b, recs, "2026-10-31", "run1", nil)
		if err != nil || res.Total().Synced != n {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkNightlyResyncNoChange is the common nightly: 100,000 records, a ledger that holds
// them all, nothing to send. It measures reading the ledger, hashing and planning.
func BenchmarkNightlyResyncNoChange(b *testing.B) {
	const n = 100_000
	e := benchEnv(b, n)
	recs := buildRelease(e.cfg, e.c, hubspot.DealID, "2026-10-31", n, 0, nil)
	if _, err := e.run(b, recs, "2026-10-31", "seed", nil); err != nil {
		b.Fatal(err)
	}
	info, err := e.store.Stat(context.Background(), crmsync.LedgerKey("crm"))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		res, err := e.run(b, recs, "2026-10-31", "again", nil)
		if err != nil || res.Total().Unchanged != n {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(info.Size)/(1<<20), "ledger_MiB")
}
