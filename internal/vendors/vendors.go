// Package vendors is the registry of the systems segpipe reads in their own wire shape: one
// entry per vendor, naming the kinds of data it holds and the files that support it (preset,
// staging SQL, docs page, example config). It also builds and parses the names of the raw
// views staging reads, raw_<vendor>__<entity>. It imports nothing of segpipe's, so config,
// warehouse, jobs and the demo can all read it.
package vendors

import (
	"regexp"
	"slices"
	"strings"
)

// Kind is a part of the customer's business a vendor's exports hold.
type Kind string

// The kinds of vendor; the example configs name their sources after them.
const (
	CRM     Kind = "crm"
	Billing Kind = "billing"
	Support Kind = "support"
	Product Kind = "product"
)

// Vendor is one system segpipe has staging SQL for. Paths are from the repository root.
type Vendor struct {
	// Name is what a source's vendor: key says, and the <vendor> of its raw views.
	Name string
	// Kinds are what its exports hold, in the order of the constants.
	Kinds []Kind
	// Preset is the YAML of source keys a config takes as they are; "" when it has none.
	Preset string
	// Staging is the folder of SQL mapping its raw views onto the canonical tables.
	Staging string
	// Docs is the page that says what is pulled and how it maps.
	Docs string
	// Example is a full config that reads it, against the demo's fake of it.
	Example string
}

// preset is the entry of a vendor with a preset, its files where the conventions put them.
func preset(name string, kinds ...Kind) Vendor {
	return Vendor{
		Name:    name,
		Kinds:   kinds,
		Preset:  "internal/config/presets/" + name + ".yaml",
		Staging: "sql/staging/" + name,
		Docs:    "docs/vendors/" + name + ".md",
		Example: "config/examples/" + name + ".yaml",
	}
}

// registry is every vendor, in the order errors list them. TestRegistryIsComplete checks that
// every file an entry names exists and that every vendor's file on disk has an entry.
var registry = []Vendor{
	{Name: "demo", Kinds: []Kind{CRM, Billing, Support, Product},
		Staging: "sql/staging/demo", Docs: "docs/demo.md", Example: "config/segpipe.yaml"},
	preset("stripe", Billing),
	preset("hubspot", CRM),
	preset("zendesk", Support),
	preset("salesforce", CRM),
}

// All returns every vendor, in registry order.
func All() []Vendor {
	out := slices.Clone(registry)
	for i := range out {
		out[i].Kinds = slices.Clone(out[i].Kinds)
	}
	return out
}

// Names returns the name of every vendor, in registry order.
func Names() []string {
	out := make([]string, len(registry))
	for i, v := range registry {
		out[i] = v.Name
	}
	return out
}

// Lookup returns the vendor of the given name, or false when there is none.
func Lookup(name string) (Vendor, bool) {
	for _, v := range All() {
		if v.Name == name {
			return v, true
		}
	}
	return Vendor{}, false
}

// Raw view names: raw_<vendor>__<entity>.
const (
	rawPrefix = "raw_"
	rawSep    = "__"
)

// RawView is the DuckDB view a landed entity is read through: raw_<vendor>__<entity>. The
// vendor's staging SQL reads it, whatever the config calls the source (a generic source's
// views are named after the source: config.ViewOf).
func RawView(vendor, entity string) string {
	return rawPrefix + vendor + rawSep + entity
}

// ParseRawView splits a raw view name into its vendor and entity at the first "__", or
// returns false when name is not raw_<vendor>__<entity> with both parts non-empty.
func ParseRawView(name string) (vendor, entity string, ok bool) {
	rest, ok := strings.CutPrefix(name, rawPrefix)
	if !ok {
		return "", "", false
	}
	vendor, entity, ok = strings.Cut(rest, rawSep)
	if !ok || vendor == "" || entity == "" {
		return "", "", false
	}
	return vendor, entity, true
}

var rawViewRef = regexp.MustCompile(`\b` + rawPrefix + `[a-z0-9_]+` + rawSep + `[a-z0-9_]+\b`)

// RawViewRefs returns the raw view names SQL text mentions, in order of appearance and with
// repeats. Strip comments first (warehouse.StripComments) to find only what a query reads.
func RawViewRefs(sql string) []string {
	return rawViewRef.FindAllString(sql, -1)
}
