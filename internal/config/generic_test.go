package config_test

import (
	"errors"
	"strings"
	"testing"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
)

// genericSource is a generic source "exports" with one CSV entity of accounts, added to the demo
// config; each case below changes one thing in it.
const genericSource = `sources:
  exports:
    vendor: generic
    base_url: http://127.0.0.1:9/files
    entities:
      companies:
        path: /companies.csv
        format: csv
        primary_key: id
        provides: stg_accounts
        columns:
          id: string
          title: string
          staff: int64
          made: {type: date, layout: "1/2/2006"}
          made_text: string
          flag: string
        map:
          account_id: id
          account_name: title
          employees: staff
          created_at: made
`

func withGeneric(t *testing.T, edit func(string) string) (*config.Config, error) {
	t.Helper()
	y := strings.Replace(string(defaultconfig.DemoYAML), "sources:\n", edit(genericSource), 1)
	return config.Parse("c.yaml", []byte(y), noEnv)
}

func TestGenericSourceIsValid(t *testing.T) {
	cfg, err := withGeneric(t, func(s string) string { return s })
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Sources["exports"].Entities["companies"]
	if e.Provides != "stg_accounts" || e.Map["account_name"].Column != "title" || e.Columns[3].Layout != "1/2/2006" {
		t.Errorf("entity %+v", e)
	}
	if v := cfg.ViewOf("exports", "companies"); v != "raw_exports__companies" {
		t.Errorf("a generic source's view is %s, want raw_exports__companies", v)
	}
	if v := cfg.ViewOf("crm", "accounts"); v != "raw_demo__accounts" {
		t.Errorf("a preset vendor's view is %s, want raw_demo__accounts", v)
	}
}

