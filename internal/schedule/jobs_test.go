package schedule_test

// Tests with the real jobs on the demo company: only the timing is faked.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo"
	"github.com/segpipe/segpipe/internal/demo/fakes"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/internal/schedule"
	"github.com/segpipe/segpipe/jobs"
)

// slowTransport delays every export request, so a run lasts long enough to overlap another.
type slowTransport struct{ delay time.Duration }

func (s slowTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-time.After(s.delay):
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// demoParams serves a small demo company and returns params for runs on a fresh lake.
func demoParams(t *testing.T) (jobs.Params, *demo.Company) {
	t.Helper()
	company := demo.Generate(demo.Options{Accounts: 200, Seed: 7})
	probe, err := config.Parse(defaultconfig.DemoName, defaultconfig.DemoYAML, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fakes.Start(company, fakes.StyleFor(probe))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg, err := config.Parse(defaultconfig.DemoName, defaultconfig.DemoYAML, func(k string) (string, bool) {
		if k == "SEGPIPE_DEMO_URL" {
			return srv.URL, true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Lease.OnConflict = lake.OnConflictExit
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return jobs.Params{Config: cfg, Lake: store, AsOf: company.AsOf(), WorkDir: t.TempDir()}, company
}

// realJobs wires jobs.Ingest and jobs.Segment as cmd/segpipe serve does, for the company's as_of.
func realJobs(base jobs.Params) map[string]schedule.JobFunc {
	params := func(r schedule.Run) jobs.Params {
		p := base
		p.RunID = r.RunID
		return p
	}
	return map[string]schedule.JobFunc{
		"ingest": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
			res, err := jobs.Ingest(ctx, params(r))
			var out schedule.Outcome
			if res != nil {
				for _, m := range res.Datasets {
					out.Datasets = append(out.Datasets, schedule.Landed{Source: m.Source, Entity: m.Entity, Rows: m.Rows, Quarantined: m.Quarantined})
				}
			}
			return out, err
		},
		"segment": func(ctx context.Context, r schedule.Run) (schedule.Outcome, error) {
			_, err := jobs.Segment(ctx, params(r))
			return schedule.Outcome{}, err
		},
	}
}

func readRecord(t *testing.T, s lake.Store, runID string) jobs.RunRecord {
	t.Helper()
	b, err := lake.GetBytes(context.Background(), s, "runs/"+runID+".json")
	if err != nil {
		t.Fatal(err)
	}
	var rec jobs.RunRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// Two services on one lake fire the same night's ingest at once: the lease lets one run it;
// the other records a lease conflict and does not retry it.
func TestTwoServicesOnOneLake(t *testing.T) {
	base, company := demoParams(t)
	base.HTTPClient = &http.Client{Transport: slowTransport{delay: 150 * time.Millisecond}}
	now := func() time.Time { return company.AsOf().AddDate(0, 0, 1).Add(2 * time.Hour) }
	var svcs [2]*schedule.Service
	var reps [2]*reports
	for i := range svcs {
		svcs[i], reps[i], _ = newService(t, schedule.Options{Jobs: map[string]schedule.JobFunc{"ingest": realJobs(base)["ingest"]}, Retries: 2, Now: now})
	}
	d0, d1 := svcs[0].Fire("ingest"), svcs[1].Fire("ingest")
	wait(t, d0)
	wait(t, d1)
	var won, lost schedule.Report
	var winner *schedule.Service
	for i, r := range reps {
		rep := r.all()[0]
		if rep.AsOf != company.AsOf().Format(time.DateOnly) {
			t.Errorf("as_of %s, want yesterday %s", rep.AsOf, company.AsOf().Format(time.DateOnly))
		}
		switch rep.Status {
		case "succeeded":
			won, winner = rep, svcs[i]
		case "failed":
			lost = rep
		}
	}
	if won.RunID == "" || lost.RunID == "" {
		t.Fatalf("want one success and one lease conflict: %+v, %+v", reps[0].all(), reps[1].all())
	}
	var held *lake.LeaseHeldError
	if !errors.As(lost.Err, &held) || held.Holder.RunID != won.RunID || lost.Attempts != 1 {
		t.Fatalf("the loser: %+v (a lease conflict is not retried)", lost)
	}
	rec := readRecord(t, base.Lake, lost.RunID)
	if rec.Status != "failed" || rec.Lease == nil || rec.Lease.Held || rec.Lease.Holder.RunID != won.RunID {
		t.Errorf("the loser's run record: %+v", rec)
	}
	loser := svcs[0]
	if winner == svcs[0] {
		loser = svcs[1]
	}
	if m := scrape(t, loser.Handler()); m[`segpipe_failures_total{job="ingest",reason="lease_conflict"}`] != 1 {
		t.Errorf("loser's metrics: %v", m)
	}
	m := scrape(t, winner.Handler())
	if got := m[`segpipe_rows_landed_total{entity="accounts",source="crm"}`]; got != float64(len(company.Accounts)) {
		t.Errorf("rows landed for crm/accounts = %v, want %d", got, len(company.Accounts))
	}
	if _, ok := m[`segpipe_rows_quarantined_total{entity="tickets",source="support"}`]; !ok {
		t.Errorf("no quarantined count for support/tickets: %v", m)
	}
}

// A real segment run cancelled by a shutdown past its grace publishes nothing.
func TestShutdownPastTheGraceLeavesNothingPublished(t *testing.T) {
	base, company := demoParams(t)
	now := func() time.Time { return company.AsOf().AddDate(0, 0, 1).Add(2 * time.Hour) }
	s, reps, logs := newService(t, schedule.Options{Jobs: realJobs(base), ShutdownGrace: 0, Now: now})
	wait(t, s.Fire("ingest"))
	if rep := reps.all()[0]; rep.Status != "succeeded" {
		t.Fatalf("ingest: %+v", rep)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- s.Run(ctx) }()
	segDone := s.Fire("segment")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), `"job":"segment","as_of":"`+company.AsOf().Format(time.DateOnly)+`","run_id"`) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // into the models
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	wait(t, segDone)
	rep := reps.byStatus("segment", "failed")
	if len(rep) != 1 || !errors.Is(rep[0].Err, context.Canceled) {
		t.Fatalf("segment: %+v", reps.all())
	}
	if _, err := lake.ReadPublished(context.Background(), base.Lake); !errors.Is(err, lake.ErrNotExist) {
		t.Fatalf("a cancelled segment published something: %v", err)
	}
	if rec := readRecord(t, base.Lake, rep[0].RunID); rec.Status != "failed" || rec.Publication != nil {
		t.Errorf("run record %+v", rec)
	}
}
