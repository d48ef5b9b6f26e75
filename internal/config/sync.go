package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sync configures `segpipe run sync`: the published segments written back to the CRM the
// accounts came from (docs/sync.md).
type Sync struct {
	// Target names the source (under sources) whose CRM receives the segments: its vendor
	// (hubspot or salesforce) says how, its base_url and auth where. "" means no sync.
	Target string `yaml:"target"`
	// Auth, when its type is set, replaces the target source's auth for the sync's calls (a
	// token with write scopes, kept apart from the read-only extract token).
	Auth Auth `yaml:"auth"`
	// MaxChangedShare stops a sync that would change the values of more than this share of
	// the records already synced (default 0.3), unless forced; 1 turns the bound off.
	MaxChangedShare float64 `yaml:"max_changed_share"`
	// Accounts maps each account field (SyncFields) to its CRM field name; a field left out
	// takes the vendor's default name, one mapped to "" is not written.
	Accounts map[string]string `yaml:"accounts"`
	// Deals does the same for the open deals' fields.
	Deals map[string]string `yaml:"deals"`
	// PropertyGroup is the HubSpot property group the properties are created in (default segpipe).
	PropertyGroup string `yaml:"property_group"`
	// APIVersion is the Salesforce REST API version of the ingest jobs (default v60.0).
	APIVersion string `yaml:"api_version"`
	// PollInterval is the wait between polls of a Salesforce ingest job (default 5s).
	PollInterval Duration `yaml:"poll_interval"`
	// JobTimeout bounds the wait for one Salesforce ingest job to finish (default 30m).
	JobTimeout Duration `yaml:"job_timeout"`
}

// The objects a sync writes.
const (
	SyncAccount = "account"
	SyncDeal    = "deal"
)

// The kinds of value a synced field holds (the CRM field's type follows from it).
const (
	SyncText   = "text"   // free text
	SyncEnum   = "enum"   // one of Options
	SyncNumber = "number" // a decimal number
	SyncDate   = "date"   // YYYY-MM-DD
)

// SyncField is one segment value the sync can write, for every account or every open deal.
type SyncField struct {
	// Name is the config key under sync.accounts or sync.deals.
	Name string
	// Object is SyncAccount or SyncDeal.
	Object string
	// Kind is SyncText, SyncEnum, SyncNumber or SyncDate.
	Kind string
	// Label is the CRM field's label when segpipe creates it.
	Label string
	// Table is the published mart the value comes from.
	Table string
	// Hashed is false for a field written with every change but not itself a change (the
	// segment_as_of date moves every night).
	Hashed bool
	// NeedsBilling marks a value only a billing source can give: without one (every account's
	// customer_status unknown) the field is not written rather than cleared.
	NeedsBilling bool
	// Options are an enumeration's values, in order; nil for other kinds.
	Options func(c *Config) []string
	// Meaning says what the value is, for docs/sync.md.
	Meaning string
}

// TierNames are the customer-success tier names of tier_assignments.tier_name.
var TierNames = []string{"Tier 1 (Strategic)", "Tier 2 (Core)", "Tier 3 (Scale)", "Tier 4 (Tech-touch)"}

func fixed(values ...string) func(*Config) []string { return func(*Config) []string { return values } }

func bandNames(get func(*Segments) []Band, extra ...string) func(*Config) []string {
	return func(c *Config) []string {
		var out []string
		for _, b := range get(&c.Segments) {
			out = append(out, b.Name)
		}
		return append(out, extra...)
	}
}

