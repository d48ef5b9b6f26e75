package salesforce

import (
	"fmt"
	"strconv"
	"strings"
)

// How the demo company's values are written in Salesforce. sql/staging/salesforce/ maps them
// back; docs/vendors/salesforce.md lists every mapping.

// Industries maps a demo industry to a value of the standard Account.Industry picklist.
var Industries = map[string]string{
	"Software":      "Technology",
	"FinTech":       "Finance",
	"Healthcare":    "Healthcare",
	"Retail":        "Retail",
	"Manufacturing": "Manufacturing",
	"Education":     "Education",
	"Media":         "Media",
	"Logistics":     "Transportation",
}

// Stages maps a demo stage to a value of the standard Opportunity.StageName picklist (the
// default sales process).
var Stages = map[string]string{
	"prospecting": "Prospecting",
	"discovery":   "Qualification",
	"demo":        "Value Proposition",
	"proposal":    "Proposal/Price Quote",
	"negotiation": "Negotiation/Review",
	"closed_won":  "Closed Won",
	"closed_lost": "Closed Lost",
}

// Types maps a demo motion to Opportunity.Type: the standard values plus Renewal, a value
// most orgs add to the picklist.
var Types = map[string]string{
	"new_business": "New Customer",
	"expansion":    "Existing Customer - Upgrade",
	"renewal":      "Renewal",
}

// LeadSources maps a demo lead source to Opportunity.LeadSource: the standard Web and Partner
// Referral, plus Outbound and Campaign added to the picklist.
var LeadSources = map[string]string{
	"inbound":  "Web",
	"outbound": "Outbound",
	"partner":  "Partner Referral",
	"campaign": "Campaign",
}

// ForecastCategories maps a demo forecast category to Opportunity.ForecastCategoryName.
var ForecastCategories = map[string]string{
	"pipeline":  "Pipeline",
	"best_case": "Best Case",
	"commit":    "Commit",
	"closed":    "Closed",
}

// LossReasons maps a demo loss reason to the custom picklist Opportunity.Loss_Reason__c.
var LossReasons = map[string]string{
	"price":       "Price",
	"competitor":  "Competitor",
	"no_decision": "No Decision",
	"timing":      "Timing",
	"fit":         "Not a Fit",
}

// ActivityTypes maps a demo activity type to the custom picklist Opportunity.Last_Activity_Type__c.
var ActivityTypes = map[string]string{
	"meeting":  "Meeting",
	"demo":     "Demo",
	"proposal": "Proposal",
	"email":    "Email",
}

// StrategicReasons maps a demo strategic reason to a value of the custom multi-select picklist
// Account.Strategic_Reasons__c (values joined by ";" in the API).
var StrategicReasons = map[string]string{
	"brand":       "Brand",
	"reference":   "Reference",
	"influence":   "Influence",
	"partnership": "Partnership",
}

// Key prefixes of the 18-character record ids.
const (
	prefixOpportunity = "006"
	prefixUser        = "005"
	prefixJob         = "750"
)

// recordID formats an 18-character id: 3-character key prefix, 12 digits, AAA (the demo's
// stand-in for the case-safety suffix).
func recordID(prefix string, n int64) string { return fmt.Sprintf("%s%012dAAA", prefix, n) }

// OpportunityID is the Salesforce Opportunity Id of a demo opportunity: opp_000123 ->
// 006000000000123AAA.
func OpportunityID(oppID string) string {
	s, ok := strings.CutPrefix(oppID, "opp_")
	if !ok {
		return oppID
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return oppID
	}
	return recordID(prefixOpportunity, n)
}

// UserID is the User Id of the i-th owner (0-based) in name order.
func UserID(i int) string { return recordID(prefixUser, int64(i+1)) }
