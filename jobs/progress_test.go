package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/segpipe/segpipe/jobs"
)

// A run says what it did as it goes, one log line per landing and per model, with the figures
// its record keeps: on a terminal as text, else as JSON (what is read here).
func TestRunLogsEachLandingAndModel(t *testing.T) {
	p, _ := demoEnv(t, 200, nil)
	ctx := context.Background()
	logs := &lockedBuffer{}
	p.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ing, err := jobs.Ingest(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	seg, err := jobs.Segment(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		Msg, Model, Source, Entity string
		N, Of, Pages               int
		Rows                       float64
		ResponseBytes              float64 `json:"response_bytes"`
		Seconds                    float64
		MBPerSecond                float64 `json:"mb_per_second"`
	}
	var models, landed []line
	logs.mu.Lock()
	for _, b := range bytes.Split(logs.b.Bytes(), []byte("\n")) {
		if len(b) == 0 {
			continue
		}
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatalf("log line %q: %v", b, err)
		}
		switch l.Msg {
		case "model built":
			models = append(models, l)
		case "extract landed":
			landed = append(landed, l)
		}
	}
	logs.mu.Unlock()

	if len(models) != len(seg.Models) || len(models) < 20 {
		t.Fatalf("%d model lines for %d models", len(models), len(seg.Models))
	}
	for i, m := range seg.Models {
		l := models[i]
		if l.N != i+1 || l.Of != len(seg.Models) || l.Model != m.Name || int64(l.Rows) != m.Rows || l.Seconds <= 0 {
			t.Errorf("model line %d: %+v, want %d of %d %s %d rows", i, l, i+1, len(seg.Models), m.Name, m.Rows)
		}
	}
	if len(landed) != len(ing.Datasets) {
		t.Fatalf("%d landing lines for %d landings", len(landed), len(ing.Datasets))
	}
	byEntity := map[string]line{}
	for _, l := range landed {
		byEntity[l.Source+"/"+l.Entity] = l
	}
	for _, m := range ing.Datasets {
		l, ok := byEntity[m.Source+"/"+m.Entity]
		if !ok || l.Pages != m.Pages || int64(l.Rows) != m.Rows || int64(l.ResponseBytes) != m.ResponseBytes {
			t.Errorf("%s/%s: line %+v, manifest %d pages %d rows %d bytes", m.Source, m.Entity, l, m.Pages, m.Rows, m.ResponseBytes)
			continue
		}
		if want := float64(m.ResponseBytes) / 1e6 / l.Seconds; l.MBPerSecond <= 0 || l.MBPerSecond < want*0.5 || l.MBPerSecond > want*2 {
			t.Errorf("%s/%s: mb_per_second %v, bytes/seconds gives %v", m.Source, m.Entity, l.MBPerSecond, want)
		}
	}
}