// SyncFields is every field a sync can write, accounts first, in the order they are written.
var SyncFields = []SyncField{
	{Name: "size_band", Object: SyncAccount, Kind: SyncEnum, Label: "Size band", Table: "account_segments", Hashed: true,
		Options: bandNames(func(s *Segments) []Band { return s.SizeBands }, "Unknown"), Meaning: "account_segments.size_band"},
	{Name: "arr_band", Object: SyncAccount, NeedsBilling: true, Kind: SyncEnum, Label: "ARR band", Table: "account_segments", Hashed: true,
		Options: bandNames(func(s *Segments) []Band { return s.ARRBands }), Meaning: "account_segments.arr_band (active customers; cleared otherwise)"},
	{Name: "ltv_quintile", Object: SyncAccount, NeedsBilling: true, Kind: SyncNumber, Label: "LTV quintile", Table: "account_segments", Hashed: true,
		Meaning: "account_segments.ltv_quintile, 1 = the top 20% (customers; cleared for trialing accounts and prospects)"},
	{Name: "cs_tier", Object: SyncAccount, NeedsBilling: true, Kind: SyncEnum, Label: "Customer-success tier", Table: "tier_assignments", Hashed: true,
		Options: fixed(TierNames...), Meaning: "tier_assignments.tier_name (active customers; cleared otherwise)"},
	{Name: "icp_fit_score", Object: SyncAccount, Kind: SyncNumber, Label: "ICP fit score", Table: "account_segments", Hashed: true,
		Meaning: "account_segments.icp_fit_score rounded to 4 decimals, 0-1 (cleared when nothing can be scored)"},
	{Name: "icp_fit_grade", Object: SyncAccount, Kind: SyncEnum, Label: "ICP fit grade", Table: "account_segments", Hashed: true,
		Options: fixed("icp", "neutral", "anti_icp"),
		Meaning: "anti_icp when is_anti_icp; icp when is_icp; neutral when scored and neither; cleared when nothing can be scored"},
	{Name: "churn_risk", Object: SyncAccount, NeedsBilling: true, Kind: SyncEnum, Label: "Churn risk", Table: "account_segments", Hashed: true,
		Options: fixed("high", "medium", "low", "unknown"), Meaning: "account_segments.churn_risk (active customers; cleared otherwise)"},
	{Name: "usage_intensity", Object: SyncAccount, NeedsBilling: true, Kind: SyncEnum, Label: "Usage intensity", Table: "account_segments", Hashed: true,
		Options: fixed("power", "regular", "occasional", "inactive", "unknown"), Meaning: "account_segments.usage_intensity (active customers; cleared otherwise)"},
	{Name: "segment_as_of", Object: SyncAccount, Kind: SyncDate, Label: "Segments as of", Table: "account_segments", Hashed: false,
		Meaning: "the as_of of the release that last changed this account's values"},
	{Name: "fit_score", Object: SyncDeal, Kind: SyncNumber, Label: "Deal ICP fit score", Table: "prospect_fit", Hashed: true,
		Meaning: "prospect_fit.icp_fit_score (its account's) rounded to 4 decimals (cleared without a scored account)"},
	{Name: "recommendation", Object: SyncDeal, Kind: SyncEnum, Label: "Deal fit recommendation", Table: "prospect_fit", Hashed: true,
		Options: fixed("pursue", "review", "avoid"), Meaning: "prospect_fit.recommendation"},
	{Name: "segment_as_of", Object: SyncDeal, Kind: SyncDate, Label: "Deal fit as of", Table: "prospect_fit", Hashed: false,
		Meaning: "the as_of of the release that last changed this deal's values"},
}

// SyncVendors are the CRM vendors a sync can write to.
var SyncVendors = []string{"hubspot", "salesforce"}

