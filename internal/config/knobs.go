package config

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Variable is a value the SQL reads with getvariable(Name) (docs/configuration.md lists
// each beside its key).
type Variable struct {
	Name  string
	Value any
}

// knob is one entry of the knobs table; knobOf is its one implementation.
type knob interface {
	// key is the knob's key under segments:, e.g. ltv.gross_margin.
	key() string
	// setDefault gives the knob its default in s unless present says the file sets it.
	setDefault(s *Segments, present func(key string) bool)
	// check reports each problem of the knob's value in s, under its key or one below it.
	check(s *Segments, report func(key, msg string))
	// variables are the DuckDB variables the knob's value in s is bound as.
	variables(s *Segments) []Variable
	// docRow is the knob's row of docs/configuration.md's segments table.
	docRow() string
}

// knobOf is a key of the segments block whose value is a T: a number, a name, a flag, a list
// taken whole (bands, tier targets) or a group whose keys default one by one (score weights).
type knobOf[T any] struct {
	// Key is the key under segments:, e.g. ltv.gross_margin.
	Key string
	// Default is the value of a config that leaves the key out (domain.md's); a struct
	// defaults field by field.
	Default T
	// Field is where the value is held in Segments.
	Field func(*Segments) *T
	// Check is the value's range: it reports each problem, under the key ("") or one below it
	// ("[1].min"); nil accepts every value. Rules between keys are in segmentRules.
	Check check[T]
	// Var is the DuckDB variable the SQL reads the value as (an int is bound as BIGINT).
	Var string
	// Bind, when set, binds the value instead of Var: under several names or in another shape.
	Bind func(T) []Variable
	// Doc and ReadBy are the rule the knob sets (with its domain.md section) and the tables that
	// read it, for its docs row; DocDefault, when set, stands for the default there.
	Doc, ReadBy, DocDefault string
}

// A check reports what is wrong with a value: report(sub, msg) with sub "" for the key itself
// or the rest of a key below it.
type check[T any] func(v T, report func(sub, msg string))

// rule is a rule between keys of the segments block: problem says what is wrong, or "".
type rule struct {
	key     string
	problem func(s *Segments) string
}

func (k knobOf[T]) key() string { return k.Key }

func (k knobOf[T]) setDefault(s *Segments, present func(string) bool) {
	key := "segments." + k.Key
	if dst := reflect.ValueOf(k.Field(s)).Elem(); dst.Kind() == reflect.Struct {
		fillAbsent(dst, reflect.ValueOf(k.Default), key, present)
	} else if !present(key) {
		*k.Field(s) = deepCopy(reflect.ValueOf(k.Default)).Interface().(T)
	}
}

func (k knobOf[T]) check(s *Segments, report func(key, msg string)) {
	if k.Check != nil {
		k.Check(*k.Field(s), func(sub, msg string) { report(k.Key+sub, msg) })
	}
}

func (k knobOf[T]) variables(s *Segments) []Variable {
	v := *k.Field(s)
	if k.Bind != nil {
		return k.Bind(v)
	}
	if n, ok := any(v).(int); ok {
		return []Variable{{k.Var, int64(n)}}
	}
	return []Variable{{k.Var, v}}
}

func (k knobOf[T]) docRow() string {
	def := k.DocDefault
	if def == "" {
		def = docValue(reflect.ValueOf(k.Default))
	}
	names := []string{k.Var}
	if k.Bind != nil {
		names = nil
		for _, v := range k.Bind(k.Default) {
			names = append(names, v.Name)
		}
	}
	return "| " + strings.Join([]string{k.Key, def, strings.Join(names, ", "), k.Doc, k.ReadBy}, " | ") + " |"
}

// docValue writes a default the way the docs table does: numbers, a band list as
// "name min, ...", a group as "key value, ...", an empty mapping as "none".
func docValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Struct:
		var parts []string
		for i := range v.NumField() {
			parts = append(parts, yamlKey(v.Type().Field(i))+" "+docValue(v.Field(i)))
		}
		return strings.Join(parts, ", ")
	case reflect.Slice:
		var parts []string
		for i := range v.Len() {
			if b, ok := v.Index(i).Interface().(Band); ok {
				parts = append(parts, b.Name+" "+docValue(reflect.ValueOf(b.Min)))
			} else {
				parts = append(parts, docValue(v.Index(i)))
			}
		}
		return strings.Join(parts, ", ")
	case reflect.Map:
		if v.Len() == 0 {
			return "none"
		}
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}

func yamlKey(f reflect.StructField) string { return strings.Split(f.Tag.Get("yaml"), ",")[0] }

// DefaultSegments is the segments block of a config that sets none of its keys: the defaults
// docs/configuration.md lists, which are domain.md's thresholds.
func DefaultSegments() Segments {
	var s Segments
	for _, k := range knobs {
		k.setDefault(&s, func(string) bool { return false })
	}
	return s
}

