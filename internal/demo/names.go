package demo

import (
	"math/rand/v2"
	"strings"
)

// namePrefixes are the first words of company names.
var namePrefixes = []string{
	"Acme", "Northwind", "Bluepeak", "Silverline", "Redwood", "Brightwave", "Ironclad", "Summit",
	"Clearwater", "Evergreen", "Falcon", "Granite", "Harbor", "Horizon", "Juniper", "Keystone",
	"Lakeside", "Maple", "Meridian", "Nimbus", "Oakridge", "Orbit", "Pinnacle", "Quartz",
	"Riverstone", "Sable", "Sequoia", "Skyline", "Stonebridge", "Sunrise", "Tidal", "Trailhead",
	"Vantage", "Vertex", "Willow", "Zenith", "Aurora", "Beacon", "Cobalt", "Crescent",
	"Delta", "Ember", "Fjord", "Glacier", "Helix", "Indigo", "Kestrel", "Lumen",
	"Magnolia", "Nova", "Onyx", "Polaris", "Radiant", "Sierra", "Terra", "Umber",
}

// industryWords are the second words of company names, by industry.
var industryWords = map[string][]string{
	"Software":      {"Labs", "Software", "Systems", "Cloud", "Digital", "Apps"},
	"FinTech":       {"Pay", "Capital", "Ledger", "Finance", "Payments", "Lending"},
	"Healthcare":    {"Health", "Care", "Medical", "Clinics", "Diagnostics", "Bio"},
	"Retail":        {"Goods", "Market", "Stores", "Outfitters", "Supply", "Boutique"},
	"Manufacturing": {"Industries", "Works", "Fabrication", "Components", "Machining", "Plastics"},
	"Education":     {"Learning", "Academy", "Education", "Tutors", "Campus", "Schools"},
	"Media":         {"Media", "Studios", "Publishing", "Broadcast", "Creative", "Press"},
	"Logistics":     {"Freight", "Logistics", "Shipping", "Transport", "Cargo", "Fleet"},
}

// countries by region with weights.
var regionCountries = map[string]struct {
	codes   []string
	weights []float64
}{
	"NA":    {[]string{"US", "CA"}, []float64{85, 15}},
	"EMEA":  {[]string{"GB", "DE", "FR", "NL", "SE", "ES", "IT", "IE", "PL", "IL", "AE", "ZA"}, []float64{24, 20, 14, 8, 5, 6, 6, 4, 4, 4, 3, 2}},
	"APAC":  {[]string{"AU", "JP", "SG", "IN", "NZ", "KR"}, []float64{30, 20, 15, 20, 8, 7}},
	"LATAM": {[]string{"BR", "MX", "AR", "CO", "CL"}, []float64{40, 28, 12, 10, 10}},
}

// legalSuffix is the company-form suffix by country.
var legalSuffix = map[string]string{
	"US": "Inc.", "CA": "Inc.", "GB": "Ltd", "IE": "Ltd", "DE": "GmbH", "FR": "SAS", "NL": "B.V.",
	"SE": "AB", "ES": "S.L.", "IT": "S.r.l.", "PL": "Sp. z o.o.", "IL": "Ltd", "AE": "LLC", "ZA": "(Pty) Ltd",
	"AU": "Pty Ltd", "JP": "K.K.", "SG": "Pte. Ltd.", "IN": "Pvt. Ltd.", "NZ": "Ltd", "KR": "Co., Ltd.",
	"BR": "Ltda.", "MX": "S.A. de C.V.", "AR": "S.A.", "CO": "S.A.S.", "CL": "SpA",
}

// regionOwners are the account executives of each region.
var regionOwners = map[string][]string{
	"NA":    {"Dana Kim", "Marcus Reed", "Priya Shah", "Tom Alvarez", "Jen Walsh", "Chris Okafor", "Lena Park", "Sam Brooks"},
	"EMEA":  {"Sophie Martin", "Jonas Weber", "Aoife Byrne", "Luca Bianchi", "Marta Nowak", "Noa Levi"},
	"APAC":  {"Kenji Sato", "Mei Lin", "Arjun Rao", "Olivia Hart"},
	"LATAM": {"Camila Souza", "Diego Ramirez", "Valentina Cruz"},
}

// strategicReasonNames are the possible strategic reasons, in their export order.
var strategicReasonNames = []string{"brand", "reference", "influence", "partnership"}

// companyName builds a company name such as "Bluepeak Payments GmbH".
func companyName(r *rand.Rand, industry, country string) string {
	words := industryWords[industry]
	var b strings.Builder
	b.WriteString(namePrefixes[r.IntN(len(namePrefixes))])
	b.WriteByte(' ')
	b.WriteString(words[r.IntN(len(words))])
	if s := legalSuffix[country]; s != "" {
		b.WriteByte(' ')
		b.WriteString(s)
	}
	return b.String()
}

// strategicReasons draws a non-empty subset of the strategic reasons, joined by ";".
func strategicReasons(r *rand.Rand) string {
	var picked []string
	for len(picked) == 0 {
		for _, s := range strategicReasonNames {
			if chance(r, 0.4) {
				picked = append(picked, s)
			}
		}
	}
	return strings.Join(picked, ";")
}