// DefaultSyncName is the CRM field name a vendor's sync uses for a field when the config maps
// none: segpipe_size_band on HubSpot, Segpipe_Size_Band__c on Salesforce.
func DefaultSyncName(vendor string, f SyncField) string {
	name := f.Name
	if f.Object == SyncDeal && f.Name != "segment_as_of" {
		name = "deal_" + name
	}
	if vendor == "salesforce" {
		parts := strings.Split(name, "_")
		for i, p := range parts {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
		return "Segpipe_" + strings.Join(parts, "_") + "__c"
	}
	return "segpipe_" + name
}

// SyncMapping is one field the sync writes and the CRM field it writes it to.
type SyncMapping struct {
	Field   SyncField
	CRMName string
}

// SyncMappings returns the fields the config's sync writes, in SyncFields order: every field
// under its configured name or the vendor's default, less those mapped to "".
func (c *Config) SyncMappings() []SyncMapping {
	src := c.Sources[c.Sync.Target]
	if src == nil {
		return nil
	}
	var out []SyncMapping
	for _, f := range SyncFields {
		m := c.Sync.Accounts
		if f.Object == SyncDeal {
			m = c.Sync.Deals
		}
		name, set := m[f.Name]
		if !set {
			name = DefaultSyncName(src.Vendor, f)
		}
		if name == "" {
			continue
		}
		out = append(out, SyncMapping{Field: f, CRMName: name})
	}
	return out
}

// SyncAuth is the auth of the sync's calls: sync.auth when its type is set, else the target
// source's.
func (c *Config) SyncAuth() Auth {
	if c.Sync.Auth.Type != "" {
		return c.Sync.Auth
	}
	if src := c.Sources[c.Sync.Target]; src != nil {
		return src.Auth
	}
	return Auth{}
}

func (c *Config) applySyncDefaults() {
	s := &c.Sync
	if s.MaxChangedShare == 0 {
		s.MaxChangedShare = 0.3
	}
	if s.PropertyGroup == "" {
		s.PropertyGroup = "segpipe"
	}
	if s.APIVersion == "" {
		s.APIVersion = "v60.0"
	}
	if s.PollInterval == 0 {
		s.PollInterval = Duration(5 * time.Second)
	}
	if s.JobTimeout == 0 {
		s.JobTimeout = Duration(30 * time.Minute)
	}
}

func (p *parser) validateSync(c *Config) {
	s := &c.Sync
	if s.Target == "" {
		if _, scheduled := c.Schedule["sync"]; scheduled {
			p.add("schedule.sync", "a sync needs sync.target: the source whose CRM receives the segments")
		}
		if len(s.Accounts)+len(s.Deals) > 0 {
			p.add("sync.target", "name the source whose CRM receives the fields (sync.accounts and sync.deals are set)")
		}
		return
	}
	src := c.Sources[s.Target]
	switch {
	case src == nil:
		p.add("sync.target", "no source %q (sources: %s)", s.Target, strings.Join(c.SourceNames(), ", "))
		return
	case !slices.Contains(SyncVendors, src.Vendor):
		p.add("sync.target", "source %q is vendor %q: a sync writes to %s", s.Target, src.Vendor, strings.Join(SyncVendors, " or "))
		return
	}
	if !(s.MaxChangedShare > 0 && s.MaxChangedShare <= 1) {
		p.add("sync.max_changed_share", "must be a share above 0 and at most 1 (1 turns the bound off), got %v", s.MaxChangedShare)
	}
	if s.Auth.Type != "" {
		p.validateAuth("sync.auth", &s.Auth)
	}
	if s.PollInterval < 0 || s.JobTimeout < 0 {
		p.add("sync.poll_interval", "poll_interval and job_timeout must be positive")
	}
	if !strings.HasPrefix(s.APIVersion, "v") {
		p.add("sync.api_version", "must look like v60.0, got %q", s.APIVersion)
	}
	seen := map[string]string{}
	for _, obj := range []struct {
		key    string
		object string
		m      map[string]string
	}{{"sync.accounts", SyncAccount, s.Accounts}, {"sync.deals", SyncDeal, s.Deals}} {
		var known []string
		for _, f := range SyncFields {
			if f.Object == obj.object {
				known = append(known, f.Name)
			}
		}
		for _, k := range sortedKeys(obj.m) {
			if !slices.Contains(known, k) {
				p.add(obj.key+"."+k, "unknown field (fields: %s)", strings.Join(known, ", "))
				continue
			}
			if msg := syncNameProblem(src.Vendor, obj.m[k]); msg != "" {
				p.add(obj.key+"."+k, "%s", msg)
			}
		}
	}
	for _, m := range c.SyncMappings() {
		key := m.Field.Object + "/" + strings.ToLower(m.CRMName)
		if other, dup := seen[key]; dup {
			p.add("sync", "%s fields %s and %s both write %s", m.Field.Object, other, m.Field.Name, m.CRMName)
		}
		seen[key] = m.Field.Name
	}
}

// syncNameProblem says what is wrong with a CRM field name for a vendor ("" when nothing).
func syncNameProblem(vendor, name string) string {
	if name == "" {
		return ""
	}
	switch vendor {
	case "hubspot":
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				return fmt.Sprintf("HubSpot property names are lower-case letters, digits and _, got %q", name)
			}
		}
		if strings.HasPrefix(name, "hs_") {
			return fmt.Sprintf("%q: names starting hs_ are HubSpot's own", name)
		}
	case "salesforce":
		if !strings.HasSuffix(name, "__c") {
			return fmt.Sprintf("%q: a Salesforce custom field's API name ends in __c", name)
		}
		for _, r := range strings.TrimSuffix(name, "__c") {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
				return fmt.Sprintf("%q: a Salesforce API name is letters, digits and _", name)
			}
		}
	}
	return ""
}
