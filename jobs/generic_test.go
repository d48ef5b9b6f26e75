package jobs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segpipe/segpipe/internal/config"
	"github.com/segpipe/segpipe/internal/demo/csvcrm"
	"github.com/segpipe/segpipe/internal/lake"
	"github.com/segpipe/segpipe/jobs"
)

// csvCRMEnv serves a CSV CRM company and returns params for a nightly of
// config/examples/csv-crm.yaml against it, as of the company's date, in a fresh lake.
func csvCRMEnv(t *testing.T, c *csvcrm.Company, extra string) jobs.Params {
	t.Helper()
	srv := c.Serve()
	t.Cleanup(srv.Close)
	yaml, err := os.ReadFile("../config/examples/csv-crm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml = append(yaml, extra...)
	cfg, err := config.Parse("csv-crm.yaml", yaml, func(k string) (string, bool) {
		if k == "SEGPIPE_CSV_CRM_URL" {
			return srv.URL, true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	store, err := lake.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return jobs.Params{Config: cfg, Lake: store, AsOf: c.AsOf, RunID: jobs.NewRunID(time.Now()), WorkDir: t.TempDir()}
}

// vendorExamples lists the example configs of the preset vendors (config/examples/*.yaml but
// those of generic sources, which read exports of their own shape, not the demo company's).
func vendorExamples() ([]string, error) {
	all, err := filepath.Glob("../config/examples/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range all {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(string(b), "vendor: generic") {
			out = append(out, f)
		}
	}
	return out, nil
}
