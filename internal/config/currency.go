package config

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
