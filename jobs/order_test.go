package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/jobs"
)

// lockedBuffer is a log sink safe for the ingest's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// loggedStartOrder returns, per source, the entities in the order the ingest logged starting them.
func loggedStartOrder(t *testing.T, logs *lockedBuffer) map[string][]string {
	t.Helper()
	logs.mu.Lock()
	defer logs.mu.Unlock()
	out := map[string][]string{}
	for _, line := range bytes.Split(logs.b.Bytes(), []byte("\n")) {
		var rec struct{ Msg, Source, Entity string }
		if len(line) == 0 {
			continue
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Msg == "extract started" {
			out[rec.Source] = append(out[rec.Source], rec.Entity)
		}
	}
	logs.b.Reset()
	return out
}

// A source pulling one entity at a time starts them in config order the first time, and after
// that the longest landing of the previous succeeded ingest first.
func TestEntitiesStartLongestFirst(t *testing.T) {
	p, _ := demoEnv(t, 200, nil)
	ctx := context.Background()
	logs := &lockedBuffer{}
	p.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))

	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	first := loggedStartOrder(t, logs)
	if got, want := first["billing"], []string{"invoices", "subscriptions"}; !slices.Equal(got, want) {
		t.Errorf("fresh lake: billing started %v, want config order %v", got, want)
	}
	if got, want := first["crm"], []string{"accounts", "opportunities"}; !slices.Equal(got, want) {
		t.Errorf("fresh lake: crm started %v, want config order %v", got, want)
	}

	// A newer succeeded ingest in which subscriptions and opportunities took longest, and a
	// newer still failed one that says the opposite (a failed run's timings are not used).
	put := func(at time.Time, status string, stages map[string]float64) {
		t.Helper()
		rec := jobs.RunRecord{RunID: jobs.NewRunID(at), Job: jobs.JobIngest, Status: status, StartedAt: at, FinishedAt: at, Stages: stages}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := lake.PutBytes(ctx, p.Lake, jobs.RunsPrefix+rec.RunID+".json", b); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	put(now.Add(time.Minute), "succeeded", map[string]float64{
		"extract billing/invoices": 1.5, "extract billing/subscriptions": 9,
		"extract crm/accounts": 0.5, "extract crm/opportunities": 3,
	})
	put(now.Add(2*time.Minute), "failed", map[string]float64{
		"extract billing/invoices": 99, "extract crm/accounts": 99,
	})
	p.RunID = jobs.NewRunID(now.Add(3 * time.Minute))
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	second := loggedStartOrder(t, logs)
	if got, want := second["billing"], []string{"subscriptions", "invoices"}; !slices.Equal(got, want) {
		t.Errorf("after a run: billing started %v, want the longest first %v", got, want)
	}
	if got, want := second["crm"], []string{"opportunities", "accounts"}; !slices.Equal(got, want) {
		t.Errorf("after a run: crm started %v, want the longest first %v", got, want)
	}
}