// Each bad generic config is refused at load with the line of the key, what is wrong and what
// would fix it.
func TestGenericSourceErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(string) string
		want string // a substring of the error, after "c.yaml:<line>: "
		line string // the text of the line the error points at
	}{
		{"no provides", func(s string) string { return strings.Replace(s, "        provides: stg_accounts\n", "", 1) },
			"sources.exports.entities.companies.provides: must name the canonical table this entity provides (stg_accounts, stg_opportunities", "      companies:"},
		{"unknown table", func(s string) string {
			return strings.Replace(s, "provides: stg_accounts", "provides: stg_companies", 1)
		},
			`provides: must name the canonical table this entity provides`, "        provides: stg_companies"},
		{"a required column unmapped", func(s string) string { return strings.Replace(s, "          created_at: made\n", "", 1) },
			"map: stg_accounts needs created_at (a row without it cannot be placed", "        map:"},
		{"text for a time", func(s string) string { return strings.Replace(s, "created_at: made", "created_at: made_text", 1) },
			`map.created_at: created_at is TIMESTAMP but the value is VARCHAR (declare the column as timestamp or date, with layout: for its format, e.g. layout: "1/2/2006")`, "          created_at: made_text"},
		{"an undeclared column", func(s string) string { return strings.Replace(s, "employees: staff", "employees: headcount", 1) },
			"map.employees.column: headcount is not a column of this entity (list it under columns:, with its type)", "          employees: headcount"},
		{"not a canonical column", func(s string) string { return strings.Replace(s, "employees: staff", "headcount: staff", 1) },
			"map.headcount: stg_accounts has no column headcount (its columns: account_id, account_name, industry, employees", "          headcount: staff"},
		{"a value outside the vocabulary", func(s string) string {
			return strings.Replace(s, "employees: staff", "employees: staff\n          region: {column: flag, values: {n: NA, e: Europe}}", 1)
		}, `map.region.values.e: region must be one of NA, EMEA, APAC, LATAM, got "Europe"`, "          region: {column: flag, values: {n: NA, e: Europe}}"},
		{"a boolean from text", func(s string) string {
			return strings.Replace(s, "employees: staff", "employees: staff\n          is_strategic: flag", 1)
		},
			"map.is_strategic: is_strategic is BOOLEAN but the value is VARCHAR (derive it: in: [<values that mean true>]", "          is_strategic: flag"},
		{"a ref to nothing", func(s string) string {
			return strings.Replace(s, "account_name: title", "account_name: {column: title, ref: {entity: firms, by: account_name}}", 1)
		}, "map.account_name.ref.entity: no entity firms", "          account_name: {column: title, ref: {entity: firms, by: account_name}}"},
		{"a bad layout", func(s string) string { return strings.Replace(s, `layout: "1/2/2006"`, `layout: "MM/DD/YYYY"`, 1) },
			`columns.made.layout: must be a Go time layout naming a year, month and day, written with the reference date 2 January 2006 (1/2/2006 is M/D/YYYY`, `          made: {type: date, layout: "MM/DD/YYYY"}`},
		{"a layout on text", func(s string) string {
			return strings.Replace(s, "made_text: string", `made_text: {type: string, layout: "1/2/2006"}`, 1)
		},
			"columns.made_text: layout and timezone read times: the column's type is string", `          made_text: {type: string, layout: "1/2/2006"}`},
		{"a bad zone", func(s string) string {
			return strings.Replace(s, `layout: "1/2/2006"}`, `layout: "1/2/2006", timezone: Mars/Olympus}`, 1)
		},
			`columns.made.timezone: must be an IANA zone such as America/New_York, got "Mars/Olympus"`, `          made: {type: date, layout: "1/2/2006", timezone: Mars/Olympus}`},
		{"named after a vendor", func(s string) string { return strings.Replace(s, "  exports:\n", "  stripe:\n", 1) },
			"sources.stripe: a generic source cannot be named after the vendor stripe", "  stripe:"},
		{"a map on a preset vendor", func(s string) string { return strings.Replace(s, "vendor: generic", "vendor: demo", 1) },
			"sources.exports.entities.companies.provides: only a generic source maps its entities onto canonical tables", "        provides: stg_accounts"},
		{"an unknown vendor", func(s string) string { return strings.Replace(s, "vendor: generic", "vendor: pipedrive", 1) },
			`sources.exports.vendor: must be one of demo, stripe, hubspot, zendesk, salesforce (it picks the preset and the staging SQL), or generic`, "    vendor: pipedrive"},
		{"a multiplier on text", func(s string) string {
			return strings.Replace(s, "account_name: title", "account_name: {column: title, multiply: 1000}", 1)
		},
			"map.account_name.multiply: scales a number; the value is VARCHAR", "          account_name: {column: title, multiply: 1000}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := withGeneric(t, c.edit)
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("want a config error, got %v", err)
			}
			var found *config.Problem
			for i, p := range ce.Problems {
				if strings.Contains(p.String(), c.want) {
					found = &ce.Problems[i]
				}
			}
			if found == nil {
				t.Fatalf("no problem says %q:\n%v", c.want, err)
			}
			y := strings.Replace(string(defaultconfig.DemoYAML), "sources:\n", c.edit(genericSource), 1)
			lines := strings.Split(y, "\n")
			if found.Line < 1 || found.Line > len(lines) || lines[found.Line-1] != c.line {
				got := ""
				if found.Line >= 1 && found.Line <= len(lines) {
					got = lines[found.Line-1]
				}
				t.Errorf("%s points at line %d %q, want %q", found, found.Line, got, c.line)
			}
		})
	}
}

// A canonical column staging derives cannot be mapped.
func TestGenericDerivedColumnsAreNotMapped(t *testing.T) {
	y := strings.Replace(genericSource, "provides: stg_accounts", "provides: stg_opportunities", 1)
	y = strings.Replace(y, "          account_id: id\n          account_name: title\n          employees: staff\n", "          opportunity_id: id\n          amount: staff\n", 1)
	_, err := withGeneric(t, func(string) string { return y })
	if err == nil || !strings.Contains(err.Error(), "map.amount: stg_opportunities.amount is not mapped: staging has it converted from amount_original in currency_original") {
		t.Errorf("mapping amount: %v", err)
	}
}
