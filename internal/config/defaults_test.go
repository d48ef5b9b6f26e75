package config_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	defaultconfig "github.com/segpipe/segpipe/config"
	"github.com/segpipe/segpipe/internal/config"
)

// bare is a config with no segments block and no fx_rates: every threshold and the rates take
// their documented defaults.
const bare = `currency: USD
lake: ./data
sources:
  crm:
    vendor: demo
    base_url: http://localhost:1/api
    entities:
      accounts:
        path: /accounts
        format: json
        primary_key: id
        columns:
          id: string
`

// A config that leaves the segments block out validates and gets DefaultSegments, which are the
// values config/segpipe.yaml spells out; one without fx_rates has no other currency.
func TestNoSegmentsBlockGetsTheDefaults(t *testing.T) {
	cfg, err := config.Parse("bare.yaml", []byte(bare), noEnv)
	if err != nil {
		t.Fatalf("a config without segments and fx_rates must be valid: %v", err)
	}
	if len(cfg.FXRates) != 0 {
		t.Errorf("fx_rates = %v, want none", cfg.FXRates)
	}
	demo, err := config.Parse("segpipe.yaml", defaultconfig.DemoYAML, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(cfg.Segments)
	if want, _ := json.Marshal(demo.Segments); string(got) != string(want) {
		t.Errorf("defaults differ from config/segpipe.yaml's segments:\n got %s\nwant %s", got, want)
	}
	if want, _ := json.Marshal(config.DefaultSegments()); string(got) != string(want) {
		t.Errorf("defaults differ from DefaultSegments:\n got %s\nwant %s", got, want)
	}
	for _, empty := range []string{"segments: {}\n", "segments:\n"} {
		if c, err := config.Parse("c.yaml", []byte(bare+empty), noEnv); err != nil {
			t.Errorf("%q: %v", empty, err)
		} else if a, _ := json.Marshal(c.Segments); string(a) != string(got) {
			t.Errorf("%q: segments %s, want the defaults", empty, a)
		}
	}
}

// Part of the block: each key left out takes its default, key by key inside a group, and a key
// that is set is kept as written, 0 included (it used to be taken for "not set").
func TestPartOfTheSegmentsBlock(t *testing.T) {
	yaml := bare + `segments:
  size_bands: [{name: Small, min: 1}, {name: Large, min: 500}]
  icp: {min_tenure_months: 0}
  tiers: {tier3_min_arr: 0, score_weights: {arr: 0.7, growth: 0, strategic: 0.2, health: 0.1}}
  usage: {power_min_features: 0}
  support: {self_sufficient_tickets_per_month: 0}
  pipeline: {inactive_days: 21}
`
	cfg, err := config.Parse("part.yaml", []byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s, d := cfg.Segments, config.DefaultSegments()
	if len(s.SizeBands) != 2 || s.SizeBands[1].Name != "Large" || s.SizeBands[1].Min != 500 {
		t.Errorf("size_bands = %+v, want the config's two bands", s.SizeBands)
	}
	if s.ICP.MinTenureMonths != 0 || s.ICP.MinLift != 1.5 || s.ICP.MinCustomers != 5 {
		t.Errorf("icp = %+v, want min_tenure_months 0 as set, min_lift 1.5 and min_customers 5 by default", s.ICP)
	}
	if s.Tiers.Tier3MinARR != 0 || s.Tiers.Tier1ARR != 100000 || s.Tiers.ScoreWeights.Growth != 0 || s.Tiers.ScoreWeights.ARR != 0.7 {
		t.Errorf("tiers = %+v, want tier3_min_arr 0 and the weights as set, tier1_arr 100000", s.Tiers)
	}
	if s.Usage.PowerMinFeatures != 0 || s.Usage.WindowMonths != 3 || s.Support.SelfSufficientTicketsPerMonth != 0 || s.Support.HighTicketsPerMonth != 2 {
		t.Errorf("usage %+v, support %+v: want power_min_features 0 and self_sufficient 0 as set", s.Usage, s.Support)
	}
	if s.Pipeline.InactiveDays != 21 || s.Pipeline.AgingPercentile != 0.75 || len(s.Pipeline.DealSizeTiers) != 3 {
		t.Errorf("pipeline = %+v, want inactive_days 21 and the default tiers and percentiles", s.Pipeline)
	}
	if a, b := fmt.Sprint(s.ARRBands, s.LTV, s.ChurnRisk, s.Metrics), fmt.Sprint(d.ARRBands, d.LTV, d.ChurnRisk, d.Metrics); a != b {
		t.Errorf("groups left out: %s, want %s", a, b)
	}
	// A key set to a value that breaks a rule is reported, not replaced by its default.
	_, err = config.Parse("bad.yaml", []byte(bare+"segments:\n  pipeline: {inactive_days: 0}\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "segments.pipeline.inactive_days: must be at least 1") {
		t.Errorf("inactive_days 0: want the rule's error, got %v", err)
	}
}

// Every key of the segments block is in docs/configuration.md's table, and the default the
// table shows is DefaultSegments' value (the tier targets are checked against domain.md in
// TestSegmentDefaults).
func TestDefaultsAreTheDocumentedOnes(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	start := strings.Index(text, "## segments:")
	if start < 0 {
		t.Fatal("docs/configuration.md has no segments section")
	}
	text = text[start:]
	if end := strings.Index(text[1:], "\n## "); end >= 0 {
		text = text[:end+1]
	}
	checkDocumentedDefaults(t, "docs/configuration.md", text)
}

// Every key of the segments block is in one of docs/domain.md's key tables with
// DefaultSegments' value, and its tier targets table is DefaultTierTargets.
func TestDomainDocDefaults(t *testing.T) {
	doc, err := os.ReadFile("../../docs/domain.md")
	if err != nil {
		t.Fatal(err)
	}
	checkDocumentedDefaults(t, "docs/domain.md", string(doc))
	checkDocumentedTierTargets(t, "docs/domain.md", string(doc))
}

// checkDocumentedDefaults reads the markdown tables of text whose header starts with
// "| key | default |": each row names segments keys (a leading "segments." is dropped; "a.b, c"
// is a.b and a.c) and their defaults, which must be DefaultSegments' values. Every key of the
// segments block must have a row (itself or its group).
func checkDocumentedDefaults(t *testing.T, file, text string) {
	t.Helper()
	values := map[string]string{}
	flatten(reflect.ValueOf(config.DefaultSegments()), "", values)
	documented := map[string]bool{}
	rows := 0
	inTable := false
	for _, line := range strings.Split(text, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(line), "|") {
			inTable = false
			continue
		}
		first := strings.TrimSpace(cells[1])
		if first == "key" {
			inTable = strings.TrimSpace(cells[2]) == "default"
			continue
		}
		if !inTable || strings.HasPrefix(first, "---") {
			continue
		}
		rows++
		keyCell := strings.TrimSpace(strings.TrimSuffix(first, "*"))
		keys := strings.Split(strings.ReplaceAll(keyCell, "`", ""), ", ")
		keys[0] = strings.TrimPrefix(keys[0], "segments.")
		if i := strings.LastIndex(keys[0], "."); i >= 0 {
			for j := 1; j < len(keys); j++ {
				keys[j] = keys[0][:i+1] + strings.TrimSpace(keys[j])
			}
		}
		def := strings.TrimSpace(cells[2])
		defs := []string{def}
		if len(keys) > 1 {
			defs = strings.Split(def, ", ")
			if len(defs) != len(keys) {
				t.Errorf("%s row %q: %d keys but %d defaults", file, keyCell, len(keys), len(defs))
				continue
			}
		}
		for i, k := range keys {
			k = strings.TrimSpace(k)
			documented[k] = true
			want, ok := values[k]
			if !ok {
				t.Errorf("%s lists segments.%s, which config.Segments does not have", file, k)
				continue
			}
			if k == "tiers.targets" {
				continue
			}
			if !sameValue(defs[i], want) {
				t.Errorf("segments.%s: %s says the default is %q, DefaultSegments has %q", k, file, defs[i], want)
			}
		}
	}
	if rows < 20 {
		t.Fatalf("read only %d rows of %s's key tables", rows, file)
	}
	isGroup := map[string]bool{}
	for k := range values {
		if i := strings.LastIndex(k, "."); i >= 0 {
			isGroup[k[:i]] = true
		}
	}
	for k := range values {
		if isGroup[k] {
			continue
		}
		parent := k
		if i := strings.LastIndex(k, "."); i >= 0 {
			parent = k[:i]
		}
		if !documented[k] && !documented[parent] {
			t.Errorf("segments.%s has no row in %s's key tables", k, file)
		}
	}
}

// checkDocumentedTierTargets reads the table of text whose header starts with "| tier |
// customers_min |" (columns named by TierTarget's keys, "—" for no target) and compares it
// with DefaultTierTargets.
func checkDocumentedTierTargets(t *testing.T, file, text string) {
	t.Helper()
	var header []string
	got := map[int]map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			header = nil
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) > 1 && cells[0] == "tier" && cells[1] == "customers_min" {
			header = cells
			continue
		}
		if header == nil || strings.HasPrefix(cells[0], "---") {
			continue
		}
		tier, err := strconv.Atoi(cells[0])
		if err != nil || len(cells) != len(header) {
			t.Errorf("%s tier targets row %q: want a tier number and %d cells", file, line, len(header))
			continue
		}
		got[tier] = map[string]string{}
		for i := 1; i < len(cells); i++ {
			got[tier][header[i]] = cells[i]
		}
	}
	targets := config.DefaultTierTargets()
	if len(got) != len(targets) {
		t.Fatalf("%s lists tier targets for %d tiers, DefaultTierTargets has %d", file, len(got), len(targets))
	}
	for _, target := range targets {
		b, _ := json.Marshal(target)
		var want map[string]*float64
		_ = json.Unmarshal(b, &want) // "tier" reads as a number too
		for key, v := range want {
			if key == "tier" {
				continue
			}
			cell, ok := got[target.Tier][key]
			switch {
			case !ok:
				t.Errorf("%s tier targets: no column %s", file, key)
			case v == nil && cell != "—":
				t.Errorf("%s: tier %d %s is %q, DefaultTierTargets has no target", file, target.Tier, key, cell)
			case v != nil && !sameValue(cell, strconv.FormatFloat(*v, 'g', -1, 64)):
				t.Errorf("%s: tier %d %s is %q, DefaultTierTargets has %v", file, target.Tier, key, cell, *v)
			}
		}
	}
}