// defaultSegments gives every segments key the file leaves out its default. A key the file
// sets is kept as written, 0 included (a tier3_min_arr of 0, a min_tenure_months of 0). A group
// (tiers.score_weights) is filled key by key; a list (bands, tier targets) or a mapping of
// names (price_list) is one value, taken whole or not at all.
func (p *parser) defaultSegments(s *Segments) {
	for _, k := range knobs {
		k.setDefault(s, func(key string) bool {
			_, ok := p.lines[key]
			return ok
		})
	}
}

// validateSegments checks each key's range, in the order of knobs, then the rules between keys.
func (p *parser) validateSegments(s *Segments) {
	for _, k := range knobs {
		k.check(s, func(key, msg string) { p.add("segments."+key, "%s", msg) })
	}
	for _, r := range segmentRules {
		if msg := r.problem(s); msg != "" {
			p.add("segments."+r.key, "%s", msg)
		}
	}
}

// Variables are the DuckDB variables the SQL reads the thresholds as, in the order of knobs.
func (s Segments) Variables() []Variable {
	var vars []Variable
	for _, k := range knobs {
		vars = append(vars, k.variables(&s)...)
	}
	return vars
}

// fillAbsent sets each field of the struct dst whose key (under path) present does not find to
// a copy of def's, group by group.
func fillAbsent(dst, def reflect.Value, path string, present func(string) bool) {
	t := dst.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := yamlKey(t.Field(i))
		if tag == "" || tag == "-" {
			continue
		}
		key := path + "." + tag
		if f := dst.Field(i); f.Kind() == reflect.Struct {
			fillAbsent(f, def.Field(i), key, present)
		} else if !present(key) {
			f.Set(deepCopy(def.Field(i)))
		}
	}
}

// deepCopy copies v with every pointer, slice and map it holds, so a config's defaults share
// nothing with the knobs table.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(deepCopy(v.Elem()))
		return c
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(deepCopy(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			c.SetMapIndex(it.Key(), deepCopy(it.Value()))
		}
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			c.Field(i).Set(deepCopy(v.Field(i)))
		}
		return c
	}
	return v
}

// must accepts the values ok holds for and says msg of the others.
func must[T any](ok func(T) bool, msg string) check[T] {
	return func(v T, report func(sub, msg string)) {
		if !ok(v) {
			report("", msg)
		}
	}
}

// mustGot is must that also quotes the value: `msg, got "magic"`.
func mustGot[T any](ok func(T) bool, msg string) check[T] {
	return func(v T, report func(sub, msg string)) {
		if !ok(v) {
			if s, isText := any(v).(string); isText {
				report("", fmt.Sprintf("%s, got %q", msg, s))
			} else {
				report("", fmt.Sprintf("%s, got %v", msg, v))
			}
		}
	}
}

// atLeast accepts n and above.
func atLeast(n int) check[int] {
	msg := fmt.Sprintf("must be at least %d", n)
	if n == 0 {
		msg = "must be 0 or more"
	}
	return must(func(v int) bool { return v >= n }, msg)
}

// between accepts lo to hi, both included.
func between(lo, hi int) check[int] {
	return must(func(v int) bool { return v >= lo && v <= hi }, fmt.Sprintf("must be between %d and %d", lo, hi))
}

// above accepts what is greater than x.
func above(x float64) check[float64] {
	return must(func(v float64) bool { return v > x }, fmt.Sprintf("must be above %v", x))
}

// share accepts a share strictly between 0 and 1.
var share = mustGot(func(v float64) bool { return v > 0 && v < 1 }, "must be a share between 0 and 1")

// oneOf accepts the names given.
func oneOf(names ...string) check[string] {
	list := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	return mustGot(func(v string) bool { return slices.Contains(names, v) }, "must be "+list)
}

func unless(ok bool, msg string) string {
	if ok {
		return ""
	}
	return msg
}

func weightsSumToOne(ws ...float64) bool {
	sum := 0.0
	for _, w := range ws {
		if w < 0 {
			return false
		}
		sum += w
	}
	return math.Abs(sum-1) <= 1e-9
}

// bandList accepts named bands, each name once, in increasing order of min from 0.
func bandList(bands []Band, report func(sub, msg string)) {
	const minFirst = 0.0
	if len(bands) == 0 {
		report("", "at least one band is needed")
		return
	}
	names := map[string]bool{}
	for i, b := range bands {
		bk := fmt.Sprintf("[%d]", i)
		if strings.TrimSpace(b.Name) == "" {
			report(bk+".name", "every band needs a name")
		}
		if names[b.Name] {
			report(bk+".name", fmt.Sprintf("band name %q is used twice", b.Name))
		}
		names[b.Name] = true
		if i == 0 && b.Min < minFirst {
			report(bk+".min", fmt.Sprintf("the first band must start at %v or more", minFirst))
		}
		if i > 0 && b.Min <= bands[i-1].Min {
			report(bk+".min", fmt.Sprintf("bands must be in increasing order of min (%v is not above %v)", b.Min, bands[i-1].Min))
		}
	}
}

