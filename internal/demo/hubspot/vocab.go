package hubspot

import (
	"strconv"
	"strings"
)

// How the demo company's values are written in HubSpot. sql/staging/hubspot/ maps them back;
// docs/vendors/hubspot.md lists every mapping.

// Industries maps a demo industry to the value of HubSpot's company property industry (an
// enumeration of the LinkedIn industry list; the API returns the internal value).
var Industries = map[string]string{
	"Software":      "COMPUTER_SOFTWARE",
	"FinTech":       "FINANCIAL_SERVICES",
	"Healthcare":    "HOSPITAL_HEALTH_CARE",
	"Retail":        "RETAIL",
	"Manufacturing": "MACHINERY",
	"Education":     "EDUCATION_MANAGEMENT",
	"Media":         "MEDIA_PRODUCTION",
	"Logistics":     "LOGISTICS_AND_SUPPLY_CHAIN",
}

// DealStages maps a demo stage to the stage id of HubSpot's default sales pipeline (property
// dealstage, pipeline "default").
var DealStages = map[string]string{
	"prospecting": "appointmentscheduled",
	"discovery":   "qualifiedtobuy",
	"demo":        "presentationscheduled",
	"proposal":    "decisionmakerboughtin",
	"negotiation": "contractsent",
	"closed_won":  "closedwon",
	"closed_lost": "closedlost",
}

// ForecastCategories maps a demo forecast category to HubSpot's hs_manual_forecast_category
// ("Forecast category": OMIT, PIPELINE, BEST_CASE, COMMIT, CLOSED).
var ForecastCategories = map[string]string{
	"pipeline":  "PIPELINE",
	"best_case": "BEST_CASE",
	"commit":    "COMMIT",
	"closed":    "CLOSED",
}

// LossReasons maps a demo loss reason to the text a rep types into HubSpot's free-text
// closed_lost_reason.
var LossReasons = map[string]string{
	"price":       "Price",
	"competitor":  "Competitor",
	"no_decision": "No decision",
	"timing":      "Timing",
	"fit":         "Not a fit",
}

// Custom properties the demo portal defines for what HubSpot has no native property for.
// Their internal option values are segpipe's canonical values.
const (
	// PropMotion is the deal's sales motion: new_business, expansion or renewal (dropdown).
	PropMotion = "deal_motion"
	// PropLeadSource is where the deal came from: inbound, outbound, partner, campaign (dropdown).
	PropLeadSource = "lead_source"
	// PropProduct is the product line the deal sells (dropdown: Core, Analytics, Automation).
	PropProduct = "product_line"
	// PropLastActivityType is the kind of the last activity: meeting, demo, proposal, email.
	PropLastActivityType = "last_activity_type"
	// PropStrategic flags a strategic account (single checkbox: "true"/"false").
	PropStrategic = "strategic_account"
	// PropStrategicReasons says why (multiple checkboxes: brand;reference;influence;partnership).
	PropStrategicReasons = "strategic_reasons"
)

// DealID is the HubSpot deal id of a demo opportunity: opp_000123 -> 12000000123.
func DealID(oppID string) string {
	if n, ok := serial(oppID, "opp_"); ok {
		return strconv.FormatInt(12_000_000_000+n, 10)
	}
	return oppID
}

// OwnerID is the HubSpot owner id of the i-th owner (0-based) in name order.
func OwnerID(i int) string { return strconv.Itoa(41_000_001 + i) }

// serial reads the number of a demo id such as opp_000123.
func serial(id, prefix string) (int64, bool) {
	s, ok := strings.CutPrefix(id, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}
