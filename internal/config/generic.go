package config

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/segpipe/segpipe/internal/canonical"
	"github.com/segpipe/segpipe/internal/vendors"
)

// UpdatedAt is the map key of a generic entity's update time: not a canonical column, it picks
// the version of a record known at as_of (docs/staging.md).
const UpdatedAt = "updated_at"

// ExtractedAt is the lineage column a mapping may read as a column (when the export was taken).
const ExtractedAt = "_extracted_at"

// landedType maps a column type to the DuckDB type it is read as.
var landedType = map[string]string{
	"string": canonical.Varchar, "int64": canonical.BigInt, "float64": canonical.Double,
	"bool": canonical.Boolean, "timestamp": canonical.Timestamp, "date": canonical.Date,
}

// ResolveRef returns the source and entity a Ref of an entity of source names.
func (c *Config) ResolveRef(source string, r *Ref) (string, string) {
	if s, e, ok := strings.Cut(r.Entity, "."); ok {
		return s, e
	}
	return source, r.Entity
}

// validateGeneric checks a source's entities against the canonical contract: a generic entity
// names the table it provides and maps every column a row needs, with values of the right
// type and vocabulary; a preset vendor's entity maps nothing (its staging SQL does).
func (p *parser) validateGeneric(c *Config, name string, s *Source) {
	key := "sources." + name
	if s.Vendor != Generic {
		for _, en := range s.EntityNames() {
			e := s.Entities[en]
			if e != nil && (e.Provides != "" || len(e.Map) > 0) {
				p.add(key+".entities."+en+".provides", "only a generic source maps its entities onto canonical tables (vendor: generic); %s's staging SQL (sql/staging/%s/) does that for vendor %s", s.Vendor, s.Vendor, s.Vendor)
			}
		}
		return
	}
	if _, ok := vendors.Lookup(name); ok {
		p.add(key, "a generic source cannot be named after the vendor %s (their tables would share names): rename the source, e.g. %s_export", name, name)
	}
	for _, en := range s.EntityNames() {
		e := s.Entities[en]
		if e == nil {
			continue
		}
		ek := key + ".entities." + en
		if e.Provides == "" && len(e.Map) == 0 && c.Models != "" {
			continue // landed only: staging SQL of the models folder reads it
		}
		t, ok := canonical.Lookup(e.Provides)
		if !ok {
			p.add(ek+".provides", "must name the canonical table this entity provides (%s), got %q; or leave provides and map out and read %s in a staging model of your own (models: in the config)", strings.Join(canonical.Names(), ", "), e.Provides, vendors.RawView(name, en))
			continue
		}
		if len(e.Map) == 0 {
			p.add(ek+".map", "a generic entity maps its columns onto %s: give map: {%s: <column>, ...} (docs/your-data.md)", t.Name, strings.Join(t.Required(), ": ..., "))
			continue
		}
		types := map[string]string{ExtractedAt: canonical.Timestamp}
		for _, col := range e.Columns {
			types[col.Name] = landedType[col.Type]
		}
		for _, req := range t.Required() {
			if _, ok := e.Map[req]; !ok {
				p.add(ek+".map", "%s needs %s (a row without it cannot be placed: docs/staging.md); map it from a column, e.g. %s: <column>", t.Name, req, req)
			}
		}
		for _, col := range sortedKeys(e.Map) {
			m := e.Map[col]
			mk := ek + ".map." + col
			if m == nil {
				p.add(mk, "is empty: give a column or a const")
				continue
			}
			target := canonical.Column{Name: UpdatedAt, Type: canonical.Timestamp}
			if col != UpdatedAt {
				tc, ok := t.Column(col)
				if !ok {
					var names []string
					for _, c := range t.Columns {
						names = append(names, c.Name)
					}
					p.add(mk, "%s has no column %s (its columns: %s; and updated_at, the record's update time)", t.Name, col, strings.Join(names, ", "))
					continue
				}
				if tc.Derived != "" {
					p.add(mk, "%s.%s is not mapped: staging has it %s", t.Name, col, tc.Derived)
					continue
				}
				target = tc
			}
			p.validateMapping(c, name, en, mk, m, target, types)
		}
	}
}

