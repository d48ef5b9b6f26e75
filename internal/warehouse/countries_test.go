package warehouse

import (
	"context"
	"fmt"
	"testing"
)

// ref_countries (sql/prelude.sql) holds every country of ISO 3166-1 once, with its ISO-3 code
// and a region of domain.md's four, and no key names two countries; country_iso2 and region_of
// read codes and names in any case, spacing and accents.
func TestCountryTable(t *testing.T) {
	s := buildFixture(t, "basic", "2025-06-30", nil)
	ctx := context.Background()
	for q, want := range map[string]string{
		"select count(distinct iso2) from ref_countries":                                                            "249",
		"select count(distinct iso3) from ref_countries":                                                            "249",
		"select count(distinct (iso2, iso3, region, name)) from ref_countries":                                      "249",
		"select count(*) from ref_countries where region not in ('NA', 'EMEA', 'APAC', 'LATAM')":                    "0",
		"select string_agg(distinct iso2) from ref_countries where region is null":                                  "AQ",
		"select count(*) from (select country_key from ref_countries group by all having count(distinct iso2) > 1)": "0",
		"select count(*) from ref_countries where country_key <> country_key(country_key)":                          "0",
		// Northern America; the UN M49 regions otherwise (Caribbean and Central America LATAM).
		"select string_agg(iso2 order by iso2) from (select distinct iso2 from ref_countries where region = 'NA')": "BM,CA,GL,PM,US",
	} {
		rows, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(rows[0].Values[0]); got != want {
			t.Errorf("%s = %s, want %s", q, got, want)
		}
	}
	cases := map[string]string{
		"United States": "US NA", "USA": "US NA", "US": "US NA", "U.S.": "US NA", "u.s.a.": "US NA", "  united   states ": "US NA",
		"United States of America": "US NA", "Canada": "CA NA", "CAN": "CA NA",
		"United Kingdom": "GB EMEA", "UK": "GB EMEA", "U.K.": "GB EMEA", "GBR": "GB EMEA", "gb": "GB EMEA", "England": "GB EMEA",
		"Germany": "DE EMEA", "Deutschland": "DE EMEA", "DEU": "DE EMEA", "de": "DE EMEA",
		"The Netherlands": "NL EMEA", "Holland": "NL EMEA", "Türkiye": "TR EMEA", "Turkey": "TR EMEA", "Côte d'Ivoire": "CI EMEA",
		"Ivory Coast": "CI EMEA", "South Africa": "ZA EMEA", "Israel": "IL EMEA", "UAE": "AE EMEA", "Saudi Arabia": "SA EMEA",
		"Iran": "IR EMEA", "Russia": "RU EMEA", "Russian Federation": "RU EMEA", "Kenya": "KE EMEA",
		"Brazil": "BR LATAM", "Brasil": "BR LATAM", "BRA": "BR LATAM", "México": "MX LATAM", "Mexico": "MX LATAM",
		"Puerto Rico": "PR LATAM", "Jamaica": "JM LATAM", "Bolivia, Plurinational State of": "BO LATAM",
		"Japan": "JP APAC", "JPN": "JP APAC", "jp": "JP APAC", "South Korea": "KR APAC", "Korea, Republic of": "KR APAC",
		"Korea": "KR APAC", "North Korea": "KP APAC", "Viet Nam": "VN APAC", "Vietnam": "VN APAC", "India": "IN APAC",
		"Australia": "AU APAC", "New Zealand": "NZ APAC", "Fiji": "FJ APAC", "Kazakhstan": "KZ APAC",
		"Congo": "CG EMEA", "DR Congo": "CD EMEA", "Democratic Republic of the Congo": "CD EMEA", "Georgia": "GE EMEA",
		"Antarctica": "AQ <nil>", "Atlantis": "<nil> <nil>", "": "<nil> <nil>", "USAA": "<nil> <nil>",
	}
	for in, want := range cases {
		rows, err := s.Query(ctx, "select country_iso2(?::varchar), region_of(?::varchar)", in, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%v %v", rows[0].Values[0], rows[0].Values[1]); got != want {
			t.Errorf("%q: country_iso2, region_of = %s, want %s", in, got, want)
		}
	}
	rows, err := s.Query(ctx, "select country_iso2(null::varchar), region_of(null::varchar)")
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Values[0] != nil || rows[0].Values[1] != nil {
		t.Errorf("NULL country: %v, want NULL", rows[0])
	}
}

// The demo CRM's stg_accounts: country becomes the ISO-2 code when it is a code or name, else
// it is kept as typed; the CRM's region wins, and one left blank is derived from the country.
func TestDemoAccountsCountryAndRegion(t *testing.T) {
	s := buildFixtureWith(t, "basic", "2025-06-30", nil, `insert into raw_demo__accounts values
    ('K1', 'K one', 'Software', 10, 1e6, 'Deutschland', '',     'o', false, '', '2025-01-01', '2025-01-01', '2025-06-30'),
    ('K2', 'K two', 'Software', 10, 1e6, 'usa',         null,   'o', false, '', '2025-01-01', '2025-01-01', '2025-06-30'),
    ('K3', 'K three', 'Software', 10, 1e6, 'Atlantis ', null,   'o', false, '', '2025-01-01', '2025-01-01', '2025-06-30'),
    ('K4', 'K four', 'Software', 10, 1e6, 'JPN',        'APAC', 'o', false, '', '2025-01-01', '2025-01-01', '2025-06-30'),
    ('K5', 'K five', 'Software', 10, 1e6, 'BR',         'NA',   'o', false, '', '2025-01-01', '2025-01-01', '2025-06-30'),
    ('K6', 'K six', 'Software', 10, 1e6, '  ',          null,   'o', false, '', '2025-01-01', '2025-01-01', '2025-06-30')`)
	got := rowsBy(t, s, `select account_id, country, region from stg_accounts where account_id like 'K%' or account_id in ('A2', 'A6')`)
	for id, want := range map[string]string{
		"K1": "DE EMEA", "K2": "US NA", "K3": "Atlantis <nil>", "K4": "JP APAC",
		"K5": "BR NA", // the CRM's region is kept, even where the country says otherwise
		"K6": "<nil> <nil>", "A2": "DE EMEA", "A6": "BR LATAM",
	} {
		r, ok := got[id]
		if !ok {
			t.Errorf("no stg_accounts row %s", id)
			continue
		}
		if g := fmt.Sprintf("%v %v", r.Get("country"), r.Get("region")); g != want {
			t.Errorf("%s: country, region = %s, want %s", id, g, want)
		}
	}
}