// flatten renders each key of a segments value the way the docs table writes it: numbers, a
// band list as "name min, ...", a group as "key value, ...", an empty mapping as "none".
func flatten(v reflect.Value, path string, out map[string]string) string {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		var parts []string
		for i := 0; i < t.NumField(); i++ {
			tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			key := tag
			if path != "" {
				key = path + "." + tag
			}
			r := flatten(v.Field(i), key, out)
			out[key] = r
			parts = append(parts, tag+" "+r)
		}
		return strings.Join(parts, ", ")
	case reflect.Slice:
		var parts []string
		for i := 0; i < v.Len(); i++ {
			e := v.Index(i)
			if b, ok := e.Interface().(config.Band); ok {
				parts = append(parts, b.Name+" "+strconv.FormatFloat(b.Min, 'g', -1, 64))
			} else {
				parts = append(parts, fmt.Sprint(e.Interface()))
			}
		}
		return strings.Join(parts, ", ")
	case reflect.Map:
		if v.Len() == 0 {
			return "none"
		}
		return fmt.Sprint(v.Interface())
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}

// sameValue compares a documented default with a rendered one word by word, numbers by value
// (0.80 is 0.8).
func sameValue(doc, want string) bool {
	a := strings.Fields(strings.ReplaceAll(doc, ",", " "))
	b := strings.Fields(strings.ReplaceAll(want, ",", " "))
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, err1 := strconv.ParseFloat(a[i], 64)
		y, err2 := strconv.ParseFloat(b[i], 64)
		if err1 == nil && err2 == nil {
			if x != y {
				return false
			}
		} else if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sources.<name>.currency is an upper-case ISO code the run can report: the reporting currency
// or one with a rate; SourceCurrencies pairs each of the source's raw views with it.
func TestSourceCurrency(t *testing.T) {
	withCurrency := func(code, rates string) string {
		return strings.Replace(bare, "    vendor: demo\n", "    vendor: demo\n    currency: "+code+"\n", 1) + rates
	}
	for _, ok := range []struct{ code, rates string }{{"USD", ""}, {"EUR", "fx_rates: {EUR: 1.08}\n"}} {
		cfg, err := config.Parse("c.yaml", []byte(withCurrency(ok.code, ok.rates)), noEnv)
		if err != nil {
			t.Errorf("currency %s: %v", ok.code, err)
			continue
		}
		views, codes := cfg.SourceCurrencies()
		if fmt.Sprint(views, codes) != "[raw_demo__accounts] ["+ok.code+"]" {
			t.Errorf("SourceCurrencies = %v %v", views, codes)
		}
	}
	for _, bad := range []struct{ code, rates, want string }{
		{"eur", "fx_rates: {EUR: 1.08}\n", `c.yaml:6: sources.crm.currency: must be a three-letter upper-case ISO 4217 code such as EUR, got "eur"`},
		{"EURO", "", "sources.crm.currency: must be a three-letter"},
		{"GBP", "fx_rates: {EUR: 1.08}\n", "sources.crm.currency: GBP is neither the reporting currency (USD) nor in fx_rates"},
	} {
		_, err := config.Parse("c.yaml", []byte(withCurrency(bad.code, bad.rates)), noEnv)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("currency %s: want %q, got %v", bad.code, bad.want, err)
		}
	}
	cfg, err := config.Parse("c.yaml", []byte(bare), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if views, codes := cfg.SourceCurrencies(); len(views) != 0 || len(codes) != 0 || views == nil {
		t.Errorf("no source currency: %v %v, want two empty lists", views, codes)
	}
}

// segments.pipeline.price_list: named products with positive amounts, each once whatever its
// case and spacing; PriceListKeys gives them as deals are matched. lost_zero_amount_is_unknown
// is false unless set.
func TestPriceList(t *testing.T) {
	cfg, err := config.Parse("c.yaml", []byte(bare+"segments:\n  pipeline:\n    price_list: {Core: 12000, \" Add-on  Pack \": 2500.5}\n    lost_zero_amount_is_unknown: true\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	pl := cfg.Segments.Pipeline
	if products, amounts := pl.PriceListKeys(); fmt.Sprint(products, amounts) != "[add-on pack core] [2500.5 12000]" {
		t.Errorf("PriceListKeys = %q %v", products, amounts)
	}
	if !pl.LostZeroAmountIsUnknown || pl.InactiveDays != 14 {
		t.Errorf("pipeline = %+v", pl)
	}
	if config.DefaultSegments().Pipeline.LostZeroAmountIsUnknown || len(config.DefaultSegments().Pipeline.PriceList) != 0 {
		t.Error("the defaults must have no price list and keep a lost deal's 0")
	}
	for _, bad := range []struct{ list, want string }{
		{"{Core: 0}", "segments.pipeline.price_list.Core: must be a positive list amount in the reporting currency, got 0"},
		{"{Core: -5}", "segments.pipeline.price_list.Core: must be a positive"},
		{"{Core: 100, \"CORE \": 200}", `is the product "CORE " again`},
		{"{\" \": 100}", "a product needs a name"},
		{"{Core: lots}", "price_list"},
	} {
		_, err := config.Parse("c.yaml", []byte(bare+"segments:\n  pipeline:\n    price_list: "+bad.list+"\n"), noEnv)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("price_list %s: want %q, got %v", bad.list, bad.want, err)
		}
	}
}
