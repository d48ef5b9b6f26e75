package config

import (
	"math"
	"reflect"
	"strings"
)

// DefaultSegments is the segments block a config gets for every key it leaves out: the
// defaults docs/configuration.md lists, which are domain.md's thresholds (config/segpipe.yaml
// spells out the same values).
func DefaultSegments() Segments {
	return Segments{
		SizeBands: []Band{{Name: "SMB", Min: 1}, {Name: "Mid-market", Min: 200}, {Name: "Enterprise", Min: 2000}},
		ARRBands:  []Band{{Name: "SMB", Min: 0}, {Name: "Mid-market", Min: 25000}, {Name: "Enterprise", Min: 100000}},
		Adoption:  Adoption{EarlyDays: 90, MatureMonths: 12},
		LTV: LTV{Method: "predictive", GrossMargin: 0.80, LifetimeCapMonths: 60, ChurnWindowMonths: 6,
			ChurnSegment: "size_band"},
		ICP: ICP{MinTenureMonths: 12, MinLift: 1.5, MinCustomers: 5, MinFit: 0.5,
			EmployeeRanges: []float64{1, 20, 50, 200, 500, 2000}},
		Tiers: Tiers{Tier1ARR: 100000, Tier1StrategicARR: 50000, Tier1GrowthARR: 75000, Tier2MinARR: 25000,
			Tier3MinARR: 5000, HighGrowthMultiple: 3, MediumGrowthMultiple: 1.5, AddressableSeatShare: 0.5,
			DefaultRenewalMonths: 12,
			ScoreWeights:         TierScoreWeights{ARR: 0.4, Growth: 0.3, Strategic: 0.2, Health: 0.1},
			Targets:              DefaultTierTargets()},
		Pipeline: Pipeline{
			DealSizeTiers: []Band{{Name: "SMB", Min: 0}, {Name: "Mid-market", Min: 25000}, {Name: "Enterprise", Min: 150000}},
			InactiveDays:  14, AgingPercentile: 0.75, StalledPercentile: 0.90},
		Validation: Validation{MinSegmentSize: 30, Alpha: 0.05},
		Usage: UsageRules{WindowMonths: 3, PowerMinActiveShare: 0.6, PowerMinFeatures: 8,
			RegularMinActiveShare: 0.25, OccasionalMinActiveShare: 0.05},
		Support:   SupportRule{WindowDays: 90, HighTicketsPerMonth: 2, SelfSufficientTicketsPerMonth: 0.2},
		ChurnRisk: ChurnRisk{UsageDrop: 0.30, FeatureDrop: 0.30, TicketRise: 2, MinProblemTickets: 2, LowCSAT: 3, HighFlags: 2},
		Expansion: Expansion{SeatLimitShare: 0.9, UsageGrowth: 0.2, EmployeesPerSeat: 10},
		Health:    Health{UsageWeight: 0.5, SupportWeight: 0.2, RiskWeight: 0.3},
		Metrics:   Metrics{CACWindowMonths: 12, TrendQuarters: 8},
	}
}

// defaultSegments gives every segments key the file leaves out its DefaultSegments value. A
// key the file sets is kept as written, 0 included (a tier3_min_arr of 0, a min_tenure_months
// of 0). Nested mappings (ltv, tiers.score_weights, ...) are filled key by key; a list (bands,
// tier targets) or a mapping of names (price_list) is one value, taken whole or not at all.
func (p *parser) defaultSegments(s *Segments) {
	fillAbsent(reflect.ValueOf(s).Elem(), reflect.ValueOf(DefaultSegments()), "segments", func(key string) bool {
		_, ok := p.lines[key]
		return ok
	})
}

func fillAbsent(dst, def reflect.Value, path string, present func(string) bool) {
	t := dst.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		key := path + "." + tag
		if f := dst.Field(i); f.Kind() == reflect.Struct {
			fillAbsent(f, def.Field(i), key, present)
		} else if !present(key) {
			f.Set(def.Field(i))
		}
	}
}

// validateSourceCurrency checks sources.<name>.currency: an ISO code every amount can be
// reported from, the reporting currency or one with a rate in fx_rates.
func (p *parser) validateSourceCurrency(name string, s *Source, c *Config) {
	if s.Currency == "" {
		return
	}
	key := "sources." + name + ".currency"
	if !currencyCode.MatchString(s.Currency) {
		p.add(key, "must be a three-letter upper-case ISO 4217 code such as EUR, got %q", s.Currency)
		return
	}
	if _, ok := c.FXRates[s.Currency]; s.Currency != c.Currency && !ok {
		p.add(key, "%s is neither the reporting currency (%s) nor in fx_rates: its amounts could not be converted", s.Currency, c.Currency)
	}
}

// SourceCurrencies pairs the raw view of every entity of a source that names a currency with
// that currency (sources.<name>.currency), in source and entity name order: staging reads a
// record without a currency in it (sql/prelude.sql, source_currency).
func (c *Config) SourceCurrencies() (views, codes []string) {
	views, codes = []string{}, []string{}
	for _, name := range c.SourceNames() {
		s := c.Sources[name]
		if s == nil || s.Currency == "" {
			continue
		}
		for _, e := range s.EntityNames() {
			views = append(views, c.ViewOf(name, e))
			codes = append(codes, s.Currency)
		}
	}
	return views, codes
}

// validatePriceList checks segments.pipeline.price_list: named products, each once whatever
// its case and spacing (deals match it so), with a positive list amount.
func (p *parser) validatePriceList(key string, prices map[string]float64) {
	seen := map[string]string{}
	for _, product := range sortedKeys(prices) {
		pk := key + "." + product
		norm := PriceListKey(product)
		if norm == "" {
			p.add(pk, "a product needs a name")
			continue
		}
		if other, dup := seen[norm]; dup {
			p.add(pk, "is the product %q again (products match whatever their case and spacing)", other)
		}
		seen[norm] = product
		if v := prices[product]; !(v > 0) || math.IsInf(v, 0) {
			p.add(pk, "must be a positive list amount in the reporting currency, got %v", v)
		}
	}
}

// PriceListKey is how a product is matched against the price list: trimmed, lower case, inner
// spaces collapsed (as sql/intermediate/int_opportunities.sql matches a deal's product).
func PriceListKey(product string) string {
	return strings.ToLower(strings.Join(strings.Fields(product), " "))
}

// PriceListKeys returns segments.pipeline.price_list as parallel lists of product keys
// (PriceListKey) and list amounts, in key order.
func (pl Pipeline) PriceListKeys() (products []string, amounts []float64) {
	products, amounts = []string{}, []float64{}
	byKey := map[string]float64{}
	for product, v := range pl.PriceList {
		byKey[PriceListKey(product)] = v
	}
	for _, k := range sortedKeys(byKey) {
		products = append(products, k)
		amounts = append(amounts, byKey[k])
	}
	return products, amounts
}
