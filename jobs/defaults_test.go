package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/warehouse"
	"github.com/segpipe/segpipe/jobs"
)

// The demo config without its segments block runs the segment job with the documented
// defaults, which are the values the demo config spells out: it publishes the same bytes. Left
// without fx_rates as well, the demo's EUR invoices fail the audit as an unknown currency
// (assert_known_currencies), not the SQL.
func TestSegmentWithTheDocumentedDefaults(t *testing.T) {
	p, _ := demoEnv(t, 300, nil)
	ctx := context.Background()
	if _, err := jobs.Ingest(ctx, p); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	full := publishedFiles(t, p, 2, filepath.Join(tmp, "full"))
	if len(full) < 10 {
		t.Fatalf("only %d published tables", len(full))
	}

	demoYAML := string(defaultconfig.DemoYAML)
	i := strings.Index(demoYAML, "\nsegments:")
	if i < 0 {
		t.Fatal("config/segpipe.yaml has no segments block")
	}
	withoutSegments := demoYAML[:i+1]
	parse := func(yaml string) *config.Config {
		cfg, err := config.Parse("no-segments.yaml", []byte(yaml), func(k string) (string, bool) {
			return "http://127.0.0.1:1", k == "SEGPIPE_DEMO_URL"
		})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	bare := p
	bare.Config = parse(withoutSegments)
	again := publishedFiles(t, bare, 2, filepath.Join(tmp, "defaults"))
	if len(again) != len(full) {
		t.Errorf("%d tables published with the defaults, %d with the demo config", len(again), len(full))
	}
	for name, b := range full {
		if !bytes.Equal(b, again[name]) {
			t.Errorf("%s differs between the demo config and the defaults", name)
		}
	}

	noRates := regexp.MustCompile(`(?m)^fx_rates:.*\n(  .*\n)*`).ReplaceAllString(withoutSegments, "")
	if strings.Contains(noRates, "EUR") {
		t.Fatal("fx_rates not removed")
	}
	q := p
	q.Config = parse(noRates)
	q.RunID = jobs.NewRunID(time.Now())
	_, err := jobs.Segment(ctx, q)
	if !errors.Is(err, warehouse.ErrAssertionsFailed) || !strings.Contains(err.Error(), "assert_known_currencies") || !strings.Contains(err.Error(), "EUR") {
		t.Fatalf("without fx_rates: want assert_known_currencies to fail naming EUR, got %v", err)
	}
}
