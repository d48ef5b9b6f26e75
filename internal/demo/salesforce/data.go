package salesforce

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/demo"
)

// fieldKind is a Salesforce field type, as far as SOQL filters and CSV text care.
type fieldKind uint8

const (
	kindString fieldKind = iota // string, picklist, multipicklist, textarea, id, reference
	kindBool
	kindNumber // int, double, currency, percent
	kindDate
	kindDateTime
)

func (k fieldKind) String() string {
	return [...]string{"string", "boolean", "double", "date", "dateTime"}[k]
}

// field is one queryable field: a field of the object or a parent relationship field such as
// Owner.Name.
type field struct {
	name string
	kind fieldKind
}

// sobject is one object type and its records: values as the CSV shows them ("" is null), in
// field order.
type sobject struct {
	name    string
	fields  []field
	byLower map[string]int
	records [][]string
	ids     map[string]int // Id -> record
}

// CSV formats of Salesforce dates and datetimes.
const (
	dateTimeLayout = "2006-01-02T15:04:05.000Z"
	dateLayout     = "2006-01-02"
)

func newSObject(name string, fields ...field) *sobject {
	o := &sobject{name: name, fields: fields, byLower: map[string]int{}, ids: map[string]int{}}
	for i, f := range fields {
		o.byLower[strings.ToLower(f.name)] = i
	}
	return o
}

// add appends a record given as field name -> CSV text.
func (o *sobject) add(values map[string]string) {
	rec := make([]string, len(o.fields))
	for name, v := range values {
		i, ok := o.byLower[strings.ToLower(name)]
		if !ok {
			panic("salesforce fake: " + o.name + " has no field " + name) // a bug in this file
		}
		rec[i] = v
	}
	o.ids[rec[0]] = len(o.records)
	o.records = append(o.records, rec)
}

// field returns the field named name (case-insensitive) and its position.
func (o *sobject) field(name string) (field, int, bool) {
	i, ok := o.byLower[strings.ToLower(name)]
	if !ok {
		return field{}, 0, false
	}
	return o.fields[i], i, true
}

func dt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateTimeLayout)
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateLayout)
}

