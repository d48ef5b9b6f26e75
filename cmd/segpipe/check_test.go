package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Each bad configuration gets one line from segpipe config check: file:line, the key, what is
// wrong and what would fix it; exit code 2; and nothing is written (no lake, no scratch files).
func TestConfigCheckRefusesBadConfigs(t *testing.T) {
	demo, err := os.ReadFile("../../config/segpipe.yaml")
	if err != nil {
		t.Fatal(err)
	}
	crm, err := os.ReadFile("../../config/examples/csv-crm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	brokenMart := t.TempDir()
	if err := os.MkdirAll(filepath.Join(brokenMart, "marts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(brokenMart, "marts", "my_mart.sql"), []byte("select arr_usd from account_segments"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		base       []byte
		from, to   string
		want       string // regexp of stderr's line
		wantAtLine string // the text of the line it points at
	}{
		{"a staging model reads a column the config does not land", demo, "          employee_count: int64\n", "",
			`:\d+: sources\.crm\.entities\.accounts\.columns: stg_accounts \(sql/staging/demo/stg_accounts\.sql\) does not bind on what sources\.crm\.entities\.accounts lands: Binder Error: Referenced column "employee_count" not found`, "        columns:"},
		{"a user mart does not bind", demo, "lake: ./segpipe-data", "models: " + brokenMart + "\nlake: ./segpipe-data",
			`:\d+: models: my_mart \(` + regexp.QuoteMeta(filepath.Join(brokenMart, "marts", "my_mart.sql")) + `\) does not build: Binder Error: Referenced column "arr_usd" not found`, "models: " + brokenMart},
		{"dates as text", crm, `engage_date: {type: date, layout: "1/2/2006"}`, "engage_date: string",
			`:\d+: sources\.crm\.entities\.deals\.map\.created_at: created_at is TIMESTAMP but the value is VARCHAR \(declare the column as timestamp or date, with layout: for its format`, "          created_at: engage_date"},
		{"a stage word with no canonical value", crm, "motion: {const: new_business}", "motion: {const: New Business}",
			`:\d+: sources\.crm\.entities\.deals\.map\.motion\.const: motion must be one of new_business, expansion, renewal, got "New Business"`, "          motion: {const: New Business}"},
		{"a layout in another notation", crm, `created: {type: date, layout: "1/2/2006"}`, `created: {type: date, layout: "M/D/YYYY"}`,
			`:\d+: sources\.crm\.entities\.accounts\.columns\.created\.layout: must be a Go time layout`, `          created: {type: date, layout: "M/D/YYYY"}`},
		{"a ref to an entity that is not there", crm, "ref: {entity: accounts, by: account_name}", "ref: {entity: companies, by: account_name}",
			`:\d+: sources\.crm\.entities\.deals\.map\.account_id\.ref\.entity: no entity companies`, "          account_id: {column: account, ref: {entity: companies, by: account_name}}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			lakeDir := filepath.Join(dir, "lake")
			y := strings.Replace(string(c.base), c.from, c.to, 1)
			if y == string(c.base) {
				t.Fatalf("the edit %q found nothing to change", c.from)
			}
			y = strings.Replace(y, "lake: ./segpipe-data", "lake: "+lakeDir, 1)
			file := filepath.Join(dir, "c.yaml")
			if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := runCLI(t, "config", "check", "--config", file)
			if code != 2 {
				t.Fatalf("exit %d, want 2: %s", code, errOut)
			}
			line := strings.TrimSpace(errOut)
			if strings.Contains(line, "\n") {
				t.Errorf("more than one line: %q", errOut)
			}
			m := regexp.MustCompile(regexp.QuoteMeta(file) + `:(\d+):`).FindStringSubmatch(line)
			if m == nil || !regexp.MustCompile(c.want).MatchString(line) {
				t.Fatalf("stderr %q\nwant %s", line, c.want)
			}
			lines := strings.Split(y, "\n")
			var n int
			for _, ch := range m[1] {
				n = n*10 + int(ch-'0')
			}
			if n < 1 || n > len(lines) || lines[n-1] != c.wantAtLine {
				t.Errorf("points at line %d, want the line %q", n, c.wantAtLine)
			}
			if _, err := os.Stat(lakeDir); !os.IsNotExist(err) {
				t.Errorf("config check wrote the lake: %v", err)
			}
		})
	}
}

// The CSV CRM example passes the check, and the check says which marts a run of it leaves out.
func TestConfigCheckSaysWhatACRMOnlyRunLeavesOut(t *testing.T) {
	code, out, errOut := runCLI(t, "config", "check", "--config", "../../config/examples/csv-crm.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "csv-crm.yaml: ok (1 sources, 3 entities") ||
		!regexp.MustCompile(`(?m)^  not built, as no configured source provides stg_invoices: .*\bmrr_monthly\b`).MatchString(out) {
		t.Errorf("stdout %q", out)
	}
}