// validateMapping checks one mapping: what it reads exists, its transforms fit the value's
// type, and what it yields has the canonical column's type and vocabulary.
func (p *parser) validateMapping(c *Config, source, entity, key string, m *Mapping, target canonical.Column, types map[string]string) {
	var typ string // the DuckDB type of the value as it goes through the transforms
	switch {
	case m.Column != "" && m.Const != nil:
		p.add(key, "give column or const, not both")
		return
	case m.Column != "":
		t, ok := types[m.Column]
		if !ok {
			p.add(key+".column", "%s is not a column of this entity (list it under columns:, with its type)", m.Column)
			return
		}
		typ = t
	case m.Const != nil:
		if m.Ref != nil {
			p.add(key+".ref", "a ref looks up a column's value: give column, not const")
			return
		}
		if err := fitsLiteral(m.Const, target); err != nil {
			p.add(key+".const", "%v", err)
			return
		}
		return
	default:
		p.add(key, "give the column it reads (column: <name>) or a constant (const: <value>)")
		return
	}
	text := func(op string) bool {
		if typ != canonical.Varchar {
			p.add(key+"."+op, "applies to text; column %s is %s", m.Column, typ)
			return false
		}
		return true
	}
	if m.Trim {
		text("trim")
	}
	if m.Case != "" {
		if m.Case != "upper" && m.Case != "lower" {
			p.add(key+".case", "must be upper or lower, got %q", m.Case)
		}
		text("case")
	}
	if m.Split != "" {
		if text("split") {
			typ = canonical.ListText
		}
	}
	if m.Unmapped != "" && m.Unmapped != "null" && m.Unmapped != "keep" {
		p.add(key+".unmapped", "must be null (a value the map does not list is unknown) or keep, got %q", m.Unmapped)
	}
	switch {
	case len(m.Values) > 0 && len(m.In) > 0:
		p.add(key, "give values or in, not both")
		return
	case len(m.Values) > 0:
		seen := map[string]string{}
		for _, k := range sortedKeys(m.Values) {
			low := strings.ToLower(strings.TrimSpace(k))
			if other, dup := seen[low]; dup {
				p.add(key+".values", "%q and %q are the same value (values are compared trimmed, ignoring case)", other, k)
			}
			seen[low] = k
			if err := fitsLiteral(m.Values[k], target); err != nil {
				p.add(key+".values."+k, "%v", err)
			}
		}
		if m.Unmapped == "keep" && typ != target.Type {
			p.add(key+".unmapped", "keep passes a %s value through to %s, a %s column: use null", typ, target.Name, target.Type)
		}
		if m.Unmapped == "keep" && len(target.Values) > 0 {
			p.add(key+".unmapped", "%s only holds %s; a value kept as it is would not be one: use null (unknown)", target.Name, strings.Join(target.Values, ", "))
		}
		typ = target.Type
	case len(m.In) > 0:
		typ = canonical.Boolean
	case m.Unmapped != "":
		p.add(key+".unmapped", "applies with values")
	}
	if m.Multiply != nil {
		if typ != canonical.BigInt && typ != canonical.Double {
			p.add(key+".multiply", "scales a number; the value is %s", typ)
		} else if *m.Multiply == 0 || math.IsInf(*m.Multiply, 0) || math.IsNaN(*m.Multiply) {
			p.add(key+".multiply", "must be a finite number other than 0")
		} else if typ == canonical.BigInt && *m.Multiply != math.Trunc(*m.Multiply) {
			typ = canonical.Double
		}
	}
	if m.Ref != nil {
		p.validateRef(c, source, key+".ref", m.Ref)
		if typ != canonical.Varchar {
			p.add(key+".ref", "matches text; the value is %s", typ)
		}
		typ = canonical.Varchar
	}
	if m.Default != nil {
		if err := fitsLiteral(m.Default, target); err != nil {
			p.add(key+".default", "%v", err)
		}
	}
	if !assignable(typ, target.Type) {
		p.add(key, "%s is %s but the value is %s%s", target.Name, target.Type, typ, conversionHint(typ, target.Type))
	}
}

