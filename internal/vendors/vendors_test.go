package vendors

import (
	"slices"
	"testing"
)

func TestRawViewRoundTrips(t *testing.T) {
	cases := []struct{ vendor, entity, view string }{
		{"demo", "accounts", "raw_demo__accounts"},
		{"hubspot", "companies", "raw_hubspot__companies"},
		{"crm_export", "deal_stages", "raw_crm_export__deal_stages"},
	}
	for _, c := range cases {
		if got := RawView(c.vendor, c.entity); got != c.view {
			t.Errorf("RawView(%q, %q) = %q, want %q", c.vendor, c.entity, got, c.view)
		}
		v, e, ok := ParseRawView(c.view)
		if !ok || v != c.vendor || e != c.entity {
			t.Errorf("ParseRawView(%q) = %q, %q, %v; want %q, %q, true", c.view, v, e, ok, c.vendor, c.entity)
		}
	}
}

func TestParseRawViewRefusesOtherNames(t *testing.T) {
	for _, name := range []string{"", "raw_", "raw_demo", "raw_demo__", "raw___accounts", "stg_accounts", "prev_tier_history", "demo__accounts", "RAW_demo__accounts"} {
		if v, e, ok := ParseRawView(name); ok {
			t.Errorf("ParseRawView(%q) = %q, %q, true; want false", name, v, e)
		}
	}
	// The vendor ends at the first "__": the rest is the entity.
	if v, e, ok := ParseRawView("raw_a__b__c"); !ok || v != "a" || e != "b__c" {
		t.Errorf(`ParseRawView("raw_a__b__c") = %q, %q, %v; want "a", "b__c", true`, v, e, ok)
	}
}

func TestRawViewRefs(t *testing.T) {
	sql := `select * from raw_stripe__invoices i
		join raw_stripe__customers c on c.id = i.customer
		where i.id not in (select id from raw_stripe__invoices) and 'raw_x' <> stg_invoices.raw_json`
	want := []string{"raw_stripe__invoices", "raw_stripe__customers", "raw_stripe__invoices"}
	if got := RawViewRefs(sql); !slices.Equal(got, want) {
		t.Errorf("RawViewRefs = %q, want %q", got, want)
	}
}

func TestRegistryOrderAndLookup(t *testing.T) {
	// The order config errors list the vendors in (internal/config's tests quote it).
	if got, want := Names(), []string{"demo", "stripe", "hubspot", "zendesk", "salesforce"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	seen := map[string]bool{}
	for _, v := range All() {
		if seen[v.Name] {
			t.Errorf("vendor %s is registered twice", v.Name)
		}
		seen[v.Name] = true
		got, ok := Lookup(v.Name)
		if !ok || got.Name != v.Name || got.Staging != v.Staging {
			t.Errorf("Lookup(%q) = %+v, %v", v.Name, got, ok)
		}
		if len(v.Kinds) == 0 || v.Staging == "" || v.Docs == "" || v.Example == "" {
			t.Errorf("vendor %s lacks a kind, staging folder, docs page or example: %+v", v.Name, v)
		}
	}
	for _, name := range []string{"generic", "defaults", "pipedrive", ""} {
		if _, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) found a vendor", name)
		}
	}
	// All hands out copies: changing one does not change the registry.
	all := All()
	all[0].Name, all[0].Kinds[0] = "changed", Product
	if v, _ := Lookup("demo"); v.Kinds[0] != CRM || Names()[0] != "demo" {
		t.Errorf("All() shares the registry's memory: %+v", v)
	}
}