func number(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// The fields every object has.
var systemFields = []field{
	{"Id", kindString}, {"IsDeleted", kindBool}, {"CreatedDate", kindDateTime},
	{"LastModifiedDate", kindDateTime}, {"SystemModstamp", kindDateTime},
}

func withSystem(fields ...field) []field { return slices.Concat(systemFields, fields) }

// buildOrg makes the Account, Opportunity and User objects of the demo company.
func buildOrg(c *demo.Company) map[string]*sobject {
	users := newSObject("User", withSystem(
		field{"Name", kindString}, field{"FirstName", kindString}, field{"LastName", kindString},
		field{"Email", kindString}, field{"Username", kindString}, field{"IsActive", kindBool})...)
	seen := map[string]bool{}
	for _, a := range c.Accounts {
		seen[a.Owner] = true
	}
	for _, o := range c.Opportunities {
		seen[o.Owner] = true
	}
	delete(seen, "")
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	userIDs := map[string]string{}
	for i, n := range names {
		first, last, _ := strings.Cut(n, " ")
		email := strings.ToLower(first+"."+strings.ReplaceAll(last, " ", "")) + "@demo-company.example"
		id := UserID(i)
		userIDs[n] = id
		users.add(map[string]string{
			"Id": id, "IsDeleted": "false", "CreatedDate": dt(c.Start), "LastModifiedDate": dt(c.Start),
			"SystemModstamp": dt(c.Start), "Name": n, "FirstName": first, "LastName": last, "Email": email,
			"Username": email, "IsActive": "true",
		})
	}

	accounts := newSObject("Account", withSystem(
		field{"Name", kindString}, field{"Type", kindString}, field{"Industry", kindString},
		field{"NumberOfEmployees", kindNumber}, field{"AnnualRevenue", kindNumber},
		field{"CurrencyIsoCode", kindString}, field{"BillingCountry", kindString}, field{"Website", kindString},
		field{"OwnerId", kindString}, field{"Owner.Name", kindString}, field{"Region__c", kindString},
		field{"Strategic__c", kindBool}, field{"Strategic_Reasons__c", kindString})...)
	customers := map[string]bool{}
	for _, o := range c.Opportunities {
		if o.IsWon {
			customers[o.AccountID] = true
		}
	}
	for _, a := range c.Accounts {
		country := demo.CountryNames[a.Country]
		if country == "" {
			country = a.Country
		}
		typ := "Prospect"
		if customers[a.ID] {
			typ = "Customer - Direct"
		}
		var reasons []string
		for _, r := range strings.Split(a.StrategicReasons, ";") {
			if v, ok := StrategicReasons[r]; ok {
				reasons = append(reasons, v)
			}
		}
		accounts.add(map[string]string{
			"Id": a.ID, "IsDeleted": "false", "CreatedDate": dt(a.CreatedAt), "LastModifiedDate": dt(a.UpdatedAt),
			"SystemModstamp": dt(a.UpdatedAt), "Name": a.Name, "Type": typ, "Industry": Industries[a.Industry],
			"NumberOfEmployees": strconv.Itoa(a.EmployeeCount), "AnnualRevenue": number(a.AnnualRevenue),
			"CurrencyIsoCode": "USD", "BillingCountry": country, "Website": "www." + demo.WebDomain(a.Name),
			"OwnerId": userIDs[a.Owner], "Owner.Name": a.Owner, "Region__c": a.Region,
			"Strategic__c": strconv.FormatBool(a.IsStrategic), "Strategic_Reasons__c": strings.Join(reasons, ";"),
		})
	}

	opps := newSObject("Opportunity", withSystem(
		field{"AccountId", kindString}, field{"Name", kindString}, field{"Amount", kindNumber},
		field{"CurrencyIsoCode", kindString}, field{"StageName", kindString}, field{"Probability", kindNumber},
		field{"IsClosed", kindBool}, field{"IsWon", kindBool}, field{"Type", kindString},
		field{"LeadSource", kindString}, field{"ForecastCategoryName", kindString}, field{"CloseDate", kindDate},
		field{"LastStageChangeDate", kindDateTime}, field{"LastActivityDate", kindDate},
		field{"OwnerId", kindString}, field{"Owner.Name", kindString}, field{"Product_Line__c", kindString},
		field{"Loss_Reason__c", kindString}, field{"Last_Activity_Type__c", kindString})...)
	for _, o := range c.Opportunities {
		closeDate := o.CreatedAt.AddDate(0, 0, 90) // the expected close date of an open deal
		if o.ClosedAt != nil {
			closeDate = *o.ClosedAt
		}
		stageChange := o.StageEnteredAt
		if stageChange.Equal(o.CreatedAt) {
			stageChange = time.Time{} // still in the stage it was created in: never changed
		}
		loss := ""
		if o.LossReason != nil {
			loss = LossReasons[*o.LossReason]
		}
		opps.add(map[string]string{
			"Id": OpportunityID(o.ID), "IsDeleted": "false", "CreatedDate": dt(o.CreatedAt),
			"LastModifiedDate": dt(o.UpdatedAt), "SystemModstamp": dt(o.UpdatedAt), "AccountId": o.AccountID,
			"Name": o.Name, "Amount": number(o.Amount), "CurrencyIsoCode": o.Currency,
			"StageName": Stages[o.Stage], "Probability": stageProbability[o.Stage],
			"IsClosed": strconv.FormatBool(o.IsClosed), "IsWon": strconv.FormatBool(o.IsClosed && o.IsWon),
			"Type": Types[o.Motion], "LeadSource": LeadSources[o.LeadSource],
			"ForecastCategoryName": ForecastCategories[o.ForecastCategory], "CloseDate": date(closeDate),
			"LastStageChangeDate": dt(stageChange), "LastActivityDate": date(o.LastActivityAt),
			"OwnerId": userIDs[o.Owner], "Owner.Name": o.Owner, "Product_Line__c": o.Product,
			"Loss_Reason__c": loss, "Last_Activity_Type__c": ActivityTypes[o.LastActivityType],
		})
	}
	slices.SortStableFunc(opps.records, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	for i, r := range opps.records {
		opps.ids[r[0]] = i
	}
	return map[string]*sobject{"account": accounts, "opportunity": opps, "user": users}
}

// stageProbability is the default probability of each stage of the default sales process.
var stageProbability = map[string]string{
	"prospecting": "10", "discovery": "10", "demo": "50", "proposal": "75", "negotiation": "90",
	"closed_won": "100", "closed_lost": "0",
}