// validateRef checks that a ref names a generic entity and a column of its map.
func (p *parser) validateRef(c *Config, source, key string, r *Ref) {
	rs, re := c.ResolveRef(source, r)
	src := c.Sources[rs]
	if src == nil || src.Entities[re] == nil {
		p.add(key+".entity", "no entity %s (give an entity of this source, or <source>.<entity>)", r.Entity)
		return
	}
	if src.Vendor != Generic {
		p.add(key+".entity", "%s is an entity of the %s source %s; a ref reads a generic entity's map", r.Entity, src.Vendor, rs)
		return
	}
	t, ok := canonical.Lookup(src.Entities[re].Provides)
	if !ok {
		return // reported on that entity
	}
	if len(t.Key) != 1 {
		p.add(key+".entity", "%s provides %s, whose rows have no single id to refer to", r.Entity, t.Name)
		return
	}
	if _, ok := src.Entities[re].Map[r.By]; !ok || r.By == "" {
		p.add(key+".by", "must name a column of %s's map to match against (e.g. account_name), got %q", r.Entity, r.By)
	}
}

// assignable reports whether a value of type from may fill a column of type to.
func assignable(from, to string) bool {
	switch {
	case from == to:
		return true
	case from == canonical.BigInt && to == canonical.Double:
		return true
	case from == canonical.Date && to == canonical.Timestamp, from == canonical.Timestamp && to == canonical.Date:
		return true
	}
	return false
}

func conversionHint(from, to string) string {
	switch {
	case from == canonical.Varchar && (to == canonical.Timestamp || to == canonical.Date):
		return " (declare the column as timestamp or date, with layout: for its format, e.g. layout: \"1/2/2006\")"
	case from == canonical.Varchar && (to == canonical.BigInt || to == canonical.Double):
		return " (declare the column as int64 or float64)"
	case from == canonical.Varchar && to == canonical.Boolean:
		return " (derive it: in: [<values that mean true>], or values: {<value>: true, ...})"
	case from == canonical.Varchar && to == canonical.ListText:
		return " (split: \";\" cuts text into a list)"
	case from == canonical.Double && to == canonical.BigInt:
		return " (declare the column as int64)"
	}
	return ""
}

// fitsLiteral says why a YAML constant cannot be a value of the column, or nil.
func fitsLiteral(v any, col canonical.Column) error {
	switch col.Type {
	case canonical.Varchar:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s is text: give a string, got %v", col.Name, v)
		}
		if len(col.Values) > 0 && !slices.Contains(col.Values, s) {
			return fmt.Errorf("%s must be one of %s, got %q", col.Name, strings.Join(col.Values, ", "), s)
		}
	case canonical.BigInt:
		switch n := v.(type) {
		case int:
		case float64:
			if n != math.Trunc(n) {
				return fmt.Errorf("%s is a whole number, got %v", col.Name, v)
			}
		default:
			return fmt.Errorf("%s is a whole number, got %v", col.Name, v)
		}
	case canonical.Double:
		switch v.(type) {
		case int, float64:
		default:
			return fmt.Errorf("%s is a number, got %v", col.Name, v)
		}
	case canonical.Boolean:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s is true or false, got %v", col.Name, v)
		}
	case canonical.Timestamp, canonical.Date:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s is a time: give it as 2006-01-02 or RFC 3339, got %v", col.Name, v)
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				return fmt.Errorf("%s is a time: give it as 2006-01-02 or RFC 3339, got %q", col.Name, s)
			}
		}
	case canonical.ListText:
		return fmt.Errorf("%s is a list: read it from a column with split", col.Name)
	}
	return nil
}