// bandVariables binds bands as two lists: their names and their lower bounds.
func bandVariables(namesVar, minsVar string) func([]Band) []Variable {
	return func(bs []Band) []Variable {
		names := make([]string, len(bs))
		mins := make([]float64, len(bs))
		for i, b := range bs {
			names[i] = b.Name
			mins[i] = b.Min
		}
		return []Variable{{namesVar, names}, {minsVar, mins}}
	}
}

// increasingFromOne accepts increasing lower bounds of at least 1.
func increasingFromOne(v []float64, report func(sub, msg string)) {
	for i, x := range v {
		if x < 1 || (i > 0 && x <= v[i-1]) {
			report("", fmt.Sprintf("must be increasing lower bounds of at least 1, got %v", v))
			return
		}
	}
}

func scoreWeights(w TierScoreWeights, report func(sub, msg string)) {
	if !weightsSumToOne(w.ARR, w.Growth, w.Strategic, w.Health) {
		report("", "weights must be 0 or more and sum to 1")
	}
}

// tierTargets accepts each tier once, shares in [0, 1] with min <= max, positive accounts per
// CSM with min <= max, and rates such as 0.98.
func tierTargets(targets []TierTarget, report func(sub, msg string)) {
	seen := map[int]bool{}
	for i, tt := range targets {
		key := fmt.Sprintf("[%d]", i)
		if tt.Tier < 1 || tt.Tier > 4 || seen[tt.Tier] {
			report(key+".tier", "must be 1, 2, 3 or 4, each once")
		}
		seen[tt.Tier] = true
		for _, pair := range []struct {
			name   string
			lo, hi *float64
		}{{"customers", tt.CustomersMin, tt.CustomersMax}, {"arr", tt.ARRMin, tt.ARRMax}} {
			lo, hi := pair.lo, pair.hi
			if (lo != nil && (*lo < 0 || *lo > 1)) || (hi != nil && (*hi < 0 || *hi > 1)) || (lo != nil && hi != nil && *lo > *hi) {
				report(key+"."+pair.name+"_min", "shares must be in [0, 1] with min <= max")
			}
		}
		if (tt.AccountsPerCSMMin != nil && *tt.AccountsPerCSMMin <= 0) || (tt.AccountsPerCSMMax != nil && *tt.AccountsPerCSMMax <= 0) ||
			(tt.AccountsPerCSMMin != nil && tt.AccountsPerCSMMax != nil && *tt.AccountsPerCSMMin > *tt.AccountsPerCSMMax) {
			report(key+".accounts_per_csm_min", "accounts per CSM must be positive with min <= max")
		}
		for _, rate := range []struct {
			name string
			v    *float64
		}{{"retention", tt.Retention}, {"expansion", tt.Expansion}} {
			if rate.v != nil && (*rate.v < 0 || *rate.v > 10) {
				report(key+"."+rate.name, "must be a rate such as 0.98")
			}
		}
	}
}

// tierTargetsJSON is the tier targets as the JSON text the tier marts parse with from_json:
// an array of objects with the keys of TierTarget, null where a tier has no target.
func tierTargetsJSON(targets []TierTarget) string {
	b, _ := json.Marshal(targets) // numbers and pointers to numbers: Marshal cannot fail
	return string(b)
}

// priceList accepts named products, each once whatever its case and spacing (deals match it
// so), with a positive list amount.
func priceList(prices map[string]float64, report func(sub, msg string)) {
	seen := map[string]string{}
	for _, product := range sortedKeys(prices) {
		pk := "." + product
		norm := PriceListKey(product)
		if norm == "" {
			report(pk, "a product needs a name")
			continue
		}
		if other, dup := seen[norm]; dup {
			report(pk, fmt.Sprintf("is the product %q again (products match whatever their case and spacing)", other))
		}
		seen[norm] = product
		if v := prices[product]; !(v > 0) || math.IsInf(v, 0) {
			report(pk, fmt.Sprintf("must be a positive list amount in the reporting currency, got %v", v))
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
	return priceListKeys(pl.PriceList)
}

func priceListKeys(prices map[string]float64) (products []string, amounts []float64) {
	products, amounts = []string{}, []float64{}
	byKey := map[string]float64{}
	for product, v := range prices {
		byKey[PriceListKey(product)] = v
	}
	for _, k := range sortedKeys(byKey) {
		products = append(products, k)
		amounts = append(amounts, byKey[k])
	}
	return products, amounts
}
